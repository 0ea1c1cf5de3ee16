package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// scope says which bindings can grant an action.
type scope int

const (
	// namespaced actions are granted in a namespace by a RoleBinding there, or everywhere by a ClusterRoleBinding.
	namespaced scope = iota
	// clusterScoped actions are on cluster-scoped objects: only a ClusterRoleBinding grants them.
	clusterScoped
	// ownNamespace is a write on namespaces: a RoleBinding grants it on its own namespace object,
	// because the request for namespace NS is made in namespace NS.
	ownNamespace
)

// action is a set of verbs on one resource (or subresource) of a group.
type action struct {
	verbs    []string
	group    string
	resource string
	scope    scope
	// namespace and name pin the action to one object when only that object is
	// dangerous (kube-system/aws-auth): a rule counts when it allows that name,
	// and a RoleBinding only in that namespace.
	namespace, name string
}

// becoming says how an action lets its holder act as other identities.
type becoming int

const (
	becomesNone becoming = iota
	// becomesAnySA: run a pod as (or mint a token for) any service account of the namespace.
	becomesAnySA
	// becomesNamedSA: the service accounts the rule names, or all of the namespace when it names none.
	becomesNamedSA
	// becomesTokenSecretSA: read the token Secret of a service account.
	becomesTokenSecretSA
	// becomesPodSA: act inside running pods (exec, changing their image) and so as their service accounts.
	becomesPodSA
	// becomesUser and becomesGroup: impersonate users or groups.
	becomesUser
	becomesGroup
)

// capability is a dangerous thing a subject may be able to do, reported by one check.
type capability struct {
	check   string
	actions []action
	// severity when granted cluster-wide, and in one namespace.
	clusterSeverity, namespaceSeverity finding.Severity
	becomes                            becoming
	// requiresAll: the capability needs every action (CSR approval needs update approval and approve on the signer).
	requiresAll bool
	// anyNameOnly: a rule limited to some object names does not count.
	anyNameOnly bool
	// namedIsNarrow: a rule limited to named objects is the least-privilege form
	// (a pod reading its own Secret): not reported, though still followed for escalation.
	namedIsNarrow bool
	// eksOnly: the danger exists on EKS only; on a server known to be another
	// distribution the capability is reported at Low.
	eksOnly bool
}

func verbs(v ...string) []string { return v }

var (
	writeVerbs  = verbs("create", "update", "patch", "delete")
	createWrite = verbs("create", "update", "patch")
)

// capabilities is the catalog of dangerous permissions, most severe first (SEMANTICS.md, CIS 5.1.x).
func capabilities() []capability {
	const core, apps, batch, rbac, adm, certs, authn = "", "apps", "batch", rbacv1.GroupName, "admissionregistration.k8s.io", "certificates.k8s.io", "authentication.k8s.io"
	ns := func(v []string, g, r string) action {
		return action{verbs: v, group: g, resource: r, scope: namespaced}
	}
	cl := func(v []string, g, r string) action {
		return action{verbs: v, group: g, resource: r, scope: clusterScoped}
	}
	return []capability{
		{check: IDClusterAdminEquivalent, clusterSeverity: finding.Critical, namespaceSeverity: finding.High, anyNameOnly: true,
			actions: []action{ns(verbs("*"), "*", "*")}},
		{check: IDEscalateBind, clusterSeverity: finding.High, namespaceSeverity: finding.High,
			actions: []action{ns(verbs("escalate", "bind"), rbac, "roles"), ns(verbs("escalate", "bind"), rbac, "clusterroles")}},
		{check: IDImpersonate, clusterSeverity: finding.Critical, namespaceSeverity: finding.High, becomes: becomesGroup,
			actions: []action{cl(verbs("impersonate"), core, "groups")}},
		{check: IDImpersonate, clusterSeverity: finding.High, namespaceSeverity: finding.High, becomes: becomesUser,
			actions: []action{cl(verbs("impersonate"), core, "users")}},
		{check: IDImpersonate, clusterSeverity: finding.High, namespaceSeverity: finding.High, becomes: becomesNamedSA,
			actions: []action{ns(verbs("impersonate"), core, "serviceaccounts")}},
		{check: IDImpersonate, clusterSeverity: finding.Medium, namespaceSeverity: finding.Medium,
			actions: []action{cl(verbs("impersonate"), authn, "uids"), cl(verbs("impersonate"), authn, "userextras/*")}},
		{check: IDCsrApproval, clusterSeverity: finding.High, namespaceSeverity: finding.High, requiresAll: true,
			actions: []action{cl(verbs("update", "patch"), certs, "certificatesigningrequests/approval"), cl(verbs("approve"), certs, "signers")}},
		{check: IDAdmissionWrite, clusterSeverity: finding.High, namespaceSeverity: finding.High,
			actions: []action{
				cl(writeVerbs, adm, "validatingwebhookconfigurations"), cl(writeVerbs, adm, "mutatingwebhookconfigurations"),
				cl(writeVerbs, adm, "validatingadmissionpolicies"), cl(writeVerbs, adm, "validatingadmissionpolicybindings"),
				cl(writeVerbs, adm, "mutatingadmissionpolicies"), cl(writeVerbs, adm, "mutatingadmissionpolicybindings"),
			}},
		{check: IDServiceaccountToken, clusterSeverity: finding.High, namespaceSeverity: finding.High, becomes: becomesNamedSA,
			actions: []action{ns(verbs("create"), core, "serviceaccounts/token")}},
		{check: IDPodCreate, clusterSeverity: finding.High, namespaceSeverity: finding.Medium, becomes: becomesAnySA,
			actions: []action{
				ns(verbs("create"), core, "pods"),
				ns(createWrite, apps, "deployments"), ns(createWrite, apps, "daemonsets"), ns(createWrite, apps, "statefulsets"),
				ns(createWrite, apps, "replicasets"), ns(createWrite, batch, "jobs"), ns(createWrite, batch, "cronjobs"),
				ns(createWrite, core, "replicationcontrollers"),
			}},
		{check: IDPodCreate, clusterSeverity: finding.High, namespaceSeverity: finding.Medium, becomes: becomesPodSA,
			actions: []action{ns(verbs("update", "patch"), core, "pods")}},
		{check: IDSecretsRead, clusterSeverity: finding.High, namespaceSeverity: finding.Medium, becomes: becomesTokenSecretSA, namedIsNarrow: true,
			actions: []action{ns(verbs("get", "list", "watch"), core, "secrets")}},
		{check: IDSecretsWrite, clusterSeverity: finding.Medium, namespaceSeverity: finding.Low,
			actions: []action{ns(verbs("create", "update", "patch"), core, "secrets")}},
		{check: IDNodesProxy, clusterSeverity: finding.High, namespaceSeverity: finding.High,
			actions: []action{cl(verbs("get", "create"), core, "nodes/proxy")}},
		{check: IDPersistentvolumeCreate, clusterSeverity: finding.High, namespaceSeverity: finding.High,
			actions: []action{cl(verbs("create"), core, "persistentvolumes")}},
		// EKS maps IAM identities to users and groups from this ConfigMap: whoever
		// writes it can map an IAM role it holds to system:masters.
		{check: IDAwsAuthWrite, clusterSeverity: finding.High, namespaceSeverity: finding.High, eksOnly: true,
			actions: []action{{verbs: verbs("update", "patch"), group: core, resource: "configmaps", scope: namespaced, namespace: "kube-system", name: "aws-auth"}}},
		{check: IDPodExec, clusterSeverity: finding.Medium, namespaceSeverity: finding.Medium, becomes: becomesPodSA,
			actions: []action{
				ns(verbs("create"), core, "pods/exec"), ns(verbs("create"), core, "pods/attach"),
				ns(verbs("create"), core, "pods/portforward"), ns(verbs("update", "patch"), core, "pods/ephemeralcontainers"),
			}},
		{check: IDNamespaceWrite, clusterSeverity: finding.Medium, namespaceSeverity: finding.Medium,
			actions: []action{{verbs: verbs("update", "patch"), group: core, resource: "namespaces", scope: ownNamespace}}},
	}
}

// held is what one role allows of one action, by which of its rules.
type held struct {
	action *action
	verbs  []string
	rules  []int // indexes into the role's Rules
	// names limits the action to these objects; nil means any object.
	names []string
	// nameOf gives, for each of verbs, one object name it is allowed on (when names is set),
	// so that every request a finding claims is one the API server allows.
	nameOf []string
}

// roleCapability is what one role allows of one capability.
type roleCapability struct {
	cap  *capability
	held []held
}

// capabilityIndex evaluates the catalog once per role, since many bindings share a role.
type capabilityIndex struct {
	catalog []capability
	byRole  map[*Role][]roleCapability
	// inNamespace is byRole without what a RoleBinding does not grant: the
	// cluster-scoped actions, and the actions pinned to another namespace.
	inNamespace map[*Role][]roleCapability
	// pinned is inNamespace for the namespaces an action is pinned to, which a
	// RoleBinding there does grant, for the roles that hold such an action.
	pinned map[string]map[*Role][]roleCapability
}

func newCapabilityIndex(a *Analysis) *capabilityIndex {
	ix := &capabilityIndex{catalog: capabilities(), byRole: map[*Role][]roleCapability{}, inNamespace: map[*Role][]roleCapability{},
		pinned: map[string]map[*Role][]roleCapability{}}
	eks := mayBeEKS(a.inv.ServerVersion)
	for i := range ix.catalog {
		c := &ix.catalog[i]
		if c.eksOnly && !eks {
			c.clusterSeverity, c.namespaceSeverity = finding.Low, finding.Low
		}
		for _, act := range c.actions {
			if act.namespace != "" {
				ix.pinned[act.namespace] = map[*Role][]roleCapability{}
			}
		}
	}
	// Every role a grant uses, built-in ones read from the defaults included; the
	// index is complete before any check reads it, since checks run in parallel.
	done := map[*Role]bool{}
	for _, g := range a.Grants {
		if g.Role == nil || done[g.Role] {
			continue
		}
		done[g.Role] = true
		if rc := ix.evaluate(g.Role); len(rc) > 0 {
			ix.byRole[g.Role] = rc
			ix.inNamespace[g.Role] = namespacedOnly(rc, "")
			for ns, m := range ix.pinned {
				if holdsPinned(rc, ns) {
					m[g.Role] = namespacedOnly(rc, ns)
				}
			}
		}
	}
	return ix
}

// mayBeEKS reports whether the server may be Amazon EKS: its version says
// so (v1.30.2-eks-1552ad0), or the version is not known (files without --server-version).
func mayBeEKS(version string) bool {
	return version == "" || strings.Contains(version, "-eks-")
}

func (ix *capabilityIndex) evaluate(r *Role) []roleCapability {
	var out []roleCapability
	for ci := range ix.catalog {
		c := &ix.catalog[ci]
		rc := roleCapability{cap: c}
		for ai := range c.actions {
			if h, ok := roleHolds(r, &c.actions[ai]); ok && (!c.anyNameOnly || h.names == nil) {
				rc.held = append(rc.held, h)
			}
		}
		if len(rc.held) == 0 || (c.requiresAll && len(rc.held) < len(c.actions)) {
			continue
		}
		out = append(out, rc)
	}
	return out
}

// roleHolds evaluates one action against every rule of a role. When some verb
// is allowed on any object, the verbs allowed only on named objects are left
// out: the held action then speaks of any object, and each request it claims is allowed.
func roleHolds(r *Role, a *action) (held, bool) {
	type verbHold struct {
		verb    string
		rules   []int
		anyName bool
		names   []string
	}
	var vhs []verbHold
	anyName := false
	for _, v := range a.verbs {
		vh := verbHold{verb: v}
		for i := range r.Rules {
			rule := &r.Rules[i].PolicyRule
			if !mayMatch(rule, v, a.group, a.resource) {
				continue
			}
			ok, ns := ruleAllowsSomeName(*rule, v, a.group, a.resource)
			if !ok {
				continue
			}
			if a.name != "" {
				if ns != nil && !slices.Contains(ns, a.name) {
					continue
				}
				ns = []string{a.name}
			}
			vh.rules = append(vh.rules, i)
			if ns == nil {
				vh.anyName = true
			} else {
				vh.names = append(vh.names, ns...)
			}
		}
		if len(vh.rules) > 0 {
			vhs = append(vhs, vh)
			anyName = anyName || vh.anyName
		}
	}
	if len(vhs) == 0 {
		return held{}, false
	}
	h := held{action: a}
	var names []string
	for _, vh := range vhs {
		if anyName && !vh.anyName {
			continue
		}
		h.verbs = append(h.verbs, vh.verb)
		for _, i := range vh.rules {
			if !slices.Contains(h.rules, i) {
				h.rules = append(h.rules, i)
			}
		}
		if !anyName {
			names = append(names, vh.names...)
			h.nameOf = append(h.nameOf, vh.names[0])
		}
	}
	if !anyName {
		slices.Sort(names)
		h.names = slices.Compact(names)
	}
	slices.Sort(h.rules)
	return h, true
}

// mayMatch is a cheap necessary condition for a rule to allow verb on
// group/resource, so that validation.Covers only runs on candidate rules.
func mayMatch(rule *rbacv1.PolicyRule, verb, group, resource string) bool {
	if !slices.Contains(rule.Verbs, verb) && !slices.Contains(rule.Verbs, rbacv1.VerbAll) {
		return false
	}
	if !slices.Contains(rule.APIGroups, group) && !slices.Contains(rule.APIGroups, rbacv1.APIGroupAll) {
		return false
	}
	if slices.Contains(rule.Resources, resource) || slices.Contains(rule.Resources, rbacv1.ResourceAll) {
		return true
	}
	if _, sub, ok := strings.Cut(resource, "/"); ok {
		return slices.Contains(rule.Resources, "*/"+sub)
	}
	return false
}

// heldBy returns what a grant gives of each capability: a RoleBinding gives
// only the actions on namespaced objects, of its own namespace.
func (ix *capabilityIndex) heldBy(g *Grant) []roleCapability {
	if g.Role == nil {
		return nil
	}
	if g.Binding.ClusterWide() {
		return ix.byRole[g.Role]
	}
	if rcs, ok := ix.pinned[g.Binding.Namespace][g.Role]; ok {
		return rcs
	}
	return ix.inNamespace[g.Role]
}

// holdsPinned reports whether a role holds an action pinned to namespace ns.
func holdsPinned(rcs []roleCapability, ns string) bool {
	for _, rc := range rcs {
		for _, h := range rc.held {
			if h.action.namespace == ns {
				return true
			}
		}
	}
	return false
}

// namespacedOnly keeps what a RoleBinding in namespace ns grants.
func namespacedOnly(rcs []roleCapability, ns string) []roleCapability {
	var out []roleCapability
	for _, rc := range rcs {
		var hs []held
		for _, h := range rc.held {
			if h.action.scope != clusterScoped && (h.action.namespace == "" || h.action.namespace == ns) {
				hs = append(hs, h)
			}
		}
		if len(hs) == 0 || (rc.cap.requiresAll && len(hs) < len(rc.cap.actions)) {
			continue
		}
		out = append(out, roleCapability{cap: rc.cap, held: hs})
	}
	return out
}

// reportable returns the held actions worth reporting.
func (rc roleCapability) reportable() []held {
	if !rc.cap.namedIsNarrow {
		return rc.held
	}
	var out []held
	for _, h := range rc.held {
		if h.names == nil {
			out = append(out, h)
		}
	}
	return out
}

// grantedBy reports whether a grant gives the held action: a write on
// namespaces limited to names gives a RoleBinding nothing unless its own
// namespace is among them, since the request on namespace NS is made in NS.
func (h held) grantedBy(g *Grant) bool {
	return h.action.scope != ownNamespace || g.Binding.ClusterWide() || h.names == nil || slices.Contains(h.names, g.Binding.Namespace)
}

// requests are the requests a held action allows the grant's subject, one per
// verb, as a SubjectAccessReview would ask them.
func (h held) requests(g *Grant) []Request {
	res, sub, _ := strings.Cut(h.action.resource, "/")
	var out []Request
	for i, v := range h.verbs {
		r := Request{Verb: v, Group: h.action.group, Resource: res, Subresource: sub, Namespace: g.Binding.Namespace}
		if h.action.scope == clusterScoped {
			r.Namespace = ""
		}
		if h.action.namespace != "" {
			r.Namespace = h.action.namespace
		}
		if h.names != nil {
			r.Name = h.nameOf[i]
		}
		if h.action.scope == ownNamespace && !g.Binding.ClusterWide() {
			// The request on namespace NS is made in NS: the namespace's own object.
			r.Name = g.Binding.Namespace
		}
		out = append(out, r)
	}
	return out
}

// resourceLabel names the action's resource with its group: "pods", "deployments.apps".
func (a *action) resourceLabel() string {
	if a.group != "" && a.group != "*" {
		return a.resource + "." + a.group
	}
	return a.resource
}

// label renders a held action: "get, list secrets", "create pods/exec [web-0]".
func (h held) label() string { return labelHeld([]held{h}) }

// labelHeld renders held actions, joining resources that share verbs and names:
// "create pods; create, update, patch deployments.apps, jobs.batch".
func labelHeld(hs []held) string {
	type group struct {
		verbs, names string
		resources    []string
	}
	var groups []*group
	for _, h := range hs {
		if h.action.group == "*" && h.action.resource == "*" && slices.Contains(h.verbs, "*") {
			groups = append(groups, &group{verbs: "do everything", resources: []string{"(every verb on every resource)"}})
			continue
		}
		v, n := strings.Join(h.verbs, ", "), ""
		switch {
		case h.action.namespace != "":
			n = " [" + h.action.namespace + "/" + strings.Join(h.names, ", ") + "]"
		case h.names != nil:
			n = " [" + strings.Join(h.names, ", ") + "]"
		}
		var g *group
		for _, x := range groups {
			if x.verbs == v && x.names == n {
				g = x
			}
		}
		if g == nil {
			g = &group{verbs: v, names: n}
			groups = append(groups, g)
		}
		g.resources = append(g.resources, h.action.resourceLabel())
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g.verbs + " " + strings.Join(g.resources, ", ") + g.names
	}
	return strings.Join(parts, "; ")
}

// DangerousRequest is one request of a dangerous capability, with where it can be granted.
type DangerousRequest struct {
	// Request has Namespace and Name set when only one object is dangerous
	// (kube-system/aws-auth); else they are for the asker to fill.
	Request
	// ClusterScoped requests are on cluster-scoped objects: only a ClusterRoleBinding grants them.
	ClusterScoped bool
	// OwnNamespace requests are writes on a namespace object, made in that namespace.
	OwnNamespace bool
	// Action numbers the resource the request is on; requests of one action differ by verb only.
	Action int
}

// Dangerous is a capability a check reports: allowed when any of its
// requests is (with RequiresAll, one request of every action), for any object name.
type Dangerous struct {
	Check       string
	Requests    []DangerousRequest
	RequiresAll bool
}

// DangerousCapabilities lists what the capability checks look for, so that
// tests can ask the API server (SubjectAccessReview) the same questions.
func DangerousCapabilities() []Dangerous {
	var out []Dangerous
	for _, c := range capabilities() {
		d := Dangerous{Check: c.check, RequiresAll: c.requiresAll}
		for ai, a := range c.actions {
			res, sub, _ := strings.Cut(a.resource, "/")
			for _, v := range a.verbs {
				d.Requests = append(d.Requests, DangerousRequest{
					Request:       Request{Verb: v, Group: a.group, Resource: res, Subresource: sub, Namespace: a.namespace, Name: a.name},
					ClusterScoped: a.scope == clusterScoped,
					OwnNamespace:  a.scope == ownNamespace,
					Action:        ai,
				})
			}
		}
		out = append(out, d)
	}
	return out
}
