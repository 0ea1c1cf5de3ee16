package rbac

import (
	"fmt"
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
	// system is set when every grant the node holds is built-in.
	system bool
	edges  []escEdge
	// value is the worst severity reachable; next is the edge that leads to it
	// (-1: own), by the fewest hops (dist).
	value finding.Severity
	next  int
	dist  int
}

type escEdge struct {
	to int
	// request is one request the action is made of, for confirming it.
	request Request
	// label is the action, "create pods in namespace ci"; empty for group membership.
	label string
	grant *Grant
	// system is set when the grant's rules doing this are all built-in.
	system bool
}

func (g *escalationGraph) node(s finding.Subject) int {
	if i, ok := g.byName[s]; ok {
		return i
	}
	g.nodes = append(g.nodes, escNode{subject: s, next: -1, system: true})
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

func newEscalationGraph(a *Analysis) *escalationGraph {
	g := &escalationGraph{byName: map[finding.Subject]int{}}
	subjects := a.Subjects()
	for _, s := range subjects {
		g.node(s)
	}
	masters := g.node(finding.Subject{Kind: rbacv1.GroupKind, Name: mastersGroup})
	g.nodes[masters].own, g.nodes[masters].ownLabel = finding.Critical, "every permission (system:masters bypasses RBAC)"

	// Pseudo nodes: any service account of a namespace, of any namespace, and any user.
	anySA := map[string]int{}
	allSA := g.pseudo("any ServiceAccount")
	for ns, sas := range a.saByNamespace {
		n := g.pseudo("any ServiceAccount in namespace " + ns)
		anySA[ns] = n
		g.nodes[allSA].edges = append(g.nodes[allSA].edges, escEdge{to: n})
		for _, sa := range sas {
			g.nodes[n].edges = append(g.nodes[n].edges, escEdge{to: g.node(sa)})
		}
	}
	anyUser := g.pseudo("any User")
	for _, s := range subjects {
		if s.Kind == rbacv1.UserKind {
			g.nodes[anyUser].edges = append(g.nodes[anyUser].edges, escEdge{to: g.node(s)})
		}
	}

	tokenSecrets := tokenSecretsByNamespace(a)
	podSAs := podServiceAccountsByNamespace(a)
	saByName := map[string][]finding.Subject{}
	for s := range a.serviceAccounts {
		saByName[s.Name] = append(saByName[s.Name], s)
	}

	for _, s := range subjects {
		n := g.byName[s]
		// Membership: a subject holds what its implicit groups hold.
		for _, grp := range GroupsOf(s) {
			gs := finding.Subject{Kind: rbacv1.GroupKind, Name: grp}
			if _, named := a.bySubject[gs]; named {
				g.nodes[n].edges = append(g.nodes[n].edges, escEdge{to: g.node(gs)})
			}
		}
		for _, gr := range a.bySubject[s] {
			if gr.Role == nil {
				continue
			}
			if len(gr.Role.Rules) > 0 && !allSystem(gr, indexes(len(gr.Role.Rules))) {
				g.nodes[n].system = false
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
					sys := allSystem(gr, h.rules)
					for _, to := range g.targets(a, gr, rc.cap.becomes, h, anySA, allSA, anyUser, masters, tokenSecrets, podSAs, saByName) {
						if to == n {
							continue
						}
						g.nodes[n].edges = append(g.nodes[n].edges, escEdge{to: to, label: h.label() + " " + gr.Scope(), grant: gr, system: sys, request: h.requests(gr)[0]})
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
	labels := make([]string, len(rc.held))
	for i, h := range rc.held {
		labels[i] = h.label()
	}
	return strings.Join(labels, "; ") + " " + g.Scope()
}

// targets returns the nodes one held action lets a grant's subject become.
func (g *escalationGraph) targets(a *Analysis, gr *Grant, b becoming, h held, anySA map[string]int, allSA, anyUser, masters int,
	tokenSecrets map[string][]tokenSecret, podSAs map[string][]podSA, saByName map[string][]finding.Subject) []int {
	nsOf := func(ns string) []string {
		if gr.Binding.ClusterWide() {
			return nil // every namespace
		}
		return []string{ns}
	}
	namespaces := nsOf(gr.Binding.Namespace)
	var out []int
	switch b {
	case becomesAnySA:
		if namespaces == nil {
			return []int{allSA}
		}
		if n, ok := anySA[namespaces[0]]; ok {
			out = append(out, n)
		}
	case becomesNamedSA:
		if h.names == nil {
			if namespaces == nil {
				return []int{allSA}
			}
			if n, ok := anySA[namespaces[0]]; ok {
				out = append(out, n)
			}
			return out
		}
		for _, name := range h.names {
			for _, sa := range saByName[name] {
				if namespaces == nil || sa.Namespace == namespaces[0] {
					out = append(out, g.node(sa))
				}
			}
		}
	case becomesTokenSecretSA:
		// list and watch return every Secret's data; get reads the named ones.
		collection := slices.Contains(h.verbs, "list") || slices.Contains(h.verbs, "watch")
		for ns, secrets := range tokenSecrets {
			if namespaces != nil && ns != namespaces[0] {
				continue
			}
			for _, s := range secrets {
				if collection || h.names == nil || slices.Contains(h.names, s.name) {
					out = append(out, g.node(s.sa))
				}
			}
		}
	case becomesPodSA:
		for ns, pods := range podSAs {
			if namespaces != nil && ns != namespaces[0] {
				continue
			}
			for _, p := range pods {
				if h.names == nil || slices.Contains(h.names, p.pod) {
					out = append(out, g.node(p.sa))
				}
			}
		}
	case becomesUser:
		if h.names == nil {
			return []int{anyUser}
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
			return []int{masters}
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
		if e.label == "" && g.nodes[e.to].pseudo == "" {
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
	steps = append(steps, step{action: e.label, grant: e.grant, request: e.request, actor: actor})
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
		if next.label != "" {
			steps = append(steps, step{action: next.label, grant: next.grant, request: next.request, actor: actor})
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
			if e.label == "" || (e.system && !opts.IncludeSystem) {
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
			if ei == bestEdge || o.label == "" || (o.system && !opts.IncludeSystem) || g.nodes[o.to].value != best {
				continue
			}
			if st, l := g.path(n, o); len(also) < 10 {
				p := renderPath(s, st, l)
				if p != path && !slices.Contains(also, p) {
					also = append(also, p)
				}
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
		first := e.grant
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
