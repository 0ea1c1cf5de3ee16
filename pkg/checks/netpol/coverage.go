package netpol

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Coverage is the NetworkPolicy summary carried in the report
// (finding.Coverage{Domain: "netpol"}) and shown as a table.
type Coverage struct {
	CNI        CNI                 `json:"cni"`
	Namespaces []NamespaceCoverage `json:"namespaces"`
	Total      CoverageTotal       `json:"total"`

	// analysis is kept for NamespaceReach when the audit's report draws the
	// reachability matrix (inventory.Settings.NamespaceReach): it holds the
	// pods, so the other reports leave it out. Not part of the document.
	analysis *Analysis
}

// CoverageDomain makes Coverage the netpol document of a report's coverage.
func (*Coverage) CoverageDomain() string { return "netpol" }

// NamespaceCoverage is one namespace's isolation, counted in workloads (see
// Workload): a controller with the pods it runs, or a pod no listed controller
// runs. Workloads and the isolated counts cover those whose pods are Running
// or Pending (or, in manifests, have no status) on the pod network; Pods counts
// such pods, whoever runs them. hostNetwork and finished workloads are counted apart.
type NamespaceCoverage struct {
	Namespace string `json:"namespace"`
	Policies  int    `json:"policies"`
	// ClusterPolicies counts the cluster-scoped policies (ClusterNetworkPolicy,
	// AdminNetworkPolicy, BaselineAdminNetworkPolicy) whose subject selects
	// pods of the namespace; isolation and default deny count them too.
	ClusterPolicies int `json:"clusterPolicies,omitempty"`
	Workloads       int `json:"workloads"`
	Pods            int `json:"pods"`
	IngressIsolated int `json:"ingressIsolated"`
	EgressIsolated  int `json:"egressIsolated"`
	// IngressPercent and EgressPercent are isolated workloads per 100 workloads, one decimal; 0 without workloads.
	IngressPercent     float64 `json:"ingressPercent"`
	EgressPercent      float64 `json:"egressPercent"`
	DefaultDenyIngress bool    `json:"defaultDenyIngress"`
	DefaultDenyEgress  bool    `json:"defaultDenyEgress"`
	// HostNetwork workloads are not enforceable; Inactive ones (finished pods and Jobs) send nothing.
	HostNetwork int `json:"hostNetwork"`
	Inactive    int `json:"inactive"`
	// CNIPolicies counts the Cilium and Calico policies of the namespace or
	// selecting its pods; IngressUnknown and EgressUnknown the workloads they
	// select in that direction, whose isolation is unknown (never counted isolated).
	CNIPolicies    int `json:"cniPolicies,omitempty"`
	IngressUnknown int `json:"ingressUnknown,omitempty"`
	EgressUnknown  int `json:"egressUnknown,omitempty"`
}

// CoverageTotal sums the namespaces; DefaultDeny* count namespaces.
type CoverageTotal struct {
	Namespaces         int     `json:"namespaces"`
	Policies           int     `json:"policies"`
	Workloads          int     `json:"workloads"`
	Pods               int     `json:"pods"`
	IngressIsolated    int     `json:"ingressIsolated"`
	EgressIsolated     int     `json:"egressIsolated"`
	IngressPercent     float64 `json:"ingressPercent"`
	EgressPercent      float64 `json:"egressPercent"`
	DefaultDenyIngress int     `json:"defaultDenyIngress"`
	DefaultDenyEgress  int     `json:"defaultDenyEgress"`
	HostNetwork        int     `json:"hostNetwork"`
	Inactive           int     `json:"inactive"`
	IngressUnknown     int     `json:"ingressUnknown,omitempty"`
	EgressUnknown      int     `json:"egressUnknown,omitempty"`
}

// CoverageNeeds are the kinds Coverage reads.
func CoverageNeeds() []inventory.Kind {
	return append(append(append([]inventory.Kind{inventory.Namespaces, inventory.Pods, inventory.NetworkPolicies}, WorkloadKinds()...), TierKinds()...), CNIKinds()...)
}

// ComputeCoverage summarises workload isolation per namespace and for the cluster.
func ComputeCoverage(inv *inventory.Inventory) *Coverage {
	a := Analyze(inv)
	c := &Coverage{CNI: DetectCNI(inv), Namespaces: make([]NamespaceCoverage, 0, len(a.Namespaces))}
	if inv.Settings.NamespaceReach {
		c.analysis = a
	}
	t := &c.Total
	for _, ns := range a.Namespaces {
		s := a.namespaceState(ns)
		nc := NamespaceCoverage{
			Namespace: ns, Policies: len(a.NamespacePolicies(ns)), ClusterPolicies: len(a.namespaceClusterPolicies(ns)),
			Workloads: s.judged, Pods: s.pods, IngressIsolated: s.isolatedIngress, EgressIsolated: s.isolatedEgress,
			IngressPercent: percent(s.isolatedIngress, s.judged), EgressPercent: percent(s.isolatedEgress, s.judged),
			DefaultDenyIngress: len(s.denyIngress) > 0, DefaultDenyEgress: len(s.denyEgress) > 0,
			HostNetwork: s.hostNetwork, Inactive: s.inactive,
			CNIPolicies: len(a.namespaceCNIPolicies(ns)), IngressUnknown: len(s.unknownIngress), EgressUnknown: len(s.unknownEgress),
		}
		c.Namespaces = append(c.Namespaces, nc)
		t.Namespaces++
		t.Policies += nc.Policies
		t.Workloads += nc.Workloads
		t.Pods += nc.Pods
		t.IngressIsolated += nc.IngressIsolated
		t.EgressIsolated += nc.EgressIsolated
		t.HostNetwork += nc.HostNetwork
		t.Inactive += nc.Inactive
		t.IngressUnknown += nc.IngressUnknown
		t.EgressUnknown += nc.EgressUnknown
		if nc.DefaultDenyIngress {
			t.DefaultDenyIngress++
		}
		if nc.DefaultDenyEgress {
			t.DefaultDenyEgress++
		}
	}
	t.IngressPercent = percent(t.IngressIsolated, t.Workloads)
	t.EgressPercent = percent(t.EgressIsolated, t.Workloads)
	return c
}

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(of)) / 10
}

// namespaceState is what the namespace-level checks and the coverage need of a namespace.
type namespaceState struct {
	// judged, hostNetwork and inactive count workloads by bucket.
	judged, hostNetwork, inactive int
	// pods counts the Running and Pending pods on the pod network, whoever runs them.
	pods int
	// onlyPods is set when every judged workload is a pod of its own: messages then speak of pods.
	onlyPods                        bool
	isolatedIngress, isolatedEgress int
	// notIsolatedIngress and notIsolatedEgress are the judged workloads open in that direction.
	notIsolatedIngress, notIsolatedEgress []int
	// openPodsIngress and openPodsEgress are the judged pods open in that direction.
	openPodsIngress, openPodsEgress []int
	// unknownIngress and unknownEgress are the judged workloads a Cilium or
	// Calico policy selects in that direction: neither isolated nor open.
	unknownIngress, unknownEgress []int
	// denyIngress and denyEgress are the policies that isolate every pod of
	// the namespace in that direction; empty when there is no default deny.
	denyIngress, denyEgress []string
	// allowAllIngress and allowAllEgress are the indexes into Policies of the
	// policies that select every pod and admit every peer on every port: they
	// undo any default deny.
	allowAllIngress, allowAllEgress []int
}

func (a *Analysis) namespaceState(ns string) namespaceState {
	s := namespaceState{onlyPods: true}
	for _, i := range a.NamespaceWorkloads(ns) {
		w := &a.Workloads[i]
		switch w.Bucket {
		case HostNetwork:
			s.hostNetwork++
			continue
		case Inactive:
			s.inactive++
			continue
		}
		s.judged++
		s.onlyPods = s.onlyPods && !w.Controlled()
		switch {
		case a.UnknownIn(&w.Isolation, networkingv1.PolicyTypeIngress):
			s.unknownIngress = append(s.unknownIngress, i)
		case a.IsolatedBy(&w.Isolation, networkingv1.PolicyTypeIngress):
			s.isolatedIngress++
		default:
			s.notIsolatedIngress = append(s.notIsolatedIngress, i)
		}
		switch {
		case a.UnknownIn(&w.Isolation, networkingv1.PolicyTypeEgress):
			s.unknownEgress = append(s.unknownEgress, i)
		case a.IsolatedBy(&w.Isolation, networkingv1.PolicyTypeEgress):
			s.isolatedEgress++
		default:
			s.notIsolatedEgress = append(s.notIsolatedEgress, i)
		}
	}
	for _, i := range a.NamespacePods(ns) {
		p := &a.Pods[i]
		if p.Bucket != Judged {
			continue
		}
		s.pods++
		if !a.IsolatedBy(&p.Isolation, networkingv1.PolicyTypeIngress) && !a.UnknownIn(&p.Isolation, networkingv1.PolicyTypeIngress) {
			s.openPodsIngress = append(s.openPodsIngress, i)
		}
		if !a.IsolatedBy(&p.Isolation, networkingv1.PolicyTypeEgress) && !a.UnknownIn(&p.Isolation, networkingv1.PolicyTypeEgress) {
			s.openPodsEgress = append(s.openPodsEgress, i)
		}
	}
	s.denyIngress, s.allowAllIngress = a.defaultDeny(ns, networkingv1.PolicyTypeIngress)
	s.denyEgress, s.allowAllEgress = a.defaultDeny(ns, networkingv1.PolicyTypeEgress)
	return s
}

// direction returns the state's lists for one direction: the open workloads,
// the open pods, the default-deny policies and the allow-all policies.
func (s *namespaceState) direction(dir networkingv1.PolicyType) (open, openPods []int, deny []string, allowAll []int) {
	if dir == networkingv1.PolicyTypeEgress {
		return s.notIsolatedEgress, s.openPodsEgress, s.denyEgress, s.allowAllEgress
	}
	return s.notIsolatedIngress, s.openPodsIngress, s.denyIngress, s.allowAllIngress
}

// unknown returns the judged workloads whose isolation in the direction is unknown.
func (s *namespaceState) unknown(dir networkingv1.PolicyType) []int {
	if dir == networkingv1.PolicyTypeEgress {
		return s.unknownEgress
	}
	return s.unknownIngress
}

// defaultDeny returns the policies that make the namespace default-deny in
// the direction: they select every pod (podSelector {}) and list the
// direction, so every pod, present or future, is isolated. A namespace-wide
// policy with a rule open to every peer on every port undoes it (it is an
// allow-all, returned second), and then there is no default deny.
func (a *Analysis) defaultDeny(ns string, dir networkingv1.PolicyType) (deny []string, allowAll []int) {
	for _, pi := range a.NamespacePolicies(ns) {
		p := &a.Policies[pi]
		if !p.SelectsAll || !p.Types.Has(dir) {
			continue
		}
		if slices.ContainsFunc(rulesOf(p, dir), openToAll) {
			allowAll = append(allowAll, pi)
		} else {
			deny = append(deny, p.Ref())
		}
	}
	if len(a.ClusterPolicies) == 0 {
		if len(allowAll) > 0 {
			return nil, allowAll
		}
		return append(deny, a.cniDefaultDeny(ns, dir)...), nil
	}
	// The Admin tier decides before any NetworkPolicy, even one that admits
	// everyone; the Baseline tier only where no NetworkPolicy decides.
	admin, baseline := a.tierDefaultDeny(ns, dir)
	if len(allowAll) > 0 {
		if len(admin) > 0 {
			return admin, nil
		}
		return nil, allowAll
	}
	return append(append(deny, admin...), baseline...), nil
}

// openToAll reports whether a rule admits every peer on every port.
func openToAll(r rule) bool {
	return len(openPeers(r.peers)) > 0 && isAllPorts(RulePorts(r.ports, nil))
}

func isAllPorts(s PortSet) bool {
	for _, proto := range protocols() {
		if len(s[proto]) != 1 || s[proto][0] != (PortRange{1, 65535}) {
			return false
		}
	}
	return true
}

// openPeers says why a rule's peers admit (nearly) everyone: no from/to, an
// empty peer, namespaceSelector {} without a narrowing podSelector, or an
// ipBlock of a whole address family. It returns nil for a rule that narrows its peers.
func openPeers(peers []networkingv1.NetworkPolicyPeer) []string {
	if len(peers) == 0 {
		return []string{"no peers listed: every address"}
	}
	var out []string
	for i, p := range peers {
		switch {
		case p.IPBlock != nil:
			if pfx, err := netip.ParsePrefix(p.IPBlock.CIDR); err == nil && pfx.Bits() == 0 {
				why := fmt.Sprintf("peer %d: ipBlock %s", i, p.IPBlock.CIDR)
				if len(p.IPBlock.Except) > 0 {
					why += fmt.Sprintf(" (except %d ranges)", len(p.IPBlock.Except))
				}
				out = append(out, why)
			}
		case p.PodSelector == nil && p.NamespaceSelector == nil:
			out = append(out, fmt.Sprintf("peer %d: {} (the API server rejects an empty peer; read as every address)", i))
		case p.NamespaceSelector != nil && emptySelector(p.NamespaceSelector) && (p.PodSelector == nil || emptySelector(p.PodSelector)):
			out = append(out, fmt.Sprintf("peer %d: namespaceSelector {}: every pod in every namespace", i))
		}
	}
	return out
}

func emptySelector(s *metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

// dnsTargets are the pods DNS egress must reach: the kube-system pods labelled
// k8s-app=kube-dns when the inventory has them, else a stand-in with the
// labels and ports of the kube-dns/CoreDNS deployments of kubeadm and most distributions.
func (a *Analysis) dnsTargets() []Peer {
	var out []Peer
	for _, i := range a.NamespacePods("kube-system") {
		p := &a.Pods[i]
		if p.Bucket == Judged && p.Pod.Labels["k8s-app"] == "kube-dns" {
			out = append(out, PodPeer(p.Pod, a.NamespaceLabels("kube-system")))
		}
	}
	if len(out) > 0 {
		return out
	}
	return []Peer{{
		Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}, NamespaceLabels: a.NamespaceLabels("kube-system"),
		Ports: []corev1.ContainerPort{
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
		},
	}}
}

// allowsDNS reports whether a policy's egress rules let a pod resolve names:
// UDP 53 to a DNS target, or UDP 53 to any ipBlock (node-local caches and
// upstream resolvers live at addresses the inventory does not show).
func (a *Analysis) allowsDNS(p *Policy, targets []Peer) bool {
	for _, r := range rulesOf(p, networkingv1.PolicyTypeEgress) {
		for ti := range targets {
			t := &targets[ti]
			if PeersMatch(r.peers, p.Namespace, t) && RulePorts(r.ports, t).Contains(corev1.ProtocolUDP, 53) {
				return true
			}
		}
		for _, peer := range r.peers {
			if peer.IPBlock != nil && RulePorts(r.ports, nil).Contains(corev1.ProtocolUDP, 53) {
				return true
			}
		}
	}
	return false
}

// Table renders the coverage for the table output (output.Tabular): one row
// per namespace and a total, counts with percentages. Isolation is counted
// in workloads; PODS are the Running and Pending pods, whoever runs them.
func (c *Coverage) Table() (title string, headers []string, rows [][]string) {
	title = "NetworkPolicy coverage (CNI: " + string(c.CNI.Status)
	if len(c.CNI.Enforcing) > 0 {
		title += ", " + strings.Join(c.CNI.Enforcing, ", ")
	}
	title += ")"
	headers = []string{"NAMESPACE", "POLICIES", "WORKLOADS", "PODS", "INGRESS ISOLATED", "EGRESS ISOLATED",
		"DEFAULT-DENY INGRESS", "DEFAULT-DENY EGRESS", "HOSTNETWORK", "INACTIVE"}
	row := func(name string, policies, workloads, pods, in, eg int, inPct, egPct float64, denyIn, denyEg string, host, inactive, inUnknown, egUnknown int) []string {
		return []string{name, strconv.Itoa(policies), strconv.Itoa(workloads), strconv.Itoa(pods),
			isolatedCell(in, workloads, inPct) + unknownCell(inUnknown), isolatedCell(eg, workloads, egPct) + unknownCell(egUnknown),
			denyIn, denyEg, strconv.Itoa(host), strconv.Itoa(inactive)}
	}
	for _, n := range c.Namespaces {
		rows = append(rows, row(n.Namespace, n.Policies, n.Workloads, n.Pods, n.IngressIsolated, n.EgressIsolated, n.IngressPercent, n.EgressPercent,
			yesNo(n.DefaultDenyIngress), yesNo(n.DefaultDenyEgress), n.HostNetwork, n.Inactive, n.IngressUnknown, n.EgressUnknown))
	}
	t := c.Total
	rows = append(rows, row("TOTAL", t.Policies, t.Workloads, t.Pods, t.IngressIsolated, t.EgressIsolated, t.IngressPercent, t.EgressPercent,
		fmt.Sprintf("%d/%d", t.DefaultDenyIngress, t.Namespaces), fmt.Sprintf("%d/%d", t.DefaultDenyEgress, t.Namespaces), t.HostNetwork, t.Inactive,
		t.IngressUnknown, t.EgressUnknown))
	return title, headers, rows
}

// unknownCell adds to an isolation cell the workloads whose isolation is
// unknown (a Cilium or Calico policy selects them); nothing when there are none.
func unknownCell(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d unknown", n)
}

func isolatedCell(n, of int, pct float64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d (%s%%)", n, strconv.FormatFloat(pct, 'f', -1, 64))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
