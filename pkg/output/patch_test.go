package output

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

func readReport(t *testing.T, path string) *finding.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r finding.Report
	if err := yaml.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

func TestPatchGolden(t *testing.T) {
	tests := []struct {
		report, golden string
	}{
		{report: "report.yaml", golden: "want.yaml"},
		{report: "empty.yaml", golden: "want-empty.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.report, func(t *testing.T) {
			dir := filepath.Join("testdata", "patch")
			p, err := New("patch", Options{}, map[string]Printer{"patch": Patch{}})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := p.Print(readReport(t, filepath.Join(dir, tt.report)), &buf); err != nil {
				t.Fatal(err)
			}
			checktest.Golden(t, filepath.Join(dir, tt.golden), buf.Bytes())
		})
	}
}

// TestPatchDocuments reads the stream back the way kubectl does: every
// document is either only comments or a whole object, and what apply cannot
// do is in the comments.
func TestPatchDocuments(t *testing.T) {
	var buf bytes.Buffer
	if err := (Patch{}).Print(readReport(t, "testdata/patch/report.yaml"), &buf); err != nil {
		t.Fatal(err)
	}
	var objects []string
	for _, doc := range strings.Split(buf.String(), "\n---\n") {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("document does not parse: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		md, _ := m["metadata"].(map[string]any)
		if m["apiVersion"] == nil || m["kind"] == nil || md["name"] == nil {
			t.Errorf("document is not a whole object:\n%s", doc)
		}
		if _, ok := md["resourceVersion"]; ok {
			t.Errorf("apply object carries a resourceVersion:\n%s", doc)
		}
		objects = append(objects, m["kind"].(string)+"/"+md["name"].(string))
	}
	if got, want := strings.Join(objects, ","), "NetworkPolicy/default-deny,Namespace/legacy"; got != want {
		t.Errorf("objects = %s, want %s", got, want)
	}
	for _, want := range []string{
		"#   kubectl delete clusterrolebinding.rbac.authorization.k8s.io/ci-admin\n",
		`#   kubectl patch networkpolicy.networking.k8s.io/web -n shop --type=merge -p '{"metadata":{"resourceVersion":"90"},"spec":{"egress":[{"ports":[{"port":53,"protocol":"UDP"}]}]}}'`,
		"# LEFT OUT: risky",
		"# kind: Deployment\n",
		"# May break: pod legacy/reports loses all ingress\n",
		"# [high] netpol/namespace-without-default-deny: namespace legacy has no default-deny policy; 2 pods accept traffic from anywhere\n",
		"# ALTERNATIVE to these findings' changes above: One Baseline-tier ClusterNetworkPolicy instead.\n",
		"# May break: pod legacy/reports loses all ingress from pods\n",
		"# kind: ClusterNetworkPolicy\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("stream lacks %q", want)
		}
	}
	if n := strings.Count(buf.String(), "kubectl delete "); n != 1 {
		t.Errorf("the shared delete is printed %d times, want once", n)
	}
}
