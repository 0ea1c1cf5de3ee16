package netpol

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func TestCoverage(t *testing.T) {
	c := ComputeCoverage(load(t, "checks/findings.yaml"))
	// partial's Deployment batch, scaled to zero, counts as a workload: its
	// template is selected for ingress by the policy batch.
	want := []NamespaceCoverage{
		{Namespace: "bare", Workloads: 1, Pods: 1},
		{Namespace: "kube-system", Workloads: 1, Pods: 1},
		{Namespace: "locked", Policies: 4, Workloads: 2, Pods: 2, IngressIsolated: 2, EgressIsolated: 2, IngressPercent: 100, EgressPercent: 100, DefaultDenyIngress: true, DefaultDenyEgress: true},
		{Namespace: "partial", Policies: 3, Workloads: 3, Pods: 2, IngressIsolated: 2, IngressPercent: 66.7, HostNetwork: 1},
	}
	if !slices.Equal(c.Namespaces, want) {
		t.Errorf("namespaces:\n got %+v\nwant %+v", c.Namespaces, want)
	}
	wantTotal := CoverageTotal{Namespaces: 4, Policies: 7, Workloads: 7, Pods: 6, IngressIsolated: 4, EgressIsolated: 2,
		IngressPercent: 57.1, EgressPercent: 28.6, DefaultDenyIngress: 1, DefaultDenyEgress: 1, HostNetwork: 1}
	if c.Total != wantTotal {
		t.Errorf("total:\n got %+v\nwant %+v", c.Total, wantTotal)
	}
	if c.CNI.Status != CNIUnknown {
		t.Errorf("cni %+v, want unknown", c.CNI)
	}
	// The JSON names are part of the report's stable shape.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	ns := m["namespaces"].([]any)[2].(map[string]any)
	for _, k := range []string{"namespace", "policies", "workloads", "pods", "ingressIsolated", "egressIsolated", "ingressPercent", "egressPercent", "defaultDenyIngress", "defaultDenyEgress", "hostNetwork", "inactive"} {
		if _, ok := ns[k]; !ok {
			t.Errorf("coverage JSON lacks %q: %s", k, b)
		}
	}
}

func TestDefaultDenyAllowAllIsNotDefaultDeny(t *testing.T) {
	// A namespace-wide policy with ingress: [{}] isolates every pod and then
	// allows everything: that is no default deny.
	inv := load(t, "semantics/cluster.yaml", "semantics/allow-all.yaml", "semantics/empty-pod-selector.yaml")
	c := ComputeCoverage(inv)
	for _, n := range c.Namespaces {
		if n.Namespace == "db" && (n.DefaultDenyIngress || n.IngressIsolated != 2) {
			t.Errorf("db: %+v, want 2 pods isolated and no default deny", n)
		}
	}
}

// withPolicies returns a fresh inventory of the fixture plus the remedy's objects applied.
func withChanges(t *testing.T, fixture string, changes []remedy.Change) *inventory.Inventory {
	t.Helper()
	inv := load(t, fixture)
	for _, c := range changes {
		switch c.Action {
		case remedy.Apply:
			var np networkingv1.NetworkPolicy
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(c.Object.Object, &np); err != nil {
				t.Fatalf("%s: not a NetworkPolicy: %v", c.Target, err)
			}
			if np.APIVersion != "networking.k8s.io/v1" || np.Kind != "NetworkPolicy" || np.Name == "" || np.Namespace == "" {
				t.Fatalf("%s: incomplete object %+v", c.Target, np.TypeMeta)
			}
			inv.NetworkPolicies = append(inv.NetworkPolicies, np)
		case remedy.Patch:
			for i := range inv.NetworkPolicies {
				np := &inv.NetworkPolicies[i]
				if np.Namespace == c.Target.Namespace && np.Name == c.Target.Name {
					if c.ResourceVersion != np.ResourceVersion {
						t.Errorf("%s: precondition %q, object at %q", c.Target, c.ResourceVersion, np.ResourceVersion)
					}
					// A merge patch of spec.egress replaces the list, as unmarshalling over the object does.
					if err := json.Unmarshal(c.Patch, np); err != nil {
						t.Fatalf("%s: patch: %v", c.Target, err)
					}
				}
			}
		}
	}
	return inv
}

func TestRemedies(t *testing.T) {
	inv := load(t, "checks/findings.yaml")
	a := Analyze(inv)

	full := DefaultDenyRemedy(a, "bare")
	if len(full.Changes) != 2 || full.Changes[0].Target.Name != AllowDNSName || full.Changes[1].Target.Name != DefaultDenyName {
		t.Fatalf("full remedy changes %+v", full.Changes)
	}
	wantBreaks := [][]string{
		{"pod bare/app loses all egress except DNS"},
		{"pod bare/app loses all ingress", "pod bare/app loses all egress (DNS stays allowed only with allow-dns-egress)"},
	}
	for i, c := range full.Changes {
		if !slices.Equal(c.Breaks, wantBreaks[i]) {
			t.Errorf("change %d breaks %v, want %v", i, c.Breaks, wantBreaks[i])
		}
	}
	gentle := IngressDenyRemedy(a, "partial")
	if len(gentle.Changes) != 1 || !slices.Equal(gentle.Changes[0].Breaks, []string{"pod partial/worker loses all ingress"}) {
		t.Errorf("ingress-only remedy %+v", gentle.Changes)
	}

	// Applying the full remedy isolates every pod both ways and keeps DNS working.
	after := withChanges(t, "checks/findings.yaml", full.Changes)
	got, _ := runChecks(t, after)
	if len(got[IDNamespaceWithoutPolicy]) != 0 || len(got[IDEgressWithoutDNS]) != 1 {
		t.Errorf("after the remedy: no-policy %v, egress-without-dns %v (want only locked)", got[IDNamespaceWithoutPolicy], got[IDEgressWithoutDNS])
	}
	for _, n := range ComputeCoverage(after).Namespaces {
		if n.Namespace == "bare" && (!n.DefaultDenyIngress || !n.DefaultDenyEgress || n.IngressIsolated != 1 || n.EgressIsolated != 1) {
			t.Errorf("bare after the remedy: %+v", n)
		}
	}
	for _, q := range []struct {
		dst, port string
		allowed   bool
	}{
		{"kube-system/coredns-1", "53/UDP", true},
		{"kube-system/coredns-1", "dns-tcp", true},
		{"kube-system/coredns-1", "9153", false},
		{"partial/web", "80", false},
	} {
		if r := reachOne(t, after, "bare/app", q.dst, q.port); r.Allowed != q.allowed {
			t.Errorf("after the remedy bare/app -> %s %s: allowed %v, want %v", q.dst, q.port, r.Allowed, q.allowed)
		}
	}

	// The DNS fix adds a DNS allow for the pods the egress policies isolate,
	// isolating nobody new; locked's default-deny isolates every pod already,
	// so the namespace-wide allow covers them.
	var dnsFix *remedy.Remediation
	_, fs := runChecks(t, load(t, "checks/findings.yaml"))
	for _, f := range fs {
		if f.Check == IDEgressWithoutDNS {
			dnsFix = f.Remediation
		}
	}
	if dnsFix == nil || len(dnsFix.Changes) != 1 || dnsFix.Changes[0].Action != remedy.Apply || dnsFix.Changes[0].Target.Name != AllowDNSName {
		t.Fatalf("egress-without-dns remedy %+v", dnsFix)
	}
	fixed := withChanges(t, "checks/findings.yaml", dnsFix.Changes)
	got, _ = runChecks(t, fixed)
	if len(got[IDEgressWithoutDNS]) != 0 {
		t.Errorf("after the DNS fix: %v", got[IDEgressWithoutDNS])
	}
	if r := reachOne(t, fixed, "locked/api", "203.0.113.9", "443"); !r.Allowed {
		t.Errorf("the DNS fix dropped open-https's own rule: %+v", r.Egress)
	}
	if r := reachOne(t, fixed, "locked/api", "kube-system/coredns-1", "dns/UDP"); !r.Allowed {
		t.Errorf("after the DNS fix locked/api cannot reach DNS: %+v", r.Egress)
	}
}

// TestDNSRemedyIsolatesNobodyNew checks the DNS allow beside a policy that
// selects some pods: it has that policy's podSelector, so the pods it
// isolates were isolated for egress already, and they resolve names after.
func TestDNSRemedyIsolatesNobodyNew(t *testing.T) {
	const fixture = "workloads/manifests.yaml"
	var fix *remedy.Remediation
	_, fs := runChecks(t, load(t, fixture))
	for _, f := range fs {
		if f.Check == IDEgressWithoutDNS {
			fix = f.Remediation
		}
	}
	if fix == nil || len(fix.Changes) != 1 || fix.Changes[0].Target.Name != "allow-dns-egress-report-egress" || len(fix.Changes[0].Breaks) != 0 {
		t.Fatalf("egress-without-dns remedy %+v", fix)
	}
	before, after := ComputeCoverage(load(t, fixture)), ComputeCoverage(withChanges(t, fixture, fix.Changes))
	for i := range before.Namespaces {
		if before.Namespaces[i].Namespace == "shop" {
			before.Namespaces[i].Policies++ // the DNS allow itself
		}
	}
	if !slices.Equal(before.Namespaces, after.Namespaces) {
		t.Errorf("the DNS allow changed who is isolated:\nbefore %+v\nafter  %+v", before.Namespaces, after.Namespaces)
	}
	got, _ := runChecks(t, withChanges(t, fixture, fix.Changes))
	if len(got[IDEgressWithoutDNS]) != 0 {
		t.Errorf("after the DNS allow: %v", got[IDEgressWithoutDNS])
	}
	if len(dnsPolicyName(strings.Repeat("p", 253))) != 253 {
		t.Errorf("a DNS allow beside a policy with the longest name is too long")
	}
}

// TestDenyRemedyRemovesAllowAll checks the default-deny remedies of a
// namespace whose namespace-wide policy admits everyone: the deny only takes
// effect once that rule is gone, so the remedy deletes the policy when that
// is all it does and patches the rule out otherwise.
func TestDenyRemedyRemovesAllowAll(t *testing.T) {
	const fixture = "workloads/manifests.yaml"
	a := Analyze(load(t, fixture))
	in := IngressDenyRemedy(a, "analytics")
	if len(in.Changes) != 2 || in.Changes[1].Action != remedy.Delete || in.Changes[1].Target.Name != "allow-all" ||
		!slices.Equal(in.Changes[1].Breaks, []string{"deployment analytics/etl loses all ingress"}) || len(in.Changes[0].Breaks) != 0 ||
		!strings.Contains(in.Summary, "analytics/allow-all admits every peer") {
		t.Fatalf("ingress deny of analytics: %+v", in)
	}
	// Deleting the policy is a plan kubectl apply leaves aside: apply the deny, drop the policy.
	inv := withChanges(t, fixture, in.Changes[:1])
	inv.NetworkPolicies = slices.DeleteFunc(inv.NetworkPolicies, func(np networkingv1.NetworkPolicy) bool {
		return np.Namespace == "analytics" && np.Name == "allow-all"
	})
	got, _ := runChecks(t, inv)
	if slices.Contains(got[IDNoDefaultDenyIngress], "namespace/analytics medium") {
		t.Errorf("analytics still without default-deny ingress: %v", got[IDNoDefaultDenyIngress])
	}

	// A namespace-wide policy that also isolates egress keeps its other rules: a patch.
	files := []string{"semantics/cluster.yaml", "checks/allow-all-both.yaml"}
	in = IngressDenyRemedy(Analyze(load(t, files...)), "ops")
	if len(in.Changes) != 2 || in.Changes[1].Action != remedy.Patch || in.Changes[1].Target.Name != "open-in-narrow-out" {
		t.Fatalf("ingress deny of ops: %+v", in.Changes)
	}
	inv = load(t, files...)
	np := &inv.NetworkPolicies[len(inv.NetworkPolicies)-1]
	if err := json.Unmarshal(in.Changes[1].Patch, np); err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Egress) != 1 || np.Spec.Ingress[0].From[0].PodSelector == nil {
		t.Errorf("patched policy %+v: want the narrow ingress rule and the egress rule kept", np.Spec)
	}
	// ops/monitor keeps the narrow ingress rule; nothing else runs in ops.
	if len(in.Changes[1].Breaks) != 0 {
		t.Errorf("breaks %v, want none: monitor keeps its narrow rule", in.Changes[1].Breaks)
	}
}

func TestCoverageTable(t *testing.T) {
	title, headers, rows := ComputeCoverage(load(t, "checks/findings.yaml")).Table()
	if title != "NetworkPolicy coverage (CNI: unknown)" || len(headers) != 10 || headers[2] != "WORKLOADS" || headers[3] != "PODS" {
		t.Errorf("title %q headers %v", title, headers)
	}
	want := [][]string{
		{"bare", "0", "1", "1", "0 (0%)", "0 (0%)", "no", "no", "0", "0"},
		{"kube-system", "0", "1", "1", "0 (0%)", "0 (0%)", "no", "no", "0", "0"},
		{"locked", "4", "2", "2", "2 (100%)", "2 (100%)", "yes", "yes", "0", "0"},
		{"partial", "3", "3", "2", "2 (66.7%)", "0 (0%)", "no", "no", "1", "0"},
		{"TOTAL", "7", "7", "6", "4 (57.1%)", "2 (28.6%)", "1/4", "1/4", "1", "0"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %v", rows)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d: %v, want %v", i, rows[i], want[i])
		}
	}
	_, _, rows = ComputeCoverage(load(t, "checks/clean.yaml")).Table()
	if !slices.Equal(rows[2], []string{"shop", "3", "1", "1", "1 (100%)", "1 (100%)", "yes", "yes", "0", "1"}) {
		t.Errorf("clean shop row %v", rows[2])
	}
	empty := &Coverage{CNI: CNI{Status: CNIEnforcing, Enforcing: []string{"cilium"}}, Namespaces: []NamespaceCoverage{{Namespace: "idle"}}}
	title, _, rows = empty.Table()
	if title != "NetworkPolicy coverage (CNI: enforcing, cilium)" || rows[0][4] != "-" || rows[0][5] != "-" {
		t.Errorf("a namespace without pods: %q %v", title, rows)
	}
}
