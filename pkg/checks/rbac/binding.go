package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

const (
	kindClusterRoleBinding = "ClusterRoleBinding"
	kindRoleBinding        = "RoleBinding"
	kindClusterRole        = "ClusterRole"
	kindRole               = "Role"
	kindServiceAccount     = "ServiceAccount"

	rbacAPIVersion = "rbac.authorization.k8s.io/v1"
)

// Binding is a RoleBinding or a ClusterRoleBinding, read the same way.
type Binding struct {
	Kind      string // ClusterRoleBinding or RoleBinding
	Namespace string // empty for a ClusterRoleBinding
	Name      string
	Meta      *metav1.ObjectMeta
	RoleRef   rbacv1.RoleRef
	Subjects  []rbacv1.Subject
}

// ClusterWide reports whether the binding grants in every namespace.
func (b *Binding) ClusterWide() bool { return b.Kind == kindClusterRoleBinding }

// Resource names the binding in a finding.
func (b *Binding) Resource() finding.Resource {
	return finding.Resource{APIVersion: rbacAPIVersion, Kind: b.Kind, Namespace: b.Namespace, Name: b.Name}
}

// Target names the binding in a remediation change.
func (b *Binding) Target() remedy.Target {
	return remedy.Target{APIVersion: rbacAPIVersion, Kind: b.Kind, Namespace: b.Namespace, Name: b.Name}
}

// String is how messages name the binding: "ClusterRoleBinding x" or "RoleBinding ns/x".
func (b *Binding) String() string {
	if b.Namespace != "" {
		return b.Kind + " " + b.Namespace + "/" + b.Name
	}
	return b.Kind + " " + b.Name
}

// RoleString names the bound role: a Role lives in the binding's namespace.
func (b *Binding) RoleString() string {
	if b.RoleRef.Kind == kindRole {
		return kindRole + " " + b.Namespace + "/" + b.RoleRef.Name
	}
	return b.RoleRef.Kind + " " + b.RoleRef.Name
}

// listBindings returns every binding of the inventory, ClusterRoleBindings first.
func listBindings(inv *inventory.Inventory) []*Binding {
	out := make([]*Binding, 0, len(inv.ClusterRoleBindings)+len(inv.RoleBindings))
	for i := range inv.ClusterRoleBindings {
		b := &inv.ClusterRoleBindings[i]
		out = append(out, &Binding{Kind: kindClusterRoleBinding, Name: b.Name, Meta: &b.ObjectMeta, RoleRef: b.RoleRef, Subjects: b.Subjects})
	}
	for i := range inv.RoleBindings {
		b := &inv.RoleBindings[i]
		out = append(out, &Binding{Kind: kindRoleBinding, Namespace: b.Namespace, Name: b.Name, Meta: &b.ObjectMeta, RoleRef: b.RoleRef, Subjects: b.Subjects})
	}
	return out
}

// subjectOf turns a binding subject into the finding's Subject. A ServiceAccount
// without a namespace in a RoleBinding is in the binding's namespace, as the
// authorizer reads it; a User named system:serviceaccount:NS:NAME is that ServiceAccount.
func subjectOf(b *Binding, s rbacv1.Subject) finding.Subject {
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = b.Namespace
		}
		return finding.Subject{Kind: kindServiceAccount, Namespace: ns, Name: s.Name}
	case rbacv1.UserKind:
		if ns, name, ok := serviceAccountUser(s.Name); ok {
			return finding.Subject{Kind: kindServiceAccount, Namespace: ns, Name: name}
		}
	}
	return finding.Subject{Kind: s.Kind, Name: s.Name}
}

// serviceAccountUser splits a service account's user name system:serviceaccount:NS:NAME.
func serviceAccountUser(user string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}

// removeSubject returns the change that takes one subject out of a binding,
// or deletes the binding when it is the only subject (a binding with no
// subjects is useless, and roleRef cannot be changed anyway). The merge patch
// replaces the whole subjects list, so the resourceVersion precondition keeps
// a concurrent edit from being lost.
func removeSubject(b *Binding, drop []int) remedy.Change {
	keep := make([]any, 0, len(b.Subjects))
	dropped := map[int]bool{}
	for _, i := range drop {
		dropped[i] = true
	}
	for i, s := range b.Subjects {
		if dropped[i] {
			continue
		}
		m := map[string]any{"kind": s.Kind, "name": s.Name}
		if s.APIGroup != "" {
			m["apiGroup"] = s.APIGroup
		}
		if s.Namespace != "" {
			m["namespace"] = s.Namespace
		}
		keep = append(keep, m)
	}
	if len(keep) == 0 {
		return deleteBinding(b)
	}
	var names []string
	for _, i := range drop {
		names = append(names, subjectOf(b, b.Subjects[i]).String())
	}
	c, err := remedy.NewMergePatch("remove "+strings.Join(names, ", ")+" from "+b.String(), b.Target(), b.Meta.ResourceVersion,
		map[string]any{"subjects": keep})
	if err != nil {
		// Encoding a map of strings cannot fail; fall back to the delete rather than lose the fix.
		return deleteBinding(b)
	}
	return c
}

// subjectFinding is a finding about one subject of a binding, named by the
// rules ruleIdx of its role, whose remedy takes that subject out of the binding.
func subjectFinding(g *Grant, msg string, ruleIdx []int, summary string) finding.Finding {
	subj := g.Subject
	return finding.Finding{
		Message:  msg,
		Resource: g.Binding.Resource(),
		Subject:  &subj,
		Evidence: grantEvidence(g, ruleIdx),
		Remediation: &remedy.Remediation{
			Summary: summary,
			Changes: []remedy.Change{removeSubject(g.Binding, []int{g.Index})},
		},
	}
}

func deleteBinding(b *Binding) remedy.Change {
	return remedy.NewDelete("delete "+b.String()+" (roleRef cannot be changed; recreate it with a narrower role if the access is needed)",
		b.Target(), b.Meta.ResourceVersion)
}
