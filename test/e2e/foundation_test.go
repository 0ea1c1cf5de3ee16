package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

func TestVersionThroughKubectl(t *testing.T) {
	res := mustHarden(t, "version")
	if !strings.HasPrefix(res.Stdout, "kubectl-harden ") {
		t.Fatalf("version output %q", res.Stdout)
	}
}

func TestChecksListsRegisteredChecks(t *testing.T) {
	res := mustHarden(t, "checks")
	for _, want := range []string{"ID", "CONTROLS", "rbac/cluster-admin-binding", "CIS-5.1.1"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("kubectl harden checks does not show %q:\n%s", want, res.Stdout)
		}
	}
}

// report runs an audit with -o json and decodes the Report.
func report(t *testing.T, kubeconfig string, args ...string) (*finding.Report, string) {
	t.Helper()
	res := hardenAs(t, kubeconfig, nil, append(args, "-o", "json")...)
	if res.Code != 0 {
		t.Fatalf("kubectl harden %v -o json: exit %d: %s", args, res.Code, res.Stderr)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		t.Fatalf("output is not a Report: %v\n%s", err, res.Stdout)
	}
	return &r, res.Stderr
}

func findingsOf(r *finding.Report, check string) []finding.Finding {
	var out []finding.Finding
	for _, f := range r.Items {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

func TestDemoAuditTable(t *testing.T) {
	res := mustHarden(t)
	for _, want := range []string{"SCORE", "CRITICAL", "rbac/cluster-admin-binding", "clusterrolebinding/ci-deployer-admin",
		"ServiceAccount ci/deployer is bound to cluster-admin"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("table output lacks %q:\n%s", want, res.Stdout)
		}
	}
	if strings.Contains(res.Stdout, "\x1b[") {
		t.Errorf("colour codes in output to a pipe with NO_COLOR set")
	}
}

func TestJSONReportSchema(t *testing.T) {
	r, _ := report(t, env.Kubeconfig)
	if r.APIVersion != finding.ReportAPIVersion || r.Kind != finding.ReportKind {
		t.Fatalf("report type %s/%s", r.APIVersion, r.Kind)
	}
	if r.Metadata.Server == nil || r.Metadata.Server.Version != "v1.37.2" {
		t.Errorf("metadata.server = %+v, want version v1.37.2", r.Metadata.Server)
	}
	if r.Metadata.GeneratedAt.IsZero() {
		t.Error("metadata.generatedAt is not set")
	}
	counts := map[finding.Severity]int{}
	for _, f := range r.Items {
		counts[f.Severity]++
		if f.Check == "" || f.Title == "" || f.Message == "" || f.Resource.Kind == "" || (f.Resource.Name == "" && f.Resource.Kind != finding.ClusterKind) {
			t.Errorf("incomplete finding: %+v", f)
		}
	}
	for _, sev := range finding.Severities() {
		if r.Summary.Count(sev) != counts[sev] {
			t.Errorf("summary %s = %d, items have %d", sev, r.Summary.Count(sev), counts[sev])
		}
	}
	if r.Summary.Critical == 0 {
		t.Error("the sample cluster must have a critical finding")
	}
	var ca []finding.Finding
	for _, f := range findingsOf(r, "rbac/cluster-admin-binding") {
		if f.Resource.Name == "ci-deployer-admin" {
			ca = append(ca, f)
		}
	}
	if len(ca) != 1 {
		t.Fatalf("want one cluster-admin finding for ci-deployer-admin, got %+v", ca)
	}
	f := ca[0]
	if f.Severity != finding.Critical || f.Subject == nil || f.Subject.Kind != "ServiceAccount" || f.Subject.Namespace != "ci" ||
		f.Subject.Name != "deployer" || !slices.Contains(f.Controls, "CIS-5.1.1") || f.Remediation == nil || len(f.Remediation.Changes) == 0 {
		t.Errorf("cluster-admin finding incomplete: %+v", f)
	}
}

func TestJSONPathAndTemplates(t *testing.T) {
	res := mustHarden(t, "-o", "jsonpath={.items[*].check}")
	if !strings.Contains(res.Stdout, "rbac/cluster-admin-binding") {
		t.Errorf("jsonpath output %q", res.Stdout)
	}
	res = mustHarden(t, "-o", `jsonpath={.items[?(@.severity=="critical")].message}`)
	if !strings.Contains(res.Stdout, "ServiceAccount ci/deployer is bound to cluster-admin") {
		t.Errorf("jsonpath filter output %q", res.Stdout)
	}
	res = mustHarden(t, "-o", "go-template={{.summary.critical}}")
	if res.Stdout == "" || res.Stdout == "0" {
		t.Errorf("go-template output %q", res.Stdout)
	}
	res = mustHarden(t, "-o", "yaml")
	var r finding.Report
	if err := yaml.Unmarshal([]byte(res.Stdout), &r); err != nil || r.Kind != "Report" {
		t.Errorf("yaml output does not decode as a Report: %v", err)
	}
	res = mustHarden(t, "-o", "name")
	if !strings.Contains(res.Stdout, "rbac/cluster-admin-binding:clusterrolebinding/ci-deployer-admin\n") {
		t.Errorf("name output %q", res.Stdout)
	}
}

// key is how the offline/live comparison identifies a finding: its check,
// object and subject (wording may differ: offline says "not in the input"
// where live says "does not exist").
func key(f finding.Finding) string {
	k := f.Check + " " + f.Resource.String()
	if f.Subject != nil {
		k += " " + f.Subject.String()
	}
	return k
}

// demoObjects returns the kind/namespace/name of every object in the sample cluster's files.
func demoObjects(t *testing.T) map[string]bool {
	t.Helper()
	inv, err := inventory.FromFiles([]string{testdata("demo")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range inv.Sources {
		out[finding.Resource{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name}.String()] = true
	}
	return out
}

func TestOfflineFindsWhatLiveFinds(t *testing.T) {
	objects := demoObjects(t)
	// Other tests seed their own objects into the shared cluster: compare the sample's objects only.
	onDemo := func(r *finding.Report) []string {
		var out []string
		for _, f := range r.Items {
			if objects[f.Resource.String()] {
				out = append(out, key(f))
			}
		}
		slices.Sort(out)
		return out
	}
	live, _ := report(t, env.Kubeconfig)
	offline, _ := report(t, env.Kubeconfig, "-f", testdata("demo"), "--server-version", "v1.37")
	l, o := onDemo(live), onDemo(offline)
	if len(o) == 0 {
		t.Fatal("offline audit of the sample found nothing")
	}
	if onlyLive, onlyOffline := difference(l, o), difference(o, l); len(onlyLive)+len(onlyOffline) > 0 {
		t.Errorf("live and offline differ on the sample's objects\nonly live:\n  %s\nonly offline:\n  %s",
			strings.Join(onlyLive, "\n  "), strings.Join(onlyOffline, "\n  "))
	}
	if offline.Items[0].Source == nil || !strings.HasPrefix(offline.Items[0].Source.File, testdata("demo")) || offline.Items[0].Source.Line == 0 {
		t.Errorf("offline finding has no file and line: %+v", offline.Items[0].Source)
	}
}

// sameLiveAndOffline checks that the live and the offline audits found
// exactly the wanted findings (keyed "CHECK RESOURCE"), and that each one
// reads the same in both (the map values: whatever the test compares).
func sameLiveAndOffline(t *testing.T, what string, want []string, live, offline map[string]string) {
	t.Helper()
	for _, run := range []struct {
		name string
		got  map[string]string
	}{{"live", live}, {"offline", offline}} {
		keys := slices.Sorted(maps.Keys(run.got))
		if !slices.Equal(keys, want) {
			t.Errorf("%s findings on %s:\n  %s\nwant:\n  %s", run.name, what, strings.Join(keys, "\n  "), strings.Join(want, "\n  "))
		}
	}
	for k, lv := range live {
		if ov, ok := offline[k]; ok && ov != lv {
			t.Errorf("%s differs\nlive:    %s\noffline: %s", k, lv, ov)
		}
	}
}

// difference returns the elements of a that are not in b.
func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func TestStdinManifests(t *testing.T) {
	b, err := os.ReadFile(testdata("demo", "10-rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res := hardenAs(t, env.Kubeconfig, strings.NewReader(string(b)), "-f", "-", "--check", "rbac/cluster-admin-binding", "-o", "name")
	if res.Code != 0 || !strings.Contains(res.Stdout, "clusterrolebinding/ci-deployer-admin") {
		t.Fatalf("stdin audit: exit %d, out %q, err %q", res.Code, res.Stdout, res.Stderr)
	}
}

// grantRole creates a ClusterRole and binds it to a user, cleaning up after the test.
func grantRole(t *testing.T, role *rbacv1.ClusterRole, user string) {
	t.Helper()
	ctx := context.Background()
	rbac := env.Client.RbacV1()
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = rbac.ClusterRoleBindings().Delete(ctx, role.Name, metav1.DeleteOptions{})
		_ = rbac.ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
	})
}

func TestForbiddenListSkipsChecksAndSaysWhy(t *testing.T) {
	kubeconfig, _, err := env.AddUser("foundation-limited-auditor")
	if err != nil {
		t.Fatal(err)
	}
	// Everything the auditor role has, except clusterrolebindings.
	res := mustHarden(t, "auditor-role", "--name", "foundation-limited")
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(res.Stdout), &role); err != nil {
		t.Fatal(err)
	}
	for i, r := range role.Rules {
		role.Rules[i].Resources = slices.DeleteFunc(r.Resources, func(s string) bool { return s == "clusterrolebindings" })
	}
	grantRole(t, &role, "foundation-limited-auditor")

	r, stderr := report(t, kubeconfig)
	var skipped *finding.Skipped
	for i, s := range r.Summary.Skipped {
		if s.Check == "rbac/cluster-admin-binding" {
			skipped = &r.Summary.Skipped[i]
		}
	}
	if skipped == nil || !strings.Contains(skipped.Reason, "clusterrolebindings") || !strings.Contains(skipped.Reason, "forbidden") {
		t.Fatalf("summary.skipped does not say rbac/cluster-admin-binding was skipped for forbidden clusterrolebindings: %+v", r.Summary.Skipped)
	}
	if len(findingsOf(r, "rbac/cluster-admin-binding")) != 0 {
		t.Error("a skipped check reported findings")
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "clusterrolebindings") || !strings.Contains(lines[0], "forbidden") {
		t.Errorf("want one warning line about clusterrolebindings on stderr, got %q", stderr)
	}
	// The table says so too.
	tab := hardenAs(t, kubeconfig, nil)
	if tab.Code != 0 || !strings.Contains(tab.Stdout, "SKIPPED rbac/cluster-admin-binding") {
		t.Errorf("table does not show the skipped check (exit %d):\n%s", tab.Code, tab.Stdout)
	}
}

func TestAuditorRoleIsEnough(t *testing.T) {
	kubeconfig, _, err := env.AddUser("foundation-auditor")
	if err != nil {
		t.Fatal(err)
	}
	res := mustHarden(t, "auditor-role", "--with-secrets", "--name", "foundation-auditor")
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(res.Stdout), &role); err != nil {
		t.Fatal(err)
	}
	for _, r := range role.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" {
				t.Errorf("auditor role grants %q", v)
			}
		}
	}
	grantRole(t, &role, "foundation-auditor")
	r, stderr := report(t, kubeconfig)
	if len(r.Summary.Skipped) != 0 || stderr != "" {
		t.Errorf("with the auditor role nothing should be skipped: %+v, stderr %q", r.Summary.Skipped, stderr)
	}
	if len(findingsOf(r, "rbac/cluster-admin-binding")) == 0 {
		t.Error("auditor sees no cluster-admin finding")
	}
}

func TestErrorsAreOneClearLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"malformed yaml", []string{"-f", bad}, []string{bad, "document 2", "line 6"}},
		{"missing file", []string{"-f", "/nonexistent/manifests.yaml"}, []string{"/nonexistent/manifests.yaml", "no such file"}},
		{"unknown flag", []string{"--no-such-flag"}, []string{"unknown flag: --no-such-flag"}},
		{"bad severity", []string{"--severity", "urgent"}, []string{"--severity", "urgent"}},
		{"unknown check", []string{"--check", "rbac/no-such-check"}, []string{"unknown check", "rbac/no-such-check"}},
		{"unknown output", []string{"-o", "xml"}, []string{"unknown output format", "xml"}},
		{"unreachable server", []string{"--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify"}, []string{"127.0.0.1:1", "connection refused"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := harden(t, tc.args...)
			if res.Code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", res.Code, res.Stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr %q does not mention %q", res.Stderr, w)
				}
			}
			if strings.Contains(res.Stderr, "Usage:") || strings.Contains(res.Stderr, "goroutine ") {
				t.Errorf("stderr has a usage dump or stack trace: %q", res.Stderr)
			}
			if res.Stdout != "" {
				t.Errorf("stdout on error: %q", res.Stdout)
			}
		})
	}
}

func TestFailOnExitStatus(t *testing.T) {
	if res := harden(t, "--fail-on", "critical", "-o", "name"); res.Code != 2 {
		t.Errorf("--fail-on critical on the sample: exit %d, want 2 (stderr %q)", res.Code, res.Stderr)
	}
	if res := harden(t, "-n", "shop", "--check", "rbac/cluster-admin-binding", "--fail-on", "critical"); res.Code != 0 {
		t.Errorf("--fail-on with no finding at that level: exit %d, want 0 (stderr %q)", res.Code, res.Stderr)
	}
}

func TestNamespaceNarrowsTheAudit(t *testing.T) {
	r, _ := report(t, env.Kubeconfig, "-n", "ci")
	if len(r.Items) == 0 {
		t.Fatal("no finding in namespace ci")
	}
	for _, f := range r.Items {
		if f.Resource.Namespace != "ci" && !(f.Resource.Kind == "Namespace" && f.Resource.Name == "ci") &&
			(f.Subject == nil || f.Subject.Namespace != "ci") {
			t.Errorf("finding outside namespace ci: %s", key(f))
		}
	}
}
