package netpol

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The verdicts of a cell of the namespace reachability matrix: whether the
// running workloads of one namespace may open connections to those of another.
const (
	ReachAll     = "all"     // every source workload reaches every destination workload on some port
	ReachSome    = "some"    // some pairs are allowed, others not
	ReachNone    = "none"    // no pair is allowed
	ReachUnknown = "unknown" // none is known to be allowed, and some verdict is unknown
	ReachEmpty   = ""        // a side has no running workload on the pod network
)

// maxReachGroups bounds the matrix: it judges every pair of distinct pod
// shapes (namespace, labels, ports, isolating policies), so its cost grows
// with their square. Past the bound the report says it was not computed.
const maxReachGroups = 300

// NamespaceReach returns, for each ordered pair of namespaces, whether
// policy lets the workloads of the first connect to those of the second (on
// any port), judged as `can-reach` judges one pair: the source's egress and
// the destination's ingress, with the cluster-scoped tiers. A workload is
// one of its Running or Pending pods, or, without pods (manifests), a pod of
// its template's labels. hostNetwork and finished workloads are left out.
// note says why the matrix is empty when it is.
func (c *Coverage) NamespaceReach() (namespaces []string, cells [][]string, note string) {
	a := c.analysis
	if a == nil {
		return nil, nil, "not computed for this report: the html and dot reports of an audit draw it"
	}
	groups := map[string][]endpointRef{}
	total := 0
	for _, ns := range a.Namespaces {
		seen := map[string]bool{}
		for _, wi := range a.NamespaceWorkloads(ns) {
			ref, ok := a.workloadEndpoint(wi)
			if !ok {
				continue
			}
			key := endpointShape(&ref)
			if seen[key] {
				continue
			}
			seen[key] = true
			groups[ns] = append(groups[ns], ref)
			total++
		}
		namespaces = append(namespaces, ns)
	}
	if total > maxReachGroups {
		return namespaces, nil, fmt.Sprintf("not computed: %d distinct workload shapes, more than %d; use kubectl harden netpol can-reach for the pairs you care about", total, maxReachGroups)
	}
	cells = make([][]string, len(namespaces))
	for i, from := range namespaces {
		cells[i] = make([]string, len(namespaces))
		for j, to := range namespaces {
			cells[i][j] = a.namespaceCell(groups[from], groups[to])
		}
	}
	return namespaces, cells, ""
}

func (a *Analysis) namespaceCell(srcs, dsts []endpointRef) string {
	if len(srcs) == 0 || len(dsts) == 0 {
		return ReachEmpty
	}
	allowed, unknown, pairs := 0, 0, 0
	for i := range srcs {
		for j := range dsts {
			r, err := a.reach(&srcs[i], &dsts[j], nil)
			pairs++
			switch {
			case err != nil:
			case r.Allowed:
				allowed++
			case r.Unknown:
				unknown++
			}
		}
	}
	switch {
	case allowed == pairs:
		return ReachAll
	case allowed > 0:
		return ReachSome
	case unknown > 0:
		return ReachUnknown
	}
	return ReachNone
}

// workloadEndpoint is a workload as one connection end: one of its judged
// pods, else a pod of its template's labels with its isolation.
func (a *Analysis) workloadEndpoint(wi int) (endpointRef, bool) {
	w := &a.Workloads[wi]
	if w.Bucket != Judged {
		return endpointRef{}, false
	}
	for _, pi := range w.Pods {
		if a.Pods[pi].Bucket == Judged {
			return a.podRef(pi), true
		}
	}
	if !w.Controlled() {
		return endpointRef{}, false
	}
	pod := &inventory.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name, Labels: w.Labels},
		Spec: &corev1.PodSpec{ServiceAccountName: w.serviceAccount}}
	iso := &PodIsolation{Pod: pod, Bucket: Judged, Isolation: w.Isolation}
	return endpointRef{name: w.Namespace + "/" + w.Ref(), peer: PodPeer(pod, a.NamespaceLabels(w.Namespace)), iso: iso}, true
}

// endpointShape is what decides a pod's connections: its labels, its ports,
// its addresses and the policies isolating it. Pods of one shape answer alike.
func endpointShape(e *endpointRef) string {
	var b strings.Builder
	keys := make([]string, 0, len(e.peer.Labels))
	for k := range e.peer.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s,", k, e.peer.Labels[k])
	}
	fmt.Fprintf(&b, "|%v|%v", e.peer.Ports, e.peer.IPs)
	if e.iso != nil {
		fmt.Fprintf(&b, "|%v|%v|%v|%v", e.iso.Ingress, e.iso.Egress, e.iso.TierIngress, e.iso.TierEgress)
		if len(e.iso.CNIIngress)+len(e.iso.CNIEgress) > 0 {
			fmt.Fprintf(&b, "|%s|%v|%v", e.peer.ServiceAccount, e.iso.CNIIngress, e.iso.CNIEgress)
		}
	}
	return b.String()
}
