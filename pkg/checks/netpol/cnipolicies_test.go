package netpol

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// verdict names a can-reach answer: allowed, denied or unknown.
func verdict(r Reach) string {
	switch {
	case r.Unknown:
		return "unknown"
	case r.Allowed:
		return "allowed"
	}
	return "denied"
}

// TestCNIPoliciesUnknown is issue 15's second must-show: a cluster with a
// Cilium L7 rule, or a Calico policy using a feature outside the subset,
// reports "unknown" for the pods it selects, in the directions it acts on,
// never allowed or denied; every other answer stays what NetworkPolicy says.
func TestCNIPoliciesUnknown(t *testing.T) {
	type question struct {
		src, dst, port string
		want           string
		note           string // in the notes, when set
	}
	tests := []struct {
		name, policy string
		asks         []question
	}{
		{"without CNI policies, NetworkPolicy decides", "", []question{
			{"guest/probe-0", "shop/web-0", "80", "allowed", ""},
			{"shop/web-0", "shop/db-0", "5432", "allowed", ""},
			{"guest/probe-0", "shop/db-0", "5432", "denied", ""},
		}},
		{"a Cilium L7 rule", "cilium-l7.yaml", []question{
			{"guest/probe-0", "shop/web-0", "80", "unknown", "shop/web-0: not modelled: CiliumNetworkPolicy shop/web-l7 selects it; verdicts for pods it selects are unknown"},
			{"front/fe-0", "shop/web-0", "8080", "unknown", "CiliumNetworkPolicy shop/web-l7"},
			{"guest/probe-0", "shop/web-0", "", "unknown", ""},
			// It has no egress rules: web's egress is judged as before.
			{"shop/web-0", "shop/db-0", "5432", "allowed", ""},
			{"shop/web-0", "shop/db-0", "80", "denied", ""},
			{"guest/probe-0", "shop/db-0", "5432", "denied", ""},
			{"front/deployment/api", "shop/web-0", "80", "unknown", ""},
		}},
		{"Calico policies with service accounts and domains", "calico-unmodelled.yaml", []question{
			// The NetworkPolicy allows web to db, but the Calico policy comes first in its tier.
			{"shop/web-0", "shop/db-0", "5432", "unknown", "shop/db-0: not modelled: NetworkPolicy.projectcalico.org shop/db-by-sa selects it"},
			{"guest/probe-0", "shop/db-0", "5432", "unknown", "GlobalNetworkPolicy.projectcalico.org guest-egress"},
			// probe's egress is unknown; web's ingress is open: unknown, not allowed.
			{"guest/probe-0", "shop/web-0", "80", "unknown", "guest/probe-0: not modelled: GlobalNetworkPolicy.projectcalico.org guest-egress selects it"},
			// An unknown side never makes a denied one allowed: fe's egress is open, db's ingress unknown.
			{"front/fe-0", "shop/web-0", "80", "allowed", ""},
			{"shop/web-0", "guest/probe-0", "80", "allowed", ""}, // types [Egress] only: probe's ingress is not touched
		}},
		{"selectors the tool cannot evaluate select every pod in scope", "broad.yaml", []question{
			{"guest/probe-0", "shop/web-0", "80", "unknown", "(read as selecting every pod in its scope: selector cannot be parsed"},
			{"shop/web-0", "front/fe-0", "80", "unknown", "uses the label source \"reserved\""},
			{"shop/web-0", "front/deployment/api", "8080", "unknown", ""},
			{"shop/web-0", "shop/db-0", "5432", "allowed", ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := []string{"cni/cluster.yaml"}
			if tc.policy != "" {
				files = append(files, "cni/"+tc.policy)
			}
			inv := load(t, files...)
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
				if q.note != "" && !strings.Contains(strings.Join(r.Notes, "\n"), q.note) {
					t.Errorf("%s -> %s %s: notes lack %q\n%s", q.src, q.dst, q.port, q.note, why)
				}
				if q.want == "unknown" && q.port == "" && (len(r.AllowedPorts) > 0 || len(r.UnknownPorts) == 0) {
					t.Errorf("%s -> %s: allowed ports %v, unknown %v", q.src, q.dst, r.AllowedPorts, r.UnknownPorts)
				}
			}
		})
	}
}

// TestCNISelection checks which pods and workloads each CNI policy selects,
// and in which directions.
func TestCNISelection(t *testing.T) {
	inv := load(t, "cni/cluster.yaml", "cni/selection.yaml", "cni/cilium-l7.yaml", "cni/calico-unmodelled.yaml", "cni/broad.yaml")
	a := Analyze(inv)
	want := map[string]string{
		"CiliumNetworkPolicy shop/web-l7":                    "ingress: shop/web-0",
		"CiliumClusterwideNetworkPolicy guest-by-namespace":  "egress: guest/probe-0",
		"CiliumClusterwideNetworkPolicy front-fe":            "ingress: front/fe-0",
		"CiliumNetworkPolicy shop/shop-all":                  "egress: shop/db-0 shop/web-0",
		"GlobalNetworkPolicy.projectcalico.org db-sa":        "ingress: shop/db-0",
		"NetworkPolicy.projectcalico.org front/api-egress":   "egress: deployment/api",
		"NetworkPolicy.projectcalico.org shop/db-by-sa":      "ingress: shop/db-0",
		"GlobalNetworkPolicy.projectcalico.org guest-egress": "egress: guest/probe-0",
		"NetworkPolicy.projectcalico.org guest/typo":         "ingress egress: guest/probe-0",
		"CiliumNetworkPolicy front/reserved":                 "ingress: deployment/api front/fe-0",
	}
	if len(a.CNIPolicies) != len(want) {
		t.Errorf("%d CNI policies, want %d", len(a.CNIPolicies), len(want))
	}
	for i := range a.CNIPolicies {
		p := &a.CNIPolicies[i]
		var dirs, sel []string
		if p.Ingress {
			dirs = append(dirs, "ingress")
		}
		if p.Egress {
			dirs = append(dirs, "egress")
		}
		for _, pi := range p.Selected {
			sel = append(sel, a.Pods[pi].Ref())
		}
		for _, wi := range p.SelectedWorkloads {
			sel = append(sel, a.Workloads[wi].Ref())
		}
		slices.Sort(sel)
		got := strings.Join(dirs, " ") + ": " + strings.Join(sel, " ")
		if got != want[p.Ref()] {
			t.Errorf("%s: %q, want %q", p.Ref(), got, want[p.Ref()])
		}
	}
}

// Coverage never counts an endpoint a CNI policy selects as isolated, nor as
// open; the checks claim neither, and name the policies.
func TestCNICoverageAndChecks(t *testing.T) {
	inv := load(t, "cni/cluster.yaml", "cni/cilium-l7.yaml", "cni/calico-unmodelled.yaml")
	c := ComputeCoverage(inv)
	byNS := map[string]NamespaceCoverage{}
	for _, n := range c.Namespaces {
		byNS[n.Namespace] = n
	}
	// shop: db is isolated by the NetworkPolicy, but a Calico policy selects it: unknown, like web.
	if n := byNS["shop"]; n.IngressIsolated != 0 || n.IngressUnknown != 2 || n.CNIPolicies != 2 || n.EgressUnknown != 0 {
		t.Errorf("shop coverage %+v", n)
	}
	if n := byNS["guest"]; n.EgressUnknown != 1 || n.EgressIsolated != 0 || n.CNIPolicies != 1 {
		t.Errorf("guest coverage %+v", n)
	}
	if c.Total.IngressUnknown != 2 || c.Total.EgressUnknown != 1 || c.Total.IngressIsolated != 0 {
		t.Errorf("total %+v", c.Total)
	}
	_, _, rows := c.Table()
	if rows[2][4] != "0 (0%), 2 unknown" {
		t.Errorf("shop row %v", rows[2])
	}

	got, findings := runChecks(t, inv)
	// front has no policy of any kind; guest and shop have CNI policies.
	if !slices.Equal(got[IDNamespaceWithoutPolicy], []string{"namespace/front medium"}) {
		t.Errorf("%s: %v", IDNamespaceWithoutPolicy, got[IDNamespaceWithoutPolicy])
	}
	for _, f := range findings {
		switch {
		case f.Check == IDPodsNotIsolatedIngress && f.Resource.Name == "shop",
			f.Check == IDPodsNotIsolatedEgress && f.Resource.Name == "guest":
			t.Errorf("%s claims pods a CNI policy selects are open: %s", f.Check, f.Message)
		case f.Check == IDNoDefaultDenyIngress && f.Resource.Name == "shop":
			for _, want := range []string{"not modelled: CiliumNetworkPolicy shop/web-l7, NetworkPolicy.projectcalico.org shop/db-by-sa act in it",
				"and so is the ingress isolation of 2 pods"} {
				if !strings.Contains(f.Message, want) {
					t.Errorf("%s: %q lacks %q", f.Check, f.Message, want)
				}
			}
		case f.Check == IDEgressWithoutDNS && f.Resource.Name == "guest":
			t.Errorf("%s: %s", f.Check, f.Message)
		}
	}
	if !slices.Contains(got[IDNoDefaultDenyIngress], "namespace/shop medium") {
		t.Errorf("%s: %v: an unknown is never a default deny", IDNoDefaultDenyIngress, got[IDNoDefaultDenyIngress])
	}
}

// Offline, manifests (no kube-system namespace) without CNI policies hold
// none of their own; the Calico kinds of both groups are read into one list.
func TestCNIKindsOffline(t *testing.T) {
	inv, err := inventory.Read([]string{"testdata/cni/cluster.yaml"}, nil, inventory.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range CNIKinds() {
		if !inv.Has(k) || !inv.NotInManifests[k] {
			t.Errorf("%s: loaded %v, not in manifests %v", k, inv.Has(k), inv.NotInManifests[k])
		}
	}
	inv, err = inventory.Read([]string{"testdata/cni/cluster.yaml", "testdata/cni/selection.yaml", "testdata/cni/calico-unmodelled.yaml", "testdata/cni/cilium-l7.yaml"},
		nil, inventory.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range map[inventory.Kind]int{inventory.CiliumNetworkPolicies: 2, inventory.CiliumClusterwideNetworkPolicies: 2,
		inventory.CalicoNetworkPolicies: 2, inventory.CalicoGlobalNetworkPolicies: 2} {
		if inv.Count(k) != n || inv.NotInManifests[k] {
			t.Errorf("%s: %d, want %d", k, inv.Count(k), n)
		}
	}
	if inv.Count(inventory.NetworkPolicies) != 1 {
		t.Errorf("networkpolicies: %d, want 1 (Calico's are apart)", inv.Count(inventory.NetworkPolicies))
	}
	for _, u := range inv.CiliumNetworkPolicies {
		if _, ok := u.Object["status"]; ok {
			t.Errorf("%s: status kept", u.GetName())
		}
	}
	if _, ok := inv.Sources[inventory.CNIPolicyKey(inventory.CalicoNetworkPolicies, "shop", "db-by-sa")]; !ok {
		t.Error("no source line for the Calico NetworkPolicy shop/db-by-sa")
	}
}
