package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory/live"
)

// TestLiveLoaderPaginatesAndReadsSecretsAsMetadata lists with a page size of
// 2 and compares with one big page: every object arrives once, managedFields
// are gone, and Secrets come back as metadata.
func TestLiveLoaderPaginatesAndReadsSecretsAsMetadata(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "inventory-e2e"}}
	if _, err := env.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "secret-" + name, Namespace: ns.Name},
			StringData: map[string]string{"password": "do-not-read-" + name}}
		if _, err := env.Client.CoreV1().Secrets(ns.Name).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kinds := []inventory.Kind{inventory.Namespaces, inventory.Secrets, inventory.RoleBindings, inventory.ClusterRoles}
	small, err := live.FromCluster(ctx, env.Config, live.LiveOptions{Kinds: kinds, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	big, err := live.FromCluster(ctx, env.Config, live.LiveOptions{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	if len(small.ClusterRoles) < 50 || len(small.ClusterRoles) != len(big.ClusterRoles) ||
		len(small.Namespaces) != len(big.Namespaces) || len(small.Secrets) != len(big.Secrets) {
		t.Fatalf("paginated and single-page lists differ: clusterroles %d/%d namespaces %d/%d secrets %d/%d",
			len(small.ClusterRoles), len(big.ClusterRoles), len(small.Namespaces), len(big.Namespaces), len(small.Secrets), len(big.Secrets))
	}
	seen := map[string]bool{}
	for _, r := range small.ClusterRoles {
		if seen[r.Name] {
			t.Errorf("clusterrole %s listed twice", r.Name)
		}
		seen[r.Name] = true
		if r.ManagedFields != nil {
			t.Errorf("clusterrole %s kept managedFields", r.Name)
		}
	}
	n := 0
	for _, s := range small.Secrets {
		if s.Namespace == ns.Name {
			n++
			if s.Kind != "PartialObjectMetadata" && s.Kind != "" {
				t.Errorf("secret came back as %s", s.Kind)
			}
		}
	}
	if n != 5 {
		t.Errorf("got %d secrets of %s, want 5", n, ns.Name)
	}
	if small.ServerVersion != "v1.37.2" {
		t.Errorf("server version %q", small.ServerVersion)
	}
}

func TestLiveLoaderNamespaceScope(t *testing.T) {
	inv, err := live.FromCluster(context.Background(), env.Config, live.LiveOptions{
		Kinds: []inventory.Kind{inventory.Namespaces, inventory.Pods, inventory.ClusterRoleBindings}, Namespace: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Namespaces) != 1 || inv.Namespaces[0].Name != "legacy" {
		t.Errorf("namespaces: %d", len(inv.Namespaces))
	}
	for _, p := range inv.Pods {
		if p.Namespace != "legacy" {
			t.Errorf("pod %s/%s outside the namespace", p.Namespace, p.Name)
		}
	}
	if len(inv.Pods) != 2 || len(inv.ClusterRoleBindings) == 0 || len(inv.Missing) != 0 || len(inv.Warnings) != 0 {
		t.Errorf("pods %d, clusterrolebindings %d, missing %v, warnings %q", len(inv.Pods), len(inv.ClusterRoleBindings), inv.Missing, inv.Warnings)
	}
	// A namespace that does not exist is an error naming it, not a kind "not served".
	_, err = live.FromCluster(context.Background(), env.Config, live.LiveOptions{
		Kinds: []inventory.Kind{inventory.Namespaces, inventory.Pods}, Namespace: "no-such-namespace"})
	if err == nil || !strings.Contains(err.Error(), `namespace "no-such-namespace" not found`) {
		t.Errorf("missing namespace: %v", err)
	}
}
