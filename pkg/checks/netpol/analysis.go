package netpol

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// memoKey names the isolation analysis in the inventory's memo, so every
// netpol check, the coverage table and can-reach share one computation.
const memoKey = "netpol"

// namespaceNameLabel is set by the API server on every namespace (since 1.22)
// and cannot be changed; manifests read offline lack it, so it is added here
// to make namespaceSelector match the same namespaces offline as live.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// Bucket says whether a pod's isolation can be judged.
type Bucket string

const (
	// Judged pods are Running or Pending (or have no status, as in manifests)
	// and use the pod network: NetworkPolicy applies to them.
	Judged Bucket = "judged"
	// HostNetwork pods share the node's network namespace; most CNIs do not
	// enforce NetworkPolicy for them, so they are neither covered nor uncovered.
	HostNetwork Bucket = "hostNetwork"
	// Inactive pods have finished (Succeeded, Failed) or are Unknown: they send
	// and receive nothing, and are counted apart.
	Inactive Bucket = "inactive"
)

// PolicyTypes is the set of directions a policy isolates, after defaulting.
type PolicyTypes struct {
	Ingress bool
	Egress  bool
}

// Has reports whether the direction is in the set.
func (t PolicyTypes) Has(d networkingv1.PolicyType) bool {
	if d == networkingv1.PolicyTypeEgress {
		return t.Egress
	}
	return t.Ingress
}

// EffectiveTypes applies the API server's defaulting (pkg/apis/networking/v1/defaults.go):
// empty policyTypes means Ingress, plus Egress when the policy has egress rules.
// Live objects are already defaulted; manifests read offline are not.
func EffectiveTypes(spec *networkingv1.NetworkPolicySpec) (types PolicyTypes, defaulted bool) {
	if len(spec.PolicyTypes) == 0 {
		return PolicyTypes{Ingress: true, Egress: len(spec.Egress) != 0}, true
	}
	for _, t := range spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			types.Ingress = true
		case networkingv1.PolicyTypeEgress:
			types.Egress = true
		}
	}
	return types, false
}

// Policy is a NetworkPolicy with its defaulted types and the pods it selects.
type Policy struct {
	*networkingv1.NetworkPolicy
	Types PolicyTypes
	// Defaulted is set when policyTypes was empty and Types comes from defaulting.
	Defaulted bool
	// SelectorError is set when podSelector cannot be parsed (only possible
	// offline: the API server rejects it); the policy then selects nothing.
	SelectorError error
	// Selected are indexes into Analysis.Pods of the pods podSelector matches, in every bucket.
	Selected []int
	// SelectedWorkloads are indexes into Analysis.Workloads of the controllers
	// whose pod template podSelector matches (pods no controller runs are in Selected).
	SelectedWorkloads []int
	// SelectsAll is set for podSelector {}: every pod of the namespace, now and later.
	SelectsAll bool
}

// Ref names the policy as namespace/name.
func (p *Policy) Ref() string { return p.Namespace + "/" + p.Name }

// Isolation says which policies isolate a pod, or the pods a workload makes, in each direction.
type Isolation struct {
	// Ingress and Egress are indexes into Analysis.Policies of the policies
	// that select the pod and list that direction. Empty means not isolated:
	// all traffic in that direction is allowed.
	Ingress []int
	Egress  []int
	// TierIngress and TierEgress are indexes into Analysis.ClusterPolicies of
	// the cluster-scoped policies whose subject selects the pod and that have
	// rules for the direction, in evaluation order.
	TierIngress []int
	TierEgress  []int
	// CNIIngress and CNIEgress are indexes into Analysis.CNIPolicies of the
	// Cilium and Calico policies that select the pod and may act in the
	// direction: the pod's verdicts there are unknown.
	CNIIngress []int
	CNIEgress  []int
	// cniDeny says, per direction (dirIndex), whether a CNI policy selecting
	// the pod puts it into default deny there.
	cniDeny [2]bool
}

// Isolated reports whether the pod is isolated in the direction.
func (i *Isolation) Isolated(d networkingv1.PolicyType) bool {
	return len(i.In(d)) > 0
}

// In returns the policies isolating in the direction.
func (i *Isolation) In(d networkingv1.PolicyType) []int {
	if d == networkingv1.PolicyTypeEgress {
		return i.Egress
	}
	return i.Ingress
}

// PodIsolation is one pod's isolation: which policies isolate it in each direction.
type PodIsolation struct {
	Pod    *inventory.Pod
	Bucket Bucket
	Isolation
}

// Ref names the pod as namespace/name.
func (p *PodIsolation) Ref() string { return p.Pod.Namespace + "/" + p.Pod.Name }

// Analysis is the isolation of every pod of the inventory, computed once per run.
type Analysis struct {
	// Pods follows the order of inventory.Pods.
	Pods []PodIsolation
	// Policies follows the order of inventory.NetworkPolicies.
	Policies []Policy
	// ClusterPolicies are the cluster-scoped tiers (ClusterNetworkPolicy,
	// AdminNetworkPolicy, BaselineAdminNetworkPolicy) in evaluation order.
	ClusterPolicies []ClusterPolicy
	// CNIPolicies are the Cilium and Calico policies, by kind, namespace and name.
	CNIPolicies []CNIPolicy
	// Workloads are what coverage counts (see Workload): the controllers of the
	// inventory that no other listed controller owns, then the pods no listed controller runs.
	Workloads []Workload
	// Namespaces lists every namespace known from namespaces, pods, workloads and policies, sorted.
	Namespaces []string

	byNamespace map[string]*namespaceIndex
	nsLabels    map[string]labels.Set
	// tierTouched lists, per namespace, the cluster-scoped policies whose
	// subject selects a pod or workload of it.
	tierTouched map[string][]int
	// cniTouched lists, per namespace, the CNI policies of it or selecting a pod or workload of it.
	cniTouched map[string][]int
}

// namespaceIndex holds a namespace's pods, and the pod templates of its
// controllers, indexed by label, so that a selector visits only the members
// that carry one of its required labels.
type namespaceIndex struct {
	pods      labelIndex // indexes into Pods, in inventory order
	byName    []int      // the same pods sorted by name, for stable output
	templates labelIndex // indexes into Workloads of the controllers, by their pod template's labels
	workloads []int      // indexes into Workloads, controllers and pods, by kind and name
	policies  []int
}

// labelIndex finds the members (pods or pod templates) a selector matches
// through posting lists of their labels.
type labelIndex struct {
	members []int                       // in insertion order, which the posting lists share
	byLabel map[string]map[string][]int // key -> value -> members
	byKey   map[string][]int            // key -> members carrying it
}

func (ix *labelIndex) add(i int, set map[string]string) {
	ix.members = append(ix.members, i)
	if ix.byLabel == nil {
		ix.byLabel, ix.byKey = map[string]map[string][]int{}, map[string][]int{}
	}
	for k, v := range set {
		vals := ix.byLabel[k]
		if vals == nil {
			vals = map[string][]int{}
			ix.byLabel[k] = vals
		}
		vals[v] = append(vals[v], i)
		ix.byKey[k] = append(ix.byKey[k], i)
	}
}

// Analyze returns the inventory's isolation analysis, computing it on first use.
func Analyze(inv *inventory.Inventory) *Analysis {
	return inv.Memo(memoKey, func() any { return analyze(inv) }).(*Analysis)
}

func analyze(inv *inventory.Inventory) *Analysis {
	a := &Analysis{
		Pods:        make([]PodIsolation, len(inv.Pods)),
		Policies:    make([]Policy, len(inv.NetworkPolicies)),
		byNamespace: map[string]*namespaceIndex{},
		nsLabels:    make(map[string]labels.Set, len(inv.Namespaces)),
	}
	for i := range inv.Namespaces {
		ns := &inv.Namespaces[i]
		set := make(labels.Set, len(ns.Labels)+1)
		for k, v := range ns.Labels {
			set[k] = v
		}
		set[namespaceNameLabel] = ns.Name
		a.nsLabels[ns.Name] = set
		a.index(ns.Name)
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		a.Pods[i] = PodIsolation{Pod: p, Bucket: bucketOf(p)}
		a.index(p.Namespace).pods.add(i, p.Labels)
	}
	a.collectWorkloads(inv)
	for i := range inv.NetworkPolicies {
		np := &inv.NetworkPolicies[i]
		pol := &a.Policies[i]
		pol.NetworkPolicy = np
		pol.Types, pol.Defaulted = EffectiveTypes(&np.Spec)
		ix := a.index(np.Namespace)
		ix.policies = append(ix.policies, i)
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			pol.SelectorError = err
			continue
		}
		pol.SelectsAll = sel.Empty()
		pol.Selected = ix.selectPods(sel, inv.Pods)
		pol.SelectedWorkloads = ix.templates.selectMembers(sel, func(w int) labels.Set { return a.Workloads[w].Labels })
	}
	// Live lists come in name order, files in file order: sort so that both
	// give the same findings, evidence and can-reach answers.
	for _, ix := range a.byNamespace {
		ix.byName = slices.Clone(ix.pods.members)
		slices.SortFunc(ix.byName, func(x, y int) int { return strings.Compare(inv.Pods[x].Name, inv.Pods[y].Name) })
		slices.SortFunc(ix.policies, func(x, y int) int {
			return strings.Compare(inv.NetworkPolicies[x].Name, inv.NetworkPolicies[y].Name)
		})
		// By kind, then name: the order of kind/name, without building the strings.
		slices.SortFunc(ix.workloads, func(x, y int) int {
			wx, wy := &a.Workloads[x], &a.Workloads[y]
			return cmp.Or(strings.Compare(wx.Kind, wy.Kind), strings.Compare(wx.Name, wy.Name))
		})
	}
	a.Namespaces = make([]string, 0, len(a.byNamespace))
	for ns := range a.byNamespace {
		a.Namespaces = append(a.Namespaces, ns)
	}
	sort.Strings(a.Namespaces)
	a.linkPods()
	a.linkWorkloads()
	a.ClusterPolicies = clusterPolicies(inv)
	a.selectClusterPolicies()
	a.selectCNIPolicies(inv)
	return a
}

// linkPods fills each pod's isolating policies from the policies' selections.
// Counting first and carving every list out of one array keeps this linear
// without regrowing slices when many namespace-wide policies select every pod.
func (a *Analysis) linkPods() {
	in, eg := make([]int, len(a.Pods)), make([]int, len(a.Pods))
	total := 0
	for i := range a.Policies {
		p := &a.Policies[i]
		for _, pi := range p.Selected {
			if p.Types.Ingress {
				in[pi]++
				total++
			}
			if p.Types.Egress {
				eg[pi]++
				total++
			}
		}
	}
	backing := make([]int, 0, total)
	for pi := range a.Pods {
		a.Pods[pi].Ingress = backing[len(backing) : len(backing) : len(backing)+in[pi]]
		backing = backing[:len(backing)+in[pi]]
		a.Pods[pi].Egress = backing[len(backing) : len(backing) : len(backing)+eg[pi]]
		backing = backing[:len(backing)+eg[pi]]
	}
	for _, ns := range a.Namespaces {
		for _, i := range a.byNamespace[ns].policies {
			a.link(i)
		}
	}
	for pi := range a.Pods {
		// Keep "not isolated" as a nil list, as before any policy is seen.
		if len(a.Pods[pi].Ingress) == 0 {
			a.Pods[pi].Ingress = nil
		}
		if len(a.Pods[pi].Egress) == 0 {
			a.Pods[pi].Egress = nil
		}
	}
}

// link records policy i on the pods it selects.
func (a *Analysis) link(i int) {
	p := &a.Policies[i]
	for _, pi := range p.Selected {
		pod := &a.Pods[pi]
		if p.Types.Ingress {
			pod.Ingress = append(pod.Ingress, i)
		}
		if p.Types.Egress {
			pod.Egress = append(pod.Egress, i)
		}
	}
}

func (a *Analysis) index(ns string) *namespaceIndex {
	ix := a.byNamespace[ns]
	if ix == nil {
		ix = &namespaceIndex{}
		a.byNamespace[ns] = ix
	}
	return ix
}

// bucketOf sorts a pod: hostNetwork first (never enforceable, whatever its
// phase), then finished pods, then the rest, which NetworkPolicy governs.
func bucketOf(p *inventory.Pod) Bucket {
	switch {
	case p.Spec.HostNetwork:
		return HostNetwork
	case p.Status.Phase == corev1.PodSucceeded, p.Status.Phase == corev1.PodFailed, p.Status.Phase == corev1.PodUnknown:
		return Inactive
	}
	// Running, Pending, and "" for a pod written in a manifest without status.
	return Judged
}

// selectPods returns, sorted, the namespace's pods the selector matches.
func (ix *namespaceIndex) selectPods(sel labels.Selector, pods []inventory.Pod) []int {
	return ix.pods.selectMembers(sel, func(i int) labels.Set { return pods[i].Labels })
}

// selectMembers returns, sorted, the members the selector matches. It starts
// from the smallest posting list among the selector's positive requirements
// (=, in, exists) and filters it; only selectors with no positive requirement
// ({} or only !=, notin, !) scan every member.
func (ix *labelIndex) selectMembers(sel labels.Selector, labelsOf func(int) labels.Set) []int {
	reqs, selectable := sel.Requirements()
	if !selectable {
		return nil
	}
	var candidates []int
	found, sorted := false, true
	for _, r := range reqs {
		var c []int
		single := true
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			vals := r.ValuesUnsorted()
			for _, v := range vals {
				c = append(c, ix.byLabel[r.Key()][v]...)
			}
			single = len(vals) <= 1
		case selection.Exists:
			c = ix.byKey[r.Key()]
		default:
			continue
		}
		if !found || len(c) < len(candidates) {
			candidates, found, sorted = c, true, single
		}
	}
	if !found {
		candidates = ix.members
	}
	out := make([]int, 0, len(candidates))
	for _, i := range candidates {
		if sel.Matches(labelsOf(i)) {
			out = append(out, i)
		}
	}
	if !sorted {
		// Posting lists of different values of one key are disjoint but interleaved.
		slices.Sort(out)
	}
	return out
}

// NamespaceLabels returns the labels namespaceSelector sees for a namespace:
// its own, plus kubernetes.io/metadata.name, which the API server always sets.
// A namespace known only from the objects in it has that label alone.
func (a *Analysis) NamespaceLabels(ns string) labels.Set {
	if set, ok := a.nsLabels[ns]; ok {
		return set
	}
	return labels.Set{namespaceNameLabel: ns}
}

// NamespacePods returns the indexes into Pods of a namespace's pods, by name.
func (a *Analysis) NamespacePods(ns string) []int {
	if ix := a.byNamespace[ns]; ix != nil {
		return ix.byName
	}
	return nil
}

// NamespacePolicies returns the indexes into Policies of a namespace's policies, by name.
func (a *Analysis) NamespacePolicies(ns string) []int {
	if ix := a.byNamespace[ns]; ix != nil {
		return ix.policies
	}
	return nil
}

// FindPod returns the index into Pods of namespace/name.
func (a *Analysis) FindPod(ns, name string) (int, bool) {
	for _, i := range a.NamespacePods(ns) {
		if a.Pods[i].Pod.Name == name {
			return i, true
		}
	}
	return 0, false
}
