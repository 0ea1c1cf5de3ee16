package output

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func TestHTMLPage(t *testing.T) {
	r := graphReport()
	r.Metadata.Context = "prod"
	r.Items = append(r.Items, sampleReport().Items...)
	r.Items[0].Message = `<script>alert("x")</script>` // text from the cluster is escaped
	r.Coverage = append(r.Coverage, finding.Coverage{Domain: "psa", Data: coverageTable{}})
	// A remediation with an alternative shows both, the alternative marked as such.
	r.Items = append(r.Items, finding.Finding{Check: "netpol/namespace-without-policy", Severity: finding.Medium, Message: "namespace guest has no NetworkPolicy",
		Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: "guest"},
		Remediation: &remedy.Remediation{Summary: "Add a default deny.",
			Changes: []remedy.Change{remedy.NewApply("deny all of guest", map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
				"metadata": map[string]any{"name": "default-deny", "namespace": "guest"}})},
			Alternatives: []remedy.Remediation{{Summary: "One Baseline policy.", Changes: []remedy.Change{remedy.NewApply("deny in the Baseline tier",
				map[string]any{"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": map[string]any{"name": "baseline-default-deny"}})}}}}})
	var buf bytes.Buffer
	if err := (HTML{Version: "v1.2.3"}).Print(r, &buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"<title>kubectl harden report: prod</title>",
		"Content-Security-Policy",                 // no fetch can happen, whatever the content
		`data-label="ServiceAccount ci/deployer"`, // the escalation graph's nodes
		`class="node target sev-critical"`,        // ... and its target
		`<td class="cell v-some" title="some workloads of legacy may connect to some of shop">some</td>`,
		"NETWORKPOLICY COVERAGE", // a domain's table
		`data-severity="critical"`, `data-namespace="legacy"`, `data-namespace="(cluster)"`,
		"delete the binding", "kind: ClusterRoleBinding", // remediation and its YAML
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"kubectl harden v1.2.3",
		"apply: alternative, instead of the changes above: deny in the Baseline tier", "kind: ClusterNetworkPolicy",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page has no %q", want)
		}
	}
	if strings.Contains(page, `<script>alert("x")`) {
		t.Error("a finding's message is not escaped")
	}
	// Self-contained: nothing refers to another file or host.
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//|@import|url\((https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page loads something from elsewhere: %q", m)
	}
	if n := strings.Count(page, `<tbody class="finding"`); n != len(r.Items) {
		t.Errorf("%d finding rows, want %d", n, len(r.Items))
	}
}

// A fleet run is one page with a section per cluster.
func TestHTMLFleet(t *testing.T) {
	a, b := sampleReport(), sampleReport()
	b.Metadata.Context = "staging"
	var buf bytes.Buffer
	if err := (HTML{}).PrintAll([]*finding.Report{a, b}, &buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, `<section class="cluster"`); n != 2 {
		t.Errorf("%d sections, want 2", n)
	}
	for _, want := range []string{"<title>kubectl harden report: 2 clusters</title>", `href="#cluster-1"`, `data-cluster="staging (https://127.0.0.1:6443)"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page has no %q", want)
		}
	}
}

func TestHTMLWriteError(t *testing.T) {
	if err := (HTML{}).Print(sampleReport(), failingWriter{}); err == nil {
		t.Error("a failing writer gave no error")
	}
}

func TestGraphLayoutColumns(t *testing.T) {
	g := escalationGraph(graphReport())
	col, row, rows := g.layout()
	if rows != 2 {
		t.Errorf("tallest column has %d rows, want 2 (two subjects, two capabilities)", rows)
	}
	for i, n := range g.Nodes {
		want := map[string]int{nodeSubject: 0, nodeCapability: 1, nodeIdentity: 2, nodeTarget: 3}[n.Kind]
		if col[i] != want {
			t.Errorf("%s %q in column %d, want %d", n.Kind, n.Label, col[i], want)
		}
	}
	// Each capability sits in the row of its subject: no crossing edges.
	for _, e := range g.Edges {
		if g.Nodes[e.From].Kind == nodeSubject && row[e.From] != row[e.To] {
			t.Errorf("%q (row %d) -> %q (row %d) crosses", g.Nodes[e.From].Label, row[e.From], g.Nodes[e.To].Label, row[e.To])
		}
	}
}
