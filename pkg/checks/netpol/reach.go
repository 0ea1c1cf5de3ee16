package netpol

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Endpoint is one end of a can-reach question: a pod, every pod of a
// namespace, a workload's pod template, or an address outside the cluster.
type Endpoint struct {
	Namespace string
	// Pod is empty when the endpoint is every pod of Namespace or a workload.
	Pod string
	// Kind is set for a workload: its kind as the API spells it (Deployment,
	// Job, ...), and Workload its name. The endpoint stands for a pod made from
	// its template, which is what manifests holding only controllers can answer.
	Kind     string
	Workload string
	// IP is set for an address outside the cluster.
	IP netip.Addr
}

func (e Endpoint) String() string {
	switch {
	case e.IP.IsValid():
		return e.IP.String()
	case e.Kind != "":
		return e.Namespace + "/" + strings.ToLower(e.Kind) + "/" + e.Workload
	case e.Pod == "":
		return e.Namespace + "/*"
	}
	return e.Namespace + "/" + e.Pod
}

// namespaceWide reports whether the endpoint stands for every pod of a namespace.
func (e Endpoint) namespaceWide() bool {
	return !e.IP.IsValid() && e.Pod == "" && e.Kind == ""
}

// workloadKind is a controller kind can-reach accepts, with the inventory
// list that holds it.
type workloadKind struct {
	kind string
	list inventory.Kind
}

// workloadKinds maps the names kubectl gives a kind (singular, plural, short)
// to it. "pod" is here too so that NAMESPACE/pod/NAME can name a pod in a
// namespace that is itself called like a kind.
func workloadKinds() map[string]workloadKind {
	m := map[string]workloadKind{}
	for _, k := range []struct {
		kind  string
		list  inventory.Kind
		names []string
	}{
		{"Pod", inventory.Pods, []string{"pod", "pods", "po"}},
		{"Deployment", inventory.Deployments, []string{"deployment", "deployments", "deploy"}},
		{"StatefulSet", inventory.StatefulSets, []string{"statefulset", "statefulsets", "sts"}},
		{"DaemonSet", inventory.DaemonSets, []string{"daemonset", "daemonsets", "ds"}},
		{"ReplicaSet", inventory.ReplicaSets, []string{"replicaset", "replicasets", "rs"}},
		{"ReplicationController", inventory.ReplicationControllers, []string{"replicationcontroller", "replicationcontrollers", "rc"}},
		{"Job", inventory.Jobs, []string{"job", "jobs"}},
		{"CronJob", inventory.CronJobs, []string{"cronjob", "cronjobs", "cj"}},
	} {
		for _, n := range k.names {
			m[n] = workloadKind{kind: k.kind, list: k.list}
		}
	}
	return m
}

// EndpointKinds returns the inventory lists, beyond pods, namespaces and
// policies, that the endpoints need: the controllers they name.
func EndpointKinds(es ...Endpoint) []inventory.Kind {
	var out []inventory.Kind
	kinds := workloadKinds()
	for _, e := range es {
		if e.Kind == "" {
			continue
		}
		if k := kinds[strings.ToLower(e.Kind)].list; !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// ParseEndpoint reads NAMESPACE/POD, POD (in defaultNamespace), NAMESPACE/*
// (every pod of the namespace), KIND/NAME or NAMESPACE/KIND/NAME (a workload's
// pod template, KIND as kubectl names it: deployment, deploy, sts, ...) or an
// IP address. A two-part name whose first part is a kind is KIND/NAME; a pod
// in a namespace named like a kind is NAMESPACE/pod/NAME.
func ParseEndpoint(s, defaultNamespace string) (Endpoint, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return Endpoint{IP: ip}, nil
	}
	bad := fmt.Errorf("endpoint %q: give NAMESPACE/POD, POD, NAMESPACE/*, [NAMESPACE/]KIND/NAME or an IP address", s)
	parts := strings.Split(s, "/")
	kinds := workloadKinds()
	var ns, kind, name string
	switch len(parts) {
	case 1:
		ns, name = defaultNamespace, parts[0]
	case 2:
		if k, ok := kinds[strings.ToLower(parts[0])]; ok && parts[1] != "*" {
			ns, kind, name = defaultNamespace, k.kind, parts[1]
		} else {
			ns, name = parts[0], parts[1]
		}
	case 3:
		k, ok := kinds[strings.ToLower(parts[1])]
		if !ok {
			return Endpoint{}, fmt.Errorf("endpoint %q: unknown kind %q: give deployment, statefulset, daemonset, replicaset, replicationcontroller, job, cronjob or pod", s, parts[1])
		}
		ns, kind, name = parts[0], k.kind, parts[2]
	default:
		return Endpoint{}, bad
	}
	if ns == "" || name == "" || kind != "" && name == "*" {
		return Endpoint{}, bad
	}
	switch {
	case kind == "Pod":
		return Endpoint{Namespace: ns, Pod: name}, nil
	case kind != "":
		return Endpoint{Namespace: ns, Kind: kind, Workload: name}, nil
	case name == "*":
		return Endpoint{Namespace: ns}, nil
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
	// Unknown is set when the verdict cannot be known (equal-priority
	// cluster-scoped policies that disagree); Allowed is then false.
	Unknown bool `json:"unknown,omitempty"`
	// DecidedBy names the cluster-scoped policy and rule that decided, with
	// its tier, or the tier that did ("NetworkPolicy", "default"); empty
	// when no cluster-scoped policy selects the pod for the direction.
	DecidedBy string `json:"decidedBy,omitempty"`
}

// Reach answers whether policy lets Source open a connection to Destination.
// A connection needs the source's egress AND the destination's ingress.
type Reach struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Port is the port asked about, as number/protocol; empty when none was asked.
	Port    string `json:"port,omitempty"`
	Allowed bool   `json:"allowed"`
	// Unknown is set when neither side denies and one side's verdict is unknown.
	Unknown bool `json:"unknown,omitempty"`
	// AllowedPorts, when no port was asked, lists the ports both sides allow.
	AllowedPorts []string `json:"allowedPorts,omitempty"`
	// UnknownPorts, when no port was asked, lists the ports whose verdict is unknown.
	UnknownPorts []string `json:"unknownPorts,omitempty"`
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
	srcs, err := a.resolve(inv, src)
	if err != nil {
		return nil, fmt.Errorf("resolve source: %w", err)
	}
	dsts, err := a.resolve(inv, dst)
	if err != nil {
		return nil, fmt.Errorf("resolve destination: %w", err)
	}
	cni := DetectCNI(inv)
	var out []Reach
	for i := range srcs {
		for j := range dsts {
			s, d := &srcs[i], &dsts[j]
			if s.iso != nil && s.iso == d.iso && (src.namespaceWide() || dst.namespaceWide()) {
				continue // a pod talking to itself is not a policy question
			}
			r, err := a.reach(s, d, port)
			if err != nil {
				if !dst.namespaceWide() {
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

func (a *Analysis) resolve(inv *inventory.Inventory, e Endpoint) ([]endpointRef, error) {
	if e.IP.IsValid() {
		return []endpointRef{{name: e.IP.String(), peer: Peer{IPs: []netip.Addr{e.IP}}}}, nil
	}
	if e.Kind != "" {
		ref, err := a.workloadRef(inv, e)
		if err != nil {
			return nil, err
		}
		return []endpointRef{ref}, nil
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

// workloadRef resolves a workload endpoint to a pod made from its template:
// the template's labels (a Job's with the labels the API server adds), named
// ports and hostNetwork, isolated by the policies whose podSelector matches
// those labels, exactly as such a pod would be. Any listed controller can be
// named, also a ReplicaSet a Deployment owns: its template is its pods'.
func (a *Analysis) workloadRef(inv *inventory.Inventory, e Endpoint) (endpointRef, error) {
	for _, c := range listControllers(inv) {
		if c.kind != e.Kind || c.meta.Namespace != e.Namespace || c.meta.Name != e.Workload {
			continue
		}
		pod := &inventory.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Workload, Labels: c.labels},
			Spec:       &c.template.Spec,
		}
		iso := &PodIsolation{Pod: pod, Bucket: bucketOf(pod)}
		if c.finished {
			iso.Bucket = Inactive
		}
		for _, pi := range a.NamespacePolicies(e.Namespace) {
			p := &a.Policies[pi]
			// A malformed podSelector selects nothing, as for pods.
			if p.SelectorError != nil || !selectorMatches(&p.Spec.PodSelector, c.labels) {
				continue
			}
			if p.Types.Ingress {
				iso.Ingress = append(iso.Ingress, pi)
			}
			if p.Types.Egress {
				iso.Egress = append(iso.Egress, pi)
			}
		}
		if !pod.Spec.HostNetwork {
			for ci := range a.ClusterPolicies {
				if cp := &a.ClusterPolicies[ci]; cp.evaluated() && cp.subject.selects(a.NamespaceLabels(e.Namespace), c.labels) {
					iso.link(ci, cp)
				}
			}
		}
		ep := &cniEndpoint{namespace: e.Namespace, labels: c.labels, namespaceLabel: a.NamespaceLabels(e.Namespace),
			serviceAccount: serviceAccountOf(pod.Spec.ServiceAccountName), hostNetwork: pod.Spec.HostNetwork}
		for ci := range a.CNIPolicies {
			if cp := &a.CNIPolicies[ci]; cp.selects(ep) {
				iso.linkCNI(ci, cp, ep)
			}
		}
		return endpointRef{name: e.String(), peer: PodPeer(pod, a.NamespaceLabels(e.Namespace)), iso: iso}, nil
	}
	return endpointRef{}, fmt.Errorf("%s %s/%s not found", strings.ToLower(e.Kind), e.Namespace, e.Workload)
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
	var egressPorts, ingressPorts, egressUnknown, ingressUnknown PortSet
	r.Egress, egressPorts, egressUnknown = a.decide(networkingv1.PolicyTypeEgress, s, d, &d.peer, q, number)
	r.Ingress, ingressPorts, ingressUnknown = a.decide(networkingv1.PolicyTypeIngress, d, s, &d.peer, q, number)
	if q != nil {
		r.Allowed = r.Egress.Allowed && r.Ingress.Allowed
		r.Unknown = (r.Egress.Unknown || r.Ingress.Unknown) && (r.Egress.Allowed || r.Egress.Unknown) && (r.Ingress.Allowed || r.Ingress.Unknown)
	} else {
		both := egressPorts.Intersect(ingressPorts)
		r.Allowed = !both.Empty()
		r.AllowedPorts = both.Strings()
		// Unknown where one side is unknown and the other allows or is unknown.
		unknown := egressUnknown.Intersect(ingressPorts.Union(ingressUnknown)).Union(ingressUnknown.Intersect(egressPorts))
		r.UnknownPorts = unknown.Strings()
		r.Unknown = !r.Allowed && !unknown.Empty()
	}
	r.Notes = append(r.Notes, a.tierNotes(s, d, &r)...)
	r.Notes = append(r.Notes, a.cniNotes(s, d)...)
	for _, e := range []*endpointRef{s, d} {
		if e.iso == nil {
			continue
		}
		switch e.iso.Bucket {
		case HostNetwork:
			r.Notes = append(r.Notes, e.name+" uses hostNetwork: most CNIs do not enforce NetworkPolicy for it, and its traffic carries the node's address")
		case Inactive:
			if e.iso.Pod.Status.Phase == "" {
				// Only a finished Job's template has no phase.
				r.Notes = append(r.Notes, e.name+" has finished: it starts no more pods")
				break
			}
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
