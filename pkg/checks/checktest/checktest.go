// Package checktest has what the domain packages' tests share: loading YAML
// fixtures from a package's testdata and running one check as a real run does.
package checktest

import (
	"path/filepath"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Load reads fixtures (files or directories under testdata/) into an offline inventory.
func Load(t testing.TB, files ...string) *inventory.Inventory {
	t.Helper()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join("testdata", f)
	}
	inv, err := inventory.FromFiles(paths, nil)
	if err != nil {
		t.Fatalf("load %v: %v", files, err)
	}
	return inv
}

// Run runs the check with the ID from cs through checks.Run, so the registry
// fills the findings exactly as in an audit.
func Run(t testing.TB, inv *inventory.Inventory, cs []checks.Check, id string) []finding.Finding {
	t.Helper()
	for _, c := range cs {
		if c.ID == id {
			res := checks.Run(inv, []checks.Check{c})
			if len(res.Skipped) > 0 {
				t.Fatalf("%s skipped: %s", id, res.Skipped[0].Reason)
			}
			return res.Findings
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}
