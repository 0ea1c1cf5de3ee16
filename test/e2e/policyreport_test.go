package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestPolicyReportsApplyThroughKubectl installs the wg-policy PolicyReport
// CRDs, pipes `kubectl harden -o policyreport` into `kubectl apply -f -`
// (the API server validates every result against the CRDs' schema), and
// checks that `kubectl get policyreports -A` shows, per namespace, as many
// results as the JSON report has findings there. The CRDs, and with them the
// reports, are removed at the end so other tests see the cluster as before.
func TestPolicyReportsApplyThroughKubectl(t *testing.T) {
	crds := []string{"crd/policyreports.wgpolicyk8s.io", "crd/clusterpolicyreports.wgpolicyk8s.io"}
	t.Cleanup(func() {
		if res, err := env.Kubectl(nil, append([]string{"delete", "--wait=true", "--ignore-not-found"}, crds...)...); err != nil || res.Code != 0 {
			t.Errorf("delete the CRDs: %v %s", err, res.Stderr)
		}
	})
	apply(t, "policyreport", "crds.yaml")
	if res, err := env.Kubectl(nil, append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, crds...)...); err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRDs: %v %s", err, res.Stderr)
	}

	var report finding.Report
	if err := json.Unmarshal([]byte(mustHarden(t, "-o", "json").Stdout), &report); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{} // namespace -> findings; "" for the cluster report's
	for _, f := range report.Items {
		ns := f.Resource.Namespace
		if f.Resource.Kind == "Namespace" {
			ns = f.Resource.Name
		}
		want[ns]++
	}
	if len(want) < 3 {
		t.Fatalf("the demo cluster should have findings in several namespaces, got %v", want)
	}

	// Namespaces other tests left Terminating (this server has no namespace
	// controller) take no new objects: their reports are left out here.
	terminating, err := env.Kubectl(nil, "get", "namespaces", "-o", `jsonpath={range .items[?(@.status.phase=="Terminating")]}{.metadata.name}{"\n"}{end}`)
	if err != nil || terminating.Code != 0 {
		t.Fatalf("list terminating namespaces: %v %s", err, terminating.Stderr)
	}
	var docs []string
	for _, doc := range strings.Split(mustHarden(t, "-o", "policyreport").Stdout, "\n---\n") {
		skip := false
		for _, ns := range strings.Fields(terminating.Stdout) {
			if strings.Contains(doc, "\n  namespace: "+ns+"\n") {
				skip = true
				delete(want, ns)
			}
		}
		if !skip {
			docs = append(docs, doc)
		}
	}
	stream := strings.Join(docs, "\n---\n")
	res, err := env.Kubectl(strings.NewReader(stream), "apply", "-f", "-")
	if err != nil || res.Code != 0 {
		t.Fatalf("kubectl apply -f - of the policy reports: %v\n%s\n%s", err, res.Stderr, stream)
	}
	if n := strings.Count(res.Stdout, "created") + strings.Count(res.Stdout, "configured"); n != len(want) {
		t.Errorf("kubectl apply made %d objects, want %d (one per namespace with findings and the cluster's):\n%s", n, len(want), res.Stdout)
	}

	// kubectl get policyreports -A: NAMESPACE NAME PASS FAIL WARN ERROR SKIP AGE
	res, err = env.Kubectl(nil, "get", "policyreports", "-A")
	if err != nil || res.Code != 0 {
		t.Fatalf("kubectl get policyreports -A: %v %s", err, res.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "NAMESPACE NAME PASS FAIL WARN ERROR SKIP AGE" {
		t.Fatalf("columns %v:\n%s", got, res.Stdout)
	}
	seen := 0
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		ns, name := f[0], f[1]
		if name != "kubectl-harden" {
			t.Errorf("report %s/%s: want the name kubectl-harden", ns, name)
		}
		fail, warn := atoi(t, f[3]), atoi(t, f[4])
		if fail+warn != want[ns] || f[2] != "0" || f[6] != "0" {
			t.Errorf("namespace %s: pass %s fail %d warn %d skip %s, want %d results, all fail or warn:\n%s", ns, f[2], fail, warn, f[6], want[ns], res.Stdout)
		}
		seen++
	}
	if seen != len(want)-1 {
		t.Errorf("kubectl get policyreports -A lists %d namespaces, want %d:\n%s", seen, len(want)-1, res.Stdout)
	}

	// The cluster report holds the rest, and a pass for each check that found nothing.
	res, err = env.Kubectl(nil, "get", "clusterpolicyreport", "kubectl-harden", "-o", "json")
	if err != nil || res.Code != 0 {
		t.Fatalf("kubectl get clusterpolicyreport: %v %s", err, res.Stderr)
	}
	var cpr struct {
		Summary struct{ Pass, Fail, Warn, Skip int }
		Results []struct{ Policy, Result, Severity string }
	}
	if err := json.Unmarshal([]byte(res.Stdout), &cpr); err != nil {
		t.Fatal(err)
	}
	// A check passes when it found nothing; one with only info findings did find something.
	withFindings := map[string]bool{}
	for _, f := range report.Items {
		withFindings[f.Check] = true
	}
	passed := report.Summary.Checks - len(withFindings)
	if cpr.Summary.Fail+cpr.Summary.Warn != want[""] || cpr.Summary.Skip != len(report.Summary.Skipped) {
		t.Errorf("cluster report summary %+v, want %d findings and %d skipped", cpr.Summary, want[""], len(report.Summary.Skipped))
	}
	if cpr.Summary.Pass != passed {
		t.Errorf("cluster report passes %d checks, want %d (%d ran, %d with findings)", cpr.Summary.Pass, passed, report.Summary.Checks, len(withFindings))
	}
	if cpr.Summary.Pass == 0 {
		t.Errorf("no check passed on the demo cluster? %+v", cpr.Summary)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
