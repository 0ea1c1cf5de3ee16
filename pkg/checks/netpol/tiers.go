package netpol

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The cluster-scoped tiers of sigs.k8s.io/network-policy-api, in one model:
// ClusterNetworkPolicy (v1alpha2, tier Admin or Baseline) and the older
// AdminNetworkPolicy (Admin tier) and BaselineAdminNetworkPolicy (Baseline
// tier) of v1alpha1. A direction of a connection is decided in this order
// (apis/v1alpha2/clusternetworkpolicy_types.go, ClusterNetworkPolicySpec.Tier):
//
//  1. the Admin tier, by priority (0 first), each policy's rules in order: the
//     first matching rule decides; Accept and Deny are final, Pass skips the
//     rest of the tier;
//  2. NetworkPolicy v1: a pod some NetworkPolicy isolates in the direction is
//     decided by them, as without the tiers;
//  3. the Baseline tier, for pods no NetworkPolicy isolates in the direction;
//  4. otherwise allowed.
//
// Directions are independent: an egress Accept still needs the destination's
// ingress. Policies of equal priority in one tier that match a connection with
// different actions leave it undefined: the verdict is unknown. Host-network
// pods are never a subject nor a namespaces/pods peer. A peer the tool does
// not model (nodes, domainNames, or one with no field it knows) fails closed as
// the API says: an Accept rule ignores it, a Deny or Pass rule denies all.

// Tier is where a cluster-scoped policy sits in the evaluation order.
type Tier string

const (
	TierAdmin    Tier = "Admin"
	TierBaseline Tier = "Baseline"
)

// Action is a cluster-scoped rule's action, in v1alpha2 words (v1alpha1's Allow is Accept).
type Action string

const (
	ActionAccept Action = "Accept"
	ActionDeny   Action = "Deny"
	ActionPass   Action = "Pass"
)

// banpPriority places the BaselineAdminNetworkPolicy after every Baseline
// ClusterNetworkPolicy: the API defines no order between the two versions.
const banpPriority = 1001

// ClusterPolicy is a ClusterNetworkPolicy, AdminNetworkPolicy or
// BaselineAdminNetworkPolicy with the pods and workloads its subject selects.
type ClusterPolicy struct {
	Kind       string // ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy
	APIVersion string
	Name       string
	Tier       Tier
	// Priority orders the policies of a tier, lower first; a
	// BaselineAdminNetworkPolicy, which has none, comes last (banpPriority).
	Priority        int32
	ResourceVersion string
	Ingress         []ClusterRule
	Egress          []ClusterRule
	// NotModelled says what of the policy the tool reads fail-closed (peers it does not model).
	NotModelled []string

	subject clusterSubject
	// Selected are indexes into Analysis.Pods of the pods its subject selects
	// (never a host-network pod); SelectedWorkloads into Analysis.Workloads.
	Selected          []int
	SelectedWorkloads []int
}

// Ref names the policy with its tier and priority, as verdicts cite it:
// "ClusterNetworkPolicy deny-guest (Admin, priority 5)".
func (p *ClusterPolicy) Ref() string {
	if p.Kind == "BaselineAdminNetworkPolicy" {
		return fmt.Sprintf("%s %s (Baseline)", p.Kind, p.Name)
	}
	return fmt.Sprintf("%s %s (%s, priority %d)", p.Kind, p.Name, p.Tier, p.Priority)
}

// rules returns the policy's rules of a direction.
func (p *ClusterPolicy) rules(dir networkingv1.PolicyType) []ClusterRule {
	if dir == networkingv1.PolicyTypeEgress {
		return p.Egress
	}
	return p.Ingress
}

// canDeny reports whether a rule of the direction may drop traffic (Deny,
// or a Pass or Deny read fail-closed): the policy then isolates its subject.
func (p *ClusterPolicy) canDeny(dir networkingv1.PolicyType) bool {
	return slices.ContainsFunc(p.rules(dir), func(r ClusterRule) bool { return r.Action == ActionDeny })
}

type clusterSubject struct {
	namespaces *metav1.LabelSelector
	pods       *namespacedPod
}

type namespacedPod struct {
	namespaces, pods metav1.LabelSelector
}

// ClusterRule is one ingress or egress rule of a cluster-scoped policy.
type ClusterRule struct {
	Index int
	Name  string
	// Action is what the rule does once read: a Deny or Pass rule with a peer
	// the tool does not model reads as Deny of everything (fail closed).
	Action Action
	// All is set when the rule matches every peer on every port (fail closed).
	All   bool
	peers []clusterPeer
	// ports is nil for every port.
	ports []clusterPort
	// portsUnknown is set when a protocols entry names nothing the tool knows.
	portsUnknown bool
}

// clusterPeer is one from/to entry; exactly one field is set.
type clusterPeer struct {
	namespaces *metav1.LabelSelector
	pods       *namespacedPod
	networks   []netip.Prefix
}

// clusterPort is one protocols/ports entry: a protocol with a port range, or
// a named container port of the destination (any protocol).
type clusterPort struct {
	protocol corev1.Protocol
	from, to int32
	named    string
}

// describe names the rule for a verdict: "ingress rule 0 (deny-guest)".
func (r *ClusterRule) describe(dir networkingv1.PolicyType) string {
	s := fmt.Sprintf("%s rule %d", strings.ToLower(string(dir)), r.Index)
	if r.Name != "" {
		s += " (" + r.Name + ")"
	}
	return s
}

// clusterPolicies reads the inventory's cluster-scoped policies into the model.
func clusterPolicies(inv *inventory.Inventory) []ClusterPolicy {
	var out []ClusterPolicy
	for i := range inv.ClusterNetworkPolicies {
		out = append(out, fromCNP(&inv.ClusterNetworkPolicies[i]))
	}
	for i := range inv.AdminNetworkPolicies {
		out = append(out, fromANP(&inv.AdminNetworkPolicies[i]))
	}
	for i := range inv.BaselineAdminNetworkPolicies {
		out = append(out, fromBANP(&inv.BaselineAdminNetworkPolicies[i]))
	}
	// Evaluation order: tier, priority, then name so that equal priorities read the same live and offline.
	slices.SortStableFunc(out, func(x, y ClusterPolicy) int {
		return cmp.Or(cmp.Compare(tierRank(x.Tier), tierRank(y.Tier)), cmp.Compare(x.Priority, y.Priority),
			strings.Compare(x.Kind, y.Kind), strings.Compare(x.Name, y.Name))
	})
	return out
}

func tierRank(t Tier) int {
	if t == TierAdmin {
		return 0
	}
	return 1
}

func fromCNP(c *npav1alpha2.ClusterNetworkPolicy) ClusterPolicy {
	p := ClusterPolicy{Kind: "ClusterNetworkPolicy", APIVersion: c.APIVersion, Name: c.Name, Tier: Tier(c.Spec.Tier),
		Priority: c.Spec.Priority, ResourceVersion: c.ResourceVersion}
	if p.APIVersion == "" {
		p.APIVersion = npav1alpha2.GroupVersion.String()
	}
	if p.Tier != TierAdmin && p.Tier != TierBaseline {
		// The CRD admits only the two; anything else cannot be placed in the order.
		p.NotModelled = append(p.NotModelled, fmt.Sprintf("tier %q is neither Admin nor Baseline: the policy is not evaluated", c.Spec.Tier))
	}
	p.subject = clusterSubject{namespaces: c.Spec.Subject.Namespaces}
	if s := c.Spec.Subject.Pods; s != nil {
		p.subject.pods = &namespacedPod{namespaces: s.NamespaceSelector, pods: s.PodSelector}
	}
	for i, r := range c.Spec.Ingress {
		var peers []peerFields
		for _, f := range r.From {
			peers = append(peers, peerFields{namespaces: f.Namespaces, pods: nsPod2(f.Pods)})
		}
		ports, unknown := protocols2(r.Protocols)
		p.Ingress = append(p.Ingress, p.rule(networkingv1.PolicyTypeIngress, i, r.Name, Action(r.Action), peers, ports, unknown))
	}
	for i, r := range c.Spec.Egress {
		var peers []peerFields
		for _, t := range r.To {
			pf := peerFields{namespaces: t.Namespaces, pods: nsPod2(t.Pods), nodes: t.Nodes != nil, domainNames: len(t.DomainNames) > 0}
			for _, n := range t.Networks {
				pf.networks = append(pf.networks, string(n))
			}
			peers = append(peers, pf)
		}
		ports, unknown := protocols2(r.Protocols)
		p.Egress = append(p.Egress, p.rule(networkingv1.PolicyTypeEgress, i, r.Name, Action(r.Action), peers, ports, unknown))
	}
	return p
}

func fromANP(c *npav1alpha1.AdminNetworkPolicy) ClusterPolicy {
	p := ClusterPolicy{Kind: "AdminNetworkPolicy", APIVersion: c.APIVersion, Name: c.Name, Tier: TierAdmin,
		Priority: c.Spec.Priority, ResourceVersion: c.ResourceVersion}
	if p.APIVersion == "" {
		p.APIVersion = npav1alpha1.GroupVersion.String()
	}
	p.subject = subject1(c.Spec.Subject)
	for i, r := range c.Spec.Ingress {
		var peers []peerFields
		for _, f := range r.From {
			peers = append(peers, peerFields{namespaces: f.Namespaces, pods: nsPod1(f.Pods)})
		}
		ports, unknown := ports1(r.Ports)
		p.Ingress = append(p.Ingress, p.rule(networkingv1.PolicyTypeIngress, i, r.Name, action1(string(r.Action)), peers, ports, unknown))
	}
	for i, r := range c.Spec.Egress {
		var peers []peerFields
		for _, t := range r.To {
			pf := peerFields{namespaces: t.Namespaces, pods: nsPod1(t.Pods), nodes: t.Nodes != nil, domainNames: len(t.DomainNames) > 0}
			for _, n := range t.Networks {
				pf.networks = append(pf.networks, string(n))
			}
			peers = append(peers, pf)
		}
		ports, unknown := ports1(r.Ports)
		p.Egress = append(p.Egress, p.rule(networkingv1.PolicyTypeEgress, i, r.Name, action1(string(r.Action)), peers, ports, unknown))
	}
	return p
}

func fromBANP(c *npav1alpha1.BaselineAdminNetworkPolicy) ClusterPolicy {
	p := ClusterPolicy{Kind: "BaselineAdminNetworkPolicy", APIVersion: c.APIVersion, Name: c.Name, Tier: TierBaseline,
		Priority: banpPriority, ResourceVersion: c.ResourceVersion}
	if p.APIVersion == "" {
		p.APIVersion = npav1alpha1.GroupVersion.String()
	}
	if c.Name != "default" {
		// The CRD admits only the singleton "default"; implementations ignore any other.
		p.NotModelled = append(p.NotModelled, "a BaselineAdminNetworkPolicy not named default is rejected by the CRD: not evaluated")
	}
	p.subject = subject1(c.Spec.Subject)
	for i, r := range c.Spec.Ingress {
		var peers []peerFields
		for _, f := range r.From {
			peers = append(peers, peerFields{namespaces: f.Namespaces, pods: nsPod1(f.Pods)})
		}
		ports, unknown := ports1(r.Ports)
		p.Ingress = append(p.Ingress, p.rule(networkingv1.PolicyTypeIngress, i, r.Name, action1(string(r.Action)), peers, ports, unknown))
	}
	for i, r := range c.Spec.Egress {
		var peers []peerFields
		for _, t := range r.To {
			pf := peerFields{namespaces: t.Namespaces, pods: nsPod1(t.Pods), nodes: t.Nodes != nil}
			for _, n := range t.Networks {
				pf.networks = append(pf.networks, string(n))
			}
			peers = append(peers, pf)
		}
		ports, unknown := ports1(r.Ports)
		p.Egress = append(p.Egress, p.rule(networkingv1.PolicyTypeEgress, i, r.Name, action1(string(r.Action)), peers, ports, unknown))
	}
	return p
}

// evaluated reports whether the policy takes part in the evaluation.
func (p *ClusterPolicy) evaluated() bool {
	return (p.Tier == TierAdmin || p.Tier == TierBaseline) &&
		!(p.Kind == "BaselineAdminNetworkPolicy" && p.Name != "default")
}

func subject1(s npav1alpha1.AdminNetworkPolicySubject) clusterSubject {
	out := clusterSubject{namespaces: s.Namespaces}
	if s.Pods != nil {
		out.pods = &namespacedPod{namespaces: s.Pods.NamespaceSelector, pods: s.Pods.PodSelector}
	}
	return out
}

func nsPod2(p *npav1alpha2.NamespacedPod) *namespacedPod {
	if p == nil {
		return nil
	}
	return &namespacedPod{namespaces: p.NamespaceSelector, pods: p.PodSelector}
}

func nsPod1(p *npav1alpha1.NamespacedPod) *namespacedPod {
	if p == nil {
		return nil
	}
	return &namespacedPod{namespaces: p.NamespaceSelector, pods: p.PodSelector}
}

// action1 maps a v1alpha1 action to the model's (Allow is Accept).
func action1(a string) Action {
	if a == "Allow" {
		return ActionAccept
	}
	return Action(a)
}

// peerFields is a peer as written, before the fail-closed reading.
type peerFields struct {
	namespaces         *metav1.LabelSelector
	pods               *namespacedPod
	networks           []string
	nodes, domainNames bool
}

// protocols2 reads v1alpha2 protocols; ok is false when an entry names
// nothing the tool knows. A nil list is every port.
func protocols2(ps []npav1alpha2.ClusterNetworkPolicyProtocol) (out []clusterPort, unknown bool) {
	if len(ps) == 0 {
		return nil, false
	}
	out = []clusterPort{}
	add := func(proto corev1.Protocol, p *npav1alpha2.Port) {
		switch {
		case p == nil:
			out = append(out, clusterPort{protocol: proto, from: 1, to: 65535})
		case p.Range != nil:
			out = append(out, clusterPort{protocol: proto, from: p.Range.Start, to: p.Range.End})
		case p.Number != 0:
			out = append(out, clusterPort{protocol: proto, from: p.Number, to: p.Number})
		default:
			unknown = true
		}
	}
	for _, p := range ps {
		switch {
		case p.TCP != nil:
			add(corev1.ProtocolTCP, p.TCP.DestinationPort)
		case p.UDP != nil:
			add(corev1.ProtocolUDP, p.UDP.DestinationPort)
		case p.SCTP != nil:
			add(corev1.ProtocolSCTP, p.SCTP.DestinationPort)
		case p.DestinationNamedPort != "":
			out = append(out, clusterPort{named: p.DestinationNamedPort})
		default:
			unknown = true
		}
	}
	return out, unknown
}

// ports1 reads v1alpha1 ports; a nil list is every port.
func ports1(ps *[]npav1alpha1.AdminNetworkPolicyPort) (out []clusterPort, unknown bool) {
	if ps == nil || len(*ps) == 0 {
		return nil, false
	}
	out = []clusterPort{}
	for _, p := range *ps {
		switch {
		case p.PortNumber != nil:
			out = append(out, clusterPort{protocol: defaultTCP(p.PortNumber.Protocol), from: p.PortNumber.Port, to: p.PortNumber.Port})
		case p.PortRange != nil:
			out = append(out, clusterPort{protocol: defaultTCP(p.PortRange.Protocol), from: p.PortRange.Start, to: p.PortRange.End})
		case p.NamedPort != nil:
			out = append(out, clusterPort{named: *p.NamedPort})
		default:
			unknown = true
		}
	}
	return out, unknown
}

func defaultTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// rule builds a rule and applies the fail-closed reading of what the tool
// does not model: for an Accept rule such a peer matches nothing; a Deny or
// Pass rule with one denies everything.
func (p *ClusterPolicy) rule(dir networkingv1.PolicyType, i int, name string, action Action, peers []peerFields, ports []clusterPort, portsUnknown bool) ClusterRule {
	r := ClusterRule{Index: i, Name: name, Action: action, ports: ports, portsUnknown: portsUnknown}
	var unknown []string
	for j, f := range peers {
		var cp clusterPeer
		switch {
		case f.namespaces != nil:
			cp.namespaces = f.namespaces
		case f.pods != nil:
			cp.pods = f.pods
		case len(f.networks) > 0:
			for _, n := range f.networks {
				pfx, err := netip.ParsePrefix(n)
				if err != nil {
					unknown = append(unknown, fmt.Sprintf("peer %d: network %q is no CIDR", j, n))
					continue
				}
				cp.networks = append(cp.networks, pfx.Masked())
			}
			if len(cp.networks) == 0 {
				continue
			}
		case f.nodes:
			unknown = append(unknown, fmt.Sprintf("peer %d: nodes", j))
			continue
		case f.domainNames:
			unknown = append(unknown, fmt.Sprintf("peer %d: domainNames", j))
			continue
		default:
			unknown = append(unknown, fmt.Sprintf("peer %d: no field the tool knows", j))
			continue
		}
		r.peers = append(r.peers, cp)
	}
	if len(peers) == 0 {
		unknown = append(unknown, "no peers")
	}
	if portsUnknown {
		unknown = append(unknown, "a protocols entry names no protocol or port the tool knows")
	}
	switch action {
	case ActionAccept, ActionDeny, ActionPass:
	default:
		unknown = append(unknown, fmt.Sprintf("action %q", action))
	}
	if len(unknown) == 0 {
		return r
	}
	where := r.describe(dir)
	if action == ActionAccept {
		// Fail closed: an Accept rule matches nothing through what it does not know.
		if portsUnknown {
			r.peers = nil
		}
		p.NotModelled = append(p.NotModelled, fmt.Sprintf("%s: %s not modelled; read fail-closed: the Accept rule ignores it", where, strings.Join(unknown, ", ")))
		return r
	}
	r.Action, r.All, r.peers, r.ports = ActionDeny, true, nil, nil
	p.NotModelled = append(p.NotModelled, fmt.Sprintf("%s: %s not modelled; read fail-closed: the %s rule denies all", where, strings.Join(unknown, ", "), action))
	return r
}

// subjectSelects reports whether the policy's subject selects a pod of
// namespace labels nsLabels with pod labels podLabels. Host-network pods are
// never selected, and are left out by the callers.
func (s *clusterSubject) selects(nsLabels, podLabels labels.Set) bool {
	switch {
	case s.namespaces != nil:
		return selectorMatches(s.namespaces, nsLabels)
	case s.pods != nil:
		return selectorMatches(&s.pods.namespaces, nsLabels) && selectorMatches(&s.pods.pods, podLabels)
	}
	// Neither set: the CRD rejects it; select nothing.
	return false
}

// matchesPeer reports whether a from/to entry admits the peer. Pods peers
// and namespaces peers never match a host-network pod; networks match the
// peer's addresses, and a /0 matches any pod whose address is not known (it
// covers all pod traffic of its family, as the API says).
func (cp *clusterPeer) matches(o *Peer) bool {
	switch {
	case cp.namespaces != nil:
		return o.IsPod() && !o.HostNetwork && selectorMatches(cp.namespaces, o.NamespaceLabels)
	case cp.pods != nil:
		return o.IsPod() && !o.HostNetwork && selectorMatches(&cp.pods.namespaces, o.NamespaceLabels) && selectorMatches(&cp.pods.pods, o.Labels)
	}
	for _, n := range cp.networks {
		if o.IsPod() && len(o.IPs) == 0 && n.Bits() == 0 {
			return true
		}
		for _, ip := range o.IPs {
			if n.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// portSet returns the ports the rule matches towards dst: named ports are
// resolved among dst's container ports, of whatever protocol.
func (r *ClusterRule) portSet(dst *Peer) PortSet {
	if r.All || r.ports == nil {
		return AllPorts()
	}
	s := PortSet{}
	for _, p := range r.ports {
		if p.named == "" {
			if p.from <= p.to {
				s[p.protocol] = append(s[p.protocol], PortRange{p.from, p.to})
			}
			continue
		}
		if dst == nil {
			continue
		}
		for _, cp := range dst.Ports {
			if cp.Name == p.named {
				proto := defaultTCP(cp.Protocol)
				s[proto] = append(s[proto], PortRange{cp.ContainerPort, cp.ContainerPort})
			}
		}
	}
	for proto := range s {
		s[proto] = merge(s[proto])
	}
	return s
}

// matches reports whether the rule matches traffic with the other end o, on
// the port (towards dst).
func (r *ClusterRule) matches(o, dst *Peer, proto corev1.Protocol, port int32) bool {
	if r.All {
		return true
	}
	if !slices.ContainsFunc(r.peers, func(cp clusterPeer) bool { return cp.matches(o) }) {
		return false
	}
	return r.portSet(dst).Contains(proto, port)
}

// selectClusterPolicies fills each cluster policy's selected pods and
// workloads and links them to the pods' and workloads' isolation.
func (a *Analysis) selectClusterPolicies() {
	for ci := range a.ClusterPolicies {
		cp := &a.ClusterPolicies[ci]
		if !cp.evaluated() {
			continue
		}
		for pi := range a.Pods {
			p := a.Pods[pi].Pod
			if p.Spec.HostNetwork || !cp.subject.selects(a.NamespaceLabels(p.Namespace), labels.Set(p.Labels)) {
				continue
			}
			cp.Selected = append(cp.Selected, pi)
			a.Pods[pi].link(ci, cp)
			a.touch(p.Namespace, ci)
		}
		for wi := range a.Workloads {
			w := &a.Workloads[wi]
			if !w.Controlled() || w.Bucket == HostNetwork || !cp.subject.selects(a.NamespaceLabels(w.Namespace), w.Labels) {
				continue
			}
			cp.SelectedWorkloads = append(cp.SelectedWorkloads, wi)
			w.link(ci, cp)
			a.touch(w.Namespace, ci)
		}
	}
	for wi := range a.Workloads {
		// A pod of its own is judged by the pod's isolation, as for NetworkPolicy.
		if w := &a.Workloads[wi]; !w.Controlled() {
			p := &a.Pods[w.Pods[0]]
			w.TierIngress, w.TierEgress = p.TierIngress, p.TierEgress
		}
	}
}

// touch records that cluster policy ci selects something in namespace ns.
func (a *Analysis) touch(ns string, ci int) {
	if a.tierTouched == nil {
		a.tierTouched = map[string][]int{}
	}
	if l := a.tierTouched[ns]; len(l) == 0 || l[len(l)-1] != ci {
		a.tierTouched[ns] = append(l, ci)
	}
}

// link records cluster policy ci on the isolation of a pod it selects, per
// direction it has rules for.
func (i *Isolation) link(ci int, cp *ClusterPolicy) {
	if len(cp.Ingress) > 0 {
		i.TierIngress = append(i.TierIngress, ci)
	}
	if len(cp.Egress) > 0 {
		i.TierEgress = append(i.TierEgress, ci)
	}
}

// Tiers returns the cluster-scoped policies that select the pod and have
// rules for the direction, in evaluation order.
func (i *Isolation) Tiers(d networkingv1.PolicyType) []int {
	if d == networkingv1.PolicyTypeEgress {
		return i.TierEgress
	}
	return i.TierIngress
}

// tierIsolated reports whether a cluster-scoped policy restricts the pod in
// the direction: one with a Deny rule in the Admin tier, or in the Baseline
// tier for a pod no NetworkPolicy isolates in that direction.
func (a *Analysis) tierIsolated(i *Isolation, d networkingv1.PolicyType) bool {
	for _, ci := range i.Tiers(d) {
		cp := &a.ClusterPolicies[ci]
		if cp.canDeny(d) && (cp.Tier == TierAdmin || len(i.In(d)) == 0) {
			return true
		}
	}
	return false
}

// IsolatedBy reports whether the pod is isolated in the direction by any
// tier: a NetworkPolicy, or a cluster-scoped policy that can deny.
// An endpoint whose verdicts in the direction are unknown (UnknownIn) is
// never counted isolated.
func (a *Analysis) IsolatedBy(i *Isolation, d networkingv1.PolicyType) bool {
	if a.UnknownIn(i, d) {
		return false
	}
	return i.Isolated(d) || a.tierIsolated(i, d) || len(i.CNI(d)) > 0 && i.cniIsolated(d)
}

// tierDecision is what one tier decides for a direction of a connection.
type tierDecision struct {
	action Action // "" when no rule of the tier matches
	policy int    // index into ClusterPolicies of the deciding policy
	rule   int    // index of the deciding rule in its direction
	// ambiguous lists the policies of equal priority that match with
	// different actions: the API leaves the result undefined.
	ambiguous []int
}

// decideTier evaluates the policies of a tier that select self for the
// direction against the other end o, on the port towards dst.
func (a *Analysis) decideTier(tier Tier, dir networkingv1.PolicyType, policies []int, o, dst *Peer, proto corev1.Protocol, port int32) tierDecision {
	var group []int // the policies of the current priority
	flush := func() (tierDecision, bool) {
		var d tierDecision
		found := false
		for _, ci := range group {
			ri, ok := a.ClusterPolicies[ci].firstMatch(dir, o, dst, proto, port)
			if !ok {
				continue
			}
			action := a.ClusterPolicies[ci].rules(dir)[ri].Action
			switch {
			case !found:
				d, found = tierDecision{action: action, policy: ci, rule: ri}, true
			case action != d.action:
				if len(d.ambiguous) == 0 {
					d.ambiguous = append(d.ambiguous, d.policy)
				}
				d.ambiguous = append(d.ambiguous, ci)
			}
		}
		group = group[:0]
		return d, found
	}
	for _, ci := range policies {
		cp := &a.ClusterPolicies[ci]
		if cp.Tier != tier {
			continue
		}
		if len(group) > 0 && a.ClusterPolicies[group[0]].Priority != cp.Priority {
			if d, ok := flush(); ok {
				return d
			}
		}
		group = append(group, ci)
	}
	d, _ := flush()
	return d
}

// firstMatch returns the index of the policy's first rule of the direction
// that matches the traffic: rules are evaluated in order.
func (p *ClusterPolicy) firstMatch(dir networkingv1.PolicyType, o, dst *Peer, proto corev1.Protocol, port int32) (int, bool) {
	for i := range p.rules(dir) {
		if p.rules(dir)[i].matches(o, dst, proto, port) {
			return i, true
		}
	}
	return 0, false
}

// namespaceClusterPolicies returns the indexes into ClusterPolicies of the
// evaluated cluster-scoped policies whose subject selects pods of the
// namespace: some pod or workload of it, or every pod it will have.
func (a *Analysis) namespaceClusterPolicies(ns string) []int {
	var out []int
	for ci := range a.ClusterPolicies {
		cp := &a.ClusterPolicies[ci]
		if !cp.evaluated() {
			continue
		}
		if cp.coversNamespace(a.NamespaceLabels(ns)) || slices.Contains(a.tierTouched[ns], ci) {
			out = append(out, ci)
		}
	}
	return out
}

// coversNamespace reports whether the subject selects every pod, present or
// future, of a namespace with these labels.
func (p *ClusterPolicy) coversNamespace(nsLabels labels.Set) bool {
	switch s := p.subject; {
	case s.namespaces != nil:
		return selectorMatches(s.namespaces, nsLabels)
	case s.pods != nil:
		return emptySelector(&s.pods.pods) && selectorMatches(&s.pods.namespaces, nsLabels)
	}
	return false
}

// governed reports whether anything isolates pods of the namespace: a
// NetworkPolicy in it, or a cluster-scoped policy that can deny and whose
// subject selects its pods, or a Cilium or Calico policy of it or selecting
// its pods (what it does is unknown). Only an ungoverned namespace "has no NetworkPolicy".
func (a *Analysis) governed(ns string) bool {
	if len(a.NamespacePolicies(ns)) > 0 || len(a.namespaceCNIPolicies(ns)) > 0 {
		return true
	}
	for _, ci := range a.namespaceClusterPolicies(ns) {
		cp := &a.ClusterPolicies[ci]
		if cp.canDeny(networkingv1.PolicyTypeIngress) || cp.canDeny(networkingv1.PolicyTypeEgress) {
			return true
		}
	}
	return false
}

// tierDefaultDeny returns the cluster-scoped policies of the Admin and the
// Baseline tier that deny, in the direction, everything to or from every pod
// of the namespace: their subject covers the namespace and a rule denies
// every pod (namespaces {}, or a /0 network) on every port. Rules before it
// are its exceptions, as a NetworkPolicy's allows are a default deny's.
func (a *Analysis) tierDefaultDeny(ns string, dir networkingv1.PolicyType) (admin, baseline []string) {
	for ci := range a.ClusterPolicies {
		cp := &a.ClusterPolicies[ci]
		if !cp.evaluated() || !cp.coversNamespace(a.NamespaceLabels(ns)) {
			continue
		}
		if !slices.ContainsFunc(cp.rules(dir), denyAll) {
			continue
		}
		if cp.Tier == TierAdmin {
			admin = append(admin, cp.Ref())
		} else {
			baseline = append(baseline, cp.Ref())
		}
	}
	return admin, baseline
}

// denyAll reports whether a rule denies every pod on every port.
func denyAll(r ClusterRule) bool {
	if r.Action != ActionDeny {
		return false
	}
	if r.All {
		return true
	}
	if r.ports != nil && !isAllPorts(r.portSet(nil)) {
		return false
	}
	for _, p := range r.peers {
		switch {
		case p.namespaces != nil && emptySelector(p.namespaces):
			return true
		case p.pods != nil && emptySelector(&p.pods.namespaces) && emptySelector(&p.pods.pods):
			return true
		}
		for _, n := range p.networks {
			if n.Bits() == 0 {
				return true
			}
		}
	}
	return false
}

// clusterPolicyRefs names cluster-scoped policies with tier and priority.
func (a *Analysis) clusterPolicyRefs(cps []int) []string {
	out := make([]string, 0, len(cps))
	for _, ci := range cps {
		out = append(out, a.ClusterPolicies[ci].Ref())
	}
	return out
}
