package output

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

func sampleRules(*finding.Report) ([]Rule, error) {
	return []Rule{
		{ID: "psa/namespace-no-enforce", Domain: "psa", Severity: finding.Medium, Title: "Namespace enforces no Pod Security level", Controls: []finding.Control{"NSA-CISA-Pod-Security"}},
		{ID: "psa/pods", Domain: "psa", Severity: finding.High, Title: "Pods break the namespace's level"},
	}, nil
}

func TestPolicyReportGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := (PolicyReport{Rules: sampleRules}).Print(sampleReport(), &buf); err != nil {
		t.Fatal(err)
	}
	checktest.Golden(t, filepath.Join("testdata", "policyreport.yaml"), buf.Bytes())
}

// decodeReports splits the stream into its objects.
func decodeReports(t *testing.T, b []byte) []policyReport {
	t.Helper()
	var out []policyReport
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var p policyReport
		if err := yaml.UnmarshalStrict([]byte(doc), &p); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		out = append(out, p)
	}
	return out
}

func TestPolicyReportPlacesResults(t *testing.T) {
	r := sampleReport()
	// psa/namespace-no-enforce ran and found nothing; rbac/secrets-read's
	// findings could all be hidden by --severity and it still did not pass.
	r.Items = slices.DeleteFunc(r.Items, func(f finding.Finding) bool { return f.Check == "rbac/secrets-read" })
	var buf bytes.Buffer
	if err := (PolicyReport{Name: "kubectl-harden-rbac", Rules: sampleRules}).Print(r, &buf); err != nil {
		t.Fatal(err)
	}
	reports := decodeReports(t, buf.Bytes())
	if len(reports) != 2 {
		t.Fatalf("got %d objects, want the ClusterPolicyReport and one PolicyReport:\n%s", len(reports), buf.String())
	}
	cluster, legacy := reports[0], reports[1]
	if cluster.Kind != "ClusterPolicyReport" || cluster.Metadata.Namespace != "" || cluster.Metadata.Name != "kubectl-harden-rbac" {
		t.Errorf("first object: %+v", cluster.Metadata)
	}
	if legacy.Kind != "PolicyReport" || legacy.Metadata.Namespace != "legacy" {
		t.Errorf("second object: %s %+v", legacy.Kind, legacy.Metadata)
	}
	results := map[string]string{}
	for _, res := range cluster.Results {
		results[res.Policy] = res.Result
	}
	want := map[string]string{"rbac/cluster-admin-binding": "fail", "psa/namespace-no-enforce": "pass", "psa/pods": "skip"}
	for id, res := range want {
		if results[id] != res {
			t.Errorf("cluster result of %s = %q, want %q (all: %v)", id, results[id], res, results)
		}
	}
	if _, ok := results["rbac/secrets-read"]; ok {
		t.Errorf("rbac/secrets-read has findings (hidden here) and is reported %q", results["rbac/secrets-read"])
	}
	if cluster.Summary != (policyReportCounts{Pass: 1, Fail: 1, Skip: 1}) {
		t.Errorf("cluster summary %+v", cluster.Summary)
	}
	if len(legacy.Results) != 1 || legacy.Results[0].Policy != "netpol/namespace-no-policy" || legacy.Summary.Fail != 1 {
		t.Errorf("the finding about namespace legacy belongs in its PolicyReport: %+v", legacy.Results)
	}
	ca := cluster.Results[0]
	if ca.Severity != "critical" || ca.Rule != "cluster-admin-binding" || ca.Category != "rbac" || ca.Properties["controls"] != "CIS-5.1.1,NSA-CISA-RBAC" ||
		ca.Properties["subject"] != "ServiceAccount ci/deployer" || len(ca.Resources) != 1 || ca.Resources[0].Name != "ci-deployer-admin" {
		t.Errorf("cluster-admin result: %+v", ca)
	}
}

// An info finding states a fact: it is a warning that does not score.
func TestPolicyReportInfoIsUnscoredWarning(t *testing.T) {
	r := finding.NewReport(finding.Metadata{}, []finding.RanCheck{{ID: "cluster/facts", Severity: finding.Info}}, nil,
		[]finding.Finding{{Check: "cluster/facts", Severity: finding.Info, Message: "a fact", Resource: finding.ClusterResource()}})
	var buf bytes.Buffer
	if err := (PolicyReport{}).Print(r, &buf); err != nil {
		t.Fatal(err)
	}
	reports := decodeReports(t, buf.Bytes())
	if len(reports) != 1 || len(reports[0].Results) != 1 {
		t.Fatalf("%s", buf.String())
	}
	res := reports[0].Results[0]
	if res.Result != "warn" || res.Scored || len(res.Resources) != 0 || reports[0].Summary.Warn != 1 {
		t.Errorf("info finding about the cluster: %+v", res)
	}
}

func TestPolicyReportWriteError(t *testing.T) {
	if err := (PolicyReport{}).Print(sampleReport(), failingWriter{}); err == nil {
		t.Error("a failing writer gave no error")
	}
}
