package netpol

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The exact evaluation of the L3/L4 subset of Cilium's and Calico's own
// policies (see the package doc for the semantics and their sources). Each
// policy is read into parts (a Cilium rule of spec or specs, or the one
// Calico spec), each with its selector and its rules per direction; what the
// tool does not model in a direction is listed in notModelled, and then every
// verdict on an endpoint the policy selects in that direction stays unknown.

// tri is a match that may be unknown: a Calico selector against an address
// that may belong to a NetworkSet or host endpoint the tool does not read.
type tri int

const (
	triNo tri = iota
	triYes
	triMaybe
)

// dirIndex numbers the directions for per-direction arrays.
func dirIndex(d networkingv1.PolicyType) int {
	if d == networkingv1.PolicyTypeEgress {
		return 1
	}
	return 0
}

// cniPart is one selecting unit of a CNI policy: a Cilium rule (spec, or an
// item of specs) or a Calico policy's spec.
type cniPart struct {
	where    string // "spec", "specs[1]"
	selector cniSelector
	// allow and deny are the rules per direction (index dirIndex); Calico's
	// rules, in order, are all in allow with their actions.
	allow, deny [2][]cniRule
	// defaultDeny says, per direction, whether the part puts the endpoints it
	// selects into default deny (Cilium enableDefaultDeny, defaulted; Calico:
	// the policy's types).
	defaultDeny [2]bool
	// onlyNamespaceKeys is set when the selector reads no pod label, only
	// the namespace's name and labels: it selects all or none of a namespace's pods.
	onlyNamespaceKeys bool
}

// ciliumNamespaceKeysOnly reports whether a Cilium endpointSelector reads only namespace keys.
func ciliumNamespaceKeysOnly(sel map[string]any) bool {
	ok := func(k string) bool {
		if _, rest, found := strings.Cut(k, ":"); found {
			k = rest
		}
		return k == ciliumNamespaceLabel || strings.HasPrefix(k, ciliumNamespaceLabels)
	}
	if ml, _ := sel["matchLabels"].(map[string]any); ml != nil {
		for k := range ml {
			if !ok(k) {
				return false
			}
		}
	}
	me, _ := sel["matchExpressions"].([]any)
	for _, x := range me {
		e, _ := x.(map[string]any)
		if k, _ := e["key"].(string); !ok(k) {
			return false
		}
	}
	return true
}

// calicoNamespaceKeysOnly reports whether a Calico selector reads only namespace keys.
func calicoNamespaceKeysOnly(text string) bool {
	sel, err := parseCalicoSelector(text)
	if err != nil {
		return false
	}
	only := true
	sel.keys(func(k string) {
		if !strings.HasPrefix(k, calicoNamespaceLabels) && k != calicoNamespaceLabel && k != calicoOrchestratorLabel {
			only = false
		}
	})
	return only
}

// cniRule is one ingress or egress rule of a CNI policy, read exactly.
type cniRule struct {
	name string // "ingressDeny rule 0", as verdicts cite it
	// action is Allow, Deny, Pass or Log for Calico; Allow or Deny for Cilium.
	action string
	// peer matches the other end of the connection; nil matches every peer.
	peer func(o *Peer) tri
	// self restricts the endpoint the policy selects (Calico's destination
	// selector on ingress, source selector on egress); nil for every one.
	self func(e *cniEndpoint) bool
	// ports returns the ports the rule matches towards the destination; nil is every port.
	ports func(dst *Peer) PortSet
}

// portSet is the rule's ports towards dst.
func (r *cniRule) portSet(dst *Peer) PortSet {
	if r.ports == nil {
		return AllPorts()
	}
	return r.ports(dst)
}

// match says whether the rule matches traffic between self and o on the port.
func (r *cniRule) match(self *cniEndpoint, o, dst *Peer, proto corev1.Protocol, port int32) tri {
	if r.self != nil && !r.self(self) {
		return triNo
	}
	if !r.portSet(dst).Contains(proto, port) {
		return triNo
	}
	if r.peer == nil {
		return triYes
	}
	return r.peer(o)
}

// exact reports whether the tool evaluates the policy in the direction.
func (p *CNIPolicy) exact(d networkingv1.PolicyType) bool {
	return len(p.Broad) == 0 && len(p.notModelled[dirIndex(d)]) == 0
}

// calico reports whether the policy is Calico's (else Cilium's).
func (p *CNIPolicy) calico() bool { return strings.HasSuffix(p.Kind, ".projectcalico.org") }

// partsFor returns the parts of the policy that select the endpoint.
func (p *CNIPolicy) partsFor(e *cniEndpoint) []*cniPart {
	if p.Namespace != "" && e.namespace != p.Namespace {
		return nil
	}
	var out []*cniPart
	for i := range p.parts {
		s := &p.parts[i].selector
		if !e.hostNetwork && (s.all || s.pod != nil && s.pod(e)) || e.hostNetwork && s.hostNetwork {
			out = append(out, &p.parts[i])
		}
	}
	return out
}

// endpointOf is a pod (or a pod made from a template) as CNI policies see it.
func (a *Analysis) endpointOf(pod *inventory.Pod) *cniEndpoint {
	return &cniEndpoint{namespace: pod.Namespace, labels: labels.Set(pod.Labels), namespaceLabel: a.NamespaceLabels(pod.Namespace),
		serviceAccount: serviceAccountOf(pod.Spec.ServiceAccountName), hostNetwork: pod.Spec.HostNetwork}
}

// peerEndpoint is the other end of a connection as CNI selectors see it.
func peerEndpoint(o *Peer) *cniEndpoint {
	return &cniEndpoint{namespace: o.Namespace, labels: o.Labels, namespaceLabel: o.NamespaceLabels,
		serviceAccount: serviceAccountOf(o.ServiceAccount), hostNetwork: o.HostNetwork}
}

// cniUnknown says why the verdicts of an endpoint in the direction are
// unknown, or nothing when the tool evaluates every CNI policy selecting it.
func (a *Analysis) cniUnknown(i *Isolation, d networkingv1.PolicyType) []string {
	cps := i.CNI(d)
	if len(cps) == 0 {
		return nil
	}
	var why []string
	cilium, calico := false, false
	for _, ci := range cps {
		cp := &a.CNIPolicies[ci]
		if cp.calico() {
			calico = true
		} else {
			cilium = true
		}
		if !cp.exact(d) {
			why = append(why, cp.Ref()+": "+strings.Join(append(slices.Clone(cp.Broad), cp.notModelled[dirIndex(d)]...), "; "))
		}
	}
	if cilium && calico {
		why = append(why, "both Cilium and Calico policies select it, which no cluster runs")
	}
	if len(i.Tiers(d)) > 0 {
		why = append(why, "how "+strings.Join(a.cniRefs(cps), ", ")+" combine with "+strings.Join(a.clusterPolicyRefs(i.Tiers(d)), ", ")+" is not modelled")
	}
	return why
}

// cniIsolated reports whether the CNI policies selecting the endpoint put it
// into default deny in the direction (the caller knows they are evaluated).
func (i *Isolation) cniIsolated(d networkingv1.PolicyType) bool {
	return i.cniDeny[dirIndex(d)]
}

// cniDecide judges one direction of an endpoint that Cilium or Calico
// policies select, all of them evaluated: like decide, the verdict and, when
// no port was asked, the ports allowed and the ports whose verdict is unknown.
func (a *Analysis) cniDecide(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, q *PortQuery, number int32) (Side, PortSet, PortSet) {
	at := func(proto corev1.Protocol, port int32) Side { return a.cniSideAt(dir, self, other, dst, proto, port) }
	if q != nil {
		return at(q.Protocol, number), nil, nil
	}
	bounds := map[corev1.Protocol][]int32{}
	addSet := func(s PortSet) {
		for proto, rs := range s {
			for _, r := range rs {
				bounds[proto] = append(bounds[proto], r.From, r.To+1)
			}
		}
	}
	_, v1 := a.side(dir, self, other, dst, nil, 0)
	addSet(v1)
	e := a.endpointOf(self.iso.Pod)
	di := dirIndex(dir)
	for _, ci := range self.iso.CNI(dir) {
		for _, part := range a.CNIPolicies[ci].partsFor(e) {
			for _, rs := range [][]cniRule{part.allow[di], part.deny[di]} {
				for i := range rs {
					addSet(rs[i].portSet(dst))
				}
			}
		}
	}
	return a.segmented(bounds, at)
}

// segmented judges every segment between consecutive port bounds by one of
// its ports, and sums up the verdicts: the ports allowed and unknown, the
// policies taking part, and one reason per verdict with its ports (allowed
// first, then unknown, then denied). The tiers and the CNI policies use it.
func (a *Analysis) segmented(bounds map[corev1.Protocol][]int32, at func(corev1.Protocol, int32) Side) (Side, PortSet, PortSet) {
	allowed, unknown := PortSet{}, PortSet{}
	byReason := map[string]PortSet{}
	rank := map[string]int{}
	var reasons, decided []string
	var sd Side
	for _, proto := range protocols() {
		bs := append(bounds[proto], 1, 65536)
		slices.Sort(bs)
		bs = slices.Compact(bs)
		for i := 0; i+1 < len(bs); i++ {
			lo, hi := bs[i], bs[i+1]-1
			if lo < 1 || hi > 65535 || lo > hi {
				continue
			}
			seg := PortSet{proto: {{lo, hi}}}
			s := at(proto, lo)
			sd.Isolated = sd.Isolated || s.Isolated
			switch {
			case s.Unknown:
				unknown.Union(seg)
			case s.Allowed:
				allowed.Union(seg)
			}
			for _, p := range s.Policies {
				if !slices.Contains(sd.Policies, p) {
					sd.Policies = append(sd.Policies, p)
				}
			}
			for _, p := range s.Allowing {
				if !slices.Contains(sd.Allowing, p) {
					sd.Allowing = append(sd.Allowing, p)
				}
			}
			if !slices.Contains(decided, s.DecidedBy) {
				decided = append(decided, s.DecidedBy)
			}
			if byReason[s.Reason] == nil {
				reasons = append(reasons, s.Reason)
				byReason[s.Reason] = PortSet{}
				switch {
				case s.Allowed:
					rank[s.Reason] = 0
				case s.Unknown:
					rank[s.Reason] = 1
				default:
					rank[s.Reason] = 2
				}
			}
			byReason[s.Reason].Union(seg)
		}
	}
	slices.SortStableFunc(reasons, func(x, y string) int { return rank[x] - rank[y] })
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		ports := "every port"
		if !isAllPorts(byReason[r]) {
			ports = strings.Join(byReason[r].Strings(), ", ")
		}
		parts = append(parts, ports+": "+r)
	}
	sd.Reason = strings.Join(parts, "; ")
	sd.DecidedBy = strings.Join(decided, "; ")
	sd.Allowed = !allowed.Empty()
	sd.Unknown = !sd.Allowed && !unknown.Empty()
	return sd, allowed, unknown
}

// cniSideAt judges one direction on one port for an endpoint Cilium or
// Calico policies select.
func (a *Analysis) cniSideAt(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, proto corev1.Protocol, port int32) Side {
	cps := self.iso.CNI(dir)
	if a.CNIPolicies[cps[0]].calico() {
		return a.calicoSideAt(dir, self, other, dst, proto, port)
	}
	return a.ciliumSideAt(dir, self, other, dst, proto, port)
}

// v1Allowing returns the NetworkPolicy rules isolating self in the
// direction that admit the connection, and the policies.
func (a *Analysis) v1Allowing(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, proto corev1.Protocol, port int32) (allowing, policies []string) {
	if len(self.iso.In(dir)) == 0 {
		return nil, nil
	}
	sd, _ := a.side(dir, self, other, dst, &PortQuery{Protocol: proto, Number: port}, port)
	return sd.Allowing, sd.Policies
}

// ciliumSideAt: deny rules win over every allow; an endpoint some policy
// puts into default deny (a NetworkPolicy isolating it, or a Cilium rule
// with enableDefaultDeny, defaulted) needs an allow of any of them, which
// are unioned; otherwise everything not denied is allowed.
func (a *Analysis) ciliumSideAt(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, proto corev1.Protocol, port int32) Side {
	word := strings.ToLower(string(dir))
	what := fmt.Sprintf("%s on %d/%s", other.name, port, proto)
	if dir == networkingv1.PolicyTypeIngress && other.peer.IsPod() && other.peer.HostNetwork {
		return Side{Unknown: true, DecidedBy: "Cilium",
			Reason: fmt.Sprintf("unknown: %s uses hostNetwork, and Cilium admits traffic from an endpoint's own node (allow-localhost) whatever the policy; the tool does not know the nodes", other.name)}
	}
	e := a.endpointOf(self.iso.Pod)
	di := dirIndex(dir)
	isolated := len(self.iso.In(dir)) > 0
	var isolating, denying, maybeDeny, allowing, maybeAllow []string
	allowing, isolating = a.v1Allowing(dir, self, other, dst, proto, port)
	for _, ci := range self.iso.CNI(dir) {
		cp := &a.CNIPolicies[ci]
		for _, part := range cp.partsFor(e) {
			if part.defaultDeny[di] {
				isolated = true
				if !slices.Contains(isolating, cp.Ref()) {
					isolating = append(isolating, cp.Ref())
				}
			}
			for i := range part.deny[di] {
				r := &part.deny[di][i]
				switch r.match(e, &other.peer, dst, proto, port) {
				case triYes:
					denying = append(denying, cp.ruleRef(part, r))
				case triMaybe:
					maybeDeny = append(maybeDeny, cp.ruleRef(part, r))
				}
			}
			for i := range part.allow[di] {
				r := &part.allow[di][i]
				switch r.match(e, &other.peer, dst, proto, port) {
				case triYes:
					allowing = append(allowing, cp.ruleRef(part, r))
				case triMaybe:
					maybeAllow = append(maybeAllow, cp.ruleRef(part, r))
				}
			}
		}
	}
	if len(denying) > 0 {
		return Side{Isolated: true, Policies: isolating, DecidedBy: denying[0], Reason: "denied by " + strings.Join(denying, ", ") + ": Cilium's deny rules win over every allow"}
	}
	allowed := !isolated || len(allowing) > 0
	switch {
	case !allowed && len(maybeAllow) == 0:
		return Side{Isolated: true, Policies: isolating, DecidedBy: strings.Join(isolating, ", "),
			Reason: fmt.Sprintf("%s is isolated for %s by %s and no rule admits %s", self.name, word, strings.Join(isolating, ", "), what)}
	case len(maybeDeny) > 0 || !allowed:
		return Side{Isolated: isolated, Policies: isolating, Unknown: true, DecidedBy: strings.Join(append(maybeDeny, maybeAllow...), ", "),
			Reason: fmt.Sprintf("unknown: whether %s match %s is not known to the tool", strings.Join(append(maybeDeny, maybeAllow...), ", "), what)}
	case len(allowing) > 0:
		return Side{Isolated: isolated, Allowed: true, Policies: isolating, Allowing: allowing, DecidedBy: allowing[0], Reason: "allowed by " + strings.Join(allowing, ", ")}
	}
	return Side{Allowed: true, DecidedBy: decidedByDefault,
		Reason: fmt.Sprintf("no policy puts %s into default deny for %s and no deny rule matches %s: allowed", self.name, word, what)}
}

// ruleRef names a rule of the policy as verdicts cite it:
// "CiliumNetworkPolicy shop/db-deny (ingressDeny rule 0)".
func (p *CNIPolicy) ruleRef(part *cniPart, r *cniRule) string {
	if part.where != "" && part.where != "spec" {
		return p.Ref() + " (" + part.where + " " + r.name + ")"
	}
	return p.Ref() + " (" + r.name + ")"
}

// calicoPolicy is a policy of Calico's default tier as evaluated: a Calico
// policy, or a NetworkPolicy v1 (order 1000, rules that allow).
type calicoPolicy struct {
	order float64
	name  string
	cni   *CNIPolicy
	parts []*cniPart
	v1    int // index into Policies when cni is nil
}

// calicoSideAt: the policies of the default tier that select the endpoint
// in the direction (Calico's and NetworkPolicy v1 at order 1000), by order
// then name, each one's rules in order: Allow and Deny decide, Pass leaves
// the tier (to the profile, which allows), Log goes on; a tier that selects
// the endpoint and decides nothing denies.
func (a *Analysis) calicoSideAt(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, proto corev1.Protocol, port int32) Side {
	word := strings.ToLower(string(dir))
	what := fmt.Sprintf("%s on %d/%s", other.name, port, proto)
	e := a.endpointOf(self.iso.Pod)
	di := dirIndex(dir)
	var tier []calicoPolicy
	for _, ci := range self.iso.CNI(dir) {
		cp := &a.CNIPolicies[ci]
		parts := cp.partsFor(e)
		if len(parts) == 0 || !parts[0].defaultDeny[di] {
			continue
		}
		order := math.Inf(1)
		if cp.order != nil {
			order = *cp.order
		}
		tier = append(tier, calicoPolicy{order: order, name: cp.Namespace + "/" + cp.Name, cni: cp, parts: parts})
	}
	for _, pi := range self.iso.In(dir) {
		p := &a.Policies[pi]
		tier = append(tier, calicoPolicy{order: calicoKubernetesOrder, name: p.Namespace + "/knp.default." + p.Name, v1: pi})
	}
	slices.SortStableFunc(tier, func(x, y calicoPolicy) int {
		return cmp.Or(cmp.Compare(x.order, y.order), strings.Compare(x.name, y.name))
	})
	var refs []string
	for _, tp := range tier {
		if tp.cni != nil {
			refs = append(refs, tp.cni.Ref())
		} else {
			refs = append(refs, "NetworkPolicy "+a.Policies[tp.v1].Ref())
		}
	}
	if len(tier) == 0 {
		return Side{Allowed: true, DecidedBy: decidedByDefault,
			Reason: fmt.Sprintf("no policy of Calico's default tier selects %s for %s: allowed by its profile", self.name, word)}
	}
	var logged []string
	for _, tp := range tier {
		if tp.cni == nil {
			p := &a.Policies[tp.v1]
			for j, r := range rulesOf(p, dir) {
				if PeersMatch(r.peers, p.Namespace, &other.peer) && RulePorts(r.ports, dst).Contains(proto, port) {
					by := fmt.Sprintf("%s %s[%d]", p.Ref(), word, j)
					return Side{Isolated: true, Allowed: true, Policies: refs, Allowing: []string{by}, DecidedBy: decidedByNetworkPolicy,
						Reason: "allowed by " + by + " (order 1000 in Calico's default tier)" + loggedBy(logged)}
				}
			}
			continue
		}
		for _, part := range tp.parts {
			for i := range part.allow[di] {
				r := &part.allow[di][i]
				m := r.match(e, &other.peer, dst, proto, port)
				if m == triNo {
					continue
				}
				by := tp.cni.ruleRef(part, r)
				if r.action == "Log" {
					if m == triYes {
						logged = append(logged, by)
					}
					continue
				}
				if m == triMaybe {
					return Side{Isolated: true, Policies: refs, Unknown: true, DecidedBy: by,
						Reason: fmt.Sprintf("unknown: whether %s (%s) matches %s is not known to the tool: its selector may match a NetworkSet or host endpoint", by, r.action, what)}
				}
				switch r.action {
				case "Allow":
					return Side{Isolated: true, Allowed: true, Policies: refs, Allowing: []string{by}, DecidedBy: by, Reason: "allowed by " + by + loggedBy(logged)}
				case "Deny":
					return Side{Isolated: true, Policies: refs, DecidedBy: by, Reason: "denied by " + by + loggedBy(logged)}
				case "Pass":
					return Side{Isolated: true, Allowed: true, Policies: refs, Allowing: []string{by}, DecidedBy: by,
						Reason: "passed by " + by + " to the next tier; none follows: allowed by " + self.name + "'s profile" + loggedBy(logged)}
				}
			}
		}
	}
	return Side{Isolated: true, Policies: refs, DecidedBy: strings.Join(refs, ", "),
		Reason: fmt.Sprintf("%s is selected for %s in Calico's default tier by %s and no rule matches %s: denied at the end of the tier", self.name, word, strings.Join(refs, ", "), what)}
}

// calicoKubernetesOrder is the order Calico gives a NetworkPolicy v1 in its default tier.
const calicoKubernetesOrder = 1000

func loggedBy(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return " (logged by " + strings.Join(l, ", ") + ")"
}

// ---- reading Cilium rules ----

// ciliumRules reads a Cilium rule's ingress, ingressDeny, egress and
// egressDeny into part, and returns what of them the tool does not model,
// per direction.
func (p *CNIPolicy) ciliumRules(part *cniPart, r map[string]any) (notModelled [2][]string) {
	for _, sec := range []struct {
		key  string
		dir  networkingv1.PolicyType
		deny bool
	}{{"ingress", networkingv1.PolicyTypeIngress, false}, {"ingressDeny", networkingv1.PolicyTypeIngress, true},
		{"egress", networkingv1.PolicyTypeEgress, false}, {"egressDeny", networkingv1.PolicyTypeEgress, true}} {
		di := dirIndex(sec.dir)
		raw, present := r[sec.key]
		if !present {
			continue
		}
		list, ok := raw.([]any)
		if !ok {
			notModelled[di] = append(notModelled[di], part.where+" "+sec.key+" is not a list")
			continue
		}
		for i, x := range list {
			name := fmt.Sprintf("%s rule %d", sec.key, i)
			m, ok := x.(map[string]any)
			if !ok {
				notModelled[di] = append(notModelled[di], name+" is not an object")
				continue
			}
			rule, why := p.ciliumRule(name, sec.dir, sec.deny, m)
			if len(why) > 0 {
				w := name
				if part.where != "spec" {
					w = part.where + " " + name
				}
				notModelled[di] = append(notModelled[di], w+": "+strings.Join(why, ", "))
				continue
			}
			if sec.deny {
				part.deny[di] = append(part.deny[di], rule)
			} else {
				part.allow[di] = append(part.allow[di], rule)
			}
		}
	}
	// enableDefaultDeny defaults, per direction, to whether it has (deny) rules.
	part.defaultDeny = [2]bool{ciliumHasRules(r, "ingress", "ingressDeny"), ciliumHasRules(r, "egress", "egressDeny")}
	if dd, ok := r["enableDefaultDeny"].(map[string]any); ok {
		for di, k := range []string{"ingress", "egress"} {
			if v, ok := dd[k].(bool); ok {
				part.defaultDeny[di] = v
			}
		}
	}
	return notModelled
}

func ciliumHasRules(r map[string]any, keys ...string) bool {
	for _, k := range keys {
		if l, ok := r[k].([]any); ok && len(l) > 0 {
			return true
		}
	}
	return false
}

// ciliumRule reads one Cilium ingress or egress (deny) rule; why lists what
// the tool does not model in it.
func (p *CNIPolicy) ciliumRule(name string, dir networkingv1.PolicyType, deny bool, m map[string]any) (cniRule, []string) {
	r := cniRule{name: name, action: "Allow"}
	if deny {
		r.action = "Deny"
	}
	endpointsKey, entitiesKey := "fromEndpoints", "fromEntities"
	if dir == networkingv1.PolicyTypeEgress {
		endpointsKey, entitiesKey = "toEndpoints", "toEntities"
	}
	var why []string
	l3 := 0
	for k, v := range m {
		switch k {
		case endpointsKey, entitiesKey:
			if l, ok := v.([]any); ok && len(l) > 0 {
				l3++
			}
		case "toPorts":
		default:
			// fromCIDR, toCIDRSet, toFQDNs, toServices, fromRequires, icmps, authentication, fromNodes, toGroups...
			why = append(why, k)
		}
	}
	if l3 > 1 {
		why = append(why, endpointsKey+" together with "+entitiesKey)
	}
	if eps, ok := m[endpointsKey].([]any); ok && len(eps) > 0 {
		var sels []func(o *Peer) tri
		for _, x := range eps {
			sel, _ := x.(map[string]any)
			match, w := ciliumSelector(sel)
			if w != "" {
				why = append(why, endpointsKey+" selector "+w)
				continue
			}
			sels = append(sels, p.ciliumPeerSelector(sel, match))
		}
		r.peer = anyOf(sels)
	} else if ents, ok := m[entitiesKey].([]any); ok && len(ents) > 0 {
		var sels []func(o *Peer) tri
		for _, x := range ents {
			switch x {
			case "all":
				sels = append(sels, func(*Peer) tri { return triYes })
			case "world":
				sels = append(sels, func(o *Peer) tri { return boolTri(!o.IsPod()) })
			case "cluster":
				// Every endpoint and node of the cluster: pods, also on the host network.
				sels = append(sels, func(o *Peer) tri { return boolTri(o.IsPod()) })
			default:
				why = append(why, fmt.Sprintf("%s %v", entitiesKey, x))
			}
		}
		r.peer = anyOf(sels)
	} else if _, ok := m["toPorts"]; !ok {
		// An empty rule ({}) matches nothing: it only puts the endpoint into default deny.
		r.peer = func(*Peer) tri { return triNo }
	}
	if tp, ok := m["toPorts"]; ok {
		ports, w := ciliumPorts(tp)
		why = append(why, w...)
		r.ports = ports
	}
	return r, why
}

func boolTri(b bool) tri {
	if b {
		return triYes
	}
	return triNo
}

// anyOf matches when one of the matchers does; none matches nothing.
func anyOf(ms []func(o *Peer) tri) func(o *Peer) tri {
	return func(o *Peer) tri {
		out := triNo
		for _, m := range ms {
			switch m(o) {
			case triYes:
				return triYes
			case triMaybe:
				out = triMaybe
			}
		}
		return out
	}
}

// ciliumPeerSelector is a fromEndpoints/toEndpoints selector: it matches the
// pods on the pod network (Cilium's endpoints) by their labels; in a
// CiliumNetworkPolicy only those of the policy's namespace unless the
// selector names the namespace label. Against anything else (an address, a
// host-network pod, which carry reserved identities) an empty selector in a
// clusterwide policy selects cluster endpoints only; one that matches an
// endpoint without labels may also match a reserved identity: unknown.
func (p *CNIPolicy) ciliumPeerSelector(sel map[string]any, match func(e *cniEndpoint) bool) func(o *Peer) tri {
	namesNamespace := selectorMentions(sel, ciliumNamespaceLabel)
	ml, _ := sel["matchLabels"].(map[string]any)
	me, _ := sel["matchExpressions"].([]any)
	empty := len(ml) == 0 && len(me) == 0
	return func(o *Peer) tri {
		if !o.IsPod() || o.HostNetwork {
			if p.Namespace != "" || empty {
				return triNo
			}
			if match(&cniEndpoint{labels: labels.Set{}, namespaceLabel: labels.Set{}}) {
				return triMaybe
			}
			return triNo
		}
		if p.Namespace != "" && !namesNamespace && o.Namespace != p.Namespace {
			return triNo
		}
		return boolTri(match(peerEndpoint(o)))
	}
}

// selectorMentions reports whether a Cilium selector names the key (with or
// without a source prefix) in matchLabels or matchExpressions.
func selectorMentions(sel map[string]any, key string) bool {
	is := func(k string) bool {
		_, rest, found := strings.Cut(k, ":")
		return k == key || found && rest == key
	}
	if ml, ok := sel["matchLabels"].(map[string]any); ok {
		for k := range ml {
			if is(k) {
				return true
			}
		}
	}
	if me, ok := sel["matchExpressions"].([]any); ok {
		for _, x := range me {
			if e, ok := x.(map[string]any); ok {
				if k, _ := e["key"].(string); is(k) {
					return true
				}
			}
		}
	}
	return false
}

// ciliumPorts reads toPorts: PortRules, ORed, each a list of ports
// {port, endPort, protocol} (protocol TCP, UDP, SCTP or ANY, the default;
// port 0 or none is every port; a name is the destination's named port).
// L7 rules and TLS settings are not modelled.
func ciliumPorts(raw any) (func(dst *Peer) PortSet, []string) {
	list, ok := raw.([]any)
	if !ok {
		return nil, []string{"toPorts is not a list"}
	}
	if len(list) == 0 {
		return nil, nil
	}
	var why []string
	type entry struct {
		protos   []corev1.Protocol
		from, to int32
		named    string
	}
	var entries []entry
	for _, x := range list {
		pr, _ := x.(map[string]any)
		for k := range pr {
			switch k {
			case "ports":
			case "rules":
				why = append(why, "toPorts rules (L7)")
			default:
				why = append(why, "toPorts "+k)
			}
		}
		ports, _ := pr["ports"].([]any)
		if len(ports) == 0 {
			entries = append(entries, entry{protos: protocols(), from: 1, to: 65535})
			continue
		}
		for _, y := range ports {
			pp, _ := y.(map[string]any)
			proto, _ := pp["protocol"].(string)
			var protos []corev1.Protocol
			switch strings.ToUpper(proto) {
			case "", "ANY":
				protos = protocols()
			case "TCP", "UDP", "SCTP":
				protos = []corev1.Protocol{corev1.Protocol(strings.ToUpper(proto))}
			default:
				why = append(why, "protocol "+proto)
				continue
			}
			ps := fmt.Sprint(pp["port"])
			if pp["port"] == nil {
				ps = "0"
			}
			n, err := strconv.Atoi(ps)
			switch {
			case err != nil:
				entries = append(entries, entry{protos: protos, named: ps})
			case n == 0:
				entries = append(entries, entry{protos: protos, from: 1, to: 65535})
			default:
				end := int32(n)
				if e, ok := toInt(pp["endPort"]); ok && e >= n {
					end = int32(e)
				}
				entries = append(entries, entry{protos: protos, from: int32(n), to: end})
			}
		}
	}
	return func(dst *Peer) PortSet {
		s := PortSet{}
		for _, e := range entries {
			for _, proto := range e.protos {
				if e.named == "" {
					s[proto] = append(s[proto], PortRange{e.from, e.to})
				} else if n, ok := namedPort(dst, e.named, proto); ok {
					s[proto] = append(s[proto], PortRange{n, n})
				}
			}
		}
		for proto := range s {
			s[proto] = merge(s[proto])
		}
		return s
	}, why
}

// toInt reads a number from unstructured content (int64 live, float64 or int from YAML).
func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case int:
		return x, true
	case int32:
		return int(x), true
	case float64:
		if x == math.Trunc(x) {
			return int(x), true
		}
	}
	return 0, false
}

// templatePod is a pod as workload wi makes it: its own pod for a pod no
// controller runs, else one of its template's labels and service account.
func (a *Analysis) templatePod(wi int) *inventory.Pod {
	w := &a.Workloads[wi]
	if !w.Controlled() {
		return a.Pods[w.Pods[0]].Pod
	}
	return &inventory.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name, Labels: w.Labels},
		Spec: &corev1.PodSpec{ServiceAccountName: w.serviceAccount}}
}

// namespaceUnknownCNI returns the CNI policies acting in the direction in
// the namespace that the tool does not evaluate there; where every one is
// evaluated but some workloads' verdicts are still unknown (a combination
// the tool does not model), all of them.
func (a *Analysis) namespaceUnknownCNI(ns string, dir networkingv1.PolicyType, unknown []int) []int {
	all := a.namespaceCNIPolicies(ns, dir)
	var out []int
	for _, ci := range all {
		if !a.CNIPolicies[ci].exact(dir) {
			out = append(out, ci)
		}
	}
	if len(out) == 0 && len(unknown) > 0 {
		return all
	}
	return out
}

// cniDefaultDeny returns the evaluated Cilium and Calico policies that put
// every pod of the namespace, present or future, into default deny in the
// direction, when no evaluated CNI policy covering the namespace admits
// every pod on every port there (which would undo it, as a NetworkPolicy
// allow-all does). Calico's count only without a policy of lower order
// before them: any Calico policy that covers the namespace and is open.
func (a *Analysis) cniDefaultDeny(ns string, dir networkingv1.PolicyType) []string {
	var deny []string
	di := dirIndex(dir)
	for _, ci := range a.namespaceCNIPolicies(ns, dir) {
		cp := &a.CNIPolicies[ci]
		if !cp.exact(dir) {
			return nil // what a policy the tool does not evaluate does is unknown
		}
		for i := range cp.parts {
			part := &cp.parts[i]
			if !cp.coversNamespace(part, ns, a.NamespaceLabels(ns)) {
				continue
			}
			for j := range part.allow[di] {
				if r := &part.allow[di][j]; r.action != "Deny" && r.action != "Log" && openCNIRule(r) {
					return nil
				}
			}
			if part.defaultDeny[di] && !slices.Contains(deny, cp.Ref()) {
				deny = append(deny, cp.Ref())
			}
		}
	}
	return deny
}

// coversNamespace reports whether a part selects every pod, present or
// future, of the namespace: its selector matches a pod without labels there
// and reads no pod label (a Cilium selector only of namespace keys, a
// Calico selector of all() or only pcns. and projectcalico.org/namespace keys).
func (p *CNIPolicy) coversNamespace(part *cniPart, ns string, nsLabels labels.Set) bool {
	if p.Namespace != "" && p.Namespace != ns || part.selector.pod == nil || !part.onlyNamespaceKeys {
		return false
	}
	return part.selector.pod(&cniEndpoint{namespace: ns, labels: labels.Set{}, namespaceLabel: nsLabels, serviceAccount: "default"})
}

// openCNIRule reports whether a rule matches any pod of any namespace on every port.
func openCNIRule(r *cniRule) bool {
	if r.self != nil || !isAllPorts(r.portSet(nil)) {
		return false
	}
	if r.peer == nil {
		return true
	}
	o := &Peer{Namespace: "an-unlabelled-namespace", Labels: labels.Set{}, NamespaceLabels: labels.Set{}}
	return r.peer(o) == triYes
}
