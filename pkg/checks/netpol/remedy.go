package netpol

import (
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

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
// workloads (pod bare/app, deployment shop/web) whose pods would lose all
// ingress or egress they have today.
func DefaultDenyRemedy(a *Analysis, ns string) *remedy.Remediation {
	s := a.namespaceState(ns)
	dns := remedy.NewApply("allow egress from every pod of "+ns+" to the cluster DNS (kube-system pods k8s-app=kube-dns) on UDP and TCP 53", AllowDNSPolicy(ns))
	dns.Breaks = a.workloadLines(s.notIsolatedEgress, "loses all egress except DNS")
	deny := remedy.NewApply("deny all ingress and egress of every pod of "+ns+" that no other policy allows", DefaultDenyPolicy(ns, DefaultDenyName, true, true))
	deny.Breaks = append(a.workloadLines(s.notIsolatedIngress, "loses all ingress"),
		a.workloadLines(s.notIsolatedEgress, "loses all egress (DNS stays allowed only with "+AllowDNSName+")")...)
	return &remedy.Remediation{
		Summary: "Add a default-deny NetworkPolicy for ingress and egress with a DNS allow, then allow the traffic each workload needs. " +
			"The gentler start is an ingress-only default deny (" + DefaultDenyIngressName + ").",
		Changes: []remedy.Change{dns, deny},
	}
}

// IngressDenyRemedy is the gentler remedy: default-deny ingress only. Where
// a namespace-wide policy admits every peer, no deny takes effect until that
// rule is gone, so the remedy removes it too (see removeAllowAll).
func IngressDenyRemedy(a *Analysis, ns string) *remedy.Remediation {
	s := a.namespaceState(ns)
	deny := remedy.NewApply("deny all ingress to every pod of "+ns+" that no other policy allows", DefaultDenyPolicy(ns, DefaultDenyIngressName, true, false))
	deny.Breaks = a.workloadLines(s.notIsolatedIngress, "loses all ingress")
	r := &remedy.Remediation{
		Summary: "Add a default-deny ingress NetworkPolicy, then allow the ingress each workload needs.",
		Changes: []remedy.Change{deny},
	}
	a.removeAllowAll(r, ns, networkingv1.PolicyTypeIngress, s.allowAllIngress, "loses all ingress")
	return r
}

// EgressDenyRemedy denies egress, always together with the DNS allow.
func EgressDenyRemedy(a *Analysis, ns string) *remedy.Remediation {
	s := a.namespaceState(ns)
	dns := remedy.NewApply("allow egress from every pod of "+ns+" to the cluster DNS (kube-system pods k8s-app=kube-dns) on UDP and TCP 53", AllowDNSPolicy(ns))
	dns.Breaks = a.workloadLines(s.notIsolatedEgress, "loses all egress except DNS")
	deny := remedy.NewApply("deny all egress of every pod of "+ns+" that no other policy allows", DefaultDenyPolicy(ns, DefaultDenyEgressName, false, true))
	deny.Breaks = a.workloadLines(s.notIsolatedEgress, "loses all egress (DNS stays allowed only with "+AllowDNSName+")")
	r := &remedy.Remediation{
		Summary: "Add a default-deny egress NetworkPolicy together with a DNS allow, then allow the egress each workload needs.",
		Changes: []remedy.Change{dns, deny},
	}
	a.removeAllowAll(r, ns, networkingv1.PolicyTypeEgress, s.allowAllEgress, "loses all egress except DNS")
	return r
}

// removeAllowAll adds to a default-deny remedy the changes that take away
// what undoes it: the rules of namespace-wide policies that admit every peer
// on every port in the direction. A policy left with nothing to do (it isolates
// only that direction and every rule of it is open to all) is deleted; any
// other loses those rules by a merge patch, which keeps its other rules and
// stops if the policy changed since it was read. Breaks names the workloads
// left with no rule admitting anything in the direction once they are gone.
func (a *Analysis) removeAllowAll(r *remedy.Remediation, ns string, dir networkingv1.PolicyType, allowAll []int, what string) {
	if len(allowAll) == 0 {
		return
	}
	word := strings.ToLower(string(dir))
	removed := map[int]bool{}
	for _, pi := range allowAll {
		removed[pi] = true
	}
	var breaks []int
	for _, wi := range a.NamespaceWorkloads(ns) {
		w := &a.Workloads[wi]
		if w.Bucket != Judged {
			continue
		}
		kept := false
		for _, pi := range w.In(dir) {
			for _, rl := range rulesOf(&a.Policies[pi], dir) {
				kept = kept || !removed[pi] || !openToAll(rl)
			}
		}
		if !kept {
			breaks = append(breaks, wi)
		}
	}
	r.Summary += " " + strings.Join(a.policyRefs(allowAll), ", ") + " admits every peer on every port for " + word + ", which undoes any deny: the remedy removes that."
	for _, pi := range allowAll {
		p := &a.Policies[pi]
		t := remedy.Target{APIVersion: networkPolicyAPIVersion, Kind: networkPolicyKind, Namespace: p.Namespace, Name: p.Name}
		var kept []any
		switch dir {
		case networkingv1.PolicyTypeEgress:
			for _, rl := range p.Spec.Egress {
				if !openToAll(rule{peers: rl.To, ports: rl.Ports}) {
					kept = append(kept, rl)
				}
			}
		default:
			for _, rl := range p.Spec.Ingress {
				if !openToAll(rule{peers: rl.From, ports: rl.Ports}) {
					kept = append(kept, rl)
				}
			}
		}
		var c remedy.Change
		if other := p.Types.Ingress && p.Types.Egress; len(kept) == 0 && !other {
			c = remedy.NewDelete("delete NetworkPolicy "+p.Ref()+": it only admits every peer on every port for "+word, t, p.ResourceVersion)
		} else {
			if kept == nil {
				kept = []any{}
			}
			var err error
			c, err = remedy.NewMergePatch("remove the "+word+" rules of NetworkPolicy "+p.Ref()+" that admit every peer on every port", t, p.ResourceVersion,
				map[string]any{"spec": map[string]any{word: kept}})
			if err != nil {
				// The patch is built from decoded API types: it always encodes.
				continue
			}
		}
		c.Breaks = a.workloadLines(breaks, what)
		r.Changes = append(r.Changes, c)
	}
}

func (a *Analysis) workloadLines(ws []int, what string) []string {
	out := make([]string, 0, len(ws))
	for _, i := range ws {
		w := &a.Workloads[i]
		out = append(out, strings.ToLower(w.Kind)+" "+w.Namespace+"/"+w.Name+" "+what)
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
// Its policyTypes and egress values are the same for every namespace and are
// shared: replace them in the returned object, never change them in place
// (the fix session and the renderers work on deep copies).
func AllowDNSPolicy(ns string) map[string]any {
	return map[string]any{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "NetworkPolicy",
		"metadata":   map[string]any{"name": AllowDNSName, "namespace": ns},
		"spec": map[string]any{
			"podSelector": map[string]any{},
			"policyTypes": dnsPolicyTypes,
			"egress":      dnsEgress,
		},
	}
}

// The shared parts of AllowDNSPolicy: a 2,000-namespace cluster's findings
// held them once per namespace and remedy, ~9 MB.
var (
	dnsPolicyTypes = []any{"Egress"}
	dnsEgress      = []any{map[string]any{
		"to": []any{map[string]any{
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{namespaceNameLabel: "kube-system"}},
			"podSelector":       map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}},
		}},
		"ports": []any{
			map[string]any{"protocol": "UDP", "port": int64(53)},
			map[string]any{"protocol": "TCP", "port": int64(53)},
		},
	}}
)

// dnsRemedy lets the pods that the namespace's egress policies (named) isolate
// without a DNS allow resolve names, without isolating any pod that is open
// today: a policy with the same podSelector as each of them and only a DNS
// egress rule. When one of them selects every pod, every pod is isolated for
// egress already, and the namespace-wide allow-dns-egress covers them all.
// New policies rather than patches of the existing ones keep the remedy
// something `kubectl apply --server-side` can send.
func (a *Analysis) dnsRemedy(ns string, policyNames []string) *remedy.Remediation {
	r := &remedy.Remediation{Summary: "Allow UDP and TCP 53 to kube-system pods k8s-app=kube-dns for the pods these egress policies isolate; no other pod becomes isolated."}
	var mirrored []*Policy
	for _, pi := range a.NamespacePolicies(ns) {
		p := &a.Policies[pi]
		if !slices.Contains(policyNames, p.Name) {
			continue
		}
		if p.SelectsAll {
			r.Changes = []remedy.Change{remedy.NewApply("allow egress from every pod of "+ns+" to the cluster DNS (kube-system pods k8s-app=kube-dns) on UDP and TCP 53", AllowDNSPolicy(ns))}
			return r
		}
		mirrored = append(mirrored, p)
	}
	for _, p := range mirrored {
		sel, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&p.Spec.PodSelector)
		if err != nil {
			// A selector decoded from the API converts: only a broken type would not.
			continue
		}
		obj := AllowDNSPolicy(ns)
		obj["metadata"].(map[string]any)["name"] = dnsPolicyName(p.Name)
		obj["spec"].(map[string]any)["podSelector"] = sel
		r.Changes = append(r.Changes, remedy.NewApply("allow egress to the cluster DNS on UDP and TCP 53 from the pods NetworkPolicy "+p.Ref()+" selects ("+selectorString(p)+")", obj))
	}
	return r
}

// dnsPolicyName names the DNS allow beside a policy, within the 253
// characters a NetworkPolicy name may have.
func dnsPolicyName(policy string) string {
	name := AllowDNSName + "-" + policy
	if len(name) > 253 {
		name = strings.TrimRight(name[:253], "-.")
	}
	return name
}
