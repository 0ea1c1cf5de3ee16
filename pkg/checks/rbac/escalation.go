package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

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

// escAction is what a subject can do to become others, shared by every edge it creates.
type escAction struct {
	// label is the action, "create pods in namespace ci".
	label string
	// parts are the requests the action is made of, each with the grant that
	// allows it: one for most actions, two for minting a token Secret (create it, read it back).
	parts []escPart
	// system is set when the grants' rules doing this are all built-in.
	system bool
	// auditor is set when every grant doing this is of the recognised auditor role.
	auditor bool
}

// escPart is one request of an action, for confirming it, and the grant that allows it.
type escPart struct {
	request Request
	grant   *Grant
}

// node returns the node of a subject, added when new.
func (g *escalationGraph) node(s finding.Subject) int { return g.add(s, escNode{subject: s}) }

// pseudo returns the pseudo node of a label, added when new; its key has no kind, which no subject lacks.
func (g *escalationGraph) pseudo(label string) int {
	return g.add(finding.Subject{Name: label}, escNode{pseudo: label})
}

func (g *escalationGraph) add(key finding.Subject, n escNode) int {
	if i, ok := g.byName[key]; ok {
		return i
	}
	n.next = -1
	g.nodes = append(g.nodes, n)
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
	podSAs                      map[string][]namedSA
	// podNamespaces are the keys of podSAs, sorted.
	podNamespaces []string
	saByName      map[string][]finding.Subject
}

func newEscalationGraph(a *Analysis) *escalationGraph {
	g := &escalationGraph{byName: map[finding.Subject]int{}}
	subjects := a.Subjects()
	for _, s := range subjects {
		g.node(s)
	}
	p := &pseudoNodes{anySA: map[string]int{}, podSA: map[string]int{}, tokenSA: map[string]int{},
		podSAs: podServiceAccountsByNamespace(a), saByName: map[string][]finding.Subject{}}
	p.masters = g.node(mastersSubject())
	g.nodes[p.masters].own, g.nodes[p.masters].ownLabel = finding.Critical, "every permission (system:masters bypasses RBAC)"

	link := func(from, to int) { g.nodes[from].edges = append(g.nodes[from].edges, escEdge{to: to}) }
	p.allSA, p.allPodSA, p.allTokenSA = g.pseudo("any ServiceAccount"), g.pseudo("any pod's ServiceAccount"), g.pseudo("any token Secret's ServiceAccount")
	// Maps are walked in key order so that the graph, and so the paths chosen
	// among equally short ones, are the same on every run.
	for _, ns := range slices.Sorted(maps.Keys(a.saByNamespace)) {
		sas := a.saByNamespace[ns]
		n := g.pseudo("any ServiceAccount in namespace " + ns)
		p.anySA[ns] = n
		link(p.allSA, n)
		for _, sa := range sas {
			// A pod or a token needs its ServiceAccount to exist.
			if a.mayExist(sa) {
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
	for _, ns := range a.tokenNamespaces {
		n := g.pseudo("any token Secret's ServiceAccount in namespace " + ns)
		p.tokenSA[ns] = n
		link(p.allTokenSA, n)
		for _, sec := range a.tokenSecrets[ns] {
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
					for _, to := range g.targets(a, gr, rc.cap.becomes, h, p) {
						if to == n {
							continue
						}
						if act == nil {
							act = &escAction{label: h.label() + " " + gr.Scope(), system: allSystem(gr, h.rules), auditor: gr.Auditor,
								parts: []escPart{{request: h.requests(gr)[0], grant: gr}}}
						}
						g.nodes[n].edges = append(g.nodes[n].edges, escEdge{to: to, act: act})
					}
				}
			}
		}
		// Minting a token Secret takes two permissions, which may come from two grants.
		for _, m := range a.tokenMints(s) {
			to, ok := p.allSA, true
			if m.namespace != "" {
				to, ok = p.anySA[m.namespace]
			}
			if ok {
				g.nodes[n].edges = append(g.nodes[n].edges, escEdge{to: to, act: m.action()})
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
	if rc.cap.check == IDClusterAdminEquivalent {
		if g.Binding.ClusterWide() {
			return "cluster-admin"
		}
		return "cluster-admin in namespace " + g.Binding.Namespace
	}
	return labelHeld(rc.held) + " " + g.Scope()
}

// targets returns the nodes one held action lets a grant's subject become.
func (g *escalationGraph) targets(a *Analysis, gr *Grant, b becoming, h held, p *pseudoNodes) []int {
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
	// named returns the nodes of the ServiceAccounts acting through the named objects.
	named := func(objs []namedSA) []int {
		out := make([]int, len(objs))
		for i, o := range objs {
			out[i] = g.node(o.sa)
		}
		return out
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
		if h.names == nil {
			return one(p.allTokenSA, p.tokenSA)
		}
		return named(reachable(gr, a.tokenSecrets, a.tokenNamespaces, h.names))
	case becomesPodSA:
		if h.names == nil {
			return one(p.allPodSA, p.podSA)
		}
		return named(reachable(gr, p.podSAs, p.podNamespaces, h.names))
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

// podServiceAccountsByNamespace lists the pods whose ServiceAccount token is
// mounted: acting inside one of them (exec, a new image) acts as its ServiceAccount.
func podServiceAccountsByNamespace(a *Analysis) map[string][]namedSA {
	out := map[string][]namedSA{}
	for i := range a.inv.Pods {
		p := &a.inv.Pods[i]
		sa := finding.Subject{Kind: kindServiceAccount, Namespace: p.Namespace, Name: podServiceAccount(p)}
		obj, _ := a.ServiceAccount(sa)
		if tokenMounted(p, obj) {
			out[p.Namespace] = append(out[p.Namespace], namedSA{name: p.Name, sa: sa})
		}
	}
	return out
}

// tokenMounted reports whether a pod gets its ServiceAccount's token: the
// pod's automountServiceAccountToken wins, then the ServiceAccount's, and the default is yes.
func tokenMounted(p *inventory.Pod, sa *corev1.ServiceAccount) bool {
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
	action string // "create pods in namespace ci"
	parts  []escPart
	// actor makes the requests; to is who it becomes.
	actor finding.Subject
	to    finding.Subject
}

// path follows next pointers from edge e of node n to the node whose own
// capability gives the value. Each step records who makes its request: the
// start, or the identity the previous step became (not the group it holds the grant through).
func (g *escalationGraph) path(n int, e escEdge) (steps []step, last string) {
	actor := g.nodes[n].subject
	steps = append(steps, step{action: e.act.label, parts: e.act.parts, actor: actor})
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
			steps = append(steps, step{action: next.act.label, parts: next.act.parts, actor: actor})
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

// hopEvidence describes one step: the action, who makes its request, the
// binding and role that allow it, and who it becomes. A step made of more
// than one request lists the others, with their bindings, under "also".
func hopEvidence(st step) map[string]any {
	part := func(p escPart) map[string]any {
		return map[string]any{"binding": p.grant.Binding.String(), "role": p.grant.Binding.RoleString(), "request": p.request}
	}
	hop := part(st.parts[0])
	hop["action"], hop["subject"] = st.action, st.actor
	if st.to != (finding.Subject{}) {
		hop["becomes"] = st.to.String()
	}
	if len(st.parts) > 1 {
		also := make([]map[string]any, 0, len(st.parts)-1)
		for _, p := range st.parts[1:] {
			also = append(also, part(p))
		}
		hop["also"] = also
	}
	return hop
}

// escalationFindings reports subjects that can become a more dangerous identity, with the path.
func escalationFindings(a *Analysis, opts options) []finding.Finding {
	g := a.escalation
	var out []finding.Finding
	for s, n := range g.byName {
		node := &g.nodes[n]
		if node.pseudo != "" || s == mastersSubject() {
			continue
		}
		held := g.held(n)
		// counts says which first steps make a path: not built-in ones (unless
		// asked), and those of the auditor role only when no other step leads
		// further, so that its expected reach never hides another path.
		var expected bool
		counts := func(e escEdge) bool {
			return e.act != nil && (!e.act.system || opts.IncludeSystem) && e.act.auditor == expected
		}
		best, bestEdge := finding.Severity(0), -1
		for _, expected = range []bool{false, true} {
			for ei, e := range node.edges {
				if v := g.nodes[e.to].value; counts(e) && v > best {
					best, bestEdge = v, ei
				}
			}
			if bestEdge >= 0 && best > held {
				break
			}
			best, bestEdge = 0, -1
		}
		if bestEdge < 0 {
			continue
		}
		e := node.edges[bestEdge]
		steps, last := g.path(n, e)
		path := renderPath(s, steps, last)
		var also []string
		for ei, o := range node.edges {
			if ei == bestEdge || !counts(o) || g.nodes[o.to].value != best {
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
			hops[i] = hopEvidence(st)
		}
		subj := s
		first := e.act.parts[0].grant
		ev := map[string]any{"path": path, "hops": hops, "holds": held.String()}
		if len(also) > 0 {
			ev["otherPaths"] = also
		}
		f := finding.Finding{
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
		}
		if expected {
			a.judgeAuditorRole(&f, first)
		} else {
			a.noteIgnoredAuditorLabel(&f, first.Role)
		}
		out = append(out, f)
	}
	return out
}
