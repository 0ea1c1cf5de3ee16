package rbac

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// CheckNarrow is the ID of the findings `kubectl harden rbac narrow` makes:
// a subject holds grants its requests in the audit window never used.
const CheckNarrow = IDUnusedPermissions

// NarrowedFromAnnotation marks the roles and bindings narrow generates, with
// the bindings they replace; a binding carrying it is not replaced again.
const NarrowedFromAnnotation = "kubectl-harden.io/narrowed-from"

// DefaultMaxNames: a generated rule names the objects (resourceNames) when
// every use named at most this many.
const DefaultMaxNames = 5

// NarrowOptions select the subjects and shape the generated roles.
type NarrowOptions struct {
	// Subjects to narrow; empty is every subject of the selected kinds that a
	// binding names directly (the built-in policy aside) or the log shows.
	Subjects []finding.Subject
	// Users and Groups add those kinds to the default selection (ServiceAccounts only otherwise).
	Users, Groups bool
	// Namespace narrows the default selection to the ServiceAccounts of one namespace.
	Namespace string
	// MaxNames bounds resourceNames (0: DefaultMaxNames).
	MaxNames int
	// AllowEmpty proposes to remove the grants of a subject that made no
	// request in the window; without it such a subject is only reported.
	AllowEmpty bool
}

// Use is a request a subject made, how often, and which bindings allowed it.
type Use struct {
	Request
	Count int `json:"count"`
	// By names the bindings (or "outside RBAC") that allowed it.
	By []string `json:"by,omitempty"`
}

// UnusedGrant is part of a rule a binding gives the subject that no request used.
type UnusedGrant struct {
	Binding string `json:"binding"`
	Role    string `json:"role"`
	// Rule is where in the role the rule is ("rules[2]", or the source role of an aggregated rule).
	Rule          string   `json:"rule"`
	Verbs         []string `json:"verbs"`
	Group         string   `json:"apiGroup,omitempty"`
	Resource      string   `json:"resource,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
	Path          string   `json:"nonResourceURL,omitempty"`
	// Severity is that of the most dangerous capability among the unused verbs (info when none).
	Severity finding.Severity `json:"severity"`
	// Dangerous are the checks of the capabilities the unused part holds.
	Dangerous []string `json:"dangerous,omitempty"`
}

// Narrowing is the verdict on one subject.
type Narrowing struct {
	Subject finding.Subject `json:"subject"`
	// Covered are the allowed requests the subject's own bindings allowed:
	// the generated roles allow exactly these.
	Covered []Use `json:"used"`
	// Kept are the allowed requests other grants (a group, the built-in
	// policy) or something outside RBAC allowed: narrowing leaves those.
	Kept []Use `json:"keptBy,omitempty"`
	// Denied were asked but not granted: a sign of a missing permission, not something to add.
	Denied []Use `json:"denied,omitempty"`
	// Unused are the parts of its bindings' rules no request used, most dangerous first.
	Unused []UnusedGrant `json:"unused"`
	// Replaces are the bindings the subject is taken out of.
	Replaces []string `json:"replaces,omitempty"`
	// Roles and Bindings are the generated least-privilege objects, applyable as they are.
	Roles    []runtime.Object `json:"-"`
	Bindings []runtime.Object `json:"-"`
	// Note says why nothing is proposed, when nothing is.
	Note string `json:"note,omitempty"`
	// Finding carries the remediation (create the roles and bindings, then
	// remove the subject from the broad bindings) for the fix session and -o patch.
	Finding *finding.Finding `json:"-"`
}

// Narrow judges each selected subject's grants against the requests of the
// audit log, and proposes the least-privilege roles that allow exactly what
// its own bindings allowed it in the window.
func Narrow(inv *inventory.Inventory, log *inventory.AuditLog, opts NarrowOptions) []Narrowing {
	a := Analyze(inv)
	if opts.MaxNames <= 0 {
		opts.MaxNames = DefaultMaxNames
	}
	subjects := opts.Subjects
	if len(subjects) == 0 {
		subjects = a.narrowCandidates(log, opts)
	}
	out := make([]Narrowing, 0, len(subjects))
	for _, s := range subjects {
		out = append(out, a.narrow(s, log, opts))
	}
	return out
}

// narrowCandidates are the subjects of the kinds asked that a binding names
// directly, outside the built-in policy, or that made a request.
func (a *Analysis) narrowCandidates(log *inventory.AuditLog, opts NarrowOptions) []finding.Subject {
	want := func(s finding.Subject) bool {
		switch s.Kind {
		case kindServiceAccount:
			return opts.Namespace == "" || s.Namespace == opts.Namespace
		case rbacv1.UserKind:
			return opts.Users && opts.Namespace == "" && !strings.HasPrefix(s.Name, "system:")
		case rbacv1.GroupKind:
			return opts.Groups && opts.Namespace == "" && !strings.HasPrefix(s.Name, "system:")
		}
		return false
	}
	seen := map[finding.Subject]bool{}
	for _, g := range a.Grants {
		if !g.Default && g.Role != nil && want(g.Subject) {
			seen[g.Subject] = true
		}
	}
	for _, r := range log.Requests {
		if s := subjectOfUser(r.User); want(s) && len(a.directGrants(s)) > 0 {
			seen[s] = true
		}
	}
	out := slices.Collect(maps.Keys(seen))
	slices.SortFunc(out, compareSubjects)
	return out
}

// subjectOfUser is the subject a request's user name stands for.
func subjectOfUser(user string) finding.Subject {
	if ns, name, ok := serviceAccountUser(user); ok {
		return finding.Subject{Kind: kindServiceAccount, Namespace: ns, Name: name}
	}
	return finding.Subject{Kind: rbacv1.UserKind, Name: user}
}

// madeBy reports whether a request was made by the subject (a group: by a member).
func madeBy(s finding.Subject, r inventory.AuditRequest) bool {
	if s.Kind == rbacv1.GroupKind {
		return slices.Contains(r.Groups, s.Name)
	}
	return subjectOfUser(r.User) == s
}

// directGrants are the grants of bindings that name the subject itself,
// outside the built-in policy: what narrowing replaces.
func (a *Analysis) directGrants(s finding.Subject) []Held {
	var out []Held
	for _, g := range a.bySubject[s] {
		if !g.Default && g.Role != nil {
			out = append(out, Held{Grant: g})
		}
	}
	return out
}

// requestOf is the request an audit event records, as the authorizer
// checks it: the name of a request on a collection (list, watch, create) is
// not part of the check, even where the log names the object.
func requestOfAudit(r inventory.AuditRequest) Request {
	if r.Resource == "" {
		return Request{Verb: r.Verb, Path: r.Path}
	}
	req := Request{Verb: r.Verb, Group: r.Group, Resource: r.Resource, Subresource: r.Subresource, Namespace: r.Namespace, Name: r.Name}
	if !requestHasName(req.Verb, req.resource()) {
		req.Name = ""
	}
	return req
}

type useKey struct{ Request }

func (a *Analysis) narrow(s finding.Subject, log *inventory.AuditLog, opts NarrowOptions) Narrowing {
	n := Narrowing{Subject: s}
	direct := a.directGrants(s)
	var others []Held
	for _, h := range a.GrantsOf(s) {
		if h.Via != "" || h.Default {
			others = append(others, h)
		}
	}
	if s.Kind == rbacv1.GroupKind {
		others = nil
	}
	covered, kept, denied := map[useKey]*Use{}, map[useKey]*Use{}, map[useKey]*Use{}
	var order []useKey
	// used[grant][rule index] = verbs used on group/resource by that rule.
	type ruleUse struct {
		g    *Grant
		rule *Rule
	}
	used := map[ruleUse]map[string][]string{}
	add := func(m map[useKey]*Use, k useKey, by []string) {
		u, ok := m[k]
		if !ok {
			u = &Use{Request: k.Request}
			m[k] = u
			order = append(order, k)
		}
		u.Count++
		for _, b := range by {
			if !slices.Contains(u.By, b) {
				u.By = append(u.By, b)
			}
		}
	}
	for _, r := range log.Requests {
		if !madeBy(s, r) {
			continue
		}
		req := requestOfAudit(r)
		k := useKey{req}
		if !r.Allowed {
			add(denied, k, nil)
			continue
		}
		var keptBy []string
		for _, h := range others {
			if rq, ok := a.requestFor(req, h.Binding, false); ok && len(allowedBy(h, rq)) > 0 {
				keptBy = append(keptBy, h.Binding.String())
			}
		}
		var perms []Permission
		for _, h := range direct {
			if rq, ok := a.requestFor(req, h.Binding, false); ok {
				perms = append(perms, allowedBy(h, rq)...)
			}
		}
		for _, p := range perms {
			ru := ruleUse{p.Grant, p.Rule}
			if used[ru] == nil {
				used[ru] = map[string][]string{}
			}
			rk := req.Group + "/" + req.resource()
			if req.Path != "" {
				rk = req.Path
			}
			if !slices.Contains(used[ru][rk], req.Verb) {
				used[ru][rk] = append(used[ru][rk], req.Verb)
			}
		}
		switch {
		case len(keptBy) > 0:
			add(kept, k, keptBy)
		case len(perms) > 0:
			var by []string
			for _, p := range perms {
				by = append(by, p.Binding.String())
			}
			add(covered, k, by)
		default:
			add(kept, k, []string{"outside RBAC (system:masters, a webhook, or a grant changed since)"})
		}
	}
	for _, k := range order {
		if u, ok := covered[k]; ok {
			n.Covered = append(n.Covered, *u)
		}
		if u, ok := kept[k]; ok {
			n.Kept = append(n.Kept, *u)
		}
		if u, ok := denied[k]; ok {
			n.Denied = append(n.Denied, *u)
		}
	}
	sortUses(n.Covered)
	sortUses(n.Kept)
	sortUses(n.Denied)

	for _, h := range direct {
		for i := range h.Role.Rules {
			rule := &h.Role.Rules[i]
			n.Unused = append(n.Unused, a.unusedParts(h.Grant, rule, used[ruleUse{h.Grant, rule}])...)
		}
	}
	slices.SortStableFunc(n.Unused, func(x, y UnusedGrant) int {
		return cmp.Or(cmp.Compare(y.Severity, x.Severity), cmp.Compare(x.Binding, y.Binding))
	})

	var replaced []*Grant
	for _, h := range direct {
		if h.Binding.Meta != nil && h.Binding.Meta.Annotations[NarrowedFromAnnotation] != "" {
			continue // generated by an earlier narrowing: it is the narrow grant
		}
		replaced = append(replaced, h.Grant)
	}
	switch {
	case len(direct) == 0:
		n.Note = "no binding names it outside the built-in policy: nothing to narrow"
		return n
	case len(log.Requests) == 0 || (len(n.Covered) == 0 && len(n.Kept) == 0 && len(n.Denied) == 0 && !opts.AllowEmpty):
		n.Note = "made no request in the window: not narrowed to nothing (a window that covers its whole cycle shows what it needs; --allow-empty removes its grants)"
		return n
	case len(replaced) == 0:
		n.Note = "its bindings are already the narrowed ones"
		return n
	case len(n.Unused) == 0:
		n.Note = "every grant was used in the window: nothing to narrow"
		return n
	}
	window := ""
	if !log.First.IsZero() {
		window = log.First.UTC().Format("2006-01-02T15:04:05Z") + ".." + log.Last.UTC().Format("2006-01-02T15:04:05Z")
	}
	var from []string
	for _, g := range replaced {
		if !slices.Contains(from, g.Binding.String()) {
			from = append(from, g.Binding.String())
		}
	}
	n.Replaces = from
	n.Roles, n.Bindings = a.generate(s, n.Covered, opts.MaxNames, strings.Join(from, ", "), window)
	n.Finding = narrowFinding(n, replaced, window, len(log.Requests))
	return n
}

func sortUses(us []Use) {
	slices.SortFunc(us, func(x, y Use) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Path, y.Path), cmp.Compare(x.Group, y.Group),
			cmp.Compare(x.Resource, y.Resource), cmp.Compare(x.Subresource, y.Subresource), cmp.Compare(x.Verb, y.Verb), cmp.Compare(x.Name, y.Name))
	})
}

// unusedParts splits a rule into its resources (or URLs) and reports, for
// each, the verbs no request used through this grant.
func (a *Analysis) unusedParts(g *Grant, rule *Rule, used map[string][]string) []UnusedGrant {
	base := UnusedGrant{Binding: g.Binding.String(), Role: g.Binding.RoleString(), Rule: ruleWhere(rule), ResourceNames: rule.ResourceNames}
	var out []UnusedGrant
	unusedVerbs := func(key string) []string {
		var vs []string
		for _, v := range rule.Verbs {
			if v == rbacv1.VerbAll && len(used[key]) > 0 {
				vs = append(vs, "* (except "+strings.Join(used[key], ", ")+")")
				continue
			}
			if !slices.Contains(used[key], v) {
				vs = append(vs, v)
			}
		}
		return vs
	}
	if len(rule.NonResourceURLs) > 0 {
		if !g.Binding.ClusterWide() {
			return nil // a RoleBinding grants no non-resource URL
		}
		for _, p := range rule.NonResourceURLs {
			if vs := unusedVerbs(p); len(vs) > 0 {
				u := base
				u.Path, u.Verbs, u.Severity = p, vs, finding.Info
				out = append(out, u)
			}
		}
		return out
	}
	for _, grp := range rule.APIGroups {
		for _, res := range rule.Resources {
			r, sub, _ := strings.Cut(res, "/")
			if !g.Binding.ClusterWide() && r != "*" && a.clusterScoped(grp, r) {
				continue // a RoleBinding grants nothing on a cluster-scoped resource
			}
			vs := unusedVerbs(grp + "/" + res)
			if len(vs) == 0 {
				continue
			}
			u := base
			u.Group, u.Resource, u.Verbs = grp, res, vs
			u.Severity, u.Dangerous = dangerOf(g, grp, r, sub, vs, rule.ResourceNames)
			out = append(out, u)
		}
	}
	return out
}

// dangerOf is the most severe capability of the catalogue among the verbs on
// group/resource, as the grant gives it (cluster-wide or in a namespace).
func dangerOf(g *Grant, group, resource, sub string, vs []string, names []string) (finding.Severity, []string) {
	sev := finding.Info
	var checks []string
	for _, c := range capabilities() {
		for _, act := range c.actions {
			if act.scope == clusterScoped && !g.Binding.ClusterWide() {
				continue
			}
			if act.namespace != "" && !g.Binding.ClusterWide() && act.namespace != g.Binding.Namespace {
				continue
			}
			rule := rbacv1.PolicyRule{Verbs: vs, APIGroups: []string{group}, Resources: []string{joinResource(resource, sub)}, ResourceNames: names}
			if slices.ContainsFunc(vs, func(v string) bool { return strings.HasPrefix(v, "*") }) {
				rule.Verbs = []string{"*"}
			}
			hit := false
			for _, v := range act.verbs {
				if ok, _ := ruleAllowsSomeName(rule, v, act.group, act.resource); ok && (!c.anyNameOnly || len(names) == 0) {
					hit = true
				}
			}
			if !hit {
				continue
			}
			s := c.namespaceSeverity
			if g.Binding.ClusterWide() {
				s = c.clusterSeverity
			}
			if s > sev {
				sev = s
			}
			if !slices.Contains(checks, c.check) {
				checks = append(checks, c.check)
			}
		}
	}
	if sev == finding.Info && len(checks) == 0 {
		// Unused writes are worth more attention than unused reads.
		for _, v := range vs {
			if v != "get" && v != "list" && v != "watch" {
				sev = finding.Low
			}
		}
	}
	return sev, checks
}

func joinResource(r, sub string) string {
	if sub != "" {
		return r + "/" + sub
	}
	return r
}

// scopeKey is where a generated rule is granted: a namespace, or "" for the cluster.
type scopeKey struct{ namespace string }

type resourceUse struct {
	group, resource string // resource may carry its subresource
	verbs           map[string][]string
	// unnamed are the verbs some use of which carried no name.
	unnamed map[string]bool
}

// generate builds the roles and bindings that allow exactly the covered
// requests: a Role and RoleBinding per namespace used, a ClusterRole and
// ClusterRoleBinding for cluster-scoped resources, non-resource URLs and
// requests across all namespaces. No wildcard; resourceNames where every use
// of a resource named at most maxNames objects.
func (a *Analysis) generate(s finding.Subject, covered []Use, maxNames int, from, window string) (roles, bindings []runtime.Object) {
	byScope := map[scopeKey]map[string]*resourceUse{}
	paths := map[string][]string{} // path -> verbs
	for _, u := range covered {
		req := u.Request
		if req.Path != "" {
			if !slices.Contains(paths[req.Path], req.Verb) {
				paths[req.Path] = append(paths[req.Path], req.Verb)
			}
			continue
		}
		sk := scopeKey{req.Namespace}
		switch {
		case req.Group == "" && req.Resource == "namespaces":
			if requestHasName(req.Verb, req.resource()) && req.Name != "" {
				sk = scopeKey{req.Name}
			} else {
				sk = scopeKey{}
			}
		case a.clusterScoped(req.Group, req.Resource):
			sk = scopeKey{}
		}
		m := byScope[sk]
		if m == nil {
			m = map[string]*resourceUse{}
			byScope[sk] = m
		}
		key := req.Group + "/" + req.resource()
		ru := m[key]
		if ru == nil {
			ru = &resourceUse{group: req.Group, resource: req.resource(), verbs: map[string][]string{}, unnamed: map[string]bool{}}
			m[key] = ru
		}
		if req.Name == "" {
			ru.unnamed[req.Verb] = true
			if _, ok := ru.verbs[req.Verb]; !ok {
				ru.verbs[req.Verb] = nil
			}
		} else if !slices.Contains(ru.verbs[req.Verb], req.Name) {
			ru.verbs[req.Verb] = append(ru.verbs[req.Verb], req.Name)
		}
	}
	if len(paths) > 0 {
		if byScope[scopeKey{}] == nil {
			byScope[scopeKey{}] = map[string]*resourceUse{}
		}
	}
	meta := func(name, ns string) metav1.ObjectMeta {
		m := metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "kubectl-harden"},
			Annotations: map[string]string{NarrowedFromAnnotation: from}}
		if window != "" {
			m.Annotations["kubectl-harden.io/audit-window"] = window
		}
		return m
	}
	subject := bindingSubject(s)
	scopes := slices.SortedFunc(maps.Keys(byScope), func(x, y scopeKey) int { return cmp.Compare(x.namespace, y.namespace) })
	for _, sk := range scopes {
		rules := rulesOf(byScope[sk], maxNames)
		if sk.namespace == "" {
			for _, p := range slices.Sorted(maps.Keys(paths)) {
				vs := paths[p]
				slices.Sort(vs)
				rules = append(rules, rbacv1.PolicyRule{NonResourceURLs: []string{p}, Verbs: vs})
			}
			rules = mergePaths(rules)
			name := generatedName(s, true)
			roles = append(roles, &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: kindClusterRole}, ObjectMeta: meta(name, ""), Rules: rules})
			bindings = append(bindings, &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: kindClusterRoleBinding}, ObjectMeta: meta(name, ""),
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindClusterRole, Name: name}, Subjects: []rbacv1.Subject{subject}})
			continue
		}
		name := generatedName(s, false)
		roles = append(roles, &rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: kindRole}, ObjectMeta: meta(name, sk.namespace), Rules: rules})
		bindings = append(bindings, &rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: kindRoleBinding}, ObjectMeta: meta(name, sk.namespace),
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindRole, Name: name}, Subjects: []rbacv1.Subject{subject}})
	}
	return roles, bindings
}

// rulesOf turns the uses of one scope into rules: per resource, the verbs
// whose every use named an object get resourceNames when the names are few;
// the rest none. Resources of one group with the same verbs share a rule.
func rulesOf(m map[string]*resourceUse, maxNames int) []rbacv1.PolicyRule {
	type ruleKey struct{ group, verbs, names string }
	merged := map[ruleKey]*rbacv1.PolicyRule{}
	var order []ruleKey
	put := func(group, resource string, verbs, names []string) {
		slices.Sort(verbs)
		slices.Sort(names)
		k := ruleKey{group, strings.Join(verbs, ","), strings.Join(names, ",")}
		if names != nil {
			k.names += "|" + resource // named rules stay per resource
		}
		r, ok := merged[k]
		if !ok {
			r = &rbacv1.PolicyRule{APIGroups: []string{group}, Verbs: verbs, ResourceNames: names}
			merged[k] = r
			order = append(order, k)
		}
		if !slices.Contains(r.Resources, resource) {
			r.Resources = append(r.Resources, resource)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		ru := m[key]
		var named, unnamed, names []string
		for _, v := range slices.Sorted(maps.Keys(ru.verbs)) {
			if ru.unnamed[v] || !requestHasName(v, ru.resource) {
				unnamed = append(unnamed, v)
				continue
			}
			named = append(named, v)
			for _, n := range ru.verbs[v] {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
		if len(named) > 0 && len(names) > maxNames {
			unnamed, named = append(unnamed, named...), nil
		}
		if len(unnamed) > 0 {
			put(ru.group, ru.resource, unnamed, nil)
		}
		if len(named) > 0 {
			put(ru.group, ru.resource, named, names)
		}
	}
	out := make([]rbacv1.PolicyRule, 0, len(order))
	for _, k := range order {
		r := merged[k]
		slices.Sort(r.Resources)
		out = append(out, *r)
	}
	return out
}

// mergePaths joins non-resource URL rules with the same verbs.
func mergePaths(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	byVerbs := map[string]int{}
	for _, r := range rules {
		if len(r.NonResourceURLs) == 0 {
			out = append(out, r)
			continue
		}
		k := strings.Join(r.Verbs, ",")
		if i, ok := byVerbs[k]; ok {
			out[i].NonResourceURLs = append(out[i].NonResourceURLs, r.NonResourceURLs...)
			continue
		}
		byVerbs[k] = len(out)
		out = append(out, r)
	}
	return out
}

// generatedName names the narrowed role and binding of a subject.
func generatedName(s finding.Subject, cluster bool) string {
	clean := strings.NewReplacer("/", "-", "%", "-").Replace
	switch s.Kind {
	case kindServiceAccount:
		if cluster {
			return clean(s.Namespace + "-" + s.Name + "-narrowed")
		}
		return clean(s.Name + "-narrowed")
	case rbacv1.GroupKind:
		return clean("group-" + s.Name + "-narrowed")
	}
	return clean("user-" + s.Name + "-narrowed")
}

func bindingSubject(s finding.Subject) rbacv1.Subject {
	if s.Kind == kindServiceAccount {
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: s.Name}
	}
	return rbacv1.Subject{Kind: s.Kind, APIGroup: rbacv1.GroupName, Name: s.Name}
}

// narrowFinding is the finding whose remedy is the narrowing: create each
// role, then its binding, then take the subject out of each broad binding
// (roleRef cannot change, so the broad binding is not edited into a narrow one).
func narrowFinding(n Narrowing, replaced []*Grant, window string, requests int) *finding.Finding {
	sev := finding.Info
	for _, u := range n.Unused {
		if u.Severity > sev {
			sev = u.Severity
		}
	}
	var changes []remedy.Change
	for i := range n.Roles {
		for _, obj := range []runtime.Object{n.Roles[i], n.Bindings[i]} {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
			if err != nil {
				continue // typed RBAC objects always convert
			}
			u := remedy.NewApply("", m)
			u.Description = fmt.Sprintf("create %s %s with only what %s used in the window", u.Target.Kind, targetName(u.Target), n.Subject)
			changes = append(changes, u)
		}
	}
	byBinding := map[*Binding][]int{}
	var bs []*Binding
	for _, g := range replaced {
		if _, ok := byBinding[g.Binding]; !ok {
			bs = append(bs, g.Binding)
		}
		byBinding[g.Binding] = append(byBinding[g.Binding], g.Index)
	}
	for _, b := range bs {
		changes = append(changes, removeSubject(b, byBinding[b]))
	}
	var dangerous []string
	for _, u := range n.Unused {
		for _, d := range u.Dangerous {
			if !slices.Contains(dangerous, d) {
				dangerous = append(dangerous, d)
			}
		}
	}
	msg := fmt.Sprintf("%s used %d of what %s grant it in the window %s (%d requests read): %d unused grants",
		n.Subject, len(n.Covered), strings.Join(n.Replaces, ", "), cmp.Or(window, "(empty)"), requests, len(n.Unused))
	if len(dangerous) > 0 {
		msg += ", dangerous ones among them: " + strings.Join(dangerous, ", ")
	}
	subj := n.Subject
	res := replaced[0].Binding.Resource()
	return &finding.Finding{
		Check: CheckNarrow, Severity: sev, Title: "Subject holds permissions it did not use",
		Message: msg, Resource: res, Subject: &subj,
		Evidence: map[string]any{"window": window, "unused": len(n.Unused), "used": len(n.Covered)},
		Remediation: &remedy.Remediation{
			Summary: "Create roles that allow only what was used, bind them, then remove the subject from the broad bindings",
			Changes: changes,
		},
	}
}

func targetName(t remedy.Target) string {
	if t.Namespace != "" {
		return t.Namespace + "/" + t.Name
	}
	return t.Name
}
