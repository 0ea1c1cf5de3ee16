package output

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

type coverageTable struct{}

func (coverageTable) CoverageDomain() string { return "netpol" }

func (coverageTable) Table() (string, []string, [][]string) {
	return "NETWORKPOLICY COVERAGE", []string{"NAMESPACE", "INGRESS"}, [][]string{{"shop", "2/2 (100%)"}, {"legacy", "0/2 (0%)"}}
}

func sampleReport() *finding.Report {
	items := []finding.Finding{
		{
			Check: "netpol/namespace-no-policy", Severity: finding.Medium, Title: "Namespace without NetworkPolicy",
			Message:  "namespace legacy has no NetworkPolicy: every pod accepts traffic from anywhere",
			Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: "legacy"},
			Controls: []finding.Control{"CIS-5.3.2"},
		},
		{
			Check: "rbac/cluster-admin-binding", Severity: finding.Critical, Title: "Subject bound to cluster-admin",
			Message:  "ServiceAccount ci/deployer is bound to cluster-admin by ClusterRoleBinding ci-deployer-admin",
			Resource: finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci-deployer-admin"},
			Subject:  &finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
			Controls: []finding.Control{"CIS-5.1.1", "NSA-CISA-RBAC"},
			Remediation: &remedy.Remediation{Summary: "delete the binding", Changes: []remedy.Change{
				remedy.NewDelete("delete ClusterRoleBinding ci-deployer-admin", remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci-deployer-admin"}, "42"),
			}},
		},
		{
			Check: "rbac/secrets-read", Severity: finding.High, Title: "Subject can read secrets",
			Message:  "User dev@example.com can list secrets in namespace legacy through RoleBinding legacy/dev-debug",
			Resource: finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Namespace: "legacy", Name: "dev-debug"},
			Subject:  &finding.Subject{Kind: "User", Name: "dev@example.com"},
		},
	}
	meta := finding.Metadata{Context: "demo", Server: &finding.ServerInfo{Host: "https://127.0.0.1:6443", Version: "v1.37.2"},
		GeneratedAt: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	ran := []finding.RanCheck{{ID: "rbac/cluster-admin-binding", Severity: finding.Critical}, {ID: "rbac/secrets-read", Severity: finding.High},
		{ID: "netpol/namespace-no-policy", Severity: finding.Medium}, {ID: "psa/namespace-no-enforce", Severity: finding.Medium}}
	r := finding.NewReport(meta, ran, []finding.Skipped{{Check: "psa/pods", Reason: "cannot list pods: forbidden"}}, items)
	r.Coverage = []finding.Coverage{{Domain: "netpol", Data: coverageTable{}}}
	return r
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name, format string
		opts         Options
	}{
		{"table.txt", "table", Options{}},
		{"table-color.txt", "table", Options{Color: true}},
		{"wide.txt", "wide", Options{}},
		{"by-subject.txt", "table", Options{GroupBySubject: true}},
		{"report.json", "json", Options{}},
		{"report.yaml", "yaml", Options{}},
		{"names.txt", "name", Options{}},
		{"jsonpath.txt", `jsonpath={.items[?(@.severity=="critical")].message}`, Options{}},
		{"go-template.txt", `go-template={{range .items}}{{.check}} {{.severity}}{{"\n"}}{{end}}`, Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.format, tc.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := p.Print(sampleReport(), &buf); err != nil {
				t.Fatal(err)
			}
			checktest.Golden(t, filepath.Join("testdata", tc.name), buf.Bytes())
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("xml", Options{}, nil); err == nil {
		t.Fatal("want an error for -o xml")
	}
}

func TestWriteErrorIsReported(t *testing.T) {
	for _, f := range []string{"table", "json", "yaml", "name"} {
		p, _ := New(f, Options{}, nil)
		if err := p.Print(sampleReport(), failingWriter{}); err == nil {
			t.Errorf("-o %s: a failing writer gave no error", f)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// The findings are written one at a time; the document is the one a
// whole-report encoding gives: byte for byte in JSON, the same value in YAML.
func TestStreamedDocumentsEqualWholeEncoding(t *testing.T) {
	empty, none := sampleReport(), sampleReport()
	empty.Items = []finding.Finding{}
	none.Items = nil
	multi := sampleReport()
	multi.Items = append(multi.Items, finding.Finding{Check: "x/multi", Severity: finding.Low,
		Message:  "first line\n  indented\n\nafter a blank line " + strings.Repeat("long words ", 20),
		Evidence: map[string]any{"items": []any{"a: b", map[string]any{"items": nil}}, "text": "one\ntwo\n"}})
	for name, r := range map[string]*finding.Report{"sample": multi, "empty": empty, "nil": none} {
		var got bytes.Buffer
		if err := printJSON(r, &got); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := WriteJSON(finding.Document(r), &want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: streamed json differs:\n%s\n--- want\n%s", name, got.String(), want.String())
		}

		got.Reset()
		if err := printYAML(r, &got); err != nil {
			t.Fatal(err)
		}
		whole, err := yaml.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := yaml.Unmarshal(got.Bytes(), &a); err != nil {
			t.Fatalf("%s: streamed yaml does not parse: %v\n%s", name, err, got.String())
		}
		if err := yaml.Unmarshal(whole, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: streamed yaml differs:\n%s\n--- want\n%s", name, got.String(), whole)
		}
	}
}

// On a big cluster a check with many findings shows its first few and a count.
func TestTableSummarisesChecksWithManyFindings(t *testing.T) {
	r := &finding.Report{}
	for i := range 12 {
		r.Items = append(r.Items, finding.Finding{Check: "psa/run-as-root", Severity: finding.Medium, Message: "runs as root",
			Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team", Name: fmt.Sprintf("app-%02d", i)}})
	}
	r.Items = append(r.Items, finding.Finding{Check: "psa/seccomp", Severity: finding.Medium, Message: "no seccomp",
		Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team", Name: "app-00"}})
	var short, all, wide bytes.Buffer
	if err := (&Table{}).Print(r, &short); err != nil {
		t.Fatal(err)
	}
	if err := (&Table{All: true}).Print(r, &all); err != nil {
		t.Fatal(err)
	}
	if err := (&Table{Wide: true}).Print(r, &wide); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(short.String(), "runs as root"); got != 5 {
		t.Errorf("summary shows %d rows of the check, want 5:\n%s", got, short.String())
	}
	if !strings.Contains(short.String(), "(7 more)") || !strings.Contains(short.String(), "12 findings of this check in all") || !strings.Contains(short.String(), "MEDIUM (13)") {
		t.Errorf("no count of the rest:\n%s", short.String())
	}
	if !strings.Contains(short.String(), "no seccomp") {
		t.Errorf("a check with few findings lost its row:\n%s", short.String())
	}
	for name, b := range map[string]string{"--all": all.String(), "-o wide": wide.String()} {
		if got := strings.Count(b, "runs as root"); got != 12 || strings.Contains(b, "more)") {
			t.Errorf("%s shows %d rows, want every one:\n%s", name, got, b)
		}
	}
}
