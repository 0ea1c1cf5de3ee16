package inventory

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
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

// Two clones that each add a new object never write into the same slot of
// the list they share with the original, even when it has spare room.
func TestClonesAddIndependently(t *testing.T) {
	inv := New()
	inv.Loaded[NetworkPolicies] = true
	inv.NetworkPolicies = make([]networkingv1.NetworkPolicy, 1, 8) // spare room, as a list grown by append has
	inv.NetworkPolicies[0].Name, inv.NetworkPolicies[0].Namespace = "base", "shop"
	policy := func(name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": name, "namespace": "shop"}, "spec": map[string]any{"podSelector": map[string]any{}}}}
	}
	a, b := inv.Clone(), inv.Clone()
	if err := a.Put(policy("from-a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(policy("from-b")); err != nil {
		t.Fatal(err)
	}
	if len(a.NetworkPolicies) != 2 || a.NetworkPolicies[1].Name != "from-a" {
		t.Errorf("clone a holds %v", names(a.NetworkPolicies))
	}
	if len(b.NetworkPolicies) != 2 || b.NetworkPolicies[1].Name != "from-b" {
		t.Errorf("clone b holds %v", names(b.NetworkPolicies))
	}
	if len(inv.NetworkPolicies) != 1 {
		t.Errorf("the original holds %v", names(inv.NetworkPolicies))
	}
}

func names(ps []networkingv1.NetworkPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}
