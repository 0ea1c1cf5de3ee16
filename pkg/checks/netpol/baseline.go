package netpol

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// The Baseline-tier alternative to a default-deny NetworkPolicy in each
// namespace: where the cluster serves ClusterNetworkPolicy, one policy of the
// Baseline tier denies, for every namespace but the system ones, what no
// NetworkPolicy decides, with egress to the cluster DNS accepted first.

const (
	// BaselineDenyName names the ClusterNetworkPolicy of the alternative.
	BaselineDenyName = "baseline-default-deny"
	// BaselineDenyPriority is the last place of the Baseline tier (priorities
	// run 0-1000, lower first): every other Baseline policy, there now or
	// added later below 1000, is evaluated first, so its Accept, Deny and Pass
	// rules still decide and the default deny takes only what none of them
	// decides. It is not offered where another Baseline policy already holds
	// 1000: two policies of one priority leave overlapping verdicts undefined.
	BaselineDenyPriority = 1000

	clusterNetworkPolicyAPIVersion = "policy.networking.k8s.io/v1alpha2"
	clusterNetworkPolicyKind       = "ClusterNetworkPolicy"
	baselineMemoKey                = "netpol/baseline-default-deny"
)

// baselineExcluded are the namespaces the Baseline default deny leaves out,
// whatever --include-system says: denying ingress to kube-system would cut
// every pod off the cluster DNS, and their pods belong to the distribution.
func baselineExcluded() []string {
	return []string{"kube-node-lease", "kube-public", "kube-system"}
}

// ServesClusterNetworkPolicy reports whether the cluster serves
// ClusterNetworkPolicy (policy.networking.k8s.io). Live, discovery says so:
// the kind was listed rather than read as not installed. Offline, the files
// must show it: a ClusterNetworkPolicy object, or the CRD
// clusternetworkpolicies.policy.networking.k8s.io (as in a dump that
// includes customresourcedefinitions). Files without either, --complete or
// not, are taken as a cluster without it.
func ServesClusterNetworkPolicy(inv *inventory.Inventory) bool {
	if inv.Offline {
		_, crd := inv.Scopes[schema.GroupResource{Group: inventory.PolicyGroup, Resource: string(inventory.ClusterNetworkPolicies)}]
		return crd || len(inv.ClusterNetworkPolicies) > 0
	}
	return inv.Has(inventory.ClusterNetworkPolicies) && !inv.NotInstalled[inventory.ClusterNetworkPolicies]
}

// BaselineDenyPolicy is the ClusterNetworkPolicy of the alternative. Its
// subject is every namespace but kube-system, kube-public and
// kube-node-lease, by kubernetes.io/metadata.name (set by the API server,
// which no one can change), so that namespaces created later are covered too.
// Ingress: a Deny of every pod (namespaces {}); a ClusterNetworkPolicy
// ingress peer names only pods. Egress: an Accept of the cluster DNS
// (kube-system pods k8s-app=kube-dns on UDP and TCP 53), then a Deny of every
// address (0.0.0.0/0 and ::/0 cover pod traffic too).
func BaselineDenyPolicy() map[string]any {
	excluded := make([]any, 0, 3)
	for _, ns := range baselineExcluded() {
		excluded = append(excluded, ns)
	}
	port53 := map[string]any{"destinationPort": map[string]any{"number": int64(53)}}
	return map[string]any{
		"apiVersion": clusterNetworkPolicyAPIVersion,
		"kind":       clusterNetworkPolicyKind,
		"metadata":   map[string]any{"name": BaselineDenyName},
		"spec": map[string]any{
			"tier":     "Baseline",
			"priority": int64(BaselineDenyPriority),
			"subject": map[string]any{"namespaces": map[string]any{"matchExpressions": []any{map[string]any{
				"key": namespaceNameLabel, "operator": "NotIn", "values": excluded,
			}}}},
			"ingress": []any{map[string]any{
				"name":   "default-deny",
				"action": "Deny",
				"from":   []any{map[string]any{"namespaces": map[string]any{}}},
			}},
			"egress": []any{
				map[string]any{
					"name":   "allow-dns",
					"action": "Accept",
					"to": []any{map[string]any{"pods": map[string]any{
						"namespaceSelector": map[string]any{"matchLabels": map[string]any{namespaceNameLabel: "kube-system"}},
						"podSelector":       map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}},
					}}},
					"protocols": []any{map[string]any{"udp": port53}, map[string]any{"tcp": port53}},
				},
				map[string]any{
					"name":   "default-deny",
					"action": "Deny",
					"to":     []any{map[string]any{"networks": []any{"0.0.0.0/0", "::/0"}}},
				},
			},
		},
	}
}

// baselineSummary says what the alternative does and what it does not:
// a platform engineer picks it knowing how it differs from the NetworkPolicies.
const baselineSummary = "One ClusterNetworkPolicy of the Baseline tier, " + BaselineDenyName + ", instead of NetworkPolicies in each namespace: " +
	"it selects every namespace but kube-system, kube-public and kube-node-lease, those created later too, denies ingress from every pod and all egress, " +
	"and accepts egress to the cluster DNS (kube-system pods k8s-app=kube-dns, UDP and TCP 53) before the deny. " +
	"The Baseline tier decides only for pods that no NetworkPolicy selects in that direction: a namespace's own NetworkPolicies still decide for the pods they select, " +
	"so teams allow what their workloads need with NetworkPolicies as before, and a pod a NetworkPolicy selects for egress needs a DNS allow of its own. " +
	"Priority 1000 is the last of the tier: every other Baseline policy is evaluated first and still decides what it matches; Admin-tier policies come before all. " +
	"A ClusterNetworkPolicy ingress rule names only pods: ingress from outside the pod network (nodes, host-network pods, addresses outside the cluster) is not denied, as a NetworkPolicy default deny would deny it. " +
	"Leave a namespace out by adding it to the subject's NotIn list."

// baselineAlternative returns the alternative, computed once per inventory,
// or nil where it is not offered: the cluster does not serve
// ClusterNetworkPolicy; -n narrows the audit (a cluster-wide change is beyond
// it); a BaselineAdminNetworkPolicy exists (the API defines no order between
// it and ClusterNetworkPolicy, so the deny could shadow its rules); another
// Baseline policy holds priority 1000; or a ClusterNetworkPolicy
// baseline-default-deny exists already (the findings it leaves are in
// namespaces someone took out of it, and proposing it again would undo that).
func baselineAlternative(inv *inventory.Inventory) *remedy.Remediation {
	return inv.Memo(baselineMemoKey, func() any { return newBaselineAlternative(inv, Analyze(inv)) }).(*remedy.Remediation)
}

func newBaselineAlternative(inv *inventory.Inventory, a *Analysis) *remedy.Remediation {
	if !ServesClusterNetworkPolicy(inv) || inv.Settings.Namespace != "" {
		return nil
	}
	for i := range a.ClusterPolicies {
		cp := &a.ClusterPolicies[i]
		switch {
		case cp.Kind == clusterNetworkPolicyKind && cp.Name == BaselineDenyName:
			return nil
		case !cp.evaluated() || cp.Tier != TierBaseline:
		case cp.Kind == "BaselineAdminNetworkPolicy" || cp.Priority == BaselineDenyPriority:
			return nil
		}
	}
	deny := remedy.NewApply(fmt.Sprintf("deny ingress from every pod and all egress except DNS, in the Baseline tier at priority %d, for the pods of every namespace but kube-system, kube-public and kube-node-lease that no NetworkPolicy selects in that direction",
		BaselineDenyPriority), BaselineDenyPolicy())
	deny.Breaks = a.baselineBreaks()
	return &remedy.Remediation{Summary: baselineSummary, Changes: []remedy.Change{deny}}
}

// maxBaselineBreaks bounds the lines of the alternative's Breaks: it covers
// every namespace, and every finding that offers it carries it.
const maxBaselineBreaks = 20

// baselineBreaks names, namespace by namespace, the workloads the Baseline
// deny cuts off: those nothing isolates today in a direction (a NetworkPolicy
// isolating them decides instead), as the NetworkPolicy remedy's Breaks does
// for its namespace. Where Cilium or Calico policies decide, it says that
// their combination with the tier is not modelled. Past maxBaselineBreaks
// lines, one more counts the rest and their namespaces.
func (a *Analysis) baselineBreaks() []string {
	var out []string
	more, moreNamespaces := 0, 0
	for _, ns := range a.Namespaces {
		if slices.Contains(baselineExcluded(), ns) {
			continue
		}
		s := a.namespaceState(ns)
		lines := append(a.workloadLines(s.notIsolatedIngress, "loses all ingress from pods"), a.workloadLines(s.notIsolatedEgress, "loses all egress except DNS")...)
		if len(s.unknownIngress)+len(s.unknownEgress) > 0 {
			lines = append(lines, "namespace "+ns+": Cilium or Calico policies decide for some of its workloads, and how they combine with the Baseline tier is not modelled")
		}
		room := max(0, min(len(lines), maxBaselineBreaks-len(out)))
		out = append(out, lines[:room]...)
		if rest := len(lines) - room; rest > 0 {
			more += rest
			moreNamespaces++
		}
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("and %d more lines like these, in %s (each namespace's own remedy names them)", more, count(moreNamespaces, "namespace")))
	}
	return out
}

// offerBaseline adds the Baseline alternative to a namespace's remedy when it
// is offered and would fix the finding (the caller knows whether it does).
func offerBaseline(inv *inventory.Inventory, ns string, r *remedy.Remediation) {
	alt := baselineAlternative(inv)
	if alt == nil || r == nil || slices.Contains(baselineExcluded(), ns) {
		return
	}
	r.Summary = strings.TrimSpace(r.Summary + " Alternative, as the cluster serves ClusterNetworkPolicy: one Baseline-tier ClusterNetworkPolicy, " +
		BaselineDenyName + ", for every namespace but the system ones.")
	r.Alternatives = append(r.Alternatives, *alt)
}
