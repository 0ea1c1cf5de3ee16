package rbac

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The groups the authenticator adds to every request; RBAC bindings may name them.
const (
	GroupAuthenticated   = "system:authenticated"
	GroupUnauthenticated = "system:unauthenticated"
	GroupServiceAccounts = "system:serviceaccounts"
	// GroupServiceAccountsPrefix followed by a namespace is the group of that namespace's service accounts.
	GroupServiceAccountsPrefix = "system:serviceaccounts:"
	UserAnonymous              = "system:anonymous"
)

// Grant is what one binding gives one of its subjects.
type Grant struct {
	Binding *Binding
	// Index is the subject's position in the binding's subjects.
	Index int
	// Subject is the subject as the authorizer reads it (a ServiceAccount with
	// its namespace filled in, a User named system:serviceaccount:NS:NAME as that ServiceAccount).
	Subject finding.Subject
	// Role is the bound role, nil when it does not exist: the grant is then latent.
	Role *Role
	// Default is set when the binding and this subject are part of the built-in policy.
	Default bool
	// Auditor is set when the role is the recognised kubectl-harden auditor
	// role and the subject is not a broad group: what the grant gives is the
	// access the audit asked for, reported at info with nothing to fix.
	Auditor bool
}

// AppliesIn reports whether the grant applies to a request in namespace ns
// (empty for cluster-scoped requests): a RoleBinding only applies in its own namespace.
func (g *Grant) AppliesIn(ns string) bool {
	return g.Binding.ClusterWide() || (ns != "" && g.Binding.Namespace == ns)
}

// System reports whether rule r reaches the subject entirely through the built-in policy.
func (g *Grant) System(r *Rule) bool { return g.Default && r.Default }

// Scope says where the grant applies: "cluster-wide" or "in namespace NS".
func (g *Grant) Scope() string {
	if g.Binding.ClusterWide() {
		return "cluster-wide"
	}
	return "in namespace " + g.Binding.Namespace
}

// Analysis is the RBAC state of a cluster: every binding resolved to its role
// and subjects, indexed by subject. It is built once per inventory (Analyze).
type Analysis struct {
	Bindings []*Binding
	Grants   []*Grant
	// Offline is set when the input was files.
	Offline bool

	roles     roleIndex
	bySubject map[finding.Subject][]*Grant
	// serviceAccounts are the known service accounts: listed, or named by bindings and pods.
	serviceAccounts map[finding.Subject]*corev1.ServiceAccount
	saByNamespace   map[string][]finding.Subject
	// listed are the namespaces whose ServiceAccounts were listed (at least one
	// seen): elsewhere whether a ServiceAccount exists is not known.
	listed map[string]bool
	// tokenSecrets are the legacy token Secrets the authenticator still accepts,
	// by namespace (empty when Secrets were not loaded); tokenNamespaces are its keys, sorted.
	tokenSecrets    map[string][]namedSA
	tokenNamespaces []string
	inv             *inventory.Inventory
	defaults        *defaults
	caps            *capabilityIndex
	escalation      *escalationGraph

	// auditorRoles are the roles labelled AuditorRoleLabel, with why the audit
	// does not recognise one as the auditor role (empty when it does).
	auditorRoles map[*Role]string
}

// Analyze returns the analysis of inv, built once per inventory and shared by every check.
func Analyze(inv *inventory.Inventory) *Analysis {
	return inv.Memo("rbac", func() any { return newAnalysis(inv) }).(*Analysis)
}

func newAnalysis(inv *inventory.Inventory) *Analysis {
	a := &Analysis{
		Offline:         inv.Offline,
		Bindings:        listBindings(inv),
		bySubject:       map[finding.Subject][]*Grant{},
		serviceAccounts: map[finding.Subject]*corev1.ServiceAccount{},
		saByNamespace:   map[string][]finding.Subject{},
		listed:          map[string]bool{},
		auditorRoles:    map[*Role]string{},
		inv:             inv,
	}
	defs, err := loadDefaults()
	if err != nil {
		// The embedded policy is part of the binary and covered by tests; a
		// failure here is a build error, not something a user can fix.
		panic(err)
	}
	a.roles = rolesOf(inv, defs)
	defs.markDefaultRules(a.roles)
	a.defaults = defs
	for _, r := range a.roles {
		if why, labelled := auditorRoleVerdict(r); labelled {
			a.auditorRoles[r] = why
		}
	}
	for _, b := range a.Bindings {
		role := a.Role(b)
		for i := range b.Subjects {
			g := &Grant{Binding: b, Index: i, Subject: subjectOf(b, b.Subjects[i]), Role: role, Default: defs.defaultSubject(b, i)}
			g.Auditor = a.isAuditorRole(role) && !isBroadGroup(g.Subject)
			a.Grants = append(a.Grants, g)
			a.bySubject[g.Subject] = append(a.bySubject[g.Subject], g)
			if g.Subject.Kind == kindServiceAccount && g.Subject.Namespace != "" {
				a.addServiceAccount(g.Subject, nil)
			}
		}
	}
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		a.addServiceAccount(finding.Subject{Kind: kindServiceAccount, Namespace: sa.Namespace, Name: sa.Name}, sa)
		a.listed[sa.Namespace] = true
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		a.addServiceAccount(finding.Subject{Kind: kindServiceAccount, Namespace: p.Namespace, Name: podServiceAccount(p)}, nil)
	}
	for _, t := range inv.TokenSecrets() {
		a.addServiceAccount(finding.Subject{Kind: kindServiceAccount, Namespace: t.Secret.Namespace, Name: t.ServiceAccount}, nil)
	}
	for _, list := range a.saByNamespace {
		slices.SortFunc(list, compareSubjects)
	}
	a.tokenSecrets = tokenSecretsByNamespace(a)
	a.tokenNamespaces = slices.Sorted(maps.Keys(a.tokenSecrets))
	a.caps = newCapabilityIndex(a)
	a.escalation = newEscalationGraph(a)
	return a
}

// AuditorRoleLabel marks the ClusterRole `kubectl harden auditor-role`
// prints. With the value "true", on a ClusterRole whose rules only read, the
// audit reports what the role gives its subjects at info: it is the access
// the audit itself asks for (and, with --with-secrets, Secret reads chosen
// knowingly). The label alone recognises nothing: see auditorRoleVerdict.
const AuditorRoleLabel = "kubectl-harden.io/auditor-role"

// readOnlyVerbs are the verbs an auditor role may hold.
var readOnlyVerbs = []string{"get", "list", "watch"}

// auditorRoleVerdict says whether r is labelled as the auditor role and, if
// so, why the audit does not recognise it (empty when it does). Anyone who may
// write a ClusterRole can set a label, so only rules that cannot write, grow or
// reach past the API are trusted: get, list and watch on named resources, no
// wildcard (it grants what the API adds later), no subresource (get
// nodes/proxy reaches the kubelet, which can exec), nonResourceURLs with get
// only, and no aggregation (another role's labels would choose the rules).
func auditorRoleVerdict(r *Role) (why string, labelled bool) {
	if r.Meta == nil || r.Meta.Labels[AuditorRoleLabel] != "true" {
		return "", false
	}
	not := func(reason string) string {
		return fmt.Sprintf("%s is labelled %s but %s, so it is judged like any other role", r, AuditorRoleLabel, reason)
	}
	switch {
	case r.Kind != kindClusterRole:
		return not("is not a ClusterRole"), true
	case r.Aggregation != nil && len(r.Aggregation.ClusterRoleSelectors) > 0:
		return not("is aggregated (its rules come from the roles it selects)"), true
	}
	for _, rule := range r.Rules {
		where := fmt.Sprintf("rules[%d] is %s", rule.Index, formatRule(rule.PolicyRule))
		allowed := readOnlyVerbs
		if len(rule.NonResourceURLs) > 0 {
			allowed = []string{"get"}
		}
		for _, v := range rule.Verbs {
			if !slices.Contains(allowed, v) {
				return not("is not read-only: " + where), true
			}
		}
		wild := slices.Contains(rule.APIGroups, rbacv1.APIGroupAll) || slices.ContainsFunc(rule.Resources, func(res string) bool {
			return res == rbacv1.ResourceAll || strings.Contains(res, "/")
		}) || slices.ContainsFunc(rule.NonResourceURLs, func(u string) bool { return strings.HasSuffix(u, "*") })
		if wild {
			return not("has a wildcard or subresource: " + where), true
		}
	}
	return "", true
}

// isAuditorRole reports whether r is the recognised kubectl-harden auditor role.
func (a *Analysis) isAuditorRole(r *Role) bool {
	why, labelled := a.auditorRoles[r]
	return r != nil && labelled && why == ""
}

// auditorLabelIgnored says why a role labelled as the auditor role is judged
// as usual, for the messages of its findings; empty for any other role.
func (a *Analysis) auditorLabelIgnored(r *Role) string { return a.auditorRoles[r] }

// isBroadGroup reports whether s stands for many identities (anonymous, all
// users, all service accounts): such a grant is never the auditor's, whatever its role.
func isBroadGroup(s finding.Subject) bool {
	_, _, ok := broadGroup(s)
	return ok
}

// addServiceAccount records a service account; obj, when known, is the listed object.
func (a *Analysis) addServiceAccount(s finding.Subject, obj *corev1.ServiceAccount) {
	if cur, ok := a.serviceAccounts[s]; ok {
		if cur == nil && obj != nil {
			a.serviceAccounts[s] = obj
		}
		return
	}
	a.serviceAccounts[s] = obj
	a.saByNamespace[s.Namespace] = append(a.saByNamespace[s.Namespace], s)
}

// mayExist reports whether a ServiceAccount exists, or may: its namespace's ServiceAccounts were not listed.
func (a *Analysis) mayExist(sa finding.Subject) bool {
	_, exists := a.ServiceAccount(sa)
	return exists || !a.listed[sa.Namespace]
}

// ServiceAccount returns the listed ServiceAccount object of a subject, if it was listed.
func (a *Analysis) ServiceAccount(s finding.Subject) (*corev1.ServiceAccount, bool) {
	sa := a.serviceAccounts[s]
	return sa, sa != nil
}

// Role returns the role a binding refers to, or nil when it does not exist.
// Manifests often bind the built-in roles (view, edit, cluster-admin) without
// defining them: offline, a built-in role missing from the input is the default
// one, with the rules the input's ClusterRoles aggregate into it (rolesOf).
func (a *Analysis) Role(b *Binding) *Role {
	if r := a.roles.lookup(b); r != nil {
		return r
	}
	if a.Offline {
		if r := a.defaults.roles.lookup(b); r != nil {
			return r
		}
	}
	return nil
}

func podServiceAccount(p *inventory.Pod) string {
	if p.Spec.ServiceAccountName != "" {
		return p.Spec.ServiceAccountName
	}
	// The ServiceAccount admission plugin sets "default"; manifests may leave it out.
	return "default"
}

// GroupsOf returns the groups RBAC can know a subject is in: the implicit
// groups the authenticator adds. A user's other groups come from the
// authenticator and cannot be seen through the API.
func GroupsOf(s finding.Subject) []string {
	switch s.Kind {
	case kindServiceAccount:
		return []string{GroupServiceAccounts, GroupServiceAccountsPrefix + s.Namespace, GroupAuthenticated}
	case rbacv1.UserKind:
		if s.Name == UserAnonymous {
			return []string{GroupUnauthenticated}
		}
		return []string{GroupAuthenticated}
	}
	return nil
}

// Held is one grant a subject holds, and the group it holds it through, if any.
type Held struct {
	*Grant
	// Via is the group the subject is in that the binding names; empty when the binding names the subject itself.
	Via string
}

// GrantsOf returns every grant that applies to subject s: its own and its implicit groups'.
func (a *Analysis) GrantsOf(s finding.Subject) []Held {
	var out []Held
	for _, g := range a.bySubject[s] {
		out = append(out, Held{Grant: g})
	}
	for _, grp := range GroupsOf(s) {
		for _, g := range a.bySubject[finding.Subject{Kind: rbacv1.GroupKind, Name: grp}] {
			out = append(out, Held{Grant: g, Via: grp})
		}
	}
	return out
}

// Subjects returns every subject the analysis knows: those bindings name, and every known service account.
func (a *Analysis) Subjects() []finding.Subject {
	seen := make(map[finding.Subject]bool, len(a.bySubject)+len(a.serviceAccounts))
	var out []finding.Subject
	for s := range a.bySubject {
		seen[s] = true
		out = append(out, s)
	}
	for s := range a.serviceAccounts {
		if !seen[s] {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, compareSubjects)
	return out
}

func compareSubjects(x, y finding.Subject) int {
	return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
}

// Permission is one rule that allows a request, and how the subject holds it.
type Permission struct {
	Held
	Rule *Rule
}

// Allows returns the rules that allow subject s to make the request (none
// when it is denied). system:masters is allowed everything by the authorizer
// before RBAC is asked, which no binding shows; Allows answers for RBAC only.
func (a *Analysis) Allows(s finding.Subject, req Request) []Permission {
	var out []Permission
	for _, h := range a.GrantsOf(s) {
		if r, ok := a.requestFor(req, h.Binding, false); ok {
			out = append(out, allowedBy(h, r)...)
		}
	}
	return out
}

func allowedBy(h Held, req Request) []Permission {
	if h.Role == nil {
		return nil
	}
	// Non-resource URLs are not namespaced: only a ClusterRoleBinding grants them.
	if req.Path != "" && !h.Binding.ClusterWide() {
		return nil
	}
	if req.Path == "" && !h.AppliesIn(req.Namespace) {
		return nil
	}
	var out []Permission
	for i := range h.Role.Rules {
		if ruleAllows(h.Role.Rules[i].PolicyRule, req) {
			out = append(out, Permission{Held: h, Rule: &h.Role.Rules[i]})
		}
	}
	return out
}

// Scoped is the rules a subject holds in one scope.
type Scoped struct {
	// Namespace is empty for the rules that apply cluster-wide.
	Namespace   string
	Permissions []Permission
}

// Permissions returns the effective rules of subject s: cluster-wide first,
// then per namespace, each with the grant (binding, role) and group it comes through.
func (a *Analysis) Permissions(s finding.Subject) []Scoped {
	byNS := map[string][]Permission{}
	for _, h := range a.GrantsOf(s) {
		if h.Role == nil {
			continue
		}
		for i := range h.Role.Rules {
			byNS[h.Binding.Namespace] = append(byNS[h.Binding.Namespace], Permission{Held: h, Rule: &h.Role.Rules[i]})
		}
	}
	out := make([]Scoped, 0, len(byNS))
	for ns, ps := range byNS {
		out = append(out, Scoped{Namespace: ns, Permissions: ps})
	}
	slices.SortFunc(out, func(x, y Scoped) int { return cmp.Compare(x.Namespace, y.Namespace) })
	return out
}
