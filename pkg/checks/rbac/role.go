package rbac

import (
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Role is a Role or ClusterRole with the rules the authorizer evaluates for it.
type Role struct {
	Kind      string // Role or ClusterRole
	Namespace string // empty for a ClusterRole
	Name      string
	Meta      *metav1.ObjectMeta
	Rules     []Rule
	// Aggregation is set on an aggregated ClusterRole: its rules are written by
	// the aggregation controller from the ClusterRoles the selectors match.
	Aggregation *rbacv1.AggregationRule
}

// Rule is one policy rule of a role, with where it came from.
type Rule struct {
	rbacv1.PolicyRule
	// Index is the rule's position in the role that holds it (the source role for an aggregated rule).
	Index int
	// From names the ClusterRole an aggregated rule was copied from; empty when the rule is the role's own.
	From string
	// Default is set when the built-in bootstrap role of this name has the rule (or a broader one).
	Default bool
}

// String names the role: "ClusterRole view" or "Role shop/reader".
func (r *Role) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

type roleKey struct{ kind, namespace, name string }

// roleIndex holds every role of the inventory by kind, namespace and name.
type roleIndex map[roleKey]*Role

func (ix roleIndex) lookup(b *Binding) *Role {
	switch b.RoleRef.Kind {
	case kindClusterRole:
		return ix[roleKey{kindClusterRole, "", b.RoleRef.Name}]
	case kindRole:
		// A Role is always looked up in the binding's namespace; a ClusterRoleBinding cannot refer to one.
		if b.Namespace == "" {
			return nil
		}
		return ix[roleKey{kindRole, b.Namespace, b.RoleRef.Name}]
	}
	return nil
}

// indexRoles reads the roles of inv. An aggregated ClusterRole keeps the rules
// it has (what the authorizer uses now); when the input is files, the rules of
// the roles its selectors match are added too, because in a cluster the
// controller would have copied them. Each aggregated rule is traced to the
// source role it came from, so a remedy can target the source.
func indexRoles(roles []rbacv1.Role, clusterRoles []rbacv1.ClusterRole, offline bool) roleIndex {
	ix := make(roleIndex, len(roles)+len(clusterRoles))
	for i := range roles {
		r := &roles[i]
		ix[roleKey{kindRole, r.Namespace, r.Name}] = &Role{Kind: kindRole, Namespace: r.Namespace, Name: r.Name, Meta: &r.ObjectMeta, Rules: ownRules(r.Rules)}
	}
	var aggregated []*Role
	for i := range clusterRoles {
		r := &clusterRoles[i]
		role := &Role{Kind: kindClusterRole, Name: r.Name, Meta: &r.ObjectMeta, Rules: ownRules(r.Rules), Aggregation: r.AggregationRule}
		ix[roleKey{kindClusterRole, "", r.Name}] = role
		if r.AggregationRule != nil && len(r.AggregationRule.ClusterRoleSelectors) > 0 {
			aggregated = append(aggregated, role)
		}
	}
	if len(aggregated) == 0 {
		return ix
	}
	sources := make(map[*Role][]*Role, len(aggregated))
	for _, agg := range aggregated {
		sources[agg] = aggregationSources(agg, clusterRoles, ix)
	}
	for _, agg := range aggregated {
		for i := range agg.Rules {
			r := &agg.Rules[i]
			if src, j := origin(agg, r.PolicyRule, sources, 0); src != nil {
				r.From, r.Index = src.Name, j
			}
		}
	}
	if offline {
		// Aggregated roles may select other aggregated roles (admin selects edit,
		// edit selects view): repeat until nothing is added, as the controller does.
		for changed := true; changed; {
			changed = false
			for _, agg := range aggregated {
				for _, src := range sources[agg] {
					for _, r := range src.Rules {
						if !hasRule(agg.Rules, r.PolicyRule) {
							from := r.From
							if from == "" {
								from = src.Name
							}
							agg.Rules = append(agg.Rules, Rule{PolicyRule: r.PolicyRule, Index: r.Index, From: from})
							changed = true
						}
					}
				}
			}
		}
	}
	return ix
}

func ownRules(rs []rbacv1.PolicyRule) []Rule {
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = Rule{PolicyRule: r, Index: i}
	}
	return out
}

// aggregationSources returns the ClusterRoles an aggregated role's selectors match, itself excluded.
func aggregationSources(agg *Role, clusterRoles []rbacv1.ClusterRole, ix roleIndex) []*Role {
	var sels []labels.Selector
	for _, s := range agg.Aggregation.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&s)
		if err != nil {
			// The API server rejects an invalid selector, so it can only come from a file: it selects nothing.
			continue
		}
		sels = append(sels, sel)
	}
	var out []*Role
	for i := range clusterRoles {
		cr := &clusterRoles[i]
		if cr.Name == agg.Name {
			continue
		}
		set := labels.Set(cr.Labels)
		for _, sel := range sels {
			if sel.Matches(set) {
				out = append(out, ix[roleKey{kindClusterRole, "", cr.Name}])
				break
			}
		}
	}
	return out
}

// origin finds the role an aggregated rule was copied from, following
// aggregated sources down to a role that holds the rule as its own.
func origin(agg *Role, r rbacv1.PolicyRule, sources map[*Role][]*Role, depth int) (*Role, int) {
	if depth > 8 {
		return nil, -1
	}
	for _, src := range sources[agg] {
		j := ruleIndex(src.Rules, r)
		if j < 0 {
			continue
		}
		if _, isAgg := sources[src]; isAgg {
			if o, k := origin(src, r, sources, depth+1); o != nil {
				return o, k
			}
		}
		return src, j
	}
	return nil, -1
}

func hasRule(rs []Rule, r rbacv1.PolicyRule) bool { return ruleIndex(rs, r) >= 0 }

func ruleIndex(rs []Rule, r rbacv1.PolicyRule) int {
	for i := range rs {
		if ruleEqual(rs[i].PolicyRule, r) {
			return i
		}
	}
	return -1
}

// rolesOf indexes the roles of an inventory. Offline, a built-in ClusterRole
// the files do not define is the default one (Analysis.Role), and aggregation
// is worked out over both, as in a cluster: a ClusterRole of the files
// labelled aggregate-to-edit adds its rules to the built-in edit (and so to
// admin), and an aggregated one of the files that selects built-in roles gets
// their rules. The built-in aggregated roles so resolved replace those of d,
// which must be this analysis's own.
func rolesOf(inv *inventory.Inventory, d *defaults) roleIndex {
	if !inv.Offline {
		return indexRoles(inv.Roles, inv.ClusterRoles, false)
	}
	defined := make(map[string]bool, len(inv.ClusterRoles))
	for _, cr := range inv.ClusterRoles {
		defined[cr.Name] = true
	}
	var builtin []rbacv1.ClusterRole
	for _, cr := range d.clusterRoles {
		if !defined[cr.Name] {
			builtin = append(builtin, cr)
		}
	}
	if !aggregationCrosses(inv.ClusterRoles, builtin) {
		return indexRoles(inv.Roles, inv.ClusterRoles, true)
	}
	ix := indexRoles(inv.Roles, append(slices.Clone(inv.ClusterRoles), builtin...), true)
	resolved := roleIndex{}
	for _, cr := range builtin {
		k := roleKey{kindClusterRole, "", cr.Name}
		if r := ix[k]; r.Aggregation != nil {
			resolved[k] = r
		}
		delete(ix, k)
	}
	// A rule the files aggregate into a built-in role is not one of its defaults.
	d.markDefaultRules(resolved)
	maps.Copy(d.roles, resolved)
	return ix
}

// aggregationCrosses says whether an aggregated ClusterRole of one set selects
// a ClusterRole of the other.
func aggregationCrosses(files, builtin []rbacv1.ClusterRole) bool {
	selects := func(agg *rbacv1.ClusterRole, roles []rbacv1.ClusterRole) bool {
		if agg.AggregationRule == nil {
			return false
		}
		for i := range agg.AggregationRule.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&agg.AggregationRule.ClusterRoleSelectors[i])
			if err != nil {
				continue
			}
			for _, r := range roles {
				if r.Name != agg.Name && sel.Matches(labels.Set(r.Labels)) {
					return true
				}
			}
		}
		return false
	}
	for i := range files {
		if selects(&files[i], builtin) {
			return true
		}
	}
	for i := range builtin {
		if selects(&builtin[i], files) {
			return true
		}
	}
	return false
}

// ruleEqual compares rules field by field; an empty list equals a missing one.
func ruleEqual(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}
