package netpol

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Peer is one end of a connection as NetworkPolicy sees it: a pod (namespace,
// labels, the namespace's labels, its IPs and named ports) or an address
// outside the cluster (IPs only).
type Peer struct {
	// Namespace is empty for an address outside the cluster.
	Namespace       string
	Labels          labels.Set
	NamespaceLabels labels.Set
	// IPs are the pod's addresses when known (status.podIPs), or the external address.
	IPs []netip.Addr
	// Ports are the pod's container ports, for resolving named ports.
	Ports []corev1.ContainerPort
	// HostNetwork is set for a pod on the node's network: the cluster-scoped
	// tiers never match it as a namespaces or pods peer.
	HostNetwork bool
	// ServiceAccount is the pod's service account, as Cilium and Calico selectors see it.
	ServiceAccount string
}

// IsPod reports whether the peer is a pod rather than an outside address.
func (p *Peer) IsPod() bool { return p.Namespace != "" }

// PodPeer describes a pod as a peer; ns are its namespace's labels as namespaceSelector sees them.
func PodPeer(pod *inventory.Pod, ns labels.Set) Peer {
	p := Peer{Namespace: pod.Namespace, Labels: labels.Set(pod.Labels), NamespaceLabels: ns, HostNetwork: pod.Spec.HostNetwork,
		ServiceAccount: pod.Spec.ServiceAccountName}
	for _, ip := range pod.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			p.IPs = append(p.IPs, a)
		}
	}
	if len(p.IPs) == 0 && pod.Status.PodIP != "" {
		if a, err := netip.ParseAddr(pod.Status.PodIP); err == nil {
			p.IPs = append(p.IPs, a)
		}
	}
	for _, c := range pod.Spec.Containers {
		p.Ports = append(p.Ports, c.Ports...)
	}
	return p
}

// selectorMatches evaluates a label selector; a malformed one (only possible
// in manifests, the API server rejects it) matches nothing.
func selectorMatches(sel *metav1.LabelSelector, set labels.Set) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(set)
}

// PeerMatches reports whether a from/to entry of a policy in namespace
// policyNS admits the peer:
//   - podSelector alone: pods of the policy's own namespace;
//   - namespaceSelector alone: every pod of the selected namespaces ({} = all);
//   - both in one entry: pods matching both (AND);
//   - ipBlock: addresses in cidr and not in except; a pod matches only when its IP is known;
//   - an empty entry, which the API server rejects, is read as matching everything.
func PeerMatches(np networkingv1.NetworkPolicyPeer, policyNS string, p *Peer) bool {
	if np.IPBlock != nil {
		return ipBlockMatches(np.IPBlock, p.IPs)
	}
	if np.PodSelector == nil && np.NamespaceSelector == nil {
		return true
	}
	if !p.IsPod() {
		return false
	}
	if np.NamespaceSelector == nil {
		if p.Namespace != policyNS {
			return false
		}
	} else if !selectorMatches(np.NamespaceSelector, p.NamespaceLabels) {
		return false
	}
	return np.PodSelector == nil || selectorMatches(np.PodSelector, p.Labels)
}

// PeersMatch reports whether a rule's from/to list admits the peer: an empty
// list admits every peer, otherwise any one entry must (entries are ORed).
func PeersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, p *Peer) bool {
	if len(peers) == 0 {
		return true
	}
	for _, np := range peers {
		if PeerMatches(np, policyNS, p) {
			return true
		}
	}
	return false
}

func ipBlockMatches(b *networkingv1.IPBlock, ips []netip.Addr) bool {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return false
	}
	for _, ip := range ips {
		if !cidr.Contains(ip) {
			continue
		}
		excluded := false
		for _, e := range b.Except {
			if ex, err := netip.ParsePrefix(e); err == nil && ex.Contains(ip) {
				excluded = true
				break
			}
		}
		if !excluded {
			return true
		}
	}
	return false
}

// protocols lists the protocols NetworkPolicy can name, in display order.
func protocols() []corev1.Protocol {
	return []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
}

// PortRange is an inclusive range of port numbers.
type PortRange struct{ From, To int32 }

// PortSet is a set of (protocol, port) pairs.
type PortSet map[corev1.Protocol][]PortRange

// AllPorts is every port of every protocol: what a rule without ports allows.
func AllPorts() PortSet {
	s := PortSet{}
	for _, p := range protocols() {
		s[p] = []PortRange{{1, 65535}}
	}
	return s
}

// Contains reports whether the set holds the port.
func (s PortSet) Contains(proto corev1.Protocol, port int32) bool {
	for _, r := range s[proto] {
		if r.From <= port && port <= r.To {
			return true
		}
	}
	return false
}

// Empty reports whether the set holds no port.
func (s PortSet) Empty() bool {
	for _, rs := range s {
		if len(rs) > 0 {
			return false
		}
	}
	return true
}

// Union adds o to s and returns s, merged and sorted.
func (s PortSet) Union(o PortSet) PortSet {
	if s == nil {
		s = PortSet{}
	}
	for proto, rs := range o {
		s[proto] = merge(append(s[proto], rs...))
	}
	return s
}

// Intersect returns the ports in both sets.
func (s PortSet) Intersect(o PortSet) PortSet {
	out := PortSet{}
	for proto, as := range s {
		var rs []PortRange
		for _, a := range as {
			for _, b := range o[proto] {
				lo, hi := max(a.From, b.From), min(a.To, b.To)
				if lo <= hi {
					rs = append(rs, PortRange{lo, hi})
				}
			}
		}
		if len(rs) > 0 {
			out[proto] = merge(rs)
		}
	}
	return out
}

func merge(rs []PortRange) []PortRange {
	slices.SortFunc(rs, func(a, b PortRange) int { return int(a.From - b.From) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.From <= out[n-1].To+1 {
			out[n-1].To = max(out[n-1].To, r.To)
			continue
		}
		out = append(out, r)
	}
	return out
}

// Strings renders the set as "TCP 80", "UDP 1-65535", in protocol order.
func (s PortSet) Strings() []string {
	var out []string
	for _, proto := range protocols() {
		for _, r := range s[proto] {
			if r.From == r.To {
				out = append(out, fmt.Sprintf("%s %d", proto, r.From))
			} else {
				out = append(out, fmt.Sprintf("%s %d-%d", proto, r.From, r.To))
			}
		}
	}
	return out
}

// RulePorts returns the ports a rule's port list opens towards dst: an empty
// list is every port; protocol defaults to TCP; a missing port is every port
// of the protocol; endPort extends a numeric port to a range; a named port is
// looked up among the destination pod's container ports with that name and
// protocol, and opens nothing when the destination has no such port.
func RulePorts(ports []networkingv1.NetworkPolicyPort, dst *Peer) PortSet {
	if len(ports) == 0 {
		return AllPorts()
	}
	s := PortSet{}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		switch {
		case p.Port == nil:
			s[proto] = append(s[proto], PortRange{1, 65535})
		case p.Port.Type == intstr.Int:
			to := p.Port.IntVal
			if p.EndPort != nil && *p.EndPort >= to {
				to = *p.EndPort
			}
			s[proto] = append(s[proto], PortRange{p.Port.IntVal, to})
		default:
			if n, ok := namedPort(dst, p.Port.StrVal, proto); ok {
				s[proto] = append(s[proto], PortRange{n, n})
			}
		}
	}
	for proto := range s {
		s[proto] = merge(s[proto])
	}
	return s
}

// namedPort resolves a port name among a pod's container ports; a container
// port's protocol defaults to TCP like the API server's.
func namedPort(p *Peer, name string, proto corev1.Protocol) (int32, bool) {
	if p == nil {
		return 0, false
	}
	for _, cp := range p.Ports {
		cproto := cp.Protocol
		if cproto == "" {
			cproto = corev1.ProtocolTCP
		}
		if cp.Name == name && cproto == proto {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// PortQuery is one port asked about: a number, or a name resolved against
// the destination pod's container ports.
type PortQuery struct {
	Protocol corev1.Protocol
	Number   int32
	Name     string
}

// ParsePortQuery reads PORT[/PROTOCOL]; PORT is a number or a container port
// name, PROTOCOL is TCP (default), UDP or SCTP, in any case.
func ParsePortQuery(s string) (PortQuery, error) {
	port, proto, hasProto := strings.Cut(s, "/")
	q := PortQuery{Protocol: corev1.ProtocolTCP}
	if hasProto {
		q.Protocol = corev1.Protocol(strings.ToUpper(proto))
		if !slices.Contains(protocols(), q.Protocol) {
			return PortQuery{}, fmt.Errorf("port %q: protocol must be TCP, UDP or SCTP", s)
		}
	}
	if port == "" {
		return PortQuery{}, fmt.Errorf("port %q: give a number or a container port name, like 8080/TCP or http", s)
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 1 || n > 65535 {
			return PortQuery{}, fmt.Errorf("port %q: number must be between 1 and 65535", s)
		}
		q.Number = int32(n)
		return q, nil
	}
	q.Name = port
	return q, nil
}

func (q PortQuery) String() string {
	if q.Name != "" {
		return q.Name + "/" + string(q.Protocol)
	}
	return strconv.Itoa(int(q.Number)) + "/" + string(q.Protocol)
}
