package netpol

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// An edited default deny is judged as it is: ingress-only breaks ingress,
// the same policy with Egress added breaks egress too.
func TestImpact(t *testing.T) {
	inv, err := inventory.FromFiles([]string{"-"}, strings.NewReader(`
apiVersion: v1
kind: Namespace
metadata: {name: analytics}
---
apiVersion: v1
kind: Pod
metadata: {name: etl, namespace: analytics, labels: {app: etl}}
spec: {containers: [{name: etl, image: etl}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		types []any
		want  string
	}{
		{"ingress", []any{"Ingress"}, "pod analytics/etl loses all ingress"},
		{"ingress and egress", []any{"Ingress", "Egress"}, "pod analytics/etl loses all ingress; pod analytics/etl loses all egress"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			after := inv.Clone()
			if err := after.Put(&unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
				"metadata": map[string]any{"name": "default-deny-ingress", "namespace": "analytics"},
				"spec":     map[string]any{"podSelector": map[string]any{}, "policyTypes": tt.types}}}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(Impact(inv, after, "analytics"), "; "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
