package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Each case is a way an audit used to look at nothing, or at less than it
// claimed, and still print a good score with exit status 0.

func report(t *testing.T, out string) finding.Report {
	t.Helper()
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	return r
}

func TestEmptyInputIsAnError(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, []byte("# nothing\n---\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyDir := filepath.Join(dir, "emptydir")
	if err := os.Mkdir(emptyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-f", empty}, {"-f", emptyDir + "/"}, {"-f", "-"}} {
		code, out, errOut := run(t, "", args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "no Kubernetes objects in") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestSymlinkedDirectoryIsRead(t *testing.T) {
	abs, err := filepath.Abs(demo)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(abs, link); err != nil {
		t.Fatal(err)
	}
	// A loop inside the tree is read once, not forever.
	tree := filepath.Join(dir, "tree")
	if err := os.Mkdir(tree, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(tree, "demo")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tree, filepath.Join(tree, "loop")); err != nil {
		t.Fatal(err)
	}
	_, viaDir, _ := run(t, "", "-f", demo, "-o", "json")
	want := report(t, viaDir).Summary
	if want.Critical == 0 {
		t.Fatal("the demo has critical findings")
	}
	for _, p := range []string{link, tree} {
		code, out, errOut := run(t, "", "-f", p, "-o", "json")
		if code != 0 {
			t.Fatalf("-f %s: exit %d %s", p, code, errOut)
		}
		if got := report(t, out).Summary; got.Critical != want.Critical || got.Score != want.Score {
			t.Errorf("-f %s: critical %d score %d, want %d and %d", p, got.Critical, got.Score, want.Critical, want.Score)
		}
	}
}

func TestDuplicateObjectsCountOnce(t *testing.T) {
	_, once, _ := run(t, "", "-f", demo, "-o", "json")
	code, twice, errOut := run(t, "", "-f", demo, "-f", demo, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if a, b := len(report(t, once).Items), len(report(t, twice).Items); a != b {
		t.Errorf("-f demo -f demo gave %d findings, -f demo %d", b, a)
	}
	if !strings.Contains(errOut, "Namespace/shop is given twice (../../test/testdata/demo/00-namespaces.yaml:2 and ../../test/testdata/demo/00-namespaces.yaml:2)") {
		t.Errorf("no warning naming both places:\n%s", errOut)
	}
}

// The README's old dump command leaves out ClusterRoleBindings and
// NetworkPolicies: checks that need them are skipped, not run on nothing.
func TestDumpMissingKindsSkipsChecks(t *testing.T) {
	dump := filepath.Join(demo, "20-workloads.yaml")
	code, out, errOut := run(t, "", "-f", dump, "-f", filepath.Join(demo, "00-namespaces.yaml"), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := report(t, out)
	reasons := map[string]string{}
	for _, s := range r.Summary.Skipped {
		reasons[s.Check] = s.Reason
	}
	if !strings.Contains(reasons["rbac/cluster-admin-binding"], "no ClusterRoleBinding, RoleBinding, ClusterRole or Role objects in the input") {
		t.Errorf("rbac/cluster-admin-binding: skipped %q", reasons["rbac/cluster-admin-binding"])
	}
	if !strings.Contains(reasons["netpol/namespace-without-policy"], "no NetworkPolicy objects in the input") {
		t.Errorf("netpol/namespace-without-policy: skipped %q", reasons["netpol/namespace-without-policy"])
	}
	for _, f := range r.Items {
		if strings.HasPrefix(f.Check, "netpol/") || strings.HasPrefix(f.Check, "rbac/") {
			t.Errorf("a finding from a skipped domain: %s %s", f.Check, f.Message)
		}
	}
	kinds := map[string]finding.InputKind{}
	for _, k := range r.Metadata.Input.Kinds {
		kinds[k.Kind] = k
	}
	if k := kinds["networkpolicies"]; k.Status != finding.InputAbsent {
		t.Errorf("networkpolicies in metadata.input: %+v", k)
	}
	if k := kinds["namespaces"]; k.Status != finding.InputRead || k.Count != 4 {
		t.Errorf("namespaces in metadata.input: %+v", k)
	}
	if !strings.Contains(errOut, "no objects in the input of:") || !strings.Contains(errOut, "networkpolicies") {
		t.Errorf("stderr does not name the absent kinds in one line:\n%s", errOut)
	}

	// A gate does not pass on what it could not see...
	code, _, errOut = run(t, "", "-f", dump, "--fail-on", "critical", "-o", "name")
	if code != 3 || !strings.Contains(errOut, "--allow-skipped") {
		t.Errorf("--fail-on with skipped checks: exit %d %q", code, errOut)
	}
	// ...unless told to, or told the input is complete.
	if code, _, errOut = run(t, "", "-f", dump, "--fail-on", "critical", "--allow-skipped", "-o", "name"); code != 0 {
		t.Errorf("--allow-skipped: exit %d %s", code, errOut)
	}
	code, out, _ = run(t, "", "-f", dump, "-f", filepath.Join(demo, "00-namespaces.yaml"), "--assume-absent", "networkpolicies", "--check", "netpol/namespace-without-policy", "-o", "name")
	if code != 0 || !strings.Contains(out, "netpol/namespace-without-policy:namespace/legacy") {
		t.Errorf("--assume-absent networkpolicies: exit %d %q", code, out)
	}
	if code, _, errOut = run(t, "", "-f", dump, "--assume-absent", "widgets"); code != 1 || !strings.Contains(errOut, "--assume-absent") {
		t.Errorf("--assume-absent widgets: exit %d %q", code, errOut)
	}
	if code, _, errOut = run(t, "", "--complete"); code != 1 || !strings.Contains(errOut, "-f input only") {
		t.Errorf("--complete without -f: exit %d %q", code, errOut)
	}
}

func TestUnmodelledKindsAreCounted(t *testing.T) {
	in := "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n---\n" +
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n---\n" +
		"apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\n"
	code, out, errOut := run(t, in, "-f", "-", "-o", "json", "--allow-skipped")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	got := map[string]int{}
	for _, k := range report(t, out).Metadata.Input.Unmodelled {
		got[k.Kind] = k.Count
	}
	if got["v1/Service"] != 2 || got["example.com/v1/Widget"] != 1 {
		t.Errorf("metadata.input.unmodelled = %v", got)
	}
	_, out, _ = run(t, in, "-f", "-")
	if !strings.Contains(out, "not modelled (counted, not judged): example.com/v1/Widget 1, v1/Service 2") {
		t.Errorf("the table does not count them:\n%s", out)
	}
}

func TestSeverityFiltersDisplayOnly(t *testing.T) {
	_, all, _ := run(t, "", "-f", demo, "-o", "json")
	_, critical, _ := run(t, "", "-f", demo, "-o", "json", "--severity", "critical")
	a, c := report(t, all), report(t, critical)
	if a.Summary.Score != c.Summary.Score || a.Summary.High != c.Summary.High {
		t.Errorf("--severity critical changed the summary: score %d -> %d, high %d -> %d", a.Summary.Score, c.Summary.Score, a.Summary.High, c.Summary.High)
	}
	if c.Summary.Hidden != len(a.Items)-len(c.Items) || c.Summary.Hidden == 0 {
		t.Errorf("hidden %d, want %d", c.Summary.Hidden, len(a.Items)-len(c.Items))
	}
	code, out, _ := run(t, "", "netpol", "-f", demo, "--severity", "high", "--fail-on", "low")
	if code != 2 {
		t.Errorf("netpol --severity high --fail-on low: exit %d, want 2", code)
	}
	if !strings.Contains(out, "below --severity are hidden") {
		t.Errorf("the table does not say findings are hidden:\n%s", out)
	}
}

func TestMissingNamespaceIsAnError(t *testing.T) {
	code, out, errOut := run(t, "", "-f", demo, "-n", "nonexistent-ns", "--fail-on", "low")
	if code != 1 || out != "" || !strings.Contains(errOut, `namespace "nonexistent-ns" not found`) {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "", "-f", demo, "-n", "shop", "-o", "name"); code != 0 {
		t.Errorf("-n shop: exit %d %s", code, errOut)
	}
}

// Findings about the cluster as a whole are the cluster's, and manifests that
// are not a cluster get none.
func TestClusterFindingsNeedACluster(t *testing.T) {
	code, out, errOut := run(t, "", "cluster", "-f", demo, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	r := report(t, out)
	na := map[string]bool{}
	for _, s := range r.Summary.NotApplicable {
		na[s.Check] = true
	}
	for _, id := range []string{"cluster/image-signing-not-enforced", "cluster/apiserver-flags", "cluster/anonymous-access"} {
		if !na[id] {
			t.Errorf("%s is not reported as not applicable to manifests: %+v", id, r.Summary.NotApplicable)
		}
	}
	for _, f := range r.Items {
		if f.Resource.Kind == finding.ClusterKind || f.Resource.Name == "kube-system" {
			t.Errorf("a cluster finding from manifests: %s %s", f.Check, f.Message)
		}
	}
	_, out, _ = run(t, "", "cluster", "-f", demo, "--complete", "-o", "name", "--check", "cluster/image-signing-not-enforced")
	if out != "cluster/image-signing-not-enforced:cluster\n" {
		t.Errorf("a complete dump: %q", out)
	}
}

func TestChecksShowSeverityRange(t *testing.T) {
	_, out, _ := run(t, "", "checks", "rbac")
	if !strings.Contains(out, "info..critical") {
		t.Errorf("rbac/escalation-path's range is not shown:\n%s", out)
	}
	_, out, _ = run(t, "", "checks", "cluster", "-o", "json")
	var infos []CheckInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatal(err)
	}
	for _, c := range infos {
		if c.ID == "cluster/anonymous-access" && (c.MinSeverity != "low" || c.MaxSeverity != "critical") {
			t.Errorf("anonymous-access: %s..%s", c.MinSeverity, c.MaxSeverity)
		}
	}
}

// An add-on's network policies left out of a cluster dump would make
// isolation look stronger than it is (an Admin-tier Accept, a Cilium allow):
// the netpol checks are skipped, naming them, unless the dump's CRDs show the
// add-ons are not installed. Application manifests are judged on their own
// policies, and stderr says the cluster's were not seen.
func TestAddOnPoliciesLeftOutOfADump(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kubeSystem := write("kube-system.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n")
	crd := write("crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"+
		"spec: {group: example.com, scope: Namespaced, names: {plural: widgets, kind: Widget}}\n")
	base := []string{"-f", filepath.Join(demo, "00-namespaces.yaml"), "-f", filepath.Join(demo, "20-workloads.yaml"), "-f", filepath.Join(demo, "30-networkpolicies.yaml"),
		"--check", "netpol/namespace-without-default-deny-ingress", "-o", "json"}
	audit := func(extra ...string) (finding.Report, map[string]finding.InputKind, string) {
		t.Helper()
		code, out, errOut := run(t, "", append(append([]string(nil), base...), extra...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, errOut)
		}
		r := report(t, out)
		kinds := map[string]finding.InputKind{}
		for _, k := range r.Metadata.Input.Kinds {
			kinds[k.Kind] = k
		}
		return r, kinds, errOut
	}

	r, kinds, errOut := audit("-f", kubeSystem)
	if len(r.Summary.Skipped) != 1 || !strings.Contains(r.Summary.Skipped[0].Reason, "ClusterNetworkPolicy") || len(r.Items) != 0 {
		t.Errorf("dump without the add-ons' policies: skipped %v, %d findings", r.Summary.Skipped, len(r.Items))
	}
	if k := kinds["clusternetworkpolicies"]; k.Status != finding.InputAbsent {
		t.Errorf("clusternetworkpolicies: %+v", k)
	}
	if !strings.Contains(errOut, "no objects in the input of:") || !strings.Contains(errOut, "ciliumnetworkpolicies") {
		t.Errorf("stderr does not name the absent add-on kinds:\n%s", errOut)
	}

	// The dump's CRDs show none of these add-ons is installed.
	r, kinds, _ = audit("-f", kubeSystem, "-f", crd)
	if len(r.Summary.Skipped) != 0 || len(r.Items) == 0 {
		t.Errorf("dump with CRDs: skipped %v, %d findings", r.Summary.Skipped, len(r.Items))
	}
	if k := kinds["adminnetworkpolicies"]; k.Status != finding.InputNotInstalled {
		t.Errorf("adminnetworkpolicies with the dump's CRDs: %+v", k)
	}

	// --complete says so too.
	if r, _, _ = audit("-f", kubeSystem, "--complete"); len(r.Summary.Skipped) != 0 || len(r.Items) == 0 {
		t.Errorf("--complete: skipped %v, %d findings", r.Summary.Skipped, len(r.Items))
	}

	// Manifests of an application: judged on their own, and said.
	r, kinds, errOut = audit()
	if len(r.Summary.Skipped) != 0 || len(r.Items) == 0 {
		t.Errorf("manifests: skipped %v, %d findings", r.Summary.Skipped, len(r.Items))
	}
	if k := kinds["ciliumnetworkpolicies"]; k.Status != finding.InputNone || !strings.Contains(k.Reason, "not a cluster") {
		t.Errorf("ciliumnetworkpolicies in manifests: %+v", k)
	}
	if !strings.Contains(errOut, "the input is manifests, not a cluster") || !strings.Contains(errOut, "clusternetworkpolicies") {
		t.Errorf("stderr does not say the cluster's add-on policies were not seen:\n%s", errOut)
	}
}
