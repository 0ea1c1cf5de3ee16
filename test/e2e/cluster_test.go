package e2e

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAnonymousAccessProbedOnTheRealServer asks the API server without
// credentials: with anonymous auth on (kube-apiserver's default) and no grant
// it answers 403, a low finding; once RBAC lets system:anonymous list
// namespaces it answers 200, a critical one.
func TestAnonymousAccessProbedOnTheRealServer(t *testing.T) {
	anon := func() []string {
		t.Helper()
		r, _ := report(t, env.Kubeconfig, "cluster", "--check", "cluster/anonymous-access")
		var out []string
		for _, f := range findingsOf(r, "cluster/anonymous-access") {
			out = append(out, f.Severity.String())
		}
		return out
	}
	if got := anon(); len(got) != 1 || got[0] != "low" {
		t.Fatalf("anonymous auth on, RBAC denying: got %v, want one low finding", got)
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-e2e-anonymous-namespaces"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}}},
	}
	grantRole(t, role, "system:anonymous")
	if got := anon(); len(got) != 1 || got[0] != "critical" {
		t.Fatalf("anonymous may list namespaces: got %v, want one critical finding", got)
	}
}
