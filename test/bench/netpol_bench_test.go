package bench

import (
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
)

// BenchmarkNetpol analyses 50,000 pods and 5,000 policies once they are
// listed: the isolation of every pod, every netpol check, and the coverage
// table. "skewed" puts a fifth of the cluster in one namespace, where a
// selector without the label index would compare every policy with every pod.
func BenchmarkNetpol(b *testing.B) {
	shapes := []struct {
		name    string
		cluster netpolCluster
	}{
		{"500ns-50000pods-5000policies", netpolCluster{namespaces: 500, podsPerNS: 100, policiesPerNS: 10, appsPerNS: 20, hostNetworkEach: 50}},
		{"skewed-1ns-10000pods-1000policies", netpolCluster{namespaces: 1, podsPerNS: 10000, policiesPerNS: 1000, appsPerNS: 500, hostNetworkEach: 50}},
	}
	for _, s := range shapes {
		src := s.cluster.generate()
		reg, err := checks.NewRegistry(netpol.Checks())
		if err != nil {
			b.Fatal(err)
		}
		cs := reg.All()
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			var findings int
			for b.Loop() {
				inv := fresh(src)
				res := checks.Run(inv, cs)
				cov := netpol.ComputeCoverage(inv)
				findings = len(res.Findings)
				if len(res.Skipped) > 0 || cov.Total.Pods == 0 {
					b.Fatalf("skipped %v, pods %d", res.Skipped, cov.Total.Pods)
				}
			}
			b.ReportMetric(float64(findings), "findings")
		})
	}
}
