package netpol

import (
	"slices"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Names of the policies the remedies create. The fix session applies them by
// server-side apply, so proposing the same one twice (from two findings) is harmless.
const (
	DefaultDenyName        = "default-deny"
	DefaultDenyIngressName = "default-deny-ingress"
	DefaultDenyEgressName  = "default-deny-egress"
	AllowDNSName           = "allow-dns-egress"
)

// DefaultDenyRemedy is the full remedy for a namespace: an egress allow to
// the cluster DNS first (so names still resolve the moment egress is denied),
// then a default-deny of ingress and egress. Each change's Breaks names the
// pods that would lose all ingress or egress they have today.
func DefaultDenyRemedy(a *Analysis, ns string) *remedy.Remediation {
	s := a.namespaceState(ns)
	dns := remedy.NewApply("allow egress from every pod of "+ns+" to the cluster DNS (kube-system pods k8s-app=kube-dns) on UDP and TCP 53", AllowDNSPolicy(ns))
	dns.Breaks = a.podLines(s.notIsolatedEgress, "loses all egress except DNS")
	deny := remedy.NewApply("deny all ingress and egress of every pod of "+ns+" that no other policy allows", DefaultDenyPolicy(ns, DefaultDenyName, true, true))
	deny.Breaks = append(a.podLines(s.notIsolatedIngress, "loses all ingress"),
		a.podLines(s.notIsolatedEgress, "loses all egress (DNS stays allowed only with "+AllowDNSName+")")...)
	return &remedy.Remediation{
		Summary: "Add a default-deny NetworkPolicy for ingress and egress with a DNS allow, then allow the traffic each workload needs. " +
			"The gentler start is an ingress-only default deny (" + DefaultDenyIngressName + ").",
		Changes: []remedy.Change{dns, deny},
	}
}

// IngressDenyRemedy is the gentler remedy: default-deny ingress only.
func IngressDenyRemedy(a *Analysis, ns string) *remedy.Remediation {
	s := a.namespaceState(ns)
	deny := remedy.NewApply("deny all ingress to every pod of "+ns+" that no other policy allows", DefaultDenyPolicy(ns, DefaultDenyIngressName, true, false))
	deny.Breaks = a.podLines(s.notIsolatedIngress, "loses all ingress")
	return &remedy.Remediation{
		Summary: "Add a default-deny ingress NetworkPolicy, then allow the ingress each workload needs.",
		Changes: []remedy.Change{deny},
	}
}

// EgressDenyRemedy denies egress, always together with the DNS allow.
func EgressDenyRemedy(a *Analysis, ns string) *remedy.Remediation {
	s := a.namespaceState(ns)
	dns := remedy.NewApply("allow egress from every pod of "+ns+" to the cluster DNS (kube-system pods k8s-app=kube-dns) on UDP and TCP 53", AllowDNSPolicy(ns))
	dns.Breaks = a.podLines(s.notIsolatedEgress, "loses all egress except DNS")
	deny := remedy.NewApply("deny all egress of every pod of "+ns+" that no other policy allows", DefaultDenyPolicy(ns, DefaultDenyEgressName, false, true))
	deny.Breaks = a.podLines(s.notIsolatedEgress, "loses all egress (DNS stays allowed only with "+AllowDNSName+")")
	return &remedy.Remediation{
		Summary: "Add a default-deny egress NetworkPolicy together with a DNS allow, then allow the egress each workload needs.",
		Changes: []remedy.Change{dns, deny},
	}
}

func (a *Analysis) podLines(pods []int, what string) []string {
	out := make([]string, 0, len(pods))
	for _, i := range pods {
		out = append(out, "pod "+a.Pods[i].Ref()+" "+what)
	}
	return out
}

// DefaultDenyPolicy is a NetworkPolicy selecting every pod of the namespace
// (podSelector {}) with no rules: the directions listed are denied.
func DefaultDenyPolicy(ns, name string, ingress, egress bool) map[string]any {
	var types []any
	if ingress {
		types = append(types, "Ingress")
	}
	if egress {
		types = append(types, "Egress")
	}
	return map[string]any{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "NetworkPolicy",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"podSelector": map[string]any{},
			"policyTypes": types,
		},
	}
}

// AllowDNSPolicy lets every pod of the namespace reach the cluster DNS pods.
// kube-system is selected by kubernetes.io/metadata.name, which the API
// server sets and nobody can change, so no other namespace can pose as it.
func AllowDNSPolicy(ns string) map[string]any {
	return map[string]any{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "NetworkPolicy",
		"metadata":   map[string]any{"name": AllowDNSName, "namespace": ns},
		"spec": map[string]any{
			"podSelector": map[string]any{},
			"policyTypes": []any{"Egress"},
			"egress": []any{map[string]any{
				"to": []any{map[string]any{
					"namespaceSelector": map[string]any{"matchLabels": map[string]any{namespaceNameLabel: "kube-system"}},
					"podSelector":       map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}},
				}},
				"ports": []any{
					map[string]any{"protocol": "UDP", "port": int64(53)},
					map[string]any{"protocol": "TCP", "port": int64(53)},
				},
			}},
		},
	}
}

// dnsRule is the egress rule that lets a pod reach the cluster DNS.
func dnsRule() map[string]any {
	spec := AllowDNSPolicy("")["spec"].(map[string]any)
	return spec["egress"].([]any)[0].(map[string]any)
}

// dnsRemedy adds the DNS rule to the egress policies of the namespace that
// isolate pods without a DNS allow. A merge patch replaces the whole egress
// list, so the patch carries the existing rules too, and the resourceVersion
// precondition stops it if the policy changed since it was read. Patching the
// existing policies, rather than adding a namespace-wide DNS policy, isolates
// no pod that is open today, so nothing breaks.
func (a *Analysis) dnsRemedy(ns string, policyNames []string) *remedy.Remediation {
	r := &remedy.Remediation{Summary: "Allow UDP and TCP 53 to kube-system pods k8s-app=kube-dns in the egress policies of these pods."}
	for _, pi := range a.NamespacePolicies(ns) {
		p := &a.Policies[pi]
		if !slices.Contains(policyNames, p.Name) {
			continue
		}
		egress := make([]any, 0, len(p.Spec.Egress)+1)
		for _, e := range p.Spec.Egress {
			egress = append(egress, e)
		}
		egress = append(egress, dnsRule())
		t := remedy.Target{APIVersion: networkPolicyAPIVersion, Kind: networkPolicyKind, Namespace: p.Namespace, Name: p.Name}
		c, err := remedy.NewMergePatch("add a DNS egress rule to NetworkPolicy "+p.Ref(), t, p.ResourceVersion,
			map[string]any{"spec": map[string]any{"egress": egress}})
		if err != nil {
			// The patch is built from decoded API types and maps of strings: it always encodes.
			continue
		}
		r.Changes = append(r.Changes, c)
	}
	return r
}
