package e2e

import (
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestCISScorecardOnTheRealServer audits the real API server, whose control
// plane runs outside the cluster (no mirror pods): every 1.2.x and 2.x control
// of the benchmark is unknown, never pass, and the report names the benchmark
// it applied, chosen from the server's version. Through the real kubectl, as a
// table and as json.
func TestCISScorecardOnTheRealServer(t *testing.T) {
	r, _ := report(t, env.Kubeconfig, "--framework", "cis")
	b := r.Metadata.Benchmark
	if b == nil || !strings.HasPrefix(b.ID, "cis-") || b.Reason == "" {
		t.Fatalf("the report does not name its benchmark: %+v", b)
	}
	sc := r.Controls
	if sc == nil || sc.Framework != "cis" || sc.Catalogue != b.ID {
		t.Fatalf("no CIS scorecard for %s: %+v", b.ID, sc)
	}
	seen := map[string]int{}
	for _, c := range sc.Results {
		seen[c.Section]++
		if c.Status == "" {
			t.Errorf("%s has no status", c.ID)
		}
		if (c.Section == "1.2" || c.Section == "1.3" || c.Section == "1.4" || c.Section == "2") && c.Status == finding.ControlPass {
			t.Errorf("%s passes although no control-plane pod is visible", c.ID)
		}
		if c.ID == "CIS-1.2.16" && (c.Status != finding.ControlUnknown || !strings.Contains(c.Reason, "no kube-apiserver pod")) {
			t.Errorf("1.2.16: %+v", c)
		}
	}
	for _, s := range []string{"1.2", "2", "4.2", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6"} {
		if seen[s] == 0 {
			t.Errorf("no control of section %s in the scorecard", s)
		}
	}
	unknown := map[string]bool{}
	for _, u := range r.Summary.Unknown {
		unknown[u.Check] = true
	}
	for _, id := range []string{"cluster/apiserver-flags", "cluster/etcd-flags", "cluster/controller-manager-flags", "cluster/scheduler-flags"} {
		if !unknown[id] {
			t.Errorf("%s is not reported unknown: %+v", id, r.Summary.Unknown)
		}
	}
	for _, s := range sc.Sections {
		if s.ID == "1.2" && (s.Pass != 0 || s.Score != 0) {
			t.Errorf("section 1.2 scores %d with %d passing", s.Score, s.Pass)
		}
	}

	table := mustHarden(t, "--framework", "cis", "--benchmark", "cis-1.11", "--color", "never").Stdout
	for _, want := range []string{"BENCHMARK CIS Kubernetes Benchmark v1.11.0 (cis-1.11): --benchmark", "1.2 API server", "CIS-1.2.30", "CIS-5.6.4", "unknown"} {
		if !strings.Contains(table, want) {
			t.Errorf("the scorecard table lacks %q:\n%s", want, table)
		}
	}
	matrix := mustHarden(t, "checks", "--framework", "cis", "--benchmark", "cis-1.12").Stdout
	for _, want := range []string{"CONTROL", "CIS-5.2.11", "psa/host-path", "CIS-1.2.1", "cluster/apiserver-flags:anonymous-auth"} {
		if !strings.Contains(matrix, want) {
			t.Errorf("checks --framework cis lacks %q:\n%s", want, matrix)
		}
	}
}
