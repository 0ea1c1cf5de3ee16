package netpol

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The CNIs' own policies: Cilium's CiliumNetworkPolicy and
// CiliumClusterwideNetworkPolicy (cilium.io/v2) and Calico's NetworkPolicy
// and GlobalNetworkPolicy (projectcalico.org/v3, crd.projectcalico.org/v1).
// The tool reads which pods they select and in which directions, not what
// they allow: every verdict about a pod such a policy selects, in a direction
// it may act on, is unknown, with a note naming the policy; never allowed or
// denied, never counted as isolated. See the package doc for the selection
// rules and their sources.

// CNIKinds are the CNI policy kinds every isolation verdict reads. They are
// optional (inventory.Kind.Optional): a cluster without the CNI's CRDs, or
// manifests without them, have none.
func CNIKinds() []inventory.Kind {
	return []inventory.Kind{inventory.CiliumNetworkPolicies, inventory.CiliumClusterwideNetworkPolicies,
		inventory.CalicoNetworkPolicies, inventory.CalicoGlobalNetworkPolicies}
}

// CNIPolicy is a Cilium or Calico policy with the pods and workloads it selects.
type CNIPolicy struct {
	// Kind names the kind as verdicts cite it: CiliumNetworkPolicy,
	// CiliumClusterwideNetworkPolicy, NetworkPolicy.projectcalico.org,
	// GlobalNetworkPolicy.projectcalico.org.
	Kind       string
	APIVersion string
	Namespace  string // empty for the cluster-wide kinds
	Name       string
	// Ingress and Egress say in which directions the policy may act on the
	// pods it selects.
	Ingress, Egress bool
	// Broad says why the policy is read as selecting every pod in its scope
	// (a selector the tool cannot parse or evaluate); empty otherwise.
	Broad []string

	selectors []cniSelector
	// parts are the selecting units with their rules (a Cilium rule of spec
	// or specs; a Calico policy's spec), notModelled per direction what of
	// them the tool does not evaluate (then the verdicts of the endpoints it
	// selects in that direction are unknown), order a Calico policy's order
	// (nil: last).
	parts       []cniPart
	notModelled [2][]string
	order       *float64
	// Selected are indexes into Analysis.Pods; SelectedWorkloads into Analysis.Workloads.
	Selected          []int
	SelectedWorkloads []int
}

// Ref names the policy as verdicts cite it: "CiliumNetworkPolicy shop/l7".
func (p *CNIPolicy) Ref() string {
	if p.Namespace == "" {
		return p.Kind + " " + p.Name
	}
	return p.Kind + " " + p.Namespace + "/" + p.Name
}

// cniSelector is one way a policy selects endpoints; a policy selects an
// endpoint any of its selectors matches.
type cniSelector struct {
	// all selects every pod on the pod network in scope.
	all bool
	// hostNetwork selects host-network pods (Cilium's nodeSelector: host policies).
	hostNetwork bool
	// pod matches the endpoint's labels as the CNI sees them.
	pod func(e *cniEndpoint) bool
}

// cniEndpoint is a pod (or a pod made from a template) as a CNI policy sees it.
type cniEndpoint struct {
	namespace      string
	labels         labels.Set
	namespaceLabel labels.Set
	serviceAccount string
	hostNetwork    bool
}

// cniPolicies reads the inventory's CNI policies into the model, by kind, namespace and name.
func cniPolicies(inv *inventory.Inventory) []CNIPolicy {
	var out []CNIPolicy
	for _, k := range CNIKinds() {
		var list []unstructured.Unstructured
		switch k {
		case inventory.CiliumNetworkPolicies:
			list = inv.CiliumNetworkPolicies
		case inventory.CiliumClusterwideNetworkPolicies:
			list = inv.CiliumClusterwideNetworkPolicies
		case inventory.CalicoNetworkPolicies:
			list = inv.CalicoNetworkPolicies
		case inventory.CalicoGlobalNetworkPolicies:
			list = inv.CalicoGlobalNetworkPolicies
		}
		var ps []CNIPolicy
		for i := range list {
			u := &list[i]
			p := CNIPolicy{Kind: k.ObjectKind(), APIVersion: u.GetAPIVersion(), Name: u.GetName()}
			if !k.ClusterScoped() {
				p.Namespace = u.GetNamespace()
			}
			if k == inventory.CiliumNetworkPolicies || k == inventory.CiliumClusterwideNetworkPolicies {
				readCilium(&p, u.Object)
			} else {
				readCalico(&p, k == inventory.CalicoGlobalNetworkPolicies, u.Object)
			}
			ps = append(ps, p)
		}
		slices.SortStableFunc(ps, func(x, y CNIPolicy) int {
			if c := strings.Compare(x.Namespace, y.Namespace); c != 0 {
				return c
			}
			return strings.Compare(x.Name, y.Name)
		})
		out = append(out, ps...)
	}
	return out
}

// readCilium reads a Cilium policy's rules (spec, and the list specs): the
// endpoints each selects, and the directions it acts on.
func readCilium(p *CNIPolicy, obj map[string]any) {
	type namedRule struct {
		where string
		r     map[string]any
	}
	var rules []namedRule
	if spec, ok := obj["spec"].(map[string]any); ok {
		rules = append(rules, namedRule{"spec", spec})
	}
	if specs, ok := obj["specs"].([]any); ok {
		for i, s := range specs {
			if m, ok := s.(map[string]any); ok {
				rules = append(rules, namedRule{fmt.Sprintf("specs[%d]", i), m})
			}
		}
	}
	if len(rules) == 0 {
		// Nothing the tool can read selects: assume the worst.
		p.Broad = append(p.Broad, "no spec or specs the tool can read")
		p.Ingress, p.Egress = true, true
		p.selectors = append(p.selectors, cniSelector{all: true, hostNetwork: true})
		p.parts = append(p.parts, cniPart{where: "spec", selector: cniSelector{all: true, hostNetwork: true}})
		return
	}
	for _, nr := range rules {
		where, r := nr.where, nr.r
		in, eg := ciliumDirections(r)
		if !in && !eg {
			// A rule with no rules of either direction: read as both, the tool cannot tell.
			in, eg = true, true
		}
		p.Ingress, p.Egress = p.Ingress || in, p.Egress || eg
		part := cniPart{where: where}
		nm := p.ciliumRules(&part, r)
		for di := range nm {
			p.notModelled[di] = append(p.notModelled[di], nm[di]...)
		}
		if _, ok := r["nodeSelector"]; ok {
			for di := range p.notModelled {
				p.notModelled[di] = append(p.notModelled[di], where+": nodeSelector (a host policy)")
			}
			part.selector = cniSelector{hostNetwork: true}
		} else if sel, ok := r["endpointSelector"].(map[string]any); !ok {
			p.Broad = append(p.Broad, where+": no endpointSelector the tool can read")
			part.selector = cniSelector{all: true}
		} else if match, why := ciliumSelector(sel); why != "" {
			p.Broad = append(p.Broad, where+": endpointSelector "+why)
			part.selector = cniSelector{all: true}
		} else {
			part.selector = cniSelector{pod: match}
			part.onlyNamespaceKeys = ciliumNamespaceKeysOnly(sel)
		}
		p.selectors = append(p.selectors, part.selector)
		p.parts = append(p.parts, part)
	}
}

// ciliumDirections says in which directions a Cilium rule acts: where it
// has (deny) rules, even an empty list, or sets enableDefaultDeny.
func ciliumDirections(r map[string]any) (ingress, egress bool) {
	_, in := r["ingress"]
	_, inDeny := r["ingressDeny"]
	_, eg := r["egress"]
	_, egDeny := r["egressDeny"]
	ingress, egress = in || inDeny, eg || egDeny
	if dd, ok := r["enableDefaultDeny"].(map[string]any); ok {
		_, i := dd["ingress"]
		_, e := dd["egress"]
		ingress, egress = ingress || i, egress || e
	}
	return ingress, egress
}

// ciliumPodLabels are the label keys Cilium gives a pod's endpoint besides
// the pod's own labels, and how to compute them.
const (
	ciliumNamespaceLabel      = "io.kubernetes.pod.namespace"
	ciliumServiceAccountLabel = "io.cilium.k8s.policy.serviceaccount"
	ciliumNamespaceLabels     = "io.cilium.k8s.namespace.labels."
)

// ciliumSelector turns a Cilium endpointSelector (a LabelSelector whose
// keys may carry a source prefix: k8s:, any:, or none) into a matcher. why
// is set when the tool cannot evaluate it (another source such as
// reserved:, a key it does not know the value of, a malformed selector):
// the caller then reads it as selecting every pod in scope.
func ciliumSelector(sel map[string]any) (func(e *cniEndpoint) bool, string) {
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(sel, &ls); err != nil {
		return nil, fmt.Sprintf("is malformed (%v)", err)
	}
	norm := func(k string) (string, string) {
		src, key, found := strings.Cut(k, ":")
		if !found {
			return k, ""
		}
		switch src {
		case "k8s", "any":
		default:
			return "", fmt.Sprintf("uses the label source %q, which the tool does not model", src)
		}
		if strings.HasPrefix(key, "io.cilium.k8s.policy.") && key != ciliumServiceAccountLabel {
			return "", fmt.Sprintf("uses %s, which the tool does not know the value of", key)
		}
		return key, ""
	}
	out := metav1.LabelSelector{}
	for k, v := range ls.MatchLabels {
		key, why := norm(k)
		if why != "" {
			return nil, why
		}
		if out.MatchLabels == nil {
			out.MatchLabels = map[string]string{}
		}
		out.MatchLabels[key] = v
	}
	for _, e := range ls.MatchExpressions {
		key, why := norm(e.Key)
		if why != "" {
			return nil, why
		}
		e.Key = key
		out.MatchExpressions = append(out.MatchExpressions, e)
	}
	s, err := metav1.LabelSelectorAsSelector(&out)
	if err != nil {
		return nil, fmt.Sprintf("cannot be parsed (%v)", err)
	}
	return func(e *cniEndpoint) bool {
		set := make(labels.Set, len(e.labels)+len(e.namespaceLabel)+2)
		for k, v := range e.labels {
			set[k] = v
		}
		for k, v := range e.namespaceLabel {
			set[ciliumNamespaceLabels+k] = v
		}
		set[ciliumNamespaceLabel] = e.namespace
		set[ciliumServiceAccountLabel] = e.serviceAccount
		return s.Matches(set)
	}, ""
}

// Calico's labels on a pod's workload endpoint besides the pod's own
// (libcalico-go's Kubernetes conversion): its namespace, orchestrator and
// service account, and the namespace's labels prefixed pcns.
const (
	calicoNamespaceLabel      = "projectcalico.org/namespace"
	calicoOrchestratorLabel   = "projectcalico.org/orchestrator"
	calicoServiceAccountLabel = "projectcalico.org/serviceaccount"
	calicoNamespaceLabels     = "pcns."
	calicoNameLabel           = "projectcalico.org/name"
)

// readCalico reads a Calico policy's selection: selector (and, for a
// GlobalNetworkPolicy, namespaceSelector) over the pods on the pod network
// (host-network pods are host endpoints, which Calico selects through
// HostEndpoint objects the tool does not read), and types, defaulted as the
// API does.
func readCalico(p *CNIPolicy, global bool, obj map[string]any) {
	spec, _ := obj["spec"].(map[string]any)
	_, hasIn := spec["ingress"]
	_, hasEg := spec["egress"]
	types, _ := spec["types"].([]any)
	for _, t := range types {
		switch t {
		case "Ingress":
			p.Ingress = true
		case "Egress":
			p.Egress = true
		}
	}
	if len(types) == 0 || !p.Ingress && !p.Egress {
		// projectcalico/api NetworkPolicySpec.Types: Ingress without egress
		// rules, Egress with egress rules only, both with both.
		p.Ingress, p.Egress = !hasEg || hasIn, hasEg
	}
	text, _ := spec["selector"].(string)
	part := cniPart{where: "spec", onlyNamespaceKeys: calicoNamespaceKeysOnly(text)}
	p.notModelled = p.calicoRules(&part, spec, global)
	defer func() {
		part.selector = p.selectors[0]
		p.parts = append(p.parts, part)
	}()
	pod, why := calicoMatcher(spec, "selector", false)
	if why != "" {
		p.Broad = append(p.Broad, why)
		p.selectors = append(p.selectors, cniSelector{all: true})
		return
	}
	var ns func(e *cniEndpoint) bool
	if global {
		if ns, why = calicoMatcher(spec, "namespaceSelector", true); why != "" {
			p.Broad = append(p.Broad, why)
			p.selectors = append(p.selectors, cniSelector{all: true})
			return
		}
	}
	p.selectors = append(p.selectors, cniSelector{pod: func(e *cniEndpoint) bool {
		return (ns == nil || ns(e)) && pod(e)
	}})
}

// calicoMatcher parses the selector in spec[field]; why is set when the
// tool cannot evaluate it. A namespace selector sees the namespace's labels
// and projectcalico.org/name.
func calicoMatcher(spec map[string]any, field string, namespace bool) (func(e *cniEndpoint) bool, string) {
	raw, present := spec[field]
	text, ok := raw.(string)
	if present && !ok {
		return nil, fmt.Sprintf("%s is not a string", field)
	}
	sel, err := parseCalicoSelector(text)
	if err != nil {
		return nil, fmt.Sprintf("%s cannot be parsed (%v)", field, err)
	}
	if usesGlobal(sel) {
		return nil, field + " uses global(), which the tool does not model"
	}
	var unknownKey string
	sel.keys(func(k string) {
		if namespace || unknownKey != "" {
			return
		}
		switch {
		case strings.HasPrefix(k, "pcsa."):
			unknownKey = k
		case strings.HasPrefix(k, "projectcalico.org/") && k != calicoNamespaceLabel && k != calicoOrchestratorLabel && k != calicoServiceAccountLabel:
			unknownKey = k
		}
	})
	if unknownKey != "" {
		return nil, fmt.Sprintf("%s reads %s, which the tool does not know the value of", field, unknownKey)
	}
	if namespace {
		return func(e *cniEndpoint) bool {
			set := make(map[string]string, len(e.namespaceLabel)+1)
			for k, v := range e.namespaceLabel {
				set[k] = v
			}
			set[calicoNameLabel] = e.namespace
			return sel.matches(set)
		}, ""
	}
	return func(e *cniEndpoint) bool {
		set := make(map[string]string, len(e.labels)+len(e.namespaceLabel)+3)
		for k, v := range e.labels {
			set[k] = v
		}
		for k, v := range e.namespaceLabel {
			set[calicoNamespaceLabels+k] = v
		}
		set[calicoNamespaceLabel] = e.namespace
		set[calicoOrchestratorLabel] = "k8s"
		set[calicoServiceAccountLabel] = e.serviceAccount
		return sel.matches(set)
	}, ""
}

// selects reports whether the policy selects the endpoint.
func (p *CNIPolicy) selects(e *cniEndpoint) bool {
	if p.Namespace != "" && e.namespace != p.Namespace {
		return false
	}
	for _, s := range p.selectors {
		switch {
		case e.hostNetwork:
			if s.hostNetwork {
				return true
			}
		case s.all:
			return true
		case s.pod != nil && s.pod(e):
			return true
		}
	}
	return false
}

// serviceAccountOf returns the service account a pod spec runs as.
func serviceAccountOf(name string) string {
	if name == "" {
		return "default"
	}
	return name
}

// selectCNIPolicies fills each CNI policy's selected pods and workloads and
// links them to their isolation.
func (a *Analysis) selectCNIPolicies(inv *inventory.Inventory) {
	a.CNIPolicies = cniPolicies(inv)
	if len(a.CNIPolicies) == 0 {
		return
	}
	for ci := range a.CNIPolicies {
		cp := &a.CNIPolicies[ci]
		for pi := range a.Pods {
			p := a.Pods[pi].Pod
			e := &cniEndpoint{namespace: p.Namespace, labels: labels.Set(p.Labels), namespaceLabel: a.NamespaceLabels(p.Namespace),
				serviceAccount: serviceAccountOf(p.Spec.ServiceAccountName), hostNetwork: p.Spec.HostNetwork}
			if !cp.selects(e) {
				continue
			}
			cp.Selected = append(cp.Selected, pi)
			a.Pods[pi].linkCNI(ci, cp, e)
			a.touchCNI(p.Namespace, ci)
		}
		for wi := range a.Workloads {
			w := &a.Workloads[wi]
			if !w.Controlled() {
				continue
			}
			e := &cniEndpoint{namespace: w.Namespace, labels: w.Labels, namespaceLabel: a.NamespaceLabels(w.Namespace),
				serviceAccount: w.serviceAccount, hostNetwork: w.Bucket == HostNetwork}
			if !cp.selects(e) {
				continue
			}
			cp.SelectedWorkloads = append(cp.SelectedWorkloads, wi)
			w.linkCNI(ci, cp, e)
			a.touchCNI(w.Namespace, ci)
		}
		if cp.Namespace != "" {
			a.touchCNI(cp.Namespace, ci)
		}
	}
	for wi := range a.Workloads {
		if w := &a.Workloads[wi]; !w.Controlled() {
			p := &a.Pods[w.Pods[0]]
			w.CNIIngress, w.CNIEgress, w.cniDeny = p.CNIIngress, p.CNIEgress, p.cniDeny
		}
	}
}

// touchCNI records that CNI policy ci selects something in, or is a policy
// of, namespace ns.
func (a *Analysis) touchCNI(ns string, ci int) {
	if a.cniTouched == nil {
		a.cniTouched = map[string][]int{}
	}
	if l := a.cniTouched[ns]; !slices.Contains(l, ci) {
		a.cniTouched[ns] = append(l, ci)
	}
}

// linkCNI records CNI policy ci on the isolation of an endpoint e it
// selects, and whether a part selecting it puts it into default deny.
func (i *Isolation) linkCNI(ci int, cp *CNIPolicy, e *cniEndpoint) {
	if cp.Ingress {
		i.CNIIngress = append(i.CNIIngress, ci)
	}
	if cp.Egress {
		i.CNIEgress = append(i.CNIEgress, ci)
	}
	for _, part := range cp.partsFor(e) {
		for di := range part.defaultDeny {
			i.cniDeny[di] = i.cniDeny[di] || part.defaultDeny[di]
		}
	}
}

// CNI returns the CNI policies that select the endpoint and may act in the direction.
func (i *Isolation) CNI(d networkingv1.PolicyType) []int {
	if d == networkingv1.PolicyTypeEgress {
		return i.CNIEgress
	}
	return i.CNIIngress
}

// UnknownIn reports whether the endpoint's verdicts in the direction are
// unknown: a CNI policy selects it that the tool does not evaluate there
// (cniUnknown says why).
func (a *Analysis) UnknownIn(i *Isolation, d networkingv1.PolicyType) bool {
	return len(a.cniUnknown(i, d)) > 0
}

// cniRefs names CNI policies.
func (a *Analysis) cniRefs(cps []int) []string {
	out := make([]string, 0, len(cps))
	for _, ci := range cps {
		out = append(out, a.CNIPolicies[ci].Ref())
	}
	return out
}

// namespaceCNIPolicies returns the indexes into CNIPolicies of the CNI
// policies of the namespace or selecting its pods or workloads, sorted;
// with directions, only those that may act in one of them.
func (a *Analysis) namespaceCNIPolicies(ns string, dirs ...networkingv1.PolicyType) []int {
	var out []int
	for _, ci := range a.cniTouched[ns] {
		cp := &a.CNIPolicies[ci]
		if len(dirs) == 0 || slices.ContainsFunc(dirs, func(d networkingv1.PolicyType) bool {
			return d == networkingv1.PolicyTypeIngress && cp.Ingress || d == networkingv1.PolicyTypeEgress && cp.Egress
		}) {
			out = append(out, ci)
		}
	}
	sort.Ints(out)
	return out
}

// cniNote is what an answer about an endpoint a CNI policy selects in a
// direction the tool does not evaluate it says.
func (p *CNIPolicy) cniNote(d networkingv1.PolicyType) string {
	n := "not modelled: " + p.Ref() + " selects it; verdicts for pods it selects are unknown"
	if len(p.Broad) > 0 {
		n += " (read as selecting every pod in its scope: " + strings.Join(p.Broad, "; ") + ")"
	}
	if nm := p.notModelled[dirIndex(d)]; len(nm) > 0 {
		n += " (outside the modelled subset: " + strings.Join(nm, "; ") + ")"
	}
	return n
}

// cniSide is the verdict of a direction the tool does not evaluate the CNI
// policies selecting self in: unknown.
func (a *Analysis) cniSide(dir networkingv1.PolicyType, self *endpointRef) Side {
	var unmodelled []int
	for _, ci := range self.iso.CNI(dir) {
		if !a.CNIPolicies[ci].exact(dir) {
			unmodelled = append(unmodelled, ci)
		}
	}
	word := strings.ToLower(string(dir))
	if len(unmodelled) == 0 {
		refs := a.cniRefs(self.iso.CNI(dir))
		return Side{Unknown: true, DecidedBy: strings.Join(refs, ", "),
			Reason: fmt.Sprintf("unknown: not modelled: %s for %s; verdicts for pods they select are unknown",
				strings.Join(a.cniUnknown(&self.iso.Isolation, dir), "; "), word)}
	}
	refs := a.cniRefs(unmodelled)
	return Side{Unknown: true, DecidedBy: strings.Join(refs, ", "),
		Reason: fmt.Sprintf("unknown: not modelled: %s %s %s for %s; verdicts for pods it selects are unknown",
			strings.Join(refs, ", "), verb(len(refs), "selects", "select"), self.name, word)}
}

// cniNotes are the notes of an answer about s and d: the CNI policies that
// select the source for egress or the destination for ingress.
func (a *Analysis) cniNotes(s, d *endpointRef) []string {
	var out []string
	seen := map[int]bool{}
	for _, c := range []struct {
		e   *endpointRef
		dir networkingv1.PolicyType
	}{{s, networkingv1.PolicyTypeEgress}, {d, networkingv1.PolicyTypeIngress}} {
		if c.e.iso == nil || !a.UnknownIn(&c.e.iso.Isolation, c.dir) {
			continue
		}
		exact := true
		for _, ci := range c.e.iso.CNI(c.dir) {
			if a.CNIPolicies[ci].exact(c.dir) {
				continue
			}
			exact = false
			if seen[ci] {
				continue
			}
			seen[ci] = true
			out = append(out, c.e.name+": "+a.CNIPolicies[ci].cniNote(c.dir))
		}
		if exact {
			out = append(out, c.e.name+": not modelled: "+strings.Join(a.cniUnknown(&c.e.iso.Isolation, c.dir), "; ")+"; its "+strings.ToLower(string(c.dir))+" verdicts are unknown")
		}
	}
	return out
}
