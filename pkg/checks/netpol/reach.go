package netpol

import (
	"fmt"
	"net/netip"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Endpoint is one end of a can-reach question: a pod, every pod of a
// namespace, or an address outside the cluster.
type Endpoint struct {
	Namespace string
	// Pod is empty when the endpoint is every pod of Namespace.
	Pod string
	// IP is set for an address outside the cluster.
	IP netip.Addr
}

func (e Endpoint) String() string {
	switch {
	case e.IP.IsValid():
		return e.IP.String()
	case e.Pod == "":
		return e.Namespace + "/*"
	}
	return e.Namespace + "/" + e.Pod
}

// ParseEndpoint reads NAMESPACE/POD, POD (in defaultNamespace), NAMESPACE/*
// (every pod of the namespace) or an IP address.
func ParseEndpoint(s, defaultNamespace string) (Endpoint, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return Endpoint{IP: ip}, nil
	}
	ns, name, hasNS := strings.Cut(s, "/")
	if !hasNS {
		ns, name = defaultNamespace, s
	}
	if ns == "" || name == "" || strings.Contains(name, "/") {
		return Endpoint{}, fmt.Errorf("endpoint %q: give NAMESPACE/POD, POD, NAMESPACE/* or an IP address", s)
	}
	if name == "*" {
		name = ""
	}
	return Endpoint{Namespace: ns, Pod: name}, nil
}

// Side is the verdict of one direction of a connection: the source's egress
// or the destination's ingress.
type Side struct {
	// Isolated is set when some policy selects the pod for this direction.
	Isolated bool `json:"isolated"`
	Allowed  bool `json:"allowed"`
	// Policies are the policies isolating the pod in this direction, namespace/name.
	Policies []string `json:"policies,omitempty"`
	// Allowing are the rules that admit the connection, "namespace/name ingress[0]".
	Allowing []string `json:"allowing,omitempty"`
	Reason   string   `json:"reason"`
}

// Reach answers whether policy lets Source open a connection to Destination.
// A connection needs the source's egress AND the destination's ingress.
type Reach struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Port is the port asked about, as number/protocol; empty when none was asked.
	Port    string `json:"port,omitempty"`
	Allowed bool   `json:"allowed"`
	// AllowedPorts, when no port was asked, lists the ports both sides allow.
	AllowedPorts []string `json:"allowedPorts,omitempty"`
	Egress       Side     `json:"egress"`
	Ingress      Side     `json:"ingress"`
	// Notes say what limits the answer: hostNetwork pods, no enforcing CNI recognised.
	Notes []string `json:"notes,omitempty"`
}

// endpointRef is a resolved endpoint: the peer view and, for a pod, its isolation.
type endpointRef struct {
	name string
	peer Peer
	iso  *PodIsolation
}

// CanReach answers, for each pair of pods the endpoints name (a namespace
// endpoint stands for each of its Running or Pending pods), whether policy
// allows src to connect to dst on the port, or on which ports when port is nil.
// Pod IPs are matched against ipBlock peers when the inventory has them.
func CanReach(inv *inventory.Inventory, src, dst Endpoint, port *PortQuery) ([]Reach, error) {
	a := Analyze(inv)
	srcs, err := a.resolve(src)
	if err != nil {
		return nil, fmt.Errorf("resolve source: %w", err)
	}
	dsts, err := a.resolve(dst)
	if err != nil {
		return nil, fmt.Errorf("resolve destination: %w", err)
	}
	cni := DetectCNI(inv)
	var out []Reach
	for i := range srcs {
		for j := range dsts {
			s, d := &srcs[i], &dsts[j]
			if s.iso != nil && s.iso == d.iso && (src.Pod == "" || dst.Pod == "") {
				continue // a pod talking to itself is not a policy question
			}
			r, err := a.reach(s, d, port)
			if err != nil {
				if dst.Pod != "" || dst.IP.IsValid() {
					return nil, err
				}
				// One pod of a namespace lacking the named port answers no, not the whole question.
				r = Reach{Source: s.name, Destination: d.name, Port: port.String(), Notes: []string{err.Error()}}
			}
			if cni.Status != CNIEnforcing {
				r.Notes = append(r.Notes, "no NetworkPolicy-enforcing CNI recognised in the inventory: whether these policies are enforced is unknown")
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func (a *Analysis) resolve(e Endpoint) ([]endpointRef, error) {
	if e.IP.IsValid() {
		return []endpointRef{{name: e.IP.String(), peer: Peer{IPs: []netip.Addr{e.IP}}}}, nil
	}
	if e.Pod != "" {
		i, ok := a.FindPod(e.Namespace, e.Pod)
		if !ok {
			return nil, fmt.Errorf("pod %s/%s not found", e.Namespace, e.Pod)
		}
		return []endpointRef{a.podRef(i)}, nil
	}
	var out []endpointRef
	for _, i := range a.NamespacePods(e.Namespace) {
		if a.Pods[i].Bucket != Inactive {
			out = append(out, a.podRef(i))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("namespace %s has no Running or Pending pods", e.Namespace)
	}
	return out, nil
}

func (a *Analysis) podRef(i int) endpointRef {
	iso := &a.Pods[i]
	return endpointRef{name: iso.Ref(), peer: PodPeer(iso.Pod, a.NamespaceLabels(iso.Pod.Namespace)), iso: iso}
}

func (a *Analysis) reach(s, d *endpointRef, q *PortQuery) (Reach, error) {
	r := Reach{Source: s.name, Destination: d.name}
	var number int32
	if q != nil {
		number = q.Number
		if q.Name != "" {
			n, ok := namedPort(&d.peer, q.Name, q.Protocol)
			if !ok {
				return Reach{}, fmt.Errorf("destination %s has no container port named %s", d.name, q)
			}
			number = n
		}
		r.Port = fmt.Sprintf("%d/%s", number, q.Protocol)
	}
	var egressPorts, ingressPorts PortSet
	r.Egress, egressPorts = a.side(networkingv1.PolicyTypeEgress, s, d, &d.peer, q, number)
	r.Ingress, ingressPorts = a.side(networkingv1.PolicyTypeIngress, d, s, &d.peer, q, number)
	if q != nil {
		r.Allowed = r.Egress.Allowed && r.Ingress.Allowed
	} else {
		both := egressPorts.Intersect(ingressPorts)
		r.Allowed = !both.Empty()
		r.AllowedPorts = both.Strings()
	}
	for _, e := range []*endpointRef{s, d} {
		if e.iso == nil {
			continue
		}
		switch e.iso.Bucket {
		case HostNetwork:
			r.Notes = append(r.Notes, e.name+" uses hostNetwork: most CNIs do not enforce NetworkPolicy for it, and its traffic carries the node's address")
		case Inactive:
			r.Notes = append(r.Notes, e.name+" has finished (phase "+string(e.iso.Pod.Status.Phase)+"): it sends and receives nothing")
		}
	}
	return r, nil
}

// side judges one direction for pod self towards other: self's egress to
// other, or self's ingress from other. dst resolves named ports (always the
// destination of the connection). It returns the verdict and, when no port
// was asked, the ports this side allows.
func (a *Analysis) side(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, q *PortQuery, number int32) (Side, PortSet) {
	word := strings.ToLower(string(dir))
	if self.iso == nil {
		return Side{Allowed: true, Reason: self.name + " is outside the cluster: no " + word + " policy applies"}, AllPorts()
	}
	isolating := self.iso.Ingress
	if dir == networkingv1.PolicyTypeEgress {
		isolating = self.iso.Egress
	}
	if len(isolating) == 0 {
		return Side{Allowed: true, Reason: "no NetworkPolicy selects " + self.name + " for " + word + ": all " + word + " is allowed"}, AllPorts()
	}
	sd := Side{Isolated: true}
	var ports PortSet
	for _, pi := range isolating {
		pol := &a.Policies[pi]
		sd.Policies = append(sd.Policies, pol.Ref())
		for j, rule := range rulesOf(pol, dir) {
			if !PeersMatch(rule.peers, pol.Namespace, &other.peer) {
				continue
			}
			ps := RulePorts(rule.ports, dst)
			var admits bool
			if q != nil {
				admits = ps.Contains(q.Protocol, number)
			} else {
				admits = !ps.Empty()
				ports = ports.Union(ps)
			}
			if admits {
				sd.Allowing = append(sd.Allowing, fmt.Sprintf("%s %s[%d]", pol.Ref(), word, j))
			}
		}
	}
	sd.Allowed = len(sd.Allowing) > 0
	if sd.Allowed {
		sd.Reason = "allowed by " + strings.Join(sd.Allowing, ", ")
	} else {
		what := other.name
		if q != nil {
			what += " on " + fmt.Sprintf("%d/%s", number, q.Protocol)
		}
		sd.Reason = fmt.Sprintf("%s is isolated for %s by %s and no rule admits %s", self.name, word, strings.Join(sd.Policies, ", "), what)
	}
	return sd, ports
}

// rule is a direction-neutral view of an ingress or egress rule.
type rule struct {
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

// rulesOf returns a policy's rules for a direction; rules of a direction the
// policy does not list in policyTypes are inert and not returned.
func rulesOf(p *Policy, dir networkingv1.PolicyType) []rule {
	if !p.Types.Has(dir) {
		return nil
	}
	var out []rule
	if dir == networkingv1.PolicyTypeEgress {
		for _, r := range p.Spec.Egress {
			out = append(out, rule{peers: r.To, ports: r.Ports})
		}
		return out
	}
	for _, r := range p.Spec.Ingress {
		out = append(out, rule{peers: r.From, ports: r.Ports})
	}
	return out
}
