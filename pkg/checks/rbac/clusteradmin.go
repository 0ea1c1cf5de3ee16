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

// mastersSubject is the group system:masters as a subject.
func mastersSubject() finding.Subject {
	return finding.Subject{Kind: rbacv1.GroupKind, Name: mastersGroup}
}

// clusterAdminBindings reports every subject bound to the ClusterRole
// cluster-admin. Only roleRef kind ClusterRole counts: a Role that happens to
// be named cluster-admin is an ordinary Role. system:masters is left out (it
// is the designed holder of cluster-admin and bypasses RBAC anyway), and so
// are the subjects of unchanged built-in bindings unless opts says otherwise.
func clusterAdminBindings(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	var hits []*Grant
	flagged := map[*Binding][]int{}
	for _, g := range a.Grants {
		b := g.Binding
		if b.RoleRef.Kind != kindClusterRole || b.RoleRef.Name != clusterAdmin {
			continue
		}
		if g.Subject == mastersSubject() {
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
		for _, h := range hits {
			if h.Binding == b {
				change.Breaks = append(change.Breaks, fmt.Sprintf("%s loses the permissions of %s %s", h.Subject, b.RoleString(), h.Scope()))
			}
		}
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

// systemMasters says once that system:masters bypasses RBAC and that its
// members cannot be seen, and reports the bindings that name it: they give its
// members nothing, yet read as if the binding were what grants them, and as if
// deleting it took their access away. The note is made for a live cluster,
// where the group always exists, and for files that name the group.
func systemMasters(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	grants := a.bySubject[mastersSubject()]
	if a.Offline && len(grants) == 0 {
		return nil
	}
	var out []finding.Finding
	var bindings []string
	for _, g := range grants {
		b := g.Binding
		bindings = append(bindings, b.String())
		if g.Default && !opts.IncludeSystem {
			continue
		}
		f := subjectFinding(g, fmt.Sprintf("%s binds Group system:masters to %s: redundant, since system:masters bypasses RBAC, and misleading, since deleting it takes nothing away from the group's members",
			b, b.RoleString()), nil,
			fmt.Sprintf("Take Group system:masters out of %s: its members keep every permission without it, and the binding no longer suggests otherwise.", b))
		f.Severity = finding.Low
		if g.Default {
			f.Remediation = &remedy.Remediation{
				Summary: fmt.Sprintf("%s is part of the built-in policy, which the API server restores at start; leave it, and remember it does not show who the members are.", b),
			}
		}
		out = append(out, f)
	}
	subj := mastersSubject()
	ev := map[string]any{"members": "not visible through the API"}
	if len(bindings) > 0 {
		ev["bindings"] = bindings
	}
	out = append(out, finding.Finding{
		Severity: finding.Info,
		Message: "Group system:masters bypasses RBAC: the API server allows its members every request without asking RBAC, " +
			"and membership comes from credentials (a client certificate with O=system:masters), not from any object, " +
			"so this audit cannot list the members and does not guess them",
		Resource: finding.Resource{APIVersion: rbacAPIVersion, Kind: rbacv1.GroupKind, Name: mastersGroup},
		Subject:  &subj,
		Evidence: ev,
		Remediation: &remedy.Remediation{
			Summary: "Find who holds system:masters credentials where they are issued (the cluster CA, kubeadm's super-admin.conf); keep them offline for break-glass use, and give people and automation identities bound to roles.",
		},
	})
	return out
}
