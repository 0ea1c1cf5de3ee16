package netpol

import (
	"fmt"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// TestCNIExact checks the exact evaluation of Cilium's and Calico's L3/L4
// subset, one rule per answer, and that every answer names the deciding
// policy and rule.
func TestCNIExact(t *testing.T) {
	type question struct {
		src, dst, port string
		want           string
		reason         string // in the egress or ingress reason, when set
	}
	tests := []struct {
		name  string
		files []string
		asks  []question
	}{
		{"Cilium", []string{"cni/cilium-l34.yaml"}, []question{
			// fromEndpoints by namespace, toPorts by named port.
			{"front/fe-0", "shop/web-0", "80", "allowed", "allowed by CiliumNetworkPolicy shop/web-from-front (ingress rule 0)"},
			{"front/fe-0", "shop/web-0", "8080", "denied", "shop/web-0 is isolated for ingress by CiliumNetworkPolicy shop/web-from-front and no rule admits front/fe-0 on 8080/TCP"},
			{"front/deployment/api", "shop/web-0", "80", "allowed", "CiliumNetworkPolicy shop/web-from-front (ingress rule 0)"},
			{"front/fe-0", "shop/web-0", "", "allowed", ""},
			// Deny wins over the NetworkPolicy's allow.
			{"shop/web-0", "shop/db-0", "5432", "denied", "denied by CiliumNetworkPolicy shop/db-deny (ingressDeny rule 0): Cilium's deny rules win over every allow"},
			{"shop/web-0", "shop/db-0", "5433", "denied", "no rule admits"},
			// Entities and port ranges of any protocol.
			{"guest/probe-0", "front/fe-0", "85/UDP", "allowed", "allowed by CiliumClusterwideNetworkPolicy guest-egress (egress rule 0)"},
			{"guest/probe-0", "front/fe-0", "91", "denied", "guest/probe-0 is isolated for egress by CiliumClusterwideNetworkPolicy guest-egress"},
			{"guest/probe-0", "203.0.113.7", "80", "denied", "no rule admits 203.0.113.7"},
			{"guest/probe-0", "shop/web-0", "80", "denied", "no rule admits guest/probe-0"},
			// An empty rule: default deny, nothing admitted.
			{"front/fe-0", "guest/probe-0", "80", "denied", "guest/probe-0 is isolated for ingress by CiliumNetworkPolicy guest/default-deny"},
			// enableDefaultDeny false: only the deny rule acts.
			{"shop/web-0", "front/fe-0", "80", "allowed", "no policy puts front/fe-0 into default deny for ingress"},
			{"203.0.113.7", "front/fe-0", "80", "denied", "denied by CiliumNetworkPolicy front/fe-no-world (ingressDeny rule 0)"},
		}},
		{"Calico", []string{"cni/calico-l34.yaml"}, []question{
			{"guest/probe-0", "shop/db-0", "5432", "denied", "denied by NetworkPolicy.projectcalico.org shop/db-guard (ingress rule 0)"},
			{"shop/web-0", "shop/db-0", "5433", "allowed", "passed by NetworkPolicy.projectcalico.org shop/db-guard (ingress rule 1) to the next tier"},
			{"front/fe-0", "shop/db-0", "5432", "denied", "denied at the end of the tier"},
			{"shop/web-0", "shop/db-0", "80", "denied", "end of the tier"},
			{"shop/web-0", "shop/db-0", "5432", "allowed", "allowed by shop/db-ingress ingress[0] (order 1000 in Calico's default tier)"},
			// A named port.
			{"front/fe-0", "shop/web-0", "80", "allowed", "allowed by NetworkPolicy.projectcalico.org shop/web-http (ingress rule 0)"},
			{"front/fe-0", "shop/web-0", "81", "denied", "selected for ingress in Calico's default tier by NetworkPolicy.projectcalico.org shop/web-http"},
			{"203.0.113.7", "shop/web-0", "80", "allowed", ""},
			// Egress, with selectors against pods and an address.
			{"guest/probe-0", "shop/web-0", "80", "allowed", "allowed by NetworkPolicy.projectcalico.org guest/probe-egress (egress rule 1)"},
			{"guest/probe-0", "front/fe-0", "80", "denied", "guest/probe-0 is selected for egress"},
			{"guest/probe-0", "203.0.113.7", "80", "unknown", "may match a NetworkSet"},
			{"guest/probe-0", "203.0.113.7", "53/UDP", "allowed", "(egress rule 0)"},
			// Log goes on, notPorts.
			{"shop/web-0", "front/fe-0", "80", "allowed", "allowed by GlobalNetworkPolicy.projectcalico.org fe-from-shop (ingress rule 1) (logged by GlobalNetworkPolicy.projectcalico.org fe-from-shop (ingress rule 0))"},
			{"shop/web-0", "front/fe-0", "22", "denied", "end of the tier"},
			{"shop/db-0", "front/deployment/api", "8080", "allowed", "no NetworkPolicy selects front/deployment/api for ingress"},
		}},
		{"an unmodelled policy keeps the pods it selects unknown", []string{"cni/cilium-l34.yaml", "cni/cilium-l7.yaml"}, []question{
			{"front/fe-0", "shop/web-0", "80", "unknown", "not modelled: CiliumNetworkPolicy shop/web-l7 selects shop/web-0 for ingress"},
			{"shop/web-0", "shop/db-0", "5432", "denied", "shop/db-deny (ingressDeny rule 0)"},
		}},
		{"Cilium and Calico together", []string{"cni/cilium-l34.yaml", "cni/calico-l34.yaml"}, []question{
			{"front/fe-0", "shop/web-0", "80", "unknown", "both Cilium and Calico policies select it"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := load(t, append([]string{"cni/cluster.yaml"}, tc.files...)...)
			for _, q := range tc.asks {
				rs, err := ask(t, inv, "default", q.src, q.dst, q.port)
				if err != nil || len(rs) != 1 {
					t.Fatalf("%s -> %s %s: %v (%d answers)", q.src, q.dst, q.port, err, len(rs))
				}
				r := rs[0]
				why := fmt.Sprintf("egress: %s\ningress: %s\nnotes: %s", r.Egress.Reason, r.Ingress.Reason, strings.Join(r.Notes, "\n"))
				if got := verdict(r); got != q.want {
					t.Errorf("%s -> %s %s: %s, want %s\n%s", q.src, q.dst, q.port, got, q.want, why)
				}
				if q.reason != "" && !strings.Contains(r.Egress.Reason+"\n"+r.Ingress.Reason, q.reason) {
					t.Errorf("%s -> %s %s: reasons lack %q\n%s", q.src, q.dst, q.port, q.reason, why)
				}
			}
		})
	}
}

// Coverage and the checks use the exact verdicts: a pod a Cilium or Calico
// policy isolates is isolated, a namespace-wide Cilium default deny is a
// default deny, and an egress isolation without DNS is reported.
func TestCNIExactCoverage(t *testing.T) {
	inv := load(t, "cni/cluster.yaml", "cni/cilium-l34.yaml")
	c := ComputeCoverage(inv)
	byNS := map[string]NamespaceCoverage{}
	for _, n := range c.Namespaces {
		byNS[n.Namespace] = n
	}
	if n := byNS["shop"]; n.IngressIsolated != 2 || n.IngressUnknown != 0 {
		t.Errorf("shop %+v", n)
	}
	if n := byNS["guest"]; n.IngressIsolated != 1 || n.EgressIsolated != 1 || !n.DefaultDenyIngress || n.EgressUnknown != 0 {
		t.Errorf("guest %+v", n)
	}
	if n := byNS["front"]; n.IngressIsolated != 0 || n.IngressUnknown != 0 {
		t.Errorf("front %+v (enableDefaultDeny false isolates nothing)", n)
	}
	a := Analyze(inv)
	for _, ns := range []string{"shop", "guest", "front"} {
		if !a.governed(ns) {
			t.Errorf("%s not governed", ns)
		}
	}
	got, findings := runChecks(t, inv)
	for _, f := range findings {
		if f.Check == IDNoDefaultDenyIngress && f.Resource.Name == "guest" {
			t.Errorf("%s: %s", f.Check, f.Message)
		}
		if strings.Contains(f.Message, "not modelled") {
			t.Errorf("%s claims not modelled: %s", f.Check, f.Message)
		}
	}
	if !contains(got[IDEgressWithoutDNS], "namespace/guest") {
		t.Errorf("%s: %v", IDEgressWithoutDNS, got[IDEgressWithoutDNS])
	}
	// Calico: probe's egress allows UDP 53 anywhere.
	inv = load(t, "cni/cluster.yaml", "cni/calico-l34.yaml")
	got, _ = runChecks(t, inv)
	if contains(got[IDEgressWithoutDNS], "namespace/guest") {
		t.Errorf("%s: %v", IDEgressWithoutDNS, got[IDEgressWithoutDNS])
	}
	a = Analyze(inv)
	if i, ok := a.FindPod("shop", "db-0"); !ok || !a.IsolatedBy(&a.Pods[i].Isolation, networkingv1.PolicyTypeIngress) {
		t.Error("db-0 not isolated for ingress")
	}
}

func contains(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
