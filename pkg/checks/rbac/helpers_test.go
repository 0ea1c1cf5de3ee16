package rbac

import (
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// load reads fixtures from testdata.
func load(t *testing.T, files ...string) *inventory.Inventory {
	t.Helper()
	return checktest.Load(t, files...)
}

// run runs one check through the registry, so findings are filled as in a real run.
func run(t *testing.T, inv *inventory.Inventory, id string, opts options) []finding.Finding {
	t.Helper()
	if _, err := checks.NewRegistry(Checks()); err != nil {
		t.Fatalf("registry: %v", err)
	}
	inv.Settings.IncludeSystem = opts.IncludeSystem
	fs := checktest.Run(t, inv, Checks(), id)
	finding.Sort(fs)
	return fs
}

func messages(fs []finding.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Message
	}
	slices.Sort(out)
	return out
}

func byMessage(t *testing.T, fs []finding.Finding, msg string) finding.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Message == msg {
			return f
		}
	}
	t.Fatalf("no finding %q in %q", msg, messages(fs))
	return finding.Finding{}
}
