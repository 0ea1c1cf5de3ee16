package e2e

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/test/cluster"
)

// TestSamplePatchStreamAppliesWithKubectl pipes the remediation plan of the
// sample cluster into `kubectl apply --server-side -f -` as the README shows,
// runs the deletions it prints, and audits again: every finding the plan
// fixed is gone, and no new one appears (a staged warn/audit label's
// findings are low and say they are that stage's result). It runs on a cluster of its own, since it changes the sample.
func TestSamplePatchStreamAppliesWithKubectl(t *testing.T) {
	dir := t.TempDir()
	c, err := cluster.Start(env.BinDir, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	c.PluginDir = env.PluginDir
	if err := c.Apply(testdata("demo")); err != nil {
		t.Fatal(err)
	}
	run := func(stdin io.Reader, args ...string) cluster.Result {
		t.Helper()
		res, err := c.Kubectl(stdin, args...)
		if err != nil || res.Code != 0 {
			t.Fatalf("kubectl %s: %v exit %d\n%s", strings.Join(args, " "), err, res.Code, res.Stderr)
		}
		return res
	}

	before, _ := report(t, c.Kubeconfig)
	fixed, had := map[string]bool{}, map[string]bool{}
	for _, f := range before.Items {
		had[key(f)] = true
		if f.Remediation == nil || len(f.Remediation.Changes) == 0 {
			continue
		}
		risky := false
		for _, ch := range f.Remediation.Changes {
			risky = risky || ch.Risky
		}
		if !risky {
			fixed[key(f)] = true
		}
	}
	if len(fixed) < 8 {
		t.Fatalf("the sample has only %d findings with a plan: %v", len(fixed), fixed)
	}

	plan := run(nil, "harden", "-o", "patch").Stdout
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	run(strings.NewReader(plan), "apply", "--server-side", "-f", "-")
	deletes := regexp.MustCompile(`(?m)^#   kubectl (delete .*)$`).FindAllStringSubmatch(plan, -1)
	if len(deletes) == 0 {
		t.Fatal("the sample's plan deletes no binding")
	}
	for _, m := range deletes {
		run(nil, strings.Fields(m[1])...)
	}

	after, _ := report(t, c.Kubeconfig)
	for _, f := range after.Items {
		switch _, staged := f.Evidence["stage"]; {
		case fixed[key(f)]:
			t.Errorf("still reported after the plan was applied: %s", key(f))
		case had[key(f)]:
		case staged && f.Severity == finding.Low:
			// A staged warn/audit label shows what to change before enforcing: the stage's result, said so.
		default:
			// The tool's own advice never makes findings of its own.
			t.Errorf("new finding after the plan was applied: %s %s: %s", f.Severity, key(f), f.Message)
		}
	}
	if after.Summary.Critical != 0 {
		t.Errorf("critical findings remain: %d", after.Summary.Critical)
	}
	if after.Summary.Score <= before.Summary.Score {
		t.Errorf("score did not improve: %d -> %d", before.Summary.Score, after.Summary.Score)
	}
}
