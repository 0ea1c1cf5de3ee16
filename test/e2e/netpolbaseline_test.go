package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// The checks whose remedies offer the Baseline-tier alternative.
var baselineChecks = []string{"--check", netpol.IDNamespaceWithoutPolicy, "--check", netpol.IDNoDefaultDenyIngress, "--check", netpol.IDNoDefaultDenyEgress}

// alternativesOn returns "check namespace" of the findings on netpol-banp-*
// namespaces that offer an alternative.
func alternativesOn(r *finding.Report) []string {
	var out []string
	for _, f := range r.Items {
		if strings.HasPrefix(f.Resource.Name, "netpol-banp-") && f.Remediation != nil && len(f.Remediation.Alternatives) > 0 {
			out = append(out, f.Check+" "+f.Resource.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestNetpolBaselineAlternative: without the ClusterNetworkPolicy CRD the
// default-deny remedies are NetworkPolicies only; once the server serves it
// (the standard channel's CRD of the network-policy-api module, so the API
// server validates the proposal against that schema) the findings also offer
// one Baseline-tier ClusterNetworkPolicy. Chosen in `kubectl harden fix`, it
// passes the server's dry-run, is applied, makes the NetworkPolicy changes it
// replaces needless, and afterwards the audit finds the namespaces isolated
// and default-deny, can-reach answers by the tiers live as offline (NetworkPolicy
// decides for the pods it selects, the Baseline deny for the others, the
// cluster DNS stays reachable), and undo removes it.
func TestNetpolBaselineAlternative(t *testing.T) {
	const crd = "crd/clusternetworkpolicies.policy.networking.k8s.io"
	objects := testdata("netpol-baseline", "objects.yaml")
	t.Cleanup(func() {
		// The CRD takes its objects with it.
		if res, err := env.Kubectl(nil, "delete", "--wait=true", "--ignore-not-found", crd); err != nil || res.Code != 0 {
			t.Errorf("delete %s: %v %s", crd, err, res.Stderr)
		}
		// The pods and policies too, not only their namespaces: no controller
		// empties a namespace on the test server, and kube-system is shared.
		_, _ = env.Kubectl(nil, "delete", "-f", objects, "--wait=false", "--ignore-not-found")
	})
	apply(t, "netpol-baseline", "objects.yaml")
	offered := []string{
		netpol.IDNoDefaultDenyEgress + " netpol-banp-shop",
		netpol.IDNoDefaultDenyIngress + " netpol-banp-shop",
		netpol.IDNamespaceWithoutPolicy + " netpol-banp-guest",
	}

	// Not served: as before the tiers existed.
	before, _ := report(t, env.Kubeconfig, append([]string{"netpol"}, baselineChecks...)...)
	if got := alternativesOn(before); len(got) != 0 {
		t.Errorf("without the CRD, alternatives on %v", got)
	}
	if n := len(onNamespaces(t, before, func(ns string) bool { return strings.HasPrefix(ns, "netpol-banp-") })); n != 3 {
		t.Errorf("%d findings on netpol-banp-*, want 3", n)
	}

	installCRDs(t, []string{clusterNetworkPolicyCRD(t, "standard")}, []string{crd}, objects)
	served, _ := report(t, env.Kubeconfig, append([]string{"netpol"}, baselineChecks...)...)
	if got := alternativesOn(served); !slices.Equal(got, offered) {
		t.Errorf("served: alternatives on %v, want %v", got, offered)
	}
	// -n narrows the audit to a namespace: nothing cluster-wide is offered.
	narrow, _ := report(t, env.Kubeconfig, append([]string{"netpol", "-n", "netpol-banp-shop"}, baselineChecks...)...)
	if got := alternativesOn(narrow); len(got) != 0 {
		t.Errorf("with -n, alternatives on %v", got)
	}
	// The patch stream keeps it out of the plan, commented out after it.
	plan := mustHarden(t, append([]string{"-o", "patch"}, baselineChecks...)...)
	if !strings.Contains(plan.Stdout, "# ALTERNATIVE to these findings' changes above: One ClusterNetworkPolicy of the Baseline tier") ||
		!strings.Contains(plan.Stdout, "# kind: ClusterNetworkPolicy\n") || strings.Contains(plan.Stdout, "\nkind: ClusterNetworkPolicy\n") {
		t.Errorf("-o patch does not print the alternative commented out:\n%s", plan.Stdout)
	}

	// A dry run shows it with the server's verdict, and leaves it out of the plan.
	dry := mustHarden(t, append([]string{"fix", "--dry-run=server"}, baselineChecks...)...)
	if !strings.Contains(dry.Stdout, "ALTERNATIVE: instead of these findings' own changes") ||
		!strings.Contains(dry.Stdout, ", 1 alternative offered instead of some of them. Nothing was changed") {
		t.Errorf("the dry run does not show the alternative apart from the plan:\n%s", dry.Stdout)
	}

	// The session: no to the NetworkPolicy changes asked before it, yes to the alternative.
	d := pipeDialogue(t, nil, append([]string{"fix"}, baselineChecks...)...)
	applied := false
	for {
		seg, ok := d.prompt()
		if !ok {
			break
		}
		cur := changeLine(seg)
		switch {
		case applied:
			for _, ns := range []string{"netpol-banp-guest", "netpol-banp-shop"} {
				if strings.Contains(cur, ns) {
					t.Errorf("a change for %s is still asked after the alternative:\n%s", ns, seg)
				}
			}
			d.answer("q")
		case strings.HasPrefix(cur, "Change: apply clusternetworkpolicy.policy.networking.k8s.io/"+netpol.BaselineDenyName):
			for _, want := range []string{
				"ALTERNATIVE: instead of these findings' own changes",
				"Instead: One ClusterNetworkPolicy of the Baseline tier",
				"+  tier: Baseline",
				"Server dry-run: accepted",
				"May break:",
				"loses all ingress from pods",
			} {
				if !strings.Contains(seg, want) {
					t.Errorf("the alternative's question lacks %q:\n%s", want, seg)
				}
			}
			// What it breaks covers every namespace, those other tests left too:
			// past its bound the rest is counted.
			if !strings.Contains(seg, "pod netpol-banp-guest/probe-0 loses all ingress from pods") && !strings.Contains(seg, "more lines like these, in") {
				t.Errorf("the alternative's question names neither probe-0 nor how many more lose traffic:\n%s", seg)
			}
			if strings.Contains(seg, "pod netpol-banp-shop/web-0 loses all egress") {
				t.Errorf("web-egress decides for web-0's egress, yet the alternative says it cuts it:\n%s", seg)
			}
			applied = true
			d.answer("y")
		default:
			if strings.Contains(cur, "netpol-banp-") {
				t.Errorf("a change for netpol-banp-* is asked before the alternative:\n%s", seg)
			}
			d.answer("n")
		}
	}
	out, code := d.wait()
	all := d.text.String()
	if !applied || code != 0 {
		t.Fatalf("fix exit %d, alternative applied %v\n%s\nstderr: %s", code, applied, all, d.stderr.String())
	}
	if !strings.Contains(all, "Applied: apply clusternetworkpolicy.policy.networking.k8s.io/"+netpol.BaselineDenyName) {
		t.Errorf("the alternative was not applied:\n%s", all)
	}
	for _, ns := range []string{"netpol-banp-guest", "netpol-banp-shop"} {
		if !slices.ContainsFunc(strings.Split(all, "\n"), func(l string) bool {
			return strings.Contains(l, "resolved by change") && strings.Contains(l, ns)
		}) {
			t.Errorf("the NetworkPolicy changes of %s were not resolved by the alternative:\n%s", ns, all)
		}
	}
	target := remedy.Target{APIVersion: "policy.networking.k8s.io/v1alpha2", Kind: "ClusterNetworkPolicy", Name: netpol.BaselineDenyName}
	got := snapshot(t, target, networkPolicyTarget("netpol-banp-guest", netpol.DefaultDenyName))
	if got[0] == nil || got[1] != nil {
		t.Fatalf("after the session: %s %v, guest's default-deny %v", target, got[0] != nil, got[1] != nil)
	}

	// The audit: nothing on the namespaces, both default-deny, every pod isolated.
	after, _ := report(t, env.Kubeconfig, "netpol")
	if left := onNamespaces(t, after, func(ns string) bool { return strings.HasPrefix(ns, "netpol-banp-") }); len(left) != 0 {
		t.Errorf("findings left on netpol-banp-*: %v", slices.Sorted(maps.Keys(left)))
	}
	_, rows := netpolCoverage(t, after, "netpol-banp-")
	if len(rows) != 2 {
		t.Fatalf("coverage rows %+v", rows)
	}
	for _, r := range rows {
		if !r.DefaultDenyIngress || !r.DefaultDenyEgress || r.IngressIsolated != r.Workloads || r.EgressIsolated != r.Workloads || r.ClusterPolicies != 1 {
			t.Errorf("%s after the alternative: %+v", r.Namespace, r)
		}
	}

	// can-reach, live and offline (the files plus the policy as the server stored it).
	dir := t.TempDir()
	res, err := env.Kubectl(nil, "get", "clusternetworkpolicy", netpol.BaselineDenyName, "-o", "yaml")
	if err != nil || res.Code != 0 {
		t.Fatalf("get the stored policy: %v %s", err, res.Stderr)
	}
	b, err := os.ReadFile(objects)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "baseline.yaml"), []byte(res.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{"netpol-banp-shop/web-0 netpol-banp-shop/db-0": {"TCP 5432"}}
	pairs := liveOfflinePairs(t, []string{"netpol-banp-guest", "netpol-banp-shop"}, dir, func(pair string, l netpol.Reach) {
		if !slices.Equal(l.AllowedPorts, allowed[pair]) || l.Allowed != (allowed[pair] != nil) {
			t.Errorf("%s: allowed %v ports %v, want %v\negress: %s\ningress: %s", pair, l.Allowed, l.AllowedPorts, allowed[pair], l.Egress.Reason, l.Ingress.Reason)
		}
	})
	if pairs != 6 {
		t.Errorf("%d pod pairs, want 6", pairs)
	}
	baseline := "ClusterNetworkPolicy " + netpol.BaselineDenyName + " (Baseline, priority 1000)"
	for _, q := range []struct {
		src, dst, port string
		allowed        bool
		egress         string // in the egress side's reason
	}{
		// Nothing selects probe-0: the Baseline tier decides, DNS first.
		{"netpol-banp-guest/probe-0", "netpol-banp-shop/web-0", "80", false, baseline + " egress rule 1 (default-deny)"},
		{"netpol-banp-guest/probe-0", "kube-system/netpol-banp-dns-0", "53/UDP", true, baseline + " egress rule 0 (allow-dns)"},
		{"netpol-banp-guest/probe-0", "kube-system/netpol-banp-dns-0", "dns-tcp", true, "allow-dns"},
		{"netpol-banp-guest/probe-0", "kube-system/netpol-banp-dns-0", "9153", false, "default-deny"},
		{"netpol-banp-shop/db-0", "kube-system/netpol-banp-dns-0", "53/UDP", true, "allow-dns"},
		// web-egress selects web-0 for egress: NetworkPolicy decides, with its own DNS allow.
		{"netpol-banp-shop/web-0", "kube-system/netpol-banp-dns-0", "53/UDP", true, "netpol-banp-shop/web-egress"},
	} {
		live := canReach(t, q.src, q.dst, "--port", q.port)
		off := canReach(t, q.src, q.dst, "--port", q.port, "-f", dir)
		if len(live) != 1 || len(off) != 1 {
			t.Fatalf("%s -> %s: %d answers live, %d offline", q.src, q.dst, len(live), len(off))
		}
		if lj, oj := tierJSON(t, live[0]), tierJSON(t, off[0]); lj != oj {
			t.Errorf("%s -> %s %s differs\nlive:    %s\noffline: %s", q.src, q.dst, q.port, lj, oj)
		}
		if r := live[0]; r.Allowed != q.allowed || !strings.Contains(r.Egress.Reason, q.egress) {
			t.Errorf("%s -> %s %s: allowed %v, want %v because of %q\negress: %s\ningress: %s", q.src, q.dst, q.port, r.Allowed, q.allowed, q.egress, r.Egress.Reason, r.Ingress.Reason)
		}
	}

	// The session journaled it: undo removes it.
	m := journalLine.FindStringSubmatch(out + all)
	if m == nil {
		t.Fatalf("no journal in the session's output:\n%s", all)
	}
	mustHarden(t, "undo", "--journal", m[1])
	if got := snapshot(t, target); got[0] != nil {
		t.Errorf("undo left %s", target)
	}
}
