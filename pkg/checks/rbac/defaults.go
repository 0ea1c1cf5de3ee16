package rbac

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// bootstrapPolicy is the RBAC policy kube-apiserver v1.37 creates at start
// (every object labelled kubernetes.io/bootstrapping=rbac-defaults), trimmed
// to names, labels, rules, aggregation, roleRef and subjects. Regenerate it
// against a fresh API server of the new version with:
//
//	kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -l kubernetes.io/bootstrapping=rbac-defaults -o json |
//	  jq -c '{apiVersion: "v1", kind: "List", items: [.items[] | {apiVersion: "rbac.authorization.k8s.io/v1", kind,
//	    metadata: ({name: .metadata.name, namespace: .metadata.namespace, labels: (.metadata.labels | del(.["kubernetes.io/bootstrapping"]) | if . == {} then null else . end)} | with_entries(select(.value != null)))}
//	    + ({rules, aggregationRule, roleRef, subjects} | with_entries(select(.value != null)))]}'
//
//go:embed bootstrap-v1.37.json
var bootstrapPolicy []byte

// bootstrappingLabel is on every object of the built-in policy, with the value rbac-defaults.
const bootstrappingLabel = "kubernetes.io/bootstrapping"

// defaults answers whether a role rule or a binding subject is part of the
// built-in policy, so that only changes to it are reported.
type defaults struct {
	roles    roleIndex
	bindings map[roleKey]*Binding // keyed by binding kind, namespace, name
	// clusterRoles are the built-in ClusterRoles as the API server stores them
	// at start (the aggregated ones empty), labelled as it labels them.
	clusterRoles []rbacv1.ClusterRole
}

func loadDefaults() (*defaults, error) {
	inv, err := inventory.FromFiles([]string{"-"}, bytes.NewReader(bootstrapPolicy))
	if err != nil {
		return nil, fmt.Errorf("read the built-in bootstrap RBAC policy: %w", err)
	}
	// The bootstrap aggregated roles are stored empty; resolve them as the controller would.
	d := &defaults{roles: indexRoles(inv.Roles, inv.ClusterRoles, true), bindings: map[roleKey]*Binding{}, clusterRoles: slices.Clone(inv.ClusterRoles)}
	for i := range d.clusterRoles {
		// The embedded policy leaves out the label every object of it has; a selector may name it.
		cr := &d.clusterRoles[i]
		cr.Labels = maps.Clone(cr.Labels)
		if cr.Labels == nil {
			cr.Labels = map[string]string{}
		}
		cr.Labels[bootstrappingLabel] = "rbac-defaults"
	}
	for _, r := range d.roles {
		for i := range r.Rules {
			r.Rules[i].Default = true
		}
	}
	for _, b := range listBindings(inv) {
		d.bindings[roleKey{b.Kind, b.Namespace, b.Name}] = b
	}
	return d, nil
}

// markDefaultRules sets Rule.Default on the rules of the roles that are built
// in and that the built-in role also has. A rule added to a built-in role is
// not default: the API server keeps extra rules when it reconciles.
func (d *defaults) markDefaultRules(ix roleIndex) {
	for k, r := range ix {
		def, ok := d.roles[k]
		if !ok {
			continue
		}
		defRules := make([]rbacv1.PolicyRule, len(def.Rules))
		for i, dr := range def.Rules {
			defRules[i] = dr.PolicyRule
		}
		for i := range r.Rules {
			covered, _ := validation.Covers(defRules, []rbacv1.PolicyRule{r.Rules[i].PolicyRule})
			r.Rules[i].Default = covered
		}
	}
}

// defaultSubject reports whether subject i of b is one the built-in binding of that name has, with the same role.
func (d *defaults) defaultSubject(b *Binding, i int) bool {
	def, ok := d.bindings[roleKey{b.Kind, b.Namespace, b.Name}]
	if !ok || def.RoleRef.Kind != b.RoleRef.Kind || def.RoleRef.Name != b.RoleRef.Name {
		return false
	}
	want := subjectOf(b, b.Subjects[i])
	for _, s := range def.Subjects {
		if subjectOf(def, s) == want {
			return true
		}
	}
	return false
}
