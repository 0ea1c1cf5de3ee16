package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Never clean when blind, against the real API server: each case used to
// print a good score and exit 0.

func TestMissingNamespaceIsAnErrorLive(t *testing.T) {
	res := harden(t, "-n", "blind-nonexistent-ns", "--fail-on", "low")
	if res.Code != 1 || res.Stdout != "" || !strings.Contains(res.Stderr, `namespace "blind-nonexistent-ns" not found`) {
		t.Errorf("exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
	}
	if strings.Contains(res.Stderr, "not served") {
		t.Errorf("a missing namespace is read as a kind not served: %q", res.Stderr)
	}
}

// A user who may list nothing runs almost no check: a gate must not pass.
func TestNoPermissionsFailsTheGate(t *testing.T) {
	kubeconfig, _, err := env.AddUser("blind-nobody")
	if err != nil {
		t.Fatal(err)
	}
	res := hardenAs(t, kubeconfig, nil, "--fail-on", "critical", "-o", "json")
	if res.Code != 3 {
		t.Fatalf("--fail-on critical with nothing listable: exit %d, want 3\nstderr: %s", res.Code, res.Stderr)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		t.Fatalf("the report is still printed: %v\n%s", err, res.Stdout)
	}
	if len(r.Summary.Skipped) < 50 {
		t.Errorf("only %d checks skipped", len(r.Summary.Skipped))
	}
	if !strings.Contains(res.Stderr, "forbidden") || !strings.Contains(res.Stderr, "--allow-skipped") {
		t.Errorf("stderr does not say why the gate failed: %q", res.Stderr)
	}
	if n := strings.Count(res.Stderr, "\n"); n > 3 {
		t.Errorf("stderr has %d lines; one per reason is enough:\n%s", n, res.Stderr)
	}
	forbidden := 0
	for _, k := range r.Metadata.Input.Kinds {
		if k.Status == finding.InputForbidden {
			forbidden++
		}
	}
	if forbidden < 10 {
		t.Errorf("metadata.input shows %d forbidden kinds: %+v", forbidden, r.Metadata.Input.Kinds)
	}
	if res := hardenAs(t, kubeconfig, nil, "--fail-on", "critical", "--allow-skipped", "-o", "name"); res.Code != 0 {
		t.Errorf("--allow-skipped: exit %d %s", res.Code, res.Stderr)
	}
	// The table says in one line per reason what was skipped, and that it is unknown.
	tab := hardenAs(t, kubeconfig, nil)
	if tab.Code != 0 || !strings.Contains(tab.Stdout, "unknown, not passed") || strings.Count(tab.Stdout, "SKIPPED") != 1 {
		t.Errorf("table (exit %d):\n%s", tab.Code, tab.Stdout)
	}
}

// The README's old dump command (all,roles,rolebindings) lacks cluster-wide
// bindings and NetworkPolicies: the audit says so instead of dropping the
// critical findings and inventing "no NetworkPolicy" ones. The README's
// command now lists every kind the checks read, and with it offline agrees with live.
func TestDumpCommands(t *testing.T) {
	dir := t.TempDir()
	dump := func(name, kinds string) string {
		res, err := env.Kubectl(nil, "get", "-A", "-o", "yaml", kinds)
		if err != nil || res.Code != 0 {
			t.Fatalf("kubectl get %s: %v %s", kinds, err, res.Stderr)
		}
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(res.Stdout), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := dump("old", "all,roles,rolebindings")
	r, stderr := report(t, env.Kubeconfig, "-f", old)
	skipped := map[string]string{}
	for _, s := range r.Summary.Skipped {
		skipped[s.Check] = s.Reason
	}
	if !strings.Contains(skipped["rbac/cluster-admin-binding"], "no ClusterRoleBinding") {
		t.Errorf("rbac/cluster-admin-binding not skipped for the absent ClusterRoleBindings: %q", skipped["rbac/cluster-admin-binding"])
	}
	for _, f := range r.Items {
		if f.Check == "netpol/namespace-without-policy" {
			t.Errorf("a NetworkPolicy finding from a dump without NetworkPolicies: %s", f.Message)
		}
	}
	if !strings.Contains(stderr, "clusterrolebindings") || !strings.Contains(stderr, "networkpolicies") {
		t.Errorf("stderr does not name the absent kinds: %q", stderr)
	}

	full := dump("full", readmeDumpKinds(t))
	offline, stderr := report(t, env.Kubeconfig, "-f", full, "--complete", "--check", "rbac/", "--check", "netpol/", "--check", "workload/")
	live, _ := report(t, env.Kubeconfig, "--check", "rbac/", "--check", "netpol/", "--check", "workload/")
	if offline.Summary.Critical != live.Summary.Critical || offline.Summary.Critical == 0 {
		t.Errorf("README dump: critical %d (skipped %v), live %d", offline.Summary.Critical, offline.Summary.Skipped, live.Summary.Critical)
	}
	// The dump leaves Secrets out, and --complete does not vouch for them:
	// only the checks that read Secrets are skipped.
	for _, s := range offline.Summary.Skipped {
		if s.Check != "rbac/token-secret-read" {
			t.Errorf("README dump: %s skipped: %s", s.Check, s.Reason)
		}
	}
	if len(offline.Summary.Skipped) != 1 || !strings.Contains(stderr, "secrets") {
		t.Errorf("README dump: skipped %v, stderr %q", offline.Summary.Skipped, stderr)
	}
	in := map[string]string{}
	for _, k := range offline.Metadata.Input.Kinds {
		in[k.Kind] = k.Status
	}
	// Served or not, the add-on kinds are never a silent none: read, not
	// installed by the dump's CRDs, or none because --complete says so.
	switch in["clusternetworkpolicies"] {
	case finding.InputNotInstalled, finding.InputRead, finding.InputAssumedAbsent:
	default:
		t.Errorf("clusternetworkpolicies in the README dump: %q", in["clusternetworkpolicies"])
	}
}

// readmeDumpKinds runs the kinds command of the README's dump command
// (kubectl get -A -o yaml "$(kubectl harden kinds)") and returns its output.
func readmeDumpKinds(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const cmd = `kubectl get -A -o yaml "$(kubectl harden kinds)"`
	if !strings.Contains(string(b), cmd) {
		t.Fatalf("README.md has no %s dump command", cmd)
	}
	res := mustHarden(t, "kinds")
	kinds := strings.TrimSpace(res.Stdout)
	for _, want := range []string{"pods", "clusterrolebindings.rbac.authorization.k8s.io", "customresourcedefinitions.apiextensions.k8s.io"} {
		if !strings.Contains(","+kinds+",", ","+want+",") {
			t.Errorf("kubectl harden kinds lacks %s: %s", want, kinds)
		}
	}
	if strings.Contains(","+kinds+",", ",secrets,") || !strings.Contains(res.Stderr, "rbac/token-secret-read") {
		t.Errorf("kubectl harden kinds: %s (stderr %q): secrets are left out by default, and said", kinds, res.Stderr)
	}
	return kinds
}
