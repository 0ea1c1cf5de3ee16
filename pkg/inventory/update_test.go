package inventory

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestPutRemoveClone(t *testing.T) {
	inv, err := FromFiles([]string{"-"}, strings.NewReader(`
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: shop}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: shop}
spec: {podSelector: {}}
`))
	if err != nil {
		t.Fatal(err)
	}
	labelled := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "shop", "labels": map[string]any{"team": "web"}}}}
	clone := inv.Clone()
	if err := clone.Put(labelled); err != nil {
		t.Fatal(err)
	}
	if len(clone.Namespaces) != 1 || clone.Namespaces[0].Labels["team"] != "web" {
		t.Errorf("Put did not replace the namespace: %+v", clone.Namespaces)
	}
	if inv.Namespaces[0].Labels["team"] != "" {
		t.Error("Put on a clone changed the original")
	}
	if !clone.Remove("networking.k8s.io/v1", "NetworkPolicy", "shop", "a") || len(clone.NetworkPolicies) != 1 || clone.NetworkPolicies[0].Name != "b" {
		t.Errorf("Remove: %+v", clone.NetworkPolicies)
	}
	if len(inv.NetworkPolicies) != 2 {
		t.Error("Remove on a clone changed the original")
	}
	if clone.Remove("networking.k8s.io/v1", "NetworkPolicy", "shop", "a") {
		t.Error("removed twice")
	}
	// A kind that was not loaded stays unknown.
	if err := clone.Put(&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ServiceAccount",
		"metadata": map[string]any{"name": "x", "namespace": "shop"}}}); err != nil || len(clone.ServiceAccounts) != 0 && !clone.Has(ServiceAccounts) {
		t.Errorf("Put of a kind not loaded: %v %+v", err, clone.ServiceAccounts)
	}
	if k, ok := KindOf("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"); !ok || k != ClusterRoleBindings {
		t.Errorf("KindOf = %s %v", k, ok)
	}
	if _, ok := KindOf("v1", "Service"); ok {
		t.Error("KindOf takes a kind the inventory does not model")
	}
}
