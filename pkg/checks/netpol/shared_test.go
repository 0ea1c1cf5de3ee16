package netpol

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The DNS allow's shared parts (AllowDNSPolicy) reach the findings of every
// fixture and come out of rendering and of a changed copy as they went in;
// the DNS allows mirrored beside a policy carry its selector, not the shared one.
func TestAllowDNSSharedPartsStayUnchanged(t *testing.T) {
	want, err := json.Marshal(map[string]any{"types": dnsPolicyTypes, "egress": dnsEgress})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/checks/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no fixtures", err)
	}
	shared, mirrored := 0, 0
	for _, f := range files {
		_, fs := runChecks(t, load(t, filepath.Join("checks", filepath.Base(f))))
		var changes []remedy.Change
		for _, f := range fs {
			if f.Remediation != nil {
				changes = append(changes, f.Remediation.Changes...)
			}
		}
		for _, ch := range changes {
			if ch.Object == nil || ch.Target.Kind != "NetworkPolicy" {
				continue
			}
			egress, _, _ := unstructured.NestedSlice(ch.Object.Object, "spec", "egress")
			if len(egress) == 0 || len(dnsEgress) == 0 {
				continue
			}
			if b, _ := json.Marshal(egress); string(b) != checktest.JSON(t, dnsEgress) {
				continue
			}
			shared++
			if ch.Target.Name != AllowDNSName {
				mirrored++
				if sel, _, _ := unstructured.NestedMap(ch.Object.Object, "spec", "podSelector"); len(sel) == 0 {
					t.Errorf("%s: the mirrored DNS allow selects every pod", ch.Target)
				}
			}
			// What the fix session sends and the renderers print is a copy:
			// changing it leaves the shared parts alone.
			c := render.Clean(ch.Object)
			rules := c.Object["spec"].(map[string]any)["egress"].([]any)
			rules[0].(map[string]any)["ports"] = []any{}
			c.Object["spec"].(map[string]any)["policyTypes"].([]any)[0] = "Ingress"
		}
	}
	if shared == 0 {
		t.Fatal("no fixture's findings hold the DNS allow: the test checks nothing")
	}
	if got, _ := json.Marshal(map[string]any{"types": dnsPolicyTypes, "egress": dnsEgress}); string(got) != string(want) {
		t.Errorf("the shared DNS allow changed:\n%s\nwant\n%s", got, want)
	}
	t.Logf("%d DNS allows (%d mirrored beside a policy)", shared, mirrored)
}
