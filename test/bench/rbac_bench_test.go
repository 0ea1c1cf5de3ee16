package bench

import (
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
)

// BenchmarkRBAC analyses 20,000 bindings once they are listed: the effective
// permissions of every subject, the escalation graph and every rbac check.
// It should take well under a second per round.
func BenchmarkRBAC(b *testing.B) {
	shapes := []struct {
		name    string
		cluster rbacCluster
	}{
		{"20000bindings-2000ns", rbacCluster{namespaces: 2000, bindingsPerNS: 8, clusterBindings: 4000, clusterRoles: 300, serviceAccountsN: 5, podsPerNS: 5}},
		{"20000bindings-200ns", rbacCluster{namespaces: 200, bindingsPerNS: 80, clusterBindings: 4000, clusterRoles: 300, serviceAccountsN: 20, podsPerNS: 50}},
	}
	cs := rbac.Checks()
	for _, s := range shapes {
		src := s.cluster.generate()
		if n := len(src.RoleBindings) + len(src.ClusterRoleBindings); n != 20000 {
			b.Fatalf("%s: %d bindings", s.name, n)
		}
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			var findings int
			for b.Loop() {
				res := checks.Run(rbacFresh(src), cs)
				if len(res.Skipped) > 0 {
					b.Fatalf("skipped %v", res.Skipped)
				}
				findings = len(res.Findings)
			}
			b.ReportMetric(float64(findings), "findings")
		})
	}
}

// BenchmarkRBACWhoCan answers one who-can on an analysed 20,000-binding cluster.
func BenchmarkRBACWhoCan(b *testing.B) {
	inv := rbacCluster{namespaces: 2000, bindingsPerNS: 8, clusterBindings: 4000, clusterRoles: 300, serviceAccountsN: 5, podsPerNS: 5}.generate()
	if _, err := rbac.WhoCan(inv, "list", "secrets", "", "", "team-7"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		acc, err := rbac.WhoCan(inv, "create", "pods", "exec", "app-1", rbac.AnyNamespace)
		if err != nil || len(acc) == 0 {
			b.Fatalf("who-can: %v, %d", err, len(acc))
		}
	}
}
