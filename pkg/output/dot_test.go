package output

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// fakeReach is a coverage with a namespace reachability matrix.
type fakeReach struct{}

func (fakeReach) CoverageDomain() string { return "netpol" }

func (fakeReach) NamespaceReach() ([]string, [][]string, string) {
	return []string{"legacy", "shop"}, [][]string{{"all", "some"}, {"none", "unknown"}}, ""
}

// graphReport has two escalation paths that meet at ServiceAccount ci/deployer, and a reachability matrix.
func graphReport() *finding.Report {
	hop := func(action, becomes string) map[string]any {
		return map[string]any{"action": action, "becomes": becomes}
	}
	items := []finding.Finding{
		{Check: EscalationCheck, Severity: finding.Critical, Title: "Subject can escalate",
			Message:  "User dev -> create pods in namespace ci -> ServiceAccount ci/deployer -> cluster-admin",
			Resource: finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Namespace: "ci", Name: "dev"},
			Subject:  &finding.Subject{Kind: "User", Name: "dev"},
			Evidence: map[string]any{"path": "User dev -> create pods in namespace ci -> ServiceAccount ci/deployer -> cluster-admin",
				"hops": []map[string]any{hop("create pods in namespace ci", "ServiceAccount ci/deployer")}}},
		{Check: EscalationCheck, Severity: finding.Critical, Title: "Subject can escalate",
			Message:  `Group "ops" -> impersonate serviceaccounts in namespace ci -> ServiceAccount ci/deployer -> cluster-admin`,
			Resource: finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ops"},
			Subject:  &finding.Subject{Kind: "Group", Name: "ops"},
			Evidence: map[string]any{"path": `Group "ops" -> impersonate serviceaccounts in namespace ci -> ServiceAccount ci/deployer -> cluster-admin`,
				"hops": []map[string]any{hop("impersonate serviceaccounts in namespace ci", "ServiceAccount ci/deployer")}}},
	}
	r := finding.NewReport(finding.Metadata{}, []finding.RanCheck{{ID: EscalationCheck, Severity: finding.Critical}}, nil, items)
	r.Coverage = []finding.Coverage{{Domain: "netpol", Data: fakeReach{}}}
	return r
}

func TestDOTGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := (DOT{}).Print(graphReport(), &buf); err != nil {
		t.Fatal(err)
	}
	checktest.Golden(t, filepath.Join("testdata", "graphs.dot"), buf.Bytes())
	// The two paths share their identity and target: 6 nodes, not 8.
	g := escalationGraph(graphReport())
	if len(g.Nodes) != 6 || len(g.Edges) != 5 {
		t.Errorf("graph has %d nodes and %d edges, want 6 and 5: %+v", len(g.Nodes), len(g.Edges), g.Nodes)
	}
	// Graphviz reads it, when it is installed (the e2e test installs it and parses the demo's graphs).
	if _, err := exec.LookPath("dot"); err == nil {
		cmd := exec.Command("dot", "-Tsvg")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ServiceAccount ci/deployer") {
			t.Errorf("dot -Tsvg: %v\n%s", err, out)
		}
	}
}

func TestDOTWithoutGraphsIsAnError(t *testing.T) {
	err := (DOT{}).Print(sampleReport(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "kubectl harden rbac -o dot") {
		t.Errorf("got %v", err)
	}
	// An escalation check that ran and found nothing draws an empty graph.
	r := finding.NewReport(finding.Metadata{}, []finding.RanCheck{{ID: EscalationCheck, Severity: finding.Critical}}, nil, nil)
	var buf bytes.Buffer
	if err := (DOT{}).Print(r, &buf); err != nil || !strings.Contains(buf.String(), "digraph escalation {") {
		t.Errorf("got %v\n%s", err, buf.String())
	}
}
