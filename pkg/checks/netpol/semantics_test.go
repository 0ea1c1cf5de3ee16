package netpol

import (
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// load reads fixtures from testdata.
func load(t testing.TB, files ...string) *inventory.Inventory {
	t.Helper()
	return checktest.Load(t, files...)
}

// ask parses a can-reach question (bare pod names live in ns) and answers it.
func ask(t *testing.T, inv *inventory.Inventory, ns, src, dst, port string) ([]Reach, error) {
	t.Helper()
	s, err := ParseEndpoint(src, ns)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseEndpoint(dst, ns)
	if err != nil {
		t.Fatal(err)
	}
	var q *PortQuery
	if port != "" {
		pq, err := ParsePortQuery(port)
		if err != nil {
			t.Fatal(err)
		}
		q = &pq
	}
	return CanReach(inv, s, d, q)
}

// reachOne asks one pod-to-pod (or IP) question.
func reachOne(t *testing.T, inv *inventory.Inventory, src, dst, port string) Reach {
	t.Helper()
	rs, err := ask(t, inv, "default", src, dst, port)
	if err != nil {
		t.Fatalf("can-reach %s %s %s: %v", src, dst, port, err)
	}
	if len(rs) != 1 {
		t.Fatalf("can-reach %s %s: %d answers, want 1", src, dst, len(rs))
	}
	return rs[0]
}

// TestSemantics covers every rule of SEMANTICS.md's NetworkPolicy section:
// each case adds one policy file to the same cluster and asks can-reach.
func TestSemantics(t *testing.T) {
	type ask struct {
		src, dst, port string
		allowed        bool
		// decidedBy, when set, must appear among the allowing rules or the isolating policies.
		decidedBy string
	}
	tests := []struct {
		name   string
		policy string
		asks   []ask
	}{
		{"no policy: everything allowed", "", []ask{
			{"web/frontend", "db/postgres", "5432/TCP", true, ""},
			{"8.8.8.8", "db/postgres", "", true, ""},
			{"db/postgres", "8.8.8.8", "443", true, ""},
		}},
		{"podSelector {} selects every pod of the namespace", "empty-pod-selector.yaml", []ask{
			{"web/frontend", "db/postgres", "5432/TCP", false, "db/deny-all"},
			{"web/frontend", "db/cache", "6379", false, "db/deny-all"},
			{"db/postgres", "db/cache", "6379", false, "db/deny-all"},
			// Ingress only: db's egress stays open.
			{"db/postgres", "web/frontend", "8080", true, ""},
		}},
		{"podSelector alone in a peer means the policy's own namespace", "pod-selector-peer.yaml", []ask{
			{"db/cache", "db/postgres", "5432", true, "db/from-cache ingress[0]"},
			{"web/frontend", "db/postgres", "5432", false, "db/from-cache"},
			// The policy selects postgres only.
			{"web/frontend", "db/cache", "6379", true, ""},
		}},
		{"namespaceSelector alone admits every pod of the selected namespaces", "namespace-selector.yaml", []ask{
			{"web/frontend", "db/postgres", "5432", true, "db/from-web ingress[0]"},
			{"web/api", "db/postgres", "1", true, ""},
			{"ops/monitor", "db/postgres", "5432", false, "db/from-web"},
			{"db/cache", "db/postgres", "5432", false, ""},
		}},
		{"namespaceSelector {} admits all pods, no outside address", "namespace-selector-empty.yaml", []ask{
			{"web/frontend", "db/postgres", "5432", true, "db/from-cluster ingress[0]"},
			{"ops/monitor", "db/postgres", "5432", true, ""},
			{"db/cache", "db/postgres", "5432", true, ""},
			{"8.8.8.8", "db/postgres", "5432", false, "db/from-cluster"},
		}},
		{"namespaceSelector and podSelector in one peer are ANDed", "and-peer.yaml", []ask{
			{"web/frontend", "db/postgres", "5432", true, "db/frontend-only ingress[0]"},
			{"web/api", "db/postgres", "5432", false, ""},
			{"ops/monitor", "db/postgres", "5432", false, ""},
		}},
		{"separate peers are ORed", "or-peers.yaml", []ask{
			{"ops/monitor", "db/postgres", "5432", true, "db/ops-or-cache ingress[0]"},
			{"db/cache", "db/postgres", "5432", true, ""},
			{"web/frontend", "db/postgres", "5432", false, ""},
		}},
		{"empty from admits every source on the listed ports; protocol defaults to TCP", "empty-from.yaml", []ask{
			{"8.8.8.8", "db/postgres", "5432/TCP", true, "db/pg-port ingress[0]"},
			{"ops/monitor", "db/postgres", "5432", true, ""},
			{"ops/monitor", "db/postgres", "5432/UDP", false, ""},
			{"ops/monitor", "db/postgres", "80", false, "db/pg-port"},
			{"ops/monitor", "db/postgres", "pg", true, ""},
		}},
		{"ingress: [{}] allows everything", "allow-all.yaml", []ask{
			{"8.8.8.8", "db/postgres", "1/UDP", true, "db/allow-all ingress[0]"},
			{"web/frontend", "db/cache", "65535/SCTP", true, ""},
		}},
		{"empty ports allow every port", "namespace-selector.yaml", []ask{
			{"web/api", "db/postgres", "65535/SCTP", true, ""},
			{"web/api", "db/postgres", "53/UDP", true, ""},
		}},
		{"ipBlock matches pod IPs, except cuts a hole", "ipblock-except.yaml", []ask{
			{"web/frontend", "db/postgres", "5432", true, "db/from-10 ingress[0]"},
			{"web/api", "db/postgres", "5432", false, ""},
			{"8.8.8.8", "db/postgres", "5432", false, ""},
			{"10.0.9.9", "db/postgres", "5432", true, ""},
			// db/cache is Pending without an IP: no ipBlock can match it.
			{"db/cache", "db/postgres", "5432", false, ""},
		}},
		{"named ports resolve on the destination pod, with protocol", "named-ports.yaml", []ask{
			{"web/frontend", "web/api", "9100/TCP", true, "web/metrics-and-dns ingress[0]"},
			{"web/frontend", "web/api", "metrics", true, ""},
			{"web/frontend", "web/api", "9090", false, ""},
			{"web/frontend", "web/api", "5353/UDP", true, ""},
			{"web/frontend", "web/api", "5353/TCP", false, ""},
			// monitor's egress admits 9090 (api's "http"), api's ingress does not.
			{"ops/monitor", "web/api", "9090", false, "web/metrics-and-dns"},
			{"ops/monitor", "web/api", "9100", false, "ops/monitor-to-http"},
			// Egress "http": 8080 on frontend, 9090 on api.
			{"ops/monitor", "web/frontend", "8080", true, "ops/monitor-to-http egress[0]"},
			{"ops/monitor", "web/frontend", "9090", false, "ops/monitor-to-http"},
			{"ops/monitor", "db/postgres", "5432", false, ""},
		}},
		{"endPort makes a range, ends included", "end-port.yaml", []ask{
			{"web/frontend", "web/api", "9000", true, "web/range ingress[0]"},
			{"web/frontend", "web/api", "9200", true, ""},
			{"web/frontend", "web/api", "9100", true, ""},
			{"web/frontend", "web/api", "8999", false, ""},
			{"web/frontend", "web/api", "9201", false, ""},
			{"web/frontend", "web/api", "9100/UDP", false, ""},
		}},
		{"policyTypes defaulting and inert rules", "defaulting.yaml", []ask{
			// implicit-both: frontend's egress only to db.
			{"web/frontend", "db/postgres", "5432", true, "web/implicit-both egress[0]"},
			{"web/frontend", "ops/monitor", "80", false, "web/implicit-both"},
			// implicit-ingress: api isolated for ingress with no rules, egress open.
			{"ops/monitor", "web/api", "9090", false, "web/implicit-ingress"},
			{"web/api", "ops/monitor", "80", true, ""},
			// explicit-egress: db egress only to db; its ingress rule is inert so db ingress stays open.
			{"db/postgres", "web/frontend", "8080", false, "db/explicit-egress"},
			{"db/postgres", "db/cache", "6379", true, ""},
			{"ops/monitor", "db/postgres", "5432", true, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := []string{"semantics/cluster.yaml"}
			if tc.policy != "" {
				files = append(files, "semantics/"+tc.policy)
			}
			inv := load(t, files...)
			for _, q := range tc.asks {
				r := reachOne(t, inv, q.src, q.dst, q.port)
				if r.Allowed != q.allowed {
					t.Errorf("%s -> %s %s: allowed=%v, want %v\negress: %+v\ningress: %+v", q.src, q.dst, q.port, r.Allowed, q.allowed, r.Egress, r.Ingress)
				}
				if q.decidedBy != "" {
					all := slices.Concat(r.Egress.Allowing, r.Egress.Policies, r.Ingress.Allowing, r.Ingress.Policies)
					if !slices.Contains(all, q.decidedBy) {
						t.Errorf("%s -> %s %s: decided by %v, want %q among them", q.src, q.dst, q.port, all, q.decidedBy)
					}
				}
			}
		})
	}
}

// TestEffectiveTypes checks the API server's defaulting of policyTypes.
func TestEffectiveTypes(t *testing.T) {
	egressRule := []networkingv1.NetworkPolicyEgressRule{{}}
	tests := []struct {
		name          string
		spec          networkingv1.NetworkPolicySpec
		want          PolicyTypes
		wantDefaulted bool
	}{
		{"empty: ingress", networkingv1.NetworkPolicySpec{}, PolicyTypes{Ingress: true}, true},
		{"empty with egress rules: both", networkingv1.NetworkPolicySpec{Egress: egressRule}, PolicyTypes{Ingress: true, Egress: true}, true},
		{"explicit egress", networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}, PolicyTypes{Egress: true}, false},
		{"explicit both without rules", networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}, PolicyTypes{Ingress: true, Egress: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, defaulted := EffectiveTypes(&tc.spec)
			if got != tc.want || defaulted != tc.wantDefaulted {
				t.Errorf("EffectiveTypes = %+v, %v; want %+v, %v", got, defaulted, tc.want, tc.wantDefaulted)
			}
		})
	}
}

// TestIsolationBuckets checks who is judged, who is not enforceable and who is counted apart.
func TestIsolationBuckets(t *testing.T) {
	inv := load(t, "semantics/cluster.yaml", "semantics/empty-pod-selector.yaml", "semantics/defaulting.yaml")
	a := Analyze(inv)
	if Analyze(inv) != a {
		t.Fatal("Analyze computed twice for one inventory: it must be memoised")
	}
	want := map[string]struct {
		bucket          Bucket
		ingress, egress []string
	}{
		"web/frontend":   {Judged, []string{"implicit-both"}, []string{"implicit-both"}},
		"web/api":        {Judged, []string{"implicit-ingress"}, nil},
		"db/postgres":    {Judged, []string{"deny-all"}, []string{"explicit-egress"}},
		"db/cache":       {Judged, []string{"deny-all"}, []string{"explicit-egress"}},
		"ops/monitor":    {Judged, nil, nil},
		"ops/node-agent": {HostNetwork, nil, nil},
		"ops/backup-1":   {Inactive, nil, nil},
	}
	names := func(idx []int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, a.Policies[i].Name)
		}
		return out
	}
	for i := range a.Pods {
		p := &a.Pods[i]
		w, ok := want[p.Ref()]
		if !ok {
			t.Errorf("unexpected pod %s", p.Ref())
			continue
		}
		if p.Bucket != w.bucket || !slices.Equal(names(p.Ingress), w.ingress) || !slices.Equal(names(p.Egress), w.egress) {
			t.Errorf("%s: bucket %s ingress %v egress %v; want %s %v %v", p.Ref(), p.Bucket, names(p.Ingress), names(p.Egress), w.bucket, w.ingress, w.egress)
		}
	}
}

// TestCanReachWithoutPort lists the ports both sides allow.
func TestCanReachWithoutPort(t *testing.T) {
	inv := load(t, "semantics/cluster.yaml", "semantics/end-port.yaml", "semantics/named-ports.yaml")
	tests := []struct {
		src, dst string
		want     []string
	}{
		// Both web/range and web/metrics-and-dns select api: their ports add up.
		{"web/frontend", "web/api", []string{"TCP 9000-9200", "UDP 5353"}},
		// monitor's egress allows "http" only, 9090 on api, which web/range admits.
		{"ops/monitor", "web/api", []string{"TCP 9090"}},
		{"ops/monitor", "web/frontend", []string{"TCP 8080"}},
		{"ops/monitor", "db/postgres", nil},
	}
	for _, tc := range tests {
		r := reachOne(t, inv, tc.src, tc.dst, "")
		if !slices.Equal(r.AllowedPorts, tc.want) || r.Allowed != (len(tc.want) > 0) {
			t.Errorf("%s -> %s: allowed %v on %v, want %v", tc.src, tc.dst, r.Allowed, r.AllowedPorts, tc.want)
		}
	}
}

// TestCanReachNamespaceAndNotes expands a namespace and says what limits the answer.
func TestCanReachNamespaceAndNotes(t *testing.T) {
	inv := load(t, "semantics/cluster.yaml", "semantics/empty-pod-selector.yaml")
	src, _ := ParseEndpoint("ops/*", "")
	dst, _ := ParseEndpoint("db/postgres", "")
	rs, err := CanReach(inv, src, dst, &PortQuery{Protocol: "TCP", Number: 5432})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Source)
		if r.Allowed {
			t.Errorf("%s -> db/postgres allowed, want denied by db/deny-all", r.Source)
		}
		if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "CNI") }) {
			t.Errorf("%s: notes %v do not say the CNI is unknown", r.Source, r.Notes)
		}
		if r.Source == "ops/node-agent" && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "hostNetwork") }) {
			t.Errorf("node-agent: notes %v do not mention hostNetwork", r.Notes)
		}
	}
	// backup-1 has finished: not a source.
	if !slices.Equal(got, []string{"ops/monitor", "ops/node-agent"}) {
		t.Errorf("sources %v, want ops/monitor and ops/node-agent", got)
	}
	// A namespace destination answers per pod: those without the named port say no.
	src, _ = ParseEndpoint("ops/monitor", "")
	dst, _ = ParseEndpoint("web/*", "")
	rs, err = CanReach(load(t, "semantics/cluster.yaml"), src, dst, &PortQuery{Protocol: "TCP", Name: "metrics"})
	if err != nil || len(rs) != 2 || !rs[0].Allowed || rs[0].Port != "9100/TCP" || rs[1].Allowed || !strings.Contains(strings.Join(rs[1].Notes, " "), "no container port named metrics") {
		t.Errorf("ops/monitor -> web/* on metrics: %+v, %v", rs, err)
	}
	for _, bad := range []struct{ src, dst, port string }{
		{"db/nope", "db/postgres", ""},
		{"empty/*", "db/postgres", ""},
		{"web/frontend", "web/api", "nope/TCP"},
		{"web/frontend", "8.8.8.8", "http"},
	} {
		s, _ := ParseEndpoint(bad.src, "")
		d, _ := ParseEndpoint(bad.dst, "")
		var q *PortQuery
		if bad.port != "" {
			pq, _ := ParsePortQuery(bad.port)
			q = &pq
		}
		if _, err := CanReach(inv, s, d, q); err == nil {
			t.Errorf("can-reach %s %s %s: no error", bad.src, bad.dst, bad.port)
		}
	}
}

func TestParseEndpointAndPort(t *testing.T) {
	eps := []struct {
		in, want string
		ok       bool
	}{
		{"shop/web", "shop/web", true},
		{"web", "def/web", true},
		{"shop/*", "shop/*", true},
		{"10.1.2.3", "10.1.2.3", true},
		{"fd00::1", "fd00::1", true},
		{"a/b/c", "", false},
		{"shop/", "", false},
		{"/web", "", false},
		// Workloads, as kubectl names objects: KIND/NAME in the default namespace.
		{"deploy/web", "def/deployment/web", true},
		{"Deployment/web", "def/deployment/web", true},
		{"shop/sts/db", "shop/statefulset/db", true},
		{"shop/daemonsets/agent", "shop/daemonset/agent", true},
		{"rs/web-5d8f", "def/replicaset/web-5d8f", true},
		{"shop/job/seed", "shop/job/seed", true},
		{"cj/report", "def/cronjob/report", true},
		// A pod named by kind, for a namespace called like a kind; deploy/* is that namespace.
		{"deploy/pod/web", "deploy/web", true},
		{"deploy/*", "deploy/*", true},
		{"shop/deploy/*", "", false},
		{"shop/deploy/", "", false},
		{"shop/secret/web", "", false},
		{"a/deploy/b/c", "", false},
	}
	for _, e := range eps {
		got, err := ParseEndpoint(e.in, "def")
		if (err == nil) != e.ok || (e.ok && got.String() != e.want) {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %q ok=%v", e.in, got, err, e.want, e.ok)
		}
	}
	ports := []struct {
		in, want string
		ok       bool
	}{
		{"80", "80/TCP", true},
		{"53/udp", "53/UDP", true},
		{"http", "http/TCP", true},
		{"9/SCTP", "9/SCTP", true},
		{"0", "", false},
		{"70000", "", false},
		{"80/ICMP", "", false},
		{"/TCP", "", false},
	}
	for _, p := range ports {
		got, err := ParsePortQuery(p.in)
		if (err == nil) != p.ok || (p.ok && got.String() != p.want) {
			t.Errorf("ParsePortQuery(%q) = %v, %v; want %q ok=%v", p.in, got, err, p.want, p.ok)
		}
	}
}
