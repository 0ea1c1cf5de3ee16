package rbac

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

const (
	clusterAdmin = "cluster-admin"
	// mastersGroup bypasses RBAC in the authorizer; bootstrap binds it to cluster-admin.
	mastersGroup = "system:masters"
)

// clusterAdminBindings reports every subject bound to the ClusterRole
// cluster-admin. Only roleRef kind ClusterRole counts: a Role that happens to
// be named cluster-admin is an ordinary Role. system:masters is left out (it
// is the designed holder of cluster-admin and bypasses RBAC anyway), and so
// are the subjects of unchanged built-in bindings unless opts says otherwise.
func clusterAdminBindings(inv *inventory.Inventory, opts Options) []finding.Finding {
	a := Analyze(inv)
	var hits []*Grant
	flagged := map[*Binding][]int{}
	for _, g := range a.Grants {
		b := g.Binding
		if b.RoleRef.Kind != kindClusterRole || b.RoleRef.Name != clusterAdmin {
			continue
		}
		if g.Subject.Kind == rbacv1.GroupKind && g.Subject.Name == mastersGroup {
			continue
		}
		if g.Default && !opts.IncludeSystem {
			continue
		}
		hits = append(hits, g)
		flagged[b] = append(flagged[b], g.Index)
	}
	out := make([]finding.Finding, 0, len(hits))
	for _, g := range hits {
		b := g.Binding
		// Every finding of one binding carries the same change, so applying it once fixes them all.
		change := removeSubject(b, flagged[b])
		subj := g.Subject
		ev := grantEvidence(g, nil)
		if g.Role != nil {
			ev = grantEvidence(g, indexes(len(g.Role.Rules)))
		}
		ev["requests"] = []Request{{Verb: "*", Group: "*", Resource: "*", Namespace: b.Namespace}}
		f := finding.Finding{
			Resource: b.Resource(),
			Subject:  &subj,
			Evidence: ev,
			Remediation: &remedy.Remediation{
				Summary: fmt.Sprintf("Give %s a role with only the permissions it needs, then remove it from %s.", subj, b),
				Changes: []remedy.Change{change},
			},
		}
		if b.ClusterWide() {
			f.Message = fmt.Sprintf("%s is bound to cluster-admin by %s", subj, b)
		} else {
			// A RoleBinding grants cluster-admin's rules in its namespace only: every
			// namespaced resource there, but nothing cluster-scoped.
			f.Severity = finding.High
			f.Message = fmt.Sprintf("%s is bound to cluster-admin in namespace %s by %s", subj, b.Namespace, b)
		}
		out = append(out, f)
	}
	return out
}
