package netpol

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// scenarioPods are the pods of testdata/tiers/scenario-cluster.yaml.
var scenarioPods = []string{"shop/db-0", "shop/web-0", "guest/probe-0", "front/fe-0"}

// TestTierScenario is issue 15's first paragraph: a Baseline tier that denies
// all ingress, an Admin Deny (priority 5) from guest to shop's database and an
// Admin Accept (priority 10) of TCP 80 from team=blue to shop's web pods,
// beside a NetworkPolicy letting web reach db on 5432. Written once with
// v1alpha1 AdminNetworkPolicy/BaselineAdminNetworkPolicy and once with
// v1alpha2 ClusterNetworkPolicy: every pod pair and port gets the cluster's
// verdict, the same both ways.
func TestTierScenario(t *testing.T) {
	ports := []string{"80/TCP", "5432/TCP", "8080/TCP", "53/UDP"}
	allowed := map[string]bool{
		"guest/probe-0 shop/web-0 80/TCP": true, // team=blue, Admin Accept
		"front/fe-0 shop/web-0 80/TCP":    true, // team=blue, Admin Accept
		"shop/web-0 shop/db-0 5432/TCP":   true, // NetworkPolicy shop/db-ingress
	}
	for _, tc := range []struct {
		variant              string
		denyGuest, baseline  string
		blueToWeb, baseRef   string
		wantClusterPoliciesF int
	}{
		{"scenario-anp.yaml", "AdminNetworkPolicy deny-guest (Admin, priority 5) ingress rule 0 (no-guests)",
			"BaselineAdminNetworkPolicy default (Baseline) ingress rule 0 (deny-all-ingress)",
			"AdminNetworkPolicy blue-to-web (Admin, priority 10) ingress rule 0 (blue-http)", "BaselineAdminNetworkPolicy default (Baseline)", 1},
		{"scenario-cnp.yaml", "ClusterNetworkPolicy deny-guest (Admin, priority 5) ingress rule 0 (no-guests)",
			"ClusterNetworkPolicy baseline-deny (Baseline, priority 100) ingress rule 0 (deny-all-ingress)",
			"ClusterNetworkPolicy blue-to-web (Admin, priority 10) ingress rule 0 (blue-http)", "ClusterNetworkPolicy baseline-deny (Baseline, priority 100)", 1},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			inv := load(t, "tiers/scenario-cluster.yaml", "tiers/"+tc.variant)
			n := 0
			for _, src := range scenarioPods {
				for _, dst := range scenarioPods {
					if src == dst {
						continue
					}
					for _, port := range ports {
						n++
						key := src + " " + dst + " " + port
						r := reachOne(t, inv, src, dst, port)
						if r.Allowed != allowed[key] || r.Unknown {
							t.Errorf("%s: allowed %v unknown %v, want %v\negress: %s\ningress: %s", key, r.Allowed, r.Unknown, allowed[key], r.Egress.Reason, r.Ingress.Reason)
						}
						if !r.Egress.Allowed || r.Egress.Isolated {
							t.Errorf("%s: egress %+v, want open (no policy selects any pod for egress)", key, r.Egress)
						}
					}
				}
			}
			if n != 48 {
				t.Fatalf("%d pod pair-ports, want 48", n)
			}

			// Each answer names the policy and tier that decided it.
			for _, c := range []struct{ src, dst, port, reason string }{
				{"guest/probe-0", "shop/db-0", "5432", "denied by " + tc.denyGuest + " before NetworkPolicy shop/db-ingress"},
				{"front/fe-0", "shop/db-0", "5432", "passed"}, // not expected: see below
				{"front/fe-0", "shop/web-0", "80", "allowed by " + tc.blueToWeb},
				{"front/fe-0", "shop/web-0", "8080", "denied by " + tc.baseline + ": no NetworkPolicy selects shop/web-0 for ingress"},
				{"shop/web-0", "shop/db-0", "5432", "allowed by shop/db-ingress ingress[0]"},
				{"shop/db-0", "front/fe-0", "53/UDP", "denied by " + tc.baseline + ": no NetworkPolicy selects front/fe-0 for ingress"},
			} {
				r := reachOne(t, inv, c.src, c.dst, c.port)
				if c.reason == "passed" {
					// No Admin rule matches front to db: NetworkPolicy decides, and denies.
					if r.Ingress.DecidedBy != decidedByNetworkPolicy || r.Ingress.Allowed {
						t.Errorf("%s -> %s: ingress %+v, want denied by NetworkPolicy", c.src, c.dst, r.Ingress)
					}
					continue
				}
				if r.Ingress.Reason != c.reason {
					t.Errorf("%s -> %s %s: ingress reason\n got %q\nwant %q", c.src, c.dst, c.port, r.Ingress.Reason, c.reason)
				}
			}

			// Without a port: the ports each side allows, and why.
			r := reachOne(t, inv, "front/fe-0", "shop/web-0", "")
			if !slices.Equal(r.AllowedPorts, []string{"TCP 80"}) || !r.Allowed {
				t.Errorf("front/fe-0 -> shop/web-0: allowed ports %v (%s)", r.AllowedPorts, r.Ingress.Reason)
			}
			if !strings.HasPrefix(r.Ingress.Reason, "TCP 80: allowed by "+tc.blueToWeb+"; TCP 1-79, TCP 81-65535, UDP 1-65535, SCTP 1-65535: denied by "+tc.baseline) {
				t.Errorf("front/fe-0 -> shop/web-0: ingress reason %q", r.Ingress.Reason)
			}

			// front is isolated for ingress by the Baseline tier alone, and has a default deny.
			c := ComputeCoverage(inv)
			var front NamespaceCoverage
			for _, n := range c.Namespaces {
				if n.Namespace == "front" {
					front = n
				}
			}
			want := NamespaceCoverage{Namespace: "front", ClusterPolicies: tc.wantClusterPoliciesF, Workloads: 1, Pods: 1,
				IngressIsolated: 1, IngressPercent: 100, DefaultDenyIngress: true}
			if front != want {
				t.Errorf("front coverage\n got %+v\nwant %+v", front, want)
			}
			got, findings := runChecks(t, inv)
			for _, f := range got[IDNamespaceWithoutPolicy] {
				t.Errorf("namespace-without-policy: %s: the Baseline tier isolates every namespace", f)
			}
			for _, f := range findings {
				if f.Check == IDNoDefaultDenyIngress || f.Check == IDPodsNotIsolatedIngress {
					t.Errorf("%s: %s", f.Check, f.Message)
				}
			}
			wantEgress := []string{"namespace/front low", "namespace/guest low", "namespace/shop low"}
			if !slices.Equal(got[IDNoDefaultDenyEgress], wantEgress) {
				t.Errorf("%s: %v, want %v", IDNoDefaultDenyEgress, got[IDNoDefaultDenyEgress], wantEgress)
			}
		})
	}
}

// TestTierRules covers each rule of the tier model on one small cluster
// (testdata/tiers/cluster.yaml); each case adds one file of policies.
func TestTierRules(t *testing.T) {
	type question struct {
		src, dst, port string
		want           string // allowed, denied, unknown
		// reason, when set, must be in the deciding side's reason.
		reason string
	}
	tests := []struct {
		name, policy string
		asks         []question
	}{
		{"tier order: an Admin Deny overrides a NetworkPolicy allow, an Admin Accept its deny", "tier-order.yaml", []question{
			{"a/client", "b/web", "80", "denied", "denied by ClusterNetworkPolicy deny-client (Admin, priority 1) ingress rule 0 before NetworkPolicy b/web-from-client"},
			{"a/client", "b/db", "5432", "allowed", "allowed by ClusterNetworkPolicy accept-db (Admin, priority 2) ingress rule 0 before NetworkPolicy b/db-deny-all"},
			{"a/other", "b/web", "80", "allowed", "allowed by b/web-from-client ingress[0]"},
			{"a/other", "b/db", "5432", "denied", "b/db is isolated for ingress by b/db-deny-all"},
		}},
		{"Pass skips the rest of the Admin tier: NetworkPolicy, else the Baseline tier, decides", "pass.yaml", []question{
			{"a/client", "b/web", "80", "allowed", "passed by ClusterNetworkPolicy pass-client (Admin, priority 1) ingress rule 0, then allowed by b/web-from-client ingress[0]"},
			{"a/client", "b/db", "5432", "allowed", "passed by ClusterNetworkPolicy pass-client (Admin, priority 1) ingress rule 0, then allowed by ClusterNetworkPolicy baseline (Baseline, priority 1) ingress rule 0"},
			{"a/other", "b/db", "5432", "denied", "denied by ClusterNetworkPolicy deny-all (Admin, priority 2) ingress rule 0"},
		}},
		{"priority: lower first, and rules in order", "priority.yaml", []question{
			{"a/client", "b/web", "80", "allowed", "ClusterNetworkPolicy first (Admin, priority 3) ingress rule 1"},
			{"a/client", "b/web", "81", "denied", "ClusterNetworkPolicy second (Admin, priority 7) ingress rule 0"},
			{"a/client", "b/web", "8080", "denied", "ClusterNetworkPolicy first (Admin, priority 3) ingress rule 0"},
		}},
		{"an egress Accept still needs the destination's ingress", "accept-egress.yaml", []question{
			{"a/client", "b/db", "5432", "denied", "b/db is isolated for ingress by b/db-deny-all"},
			{"a/client", "b/web", "80", "allowed", ""},
			{"a/client", "c/anything", "80", "denied", "denied by ClusterNetworkPolicy egress (Admin, priority 1) egress rule 1"},
		}},
		{"the Baseline tier decides only for pods no NetworkPolicy selects in that direction", "baseline-unselected.yaml", []question{
			{"a/client", "b/web", "80", "allowed", "allowed by b/web-from-client ingress[0]"},
			{"a/other", "b/web", "80", "denied", "b/web is isolated for ingress by b/web-from-client"},
			{"a/client", "b/db", "5432", "denied", "denied by BaselineAdminNetworkPolicy default (Baseline) ingress rule 0: no NetworkPolicy selects b/db for ingress"},
			// Egress of b/web is not selected by the NetworkPolicy (Ingress only): the Baseline tier decides it.
			{"b/web", "a/client", "80", "denied", "denied by BaselineAdminNetworkPolicy default (Baseline) egress rule 0: no NetworkPolicy selects b/web for egress"},
		}},
		{"fail closed: nodes and domainNames peers are not modelled", "fail-closed.yaml", []question{
			// The Accept rule with a nodes peer matches nothing through it; its pods peer still counts.
			{"a/client", "b/web", "80", "allowed", "allowed by ClusterNetworkPolicy accept-nodes (Admin, priority 1) egress rule 0"},
			{"a/other", "b/web", "80", "denied", "denied by ClusterNetworkPolicy deny-after (Admin, priority 9) egress rule 0"},
			// A Deny rule with a nodes peer denies everything.
			{"b/db", "a/client", "80", "denied", "denied by ClusterNetworkPolicy deny-nodes (Admin, priority 1) egress rule 0"},
			{"b/db", "10.9.9.9", "443", "denied", "denied by ClusterNetworkPolicy deny-nodes (Admin, priority 1) egress rule 0"},
		}},
		{"named ports and port ranges", "ports.yaml", []question{
			{"a/client", "b/web", "80", "allowed", "ClusterNetworkPolicy named (Admin, priority 1) ingress rule 0"},
			{"a/client", "b/web", "http", "allowed", ""},
			{"a/client", "b/web", "8080", "denied", ""},
			{"a/client", "b/db", "5432", "allowed", "ClusterNetworkPolicy range (Admin, priority 2) ingress rule 0"},
			{"a/client", "b/db", "5440", "allowed", ""},
			{"a/client", "b/db", "5441", "denied", ""},
			{"a/client", "b/db", "5432/UDP", "denied", ""},
			// The named port resolves among the destination's ports: db has no port named http.
			{"a/client", "b/db", "80", "denied", ""},
		}},
		{"equal priority that disagrees is unknown", "ambiguous.yaml", []question{
			{"a/client", "b/web", "80", "unknown", "unknown: ClusterNetworkPolicy one (Admin, priority 4) and ClusterNetworkPolicy two (Admin, priority 4) match a/client on 80/TCP with different actions (Accept, Deny)"},
			// Where only one of them matches, it decides.
			{"a/client", "b/web", "443", "denied", "ClusterNetworkPolicy two (Admin, priority 4) ingress rule 0"},
		}},
		{"host-network pods are never selected, and networks 0.0.0.0/0 covers pod traffic", "host-network.yaml", []question{
			{"a/client", "c/host", "80", "allowed", ""},
			{"c/host", "b/web", "80", "allowed", ""},
			{"a/client", "b/web", "80", "denied", "denied by ClusterNetworkPolicy deny-pods (Admin, priority 1) ingress rule 0"},
			{"a/other", "c/anything", "80", "denied", "denied by ClusterNetworkPolicy deny-ipv4 (Admin, priority 2) egress rule 0"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := load(t, "tiers/cluster.yaml", "tiers/"+tc.policy)
			for _, a := range tc.asks {
				rs, err := ask(t, inv, "default", a.src, a.dst, a.port)
				if err != nil || len(rs) != 1 {
					t.Fatalf("%s -> %s %s: %v (%d answers)", a.src, a.dst, a.port, err, len(rs))
				}
				r := rs[0]
				got := "denied"
				switch {
				case r.Unknown:
					got = "unknown"
				case r.Allowed:
					got = "allowed"
				}
				why := fmt.Sprintf("egress: %s\ningress: %s", r.Egress.Reason, r.Ingress.Reason)
				if got != a.want {
					t.Errorf("%s -> %s %s: %s, want %s\n%s", a.src, a.dst, a.port, got, a.want, why)
				}
				if a.reason != "" && !strings.Contains(why, a.reason) {
					t.Errorf("%s -> %s %s: reason lacks %q\n%s", a.src, a.dst, a.port, a.reason, why)
				}
			}
		})
	}
}

// The policies read fail-closed say so in every answer about the pods they
// select; a workload endpoint is judged by the tiers like its pods.
func TestTierNotesAndWorkloads(t *testing.T) {
	inv := load(t, "tiers/cluster.yaml", "tiers/fail-closed.yaml")
	r := reachOne(t, inv, "a/client", "b/web", "80")
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{
		"ClusterNetworkPolicy accept-nodes (Admin, priority 1): egress rule 0: peer 0: nodes not modelled; read fail-closed: the Accept rule ignores it",
		"egress rule 1: peer 0: domainNames not modelled",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	r = reachOne(t, inv, "b/db", "a/client", "80")
	if !strings.Contains(strings.Join(r.Notes, "\n"), "ClusterNetworkPolicy deny-nodes (Admin, priority 1): egress rule 0: peer 0: nodes not modelled; read fail-closed: the Deny rule denies all") {
		t.Errorf("notes: %v", r.Notes)
	}

	inv = load(t, "tiers/scenario-cluster.yaml", "tiers/scenario-cnp.yaml", "tiers/scenario-workloads.yaml")
	for _, c := range []struct {
		src, dst, port string
		allowed        bool
	}{
		{"guest/deploy/visitor", "shop/db-0", "5432", false},
		{"guest/deploy/visitor", "shop/web-0", "80", true},
		{"guest/deploy/visitor", "shop/web-0", "8080", false},
		{"front/fe-0", "guest/deploy/visitor", "80", false},
	} {
		rs, err := ask(t, inv, "default", c.src, c.dst, c.port)
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s -> %s: %v", c.src, c.dst, err)
		}
		if rs[0].Allowed != c.allowed {
			t.Errorf("%s -> %s %s: allowed %v, want %v (%s)", c.src, c.dst, c.port, rs[0].Allowed, c.allowed, rs[0].Ingress.Reason)
		}
	}
}

// Read (not FromFiles) takes manifests (no kube-system namespace) without
// cluster-scoped policies as holding none of their own: the netpol checks run
// on them as before, and the report says the cluster's were not seen.
func TestTierKindsOptionalOffline(t *testing.T) {
	inv, err := inventory.Read([]string{"testdata/tiers/scenario-cluster.yaml"}, nil, inventory.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range TierKinds() {
		if !inv.Has(k) || !inv.NotInManifests[k] {
			t.Errorf("%s: loaded %v, not in manifests %v", k, inv.Has(k), inv.NotInManifests[k])
		}
	}
	inv, err = inventory.Read([]string{"testdata/tiers/scenario-cluster.yaml", "testdata/tiers/scenario-anp.yaml"}, nil, inventory.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Count(inventory.AdminNetworkPolicies) != 2 || inv.Count(inventory.BaselineAdminNetworkPolicies) != 1 || inv.NotInManifests[inventory.AdminNetworkPolicies] {
		t.Errorf("ANP %d BANP %d", inv.Count(inventory.AdminNetworkPolicies), inv.Count(inventory.BaselineAdminNetworkPolicies))
	}
	if !inv.NotInManifests[inventory.ClusterNetworkPolicies] {
		t.Error("no ClusterNetworkPolicy in the manifests: want read as none of their own")
	}
	if _, ok := inv.SourceOf("AdminNetworkPolicy", "", "deny-guest"); !ok {
		t.Error("no source line for AdminNetworkPolicy deny-guest")
	}
}
