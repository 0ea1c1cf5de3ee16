package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// saTokenAnnotation names the ServiceAccount a legacy token Secret belongs to.
const saTokenAnnotation = "kubernetes.io/service-account.name"

// escalationGraph links each subject to the identities it can become, so
// that a subject's danger is the worst of what it holds and what it can
// become (SEMANTICS.md: severity is transitive). Nodes are subjects plus
// pseudo nodes for "any service account of namespace NS" and "any user".
type escalationGraph struct {
	nodes  []escNode
	byName map[finding.Subject]int
}

type escNode struct {
	subject finding.Subject
	pseudo  string // label of a pseudo node; empty for a subject
	// own is the worst capability the node holds by its own grants and groups' grants, with its label.
	own      finding.Severity
	ownLabel string
	edges    []escEdge
	// value is the worst severity reachable; next is the edge that leads to it
	// (-1: own), by the fewest hops (dist).
	value finding.Severity
	next  int
	dist  int
}

// escEdge leads to a node; act is nil for group membership and for the edges out of pseudo nodes.
type escEdge struct {
	to  int
	act *escAction
}

// escAction is what a grant lets its holder do to become others, shared by
// every edge it creates.
type escAction struct {
	// label is the action, "create pods in namespace ci".
	label string
	// request is one request the action is made of, for confirming it.
	request Request
	grant   *Grant
	// system is set when the grant's rules doing this are all built-in.
	system bool
}

func (g *escalationGraph) node(s finding.Subject) int {
	if i, ok := g.byName[s]; ok {
		return i
	}
	g.nodes = append(g.nodes, escNode{subject: s, next: -1})
	g.byName[s] = len(g.nodes) - 1
	return len(g.nodes) - 1
}

func (g *escalationGraph) pseudo(label string) int {
	key := finding.Subject{Kind: "", Name: label}
	if i, ok := g.byName[key]; ok {
		return i
	}
	g.nodes = append(g.nodes, escNode{pseudo: label, next: -1})
	g.byName[key] = len(g.nodes) - 1
	return len(g.nodes) - 1
}

// pseudoNodes are the nodes that stand for sets of identities, per namespace
// and cluster-wide, so that a grant over a whole namespace or cluster is one
// edge and not one per service account.
type pseudoNodes struct {
	anySA, podSA, tokenSA       map[string]int
	allSA, allPodSA, allTokenSA int
	anyUser, masters            int
	tokenSecrets                map[string][]tokenSecret
	podSAs                      map[string][]podSA
	// podNamespaces and tokenNamespaces are the keys of podSAs and tokenSecrets, sorted.
	podNamespaces, tokenNamespaces []string
	saByName                       map[string][]finding.Subject
}

func newEscalationGraph(a *Analysis) *escalationGraph {
	g := &escalationGraph{byName: map[finding.Subject]int{}}
	subjects := a.Subjects()
	for _, s := range subjects {
		g.node(s)
	}
	p := &pseudoNodes{anySA: map[string]int{}, podSA: map[string]int{}, tokenSA: map[string]int{},
		tokenSecrets: tokenSecretsByNamespace(a), podSAs: podServiceAccountsByNamespace(a), saByName: map[string][]finding.Subject{}}
	p.masters = g.node(finding.Subject{Kind: rbacv1.GroupKind, Name: mastersGroup})
	g.nodes[p.masters].own, g.nodes[p.masters].ownLabel = finding.Critical, "every permission (system:masters bypasses RBAC)"

	link := func(from, to int) { g.nodes[from].edges = append(g.nodes[from].edges, escEdge{to: to}) }
	p.allSA, p.allPodSA, p.allTokenSA = g.pseudo("any ServiceAccount"), g.pseudo("any pod's ServiceAccount"), g.pseudo("any token Secret's ServiceAccount")
	// A pod or a token needs its ServiceAccount to exist: where the namespace's
	// ServiceAccounts were listed, only those count; elsewhere every one named.
	listed := map[string]bool{}
	for _, sa := range a.inv.ServiceAccounts {
		listed[sa.Namespace] = true
	}
	// Maps are walked in key order so that the graph, and so the paths chosen
	// among equally short ones, are the same on every run.
	for _, ns := range slices.Sorted(maps.Keys(a.saByNamespace)) {
		sas := a.saByNamespace[ns]
		n := g.pseudo("any ServiceAccount in namespace " + ns)
		p.anySA[ns] = n
		link(p.allSA, n)
		for _, sa := range sas {
			if _, exists := a.ServiceAccount(sa); exists || !listed[ns] {
				link(n, g.node(sa))
			}
			p.saByName[sa.Name] = append(p.saByName[sa.Name], sa)
		}
	}
	p.podNamespaces = slices.Sorted(maps.Keys(p.podSAs))
	for _, ns := range p.podNamespaces {
		pods := p.podSAs[ns]
		n := g.pseudo("any pod's ServiceAccount in namespace " + ns)
		p.podSA[ns] = n
		link(p.allPodSA, n)
		seen := map[finding.Subject]bool{}
		for _, pod := range pods {
			if !seen[pod.sa] {
				seen[pod.sa] = true
				link(n, g.node(pod.sa))
			}
		}
	}
	p.tokenNamespaces = slices.Sorted(maps.Keys(p.tokenSecrets))
	for _, ns := range p.tokenNamespaces {
		secrets := p.tokenSecrets[ns]
		n := g.pseudo("any token Secret's ServiceAccount in namespace " + ns)
		p.tokenSA[ns] = n
		link(p.allTokenSA, n)
		for _, sec := range secrets {
			link(n, g.node(sec.sa))
		}
	}
	p.anyUser = g.pseudo("any User")
	for _, s := range subjects {
		if s.Kind == rbacv1.UserKind {
			link(p.anyUser, g.node(s))
		}
	}

	for _, s := range subjects {
		n := g.byName[s]
		// Membership: a subject holds what its implicit groups hold.
		for _, grp := range GroupsOf(s) {
			gs := finding.Subject{Kind: rbacv1.GroupKind, Name: grp}
			if _, named := a.bySubject[gs]; named {
				link(n, g.node(gs))
			}
		}
		for _, gr := range a.bySubject[s] {
			if gr.Role == nil {
				continue
			}
			for _, rc := range a.caps.heldBy(gr) {
				if rep := rc.reportable(); len(rep) > 0 {
					sev := capSeverity(rc.cap, gr, rep)
					if sev > g.nodes[n].own {
						g.nodes[n].own, g.nodes[n].ownLabel = sev, dangerLabel(roleCapability{cap: rc.cap, held: rep}, gr)
					}
				}
				if rc.cap.becomes == becomesNone {
					continue
				}
				for _, h := range rc.held {
					var act *escAction
					for _, to := range g.targets(gr, rc.cap.becomes, h, p) {
						if to == n {
							continue
						}
						if act == nil {
							act = &escAction{label: h.label() + " " + gr.Scope(), grant: gr, system: allSystem(gr, h.rules), request: h.requests(gr)[0]}
						}
						g.nodes[n].edges = append(g.nodes[n].edges, escEdge{to: to, act: act})
					}
				}
			}
		}
	}
	g.propagate()
	return g
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// dangerLabel says what a capability is in a path's last step: "cluster-admin" or "get, list secrets cluster-wide".
func dangerLabel(rc roleCapability, g *Grant) string {
	if rc.cap.check == "rbac/cluster-admin-equivalent" {
		if g.Binding.ClusterWide() {
			return "cluster-admin"
		}
		return "cluster-admin in namespace " + g.Binding.Namespace
	}
	return labelHeld(rc.held) + " " + g.Scope()
}

// namespacesOf returns the namespaces a grant reaches among sorted: all of them
// for a ClusterRoleBinding, else its own.
func (p *pseudoNodes) namespacesOf(cluster bool, ns string, sorted []string) []string {
	if cluster {
		return sorted
	}
	return []string{ns}
}

// targets returns the nodes one held action lets a grant's subject become.
func (g *escalationGraph) targets(gr *Grant, b becoming, h held, p *pseudoNodes) []int {
	cluster, ns := gr.Binding.ClusterWide(), gr.Binding.Namespace
	// one returns the pseudo node for the grant's scope: cluster-wide, or its namespace if that has one.
	one := func(all int, byNS map[string]int) []int {
		if cluster {
			return []int{all}
		}
		if n, ok := byNS[ns]; ok {
			return []int{n}
		}
		return nil
	}
	var out []int
	switch b {
	case becomesAnySA:
		return one(p.allSA, p.anySA)
	case becomesNamedSA:
		if h.names == nil {
			return one(p.allSA, p.anySA)
		}
		for _, name := range h.names {
			for _, sa := range p.saByName[name] {
				if cluster || sa.Namespace == ns {
					out = append(out, g.node(sa))
				}
			}
		}
	case becomesTokenSecretSA:
		// list and watch return every Secret's data; get reads the named ones.
		if h.names == nil || slices.Contains(h.verbs, "list") || slices.Contains(h.verbs, "watch") {
			return one(p.allTokenSA, p.tokenSA)
		}
		for _, sns := range p.namespacesOf(cluster, ns, p.tokenNamespaces) {
			for _, s := range p.tokenSecrets[sns] {
				if slices.Contains(h.names, s.name) {
					out = append(out, g.node(s.sa))
				}
			}
		}
	case becomesPodSA:
		if h.names == nil {
			return one(p.allPodSA, p.podSA)
		}
		for _, pns := range p.namespacesOf(cluster, ns, p.podNamespaces) {
			for _, pod := range p.podSAs[pns] {
				if slices.Contains(h.names, pod.pod) {
					out = append(out, g.node(pod.sa))
				}
			}
		}
	case becomesUser:
		if h.names == nil {
			return []int{p.anyUser}
		}
		for _, name := range h.names {
			if _, _, ok := serviceAccountUser(name); ok {
				// The API server checks impersonation of a service account's user name on serviceaccounts, not users.
				continue
			}
			out = append(out, g.node(finding.Subject{Kind: rbacv1.UserKind, Name: name}))
		}
	case becomesGroup:
		if h.names == nil {
			return []int{p.masters}
		}
		for _, name := range h.names {
			out = append(out, g.node(finding.Subject{Kind: rbacv1.GroupKind, Name: name}))
		}
	}
	return out
}

type tokenSecret struct {
	name string
	sa   finding.Subject
}

// tokenSecretsByNamespace finds legacy ServiceAccount token Secrets by their
// annotation (Secrets are listed as metadata only, so the type is not known).
func tokenSecretsByNamespace(a *Analysis) map[string][]tokenSecret {
	out := map[string][]tokenSecret{}
	for i := range a.inv.Secrets {
		s := &a.inv.Secrets[i]
		if name := s.Annotations[saTokenAnnotation]; name != "" {
			sa := finding.Subject{Kind: kindServiceAccount, Namespace: s.Namespace, Name: name}
			out[s.Namespace] = append(out[s.Namespace], tokenSecret{name: s.Name, sa: sa})
		}
	}
	return out
}

type podSA struct {
	pod string
	sa  finding.Subject
}

// podServiceAccountsByNamespace lists the pods whose ServiceAccount token is
// mounted: acting inside one of them (exec, a new image) acts as its ServiceAccount.
func podServiceAccountsByNamespace(a *Analysis) map[string][]podSA {
	out := map[string][]podSA{}
	for i := range a.inv.Pods {
		p := &a.inv.Pods[i]
		sa := finding.Subject{Kind: kindServiceAccount, Namespace: p.Namespace, Name: podServiceAccount(p)}
		obj, _ := a.ServiceAccount(sa)
		if tokenMounted(p, obj) {
			out[p.Namespace] = append(out[p.Namespace], podSA{pod: p.Name, sa: sa})
		}
	}
	return out
}

// tokenMounted reports whether a pod gets its ServiceAccount's token: the
// pod's automountServiceAccountToken wins, then the ServiceAccount's, and the default is yes.
func tokenMounted(p *corev1.Pod, sa *corev1.ServiceAccount) bool {
	if p.Spec.AutomountServiceAccountToken != nil {
		return *p.Spec.AutomountServiceAccountToken
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// propagate computes for every node the worst severity it can reach, and
// the fewest hops to it. (value, -dist) only ever improves, and next moves
// only on an improvement, so following next pointers strictly lowers dist and
// ends at the node whose own capability gives the value.
func (g *escalationGraph) propagate() {
	for i := range g.nodes {
		g.nodes[i].value, g.nodes[i].next, g.nodes[i].dist = g.nodes[i].own, -1, 0
	}
	for changed := true; changed; {
		changed = false
		for i := range g.nodes {
			n := &g.nodes[i]
			for ei, e := range n.edges {
				to := &g.nodes[e.to]
				if to.value > n.value || (to.value == n.value && n.next >= 0 && to.dist+1 < n.dist) {
					n.value, n.next, n.dist = to.value, ei, to.dist+1
					changed = true
				}
			}
		}
	}
}

// held returns the worst severity a subject holds without becoming anyone
// else: its own grants and its groups'.
func (g *escalationGraph) held(n int) finding.Severity {
	sev := g.nodes[n].own
	for _, e := range g.nodes[n].edges {
		if e.act == nil && g.nodes[e.to].pseudo == "" {
			sev = max(sev, g.nodes[e.to].own)
		}
	}
	return sev
}

// step is one hop of an escalation path.
type step struct {
	action  string // "create pods in namespace ci"
	request Request
	grant   *Grant
	// actor makes the request; to is who it becomes.
	actor finding.Subject
	to    finding.Subject
}

// path follows next pointers from edge e of node n to the node whose own
// capability gives the value. Each step records who makes its request: the
// start, or the identity the previous step became (not the group it holds the grant through).
func (g *escalationGraph) path(n int, e escEdge) (steps []step, last string) {
	actor := g.nodes[n].subject
	steps = append(steps, step{action: e.act.label, grant: e.act.grant, request: e.act.request, actor: actor})
	cur := e.to
	for hops := 0; hops < len(g.nodes); hops++ {
		node := &g.nodes[cur]
		if node.pseudo == "" && steps[len(steps)-1].to == (finding.Subject{}) {
			steps[len(steps)-1].to = node.subject
			actor = node.subject
		}
		if node.next < 0 {
			return steps, node.ownLabel
		}
		next := node.edges[node.next]
		if next.act != nil {
			steps = append(steps, step{action: next.act.label, grant: next.act.grant, request: next.act.request, actor: actor})
		}
		cur = next.to
	}
	return steps, g.nodes[cur].ownLabel
}

// renderPath writes a path as "User dev -> create pods in namespace ci -> ServiceAccount ci/deployer -> cluster-admin".
func renderPath(from finding.Subject, steps []step, last string) string {
	parts := []string{from.String()}
	for _, s := range steps {
		parts = append(parts, s.action)
		if s.to != (finding.Subject{}) {
			parts = append(parts, s.to.String())
		}
	}
	return strings.Join(append(parts, last), " -> ")
}

// escalationFindings reports subjects that can become a more dangerous identity, with the path.
func escalationFindings(a *Analysis, opts Options) []finding.Finding {
	g := a.escalation
	var out []finding.Finding
	for s, n := range g.byName {
		node := &g.nodes[n]
		if node.pseudo != "" || (s.Kind == rbacv1.GroupKind && s.Name == mastersGroup) {
			continue
		}
		held := g.held(n)
		best, bestEdge := finding.Severity(0), -1
		for ei, e := range node.edges {
			if e.act == nil || (e.act.system && !opts.IncludeSystem) {
				continue
			}
			if v := g.nodes[e.to].value; v > best {
				best, bestEdge = v, ei
			}
		}
		if bestEdge < 0 || best <= held {
			continue
		}
		e := node.edges[bestEdge]
		steps, last := g.path(n, e)
		path := renderPath(s, steps, last)
		var also []string
		for ei, o := range node.edges {
			if ei == bestEdge || o.act == nil || (o.act.system && !opts.IncludeSystem) || g.nodes[o.to].value != best {
				continue
			}
			if len(also) == maxListed {
				break
			}
			st, l := g.path(n, o)
			if p := renderPath(s, st, l); p != path && !slices.Contains(also, p) {
				also = append(also, p)
			}
		}
		hops := make([]map[string]any, len(steps))
		for i, st := range steps {
			hops[i] = map[string]any{"action": st.action, "binding": st.grant.Binding.String(), "role": st.grant.Binding.RoleString(),
				"subject": st.actor, "request": st.request}
			if st.to != (finding.Subject{}) {
				hops[i]["becomes"] = st.to.String()
			}
		}
		subj := s
		first := e.act.grant
		ev := map[string]any{"path": path, "hops": hops, "holds": held.String()}
		if len(also) > 0 {
			ev["otherPaths"] = also
		}
		out = append(out, finding.Finding{
			Severity: best,
			Message:  path,
			Resource: first.Binding.Resource(),
			Subject:  &subj,
			Evidence: ev,
			Remediation: &remedy.Remediation{
				Summary: fmt.Sprintf("Cut the first step: %s gets %q from %s. Take it out of that binding, or narrow the role.",
					s, steps[0].action, first.Binding),
				Changes: []remedy.Change{removeSubject(first.Binding, []int{first.Index})},
			},
		})
	}
	return out
}
