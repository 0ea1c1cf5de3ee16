package e2e

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// cniCRDs are the CRDs TestNetpolCNIPoliciesLiveAndOfflineAgree installs.
var cniCRDs = []string{
	"crd/ciliumnetworkpolicies.cilium.io",
	"crd/ciliumclusterwidenetworkpolicies.cilium.io",
	"crd/networkpolicies.crd.projectcalico.org",
	"crd/globalnetworkpolicies.crd.projectcalico.org",
}

// cniKinds are the inventory kinds of the CNI policies, as metadata.input names them.
var cniKinds = []string{"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies",
	"networkpolicies.projectcalico.org", "globalnetworkpolicies.projectcalico.org"}

// TestNetpolCNIPoliciesLiveAndOfflineAgree installs Cilium's and Calico's
// policy CRDs (written from their published schema), seeds policies outside
// the modelled subset (an L7 rule, service accounts, FQDN, HTTP) and requires
// the live audit, read through discovery and the dynamic client, and the
// audit of the same files to agree on every finding, the coverage and every
// can-reach answer, and the pods those policies select to get "unknown",
// never allowed or denied. Before the CRDs exist the kinds read as not
// installed. The CRDs, and with them their objects, are removed at the end.
func TestNetpolCNIPoliciesLiveAndOfflineAgree(t *testing.T) {
	namespaces := []string{"netpol-cni-shop", "netpol-cni-guest", "netpol-cni-front"}
	t.Cleanup(func() {
		args := append([]string{"delete", "--wait=true", "--ignore-not-found"}, cniCRDs...)
		if res, err := env.Kubectl(nil, args...); err != nil || res.Code != 0 {
			t.Errorf("kubectl %s: %v %s", strings.Join(args, " "), err, res.Stderr)
		}
		for _, ns := range namespaces {
			_, _ = env.Kubectl(nil, "delete", "namespace", ns, "--wait=false", "--ignore-not-found")
		}
	})

	before, _ := report(t, env.Kubeconfig, "netpol")
	st := inputStatus(before)
	for _, k := range cniKinds {
		if st[k] != finding.InputNotInstalled {
			t.Errorf("without the CRDs: metadata.input %s is %q, want not-installed", k, st[k])
		}
	}
	if len(before.Summary.Skipped) != 0 {
		t.Errorf("without the CRDs checks are skipped: %+v", before.Summary.Skipped)
	}

	objects := testdata("netpol-cni", "objects")
	installCRDs(t, []string{testdata("netpol-cni", "crd")}, cniCRDs, objects)

	live, _ := report(t, env.Kubeconfig, "netpol")
	offline, _ := report(t, env.Kubeconfig, "netpol", "-f", objects)
	inCNI := func(ns string) bool { return strings.HasPrefix(ns, "netpol-cni-") }
	want := []string{
		"netpol/namespace-without-default-deny-egress namespace/netpol-cni-front",
		"netpol/namespace-without-default-deny-egress namespace/netpol-cni-guest",
		"netpol/namespace-without-default-deny-egress namespace/netpol-cni-shop",
		"netpol/namespace-without-default-deny-ingress namespace/netpol-cni-front",
		"netpol/namespace-without-default-deny-ingress namespace/netpol-cni-guest",
		"netpol/namespace-without-default-deny-ingress namespace/netpol-cni-shop",
		"netpol/pods-not-isolated-egress namespace/netpol-cni-shop",
		"netpol/pods-not-isolated-ingress namespace/netpol-cni-front",
		"netpol/pods-not-isolated-ingress namespace/netpol-cni-guest",
	}
	sameLiveAndOffline(t, "netpol-cni-*", want, onNamespaces(t, live, inCNI), onNamespaces(t, offline, inCNI))

	st = inputStatus(live)
	for _, k := range cniKinds {
		if st[k] != finding.InputListed || inputCount(live, k) != 1 {
			t.Errorf("live metadata.input %s: %s, %d objects; want listed, 1", k, st[k], inputCount(live, k))
		}
		if got := inputCount(offline, k); got != 1 {
			t.Errorf("offline metadata.input %s: %d objects, want 1", k, got)
		}
	}

	// Coverage: the selected workloads are unknown, never isolated.
	_, liveRows := netpolCoverage(t, live, "netpol-cni-")
	_, offRows := netpolCoverage(t, offline, "netpol-cni-")
	if !slices.Equal(liveRows, offRows) || len(liveRows) != 3 {
		t.Errorf("coverage differs\nlive:    %+v\noffline: %+v", liveRows, offRows)
	}
	wantShop := netpol.NamespaceCoverage{Namespace: "netpol-cni-shop", Policies: 1, Workloads: 2, Pods: 2, CNIPolicies: 2, IngressUnknown: 2}
	if len(liveRows) == 3 && liveRows[2] != wantShop {
		t.Errorf("shop coverage %+v, want %+v", liveRows[2], wantShop)
	}

	// Every pod pair, live and offline: where a CNI policy selects the
	// source for egress or the destination for ingress, the answer is unknown.
	unknown := map[string]bool{
		"netpol-cni-shop/web-0 netpol-cni-shop/db-0":     true, // db: Calico service-account rule
		"netpol-cni-guest/probe-0 netpol-cni-shop/web-0": true, // probe: Cilium FQDN egress; web: Cilium L7 ingress
		"netpol-cni-guest/probe-0 netpol-cni-shop/db-0":  true,
		"netpol-cni-guest/probe-0 netpol-cni-front/fe-0": true,
		"netpol-cni-front/fe-0 netpol-cni-shop/web-0":    true, // fe: Calico HTTP egress
		"netpol-cni-front/fe-0 netpol-cni-shop/db-0":     true,
		"netpol-cni-front/fe-0 netpol-cni-guest/probe-0": true,
		"netpol-cni-shop/db-0 netpol-cni-shop/web-0":     true,
	}
	pairs := liveOfflinePairs(t, namespaces, objects, func(pair string, l netpol.Reach) {
		if l.Unknown != unknown[pair] {
			t.Errorf("%s: unknown %v allowed %v, want unknown %v\negress: %s\ningress: %s", pair, l.Unknown, l.Allowed,
				unknown[pair], l.Egress.Reason, l.Ingress.Reason)
		}
		if unknown[pair] && (l.Allowed || len(l.AllowedPorts) > 0) {
			t.Errorf("%s: allowed %v on %v, want unknown", pair, l.Allowed, l.AllowedPorts)
		}
	})
	if pairs != 12 {
		t.Errorf("%d pod pairs, want 12", pairs)
	}

	// The L7 rule: the answer is unknown and names the policy.
	res := mustHarden(t, "netpol", "can-reach", "netpol-cni-front/fe-0", "netpol-cni-shop/web-0", "--port", "80", "-o", "wide")
	for _, want := range []string{"unknown", "not modelled: CiliumNetworkPolicy netpol-cni-shop/web-l7 selects it; verdicts for pods it selects are unknown"} {
		if !strings.Contains(res.Stdout+res.Stderr, want) {
			t.Errorf("can-reach lacks %q:\n%s%s", want, res.Stdout, res.Stderr)
		}
	}

	// The auditor role lets its holder list them, in both of Calico's groups.
	role := mustHarden(t, "auditor-role", "netpol")
	var cr rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(role.Stdout), &cr); err != nil {
		t.Fatal(err)
	}
	granted := map[string][]string{}
	for _, r := range cr.Rules {
		for _, g := range r.APIGroups {
			granted[g] = append(granted[g], r.Resources...)
		}
	}
	for g, rs := range map[string][]string{
		"cilium.io":             {"ciliumclusterwidenetworkpolicies", "ciliumnetworkpolicies"},
		"projectcalico.org":     {"globalnetworkpolicies", "networkpolicies"},
		"crd.projectcalico.org": {"globalnetworkpolicies", "networkpolicies"},
	} {
		if !slices.Equal(granted[g], rs) {
			t.Errorf("auditor role grants %v in %s, want %v", granted[g], g, rs)
		}
	}
}

// TestNetpolCNIExactLiveAndOfflineAgree seeds Cilium and Calico policies
// inside the modelled L3/L4 subset (endpoint selectors by namespace,
// entities, deny rules over a NetworkPolicy allow, port ranges of any
// protocol, named ports; Calico order, Deny, Allow and Pass with a
// NetworkPolicy in the default tier) and requires the live and the offline
// audit to give the same exact verdict, never unknown, for every pod pair:
// the ports allowed, and the policy and rule that decided.
func TestNetpolCNIExactLiveAndOfflineAgree(t *testing.T) {
	namespaces := []string{"netpol-cnix-a", "netpol-cnix-b", "netpol-cnix-c"}
	t.Cleanup(func() {
		args := append([]string{"delete", "--wait=true", "--ignore-not-found"}, cniCRDs...)
		if res, err := env.Kubectl(nil, args...); err != nil || res.Code != 0 {
			t.Errorf("kubectl %s: %v %s", strings.Join(args, " "), err, res.Stderr)
		}
		for _, ns := range namespaces {
			_, _ = env.Kubectl(nil, "delete", "namespace", ns, "--wait=false", "--ignore-not-found")
		}
	})
	objects := testdata("netpol-cni-exact", "objects")
	installCRDs(t, []string{testdata("netpol-cni", "crd")}, cniCRDs, objects)

	all := "TCP 1-65535 UDP 1-65535 SCTP 1-65535"
	want := map[string]string{
		"netpol-cnix-a/web-0 netpol-cnix-a/db-0":     "", // Cilium deny wins over db-ingress
		"netpol-cnix-a/db-0 netpol-cnix-a/web-0":     "",
		"netpol-cnix-a/web-0 netpol-cnix-b/api-0":    "", // Calico Deny of team a
		"netpol-cnix-a/db-0 netpol-cnix-b/api-0":     "",
		"netpol-cnix-a/web-0 netpol-cnix-c/client-0": all,
		"netpol-cnix-a/db-0 netpol-cnix-c/client-0":  all,
		"netpol-cnix-b/api-0 netpol-cnix-a/web-0":    "",
		"netpol-cnix-b/api-0 netpol-cnix-a/db-0":     "",
		"netpol-cnix-b/api-0 netpol-cnix-c/client-0": "UDP 53",
		"netpol-cnix-c/client-0 netpol-cnix-a/web-0": "TCP 80",
		"netpol-cnix-c/client-0 netpol-cnix-a/db-0":  "",
		"netpol-cnix-c/client-0 netpol-cnix-b/api-0": "TCP 8080",
	}
	pairs := liveOfflinePairs(t, namespaces, objects, func(pair string, l netpol.Reach) {
		w, ok := want[pair]
		if got := strings.Join(l.AllowedPorts, " "); !ok || got != w || l.Unknown || len(l.UnknownPorts) > 0 {
			t.Errorf("%s: allowed %q, unknown %v %v; want allowed %q\negress: %s\ningress: %s\nnotes: %v", pair, got, l.Unknown, l.UnknownPorts, w,
				l.Egress.Reason, l.Ingress.Reason, l.Notes)
		}
	})
	if pairs != len(want) {
		t.Errorf("%d pod pairs, want %d", pairs, len(want))
	}

	// Each answer names the policy and rule that decided it, live and offline.
	for _, q := range []struct{ src, dst, port, reason string }{
		{"netpol-cnix-a/web-0", "netpol-cnix-a/db-0", "5432", "denied by CiliumNetworkPolicy netpol-cnix-a/db-deny (ingressDeny rule 0)"},
		{"netpol-cnix-a/web-0", "netpol-cnix-b/api-0", "8080", "denied by NetworkPolicy.projectcalico.org netpol-cnix-b/api-guard (ingress rule 0)"},
		{"netpol-cnix-c/client-0", "netpol-cnix-a/web-0", "80", "allowed by CiliumNetworkPolicy netpol-cnix-a/web-from-c (ingress rule 0)"},
		{"netpol-cnix-b/api-0", "netpol-cnix-a/db-0", "5432", "passed by GlobalNetworkPolicy.projectcalico.org netpol-cnix-b-egress (egress rule 1)"},
	} {
		for _, extra := range [][]string{nil, {"-f", objects}} {
			rs := canReach(t, q.src, q.dst, append([]string{"--port", q.port}, extra...)...)
			if len(rs) != 1 || !strings.Contains(rs[0].Egress.Reason+"\n"+rs[0].Ingress.Reason, q.reason) || rs[0].Unknown {
				t.Errorf("%s -> %s %s %v: %+v, want %q", q.src, q.dst, q.port, extra, rs, q.reason)
			}
		}
	}
}
