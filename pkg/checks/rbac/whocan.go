package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// AnyNamespace asks WhoCan for the subjects allowed in at least one namespace.
const AnyNamespace = "*"

// Access is one way a subject is allowed a request: a binding naming it
// (or a group it stands for) to a role with a rule that allows the request.
type Access struct {
	// Subject is the subject as the binding names it (a group stands for all its members).
	Subject finding.Subject `json:"subject"`
	// Binding is "ClusterRoleBinding NAME" or "RoleBinding NS/NAME"; Role is "ClusterRole NAME" or "Role NS/NAME".
	Binding string `json:"binding"`
	Role    string `json:"role"`
	// Scope is where the access holds: "cluster-wide" or "in namespace NS".
	Scope string `json:"scope"`
	// Rules are the role's rules that allow the request.
	Rules []string `json:"rules"`
}

// WhoCan returns every subject that RBAC allows to make the request, and
// through which binding, role and rule, sorted by subject. resource may carry
// its group ("deployments.apps"); a built-in resource may be named bare; a
// resource starting with "/" is a non-resource URL. namespace is the request's
// namespace as in a SubjectAccessReview (empty: cluster-scoped, or across all
// namespaces at once), or AnyNamespace for access in at least one namespace.
// Group system:masters is allowed everything without RBAC; no binding shows its members.
func WhoCan(inv *inventory.Inventory, verb, resource, subresource, name, namespace string) ([]Access, error) {
	req := Request{Verb: verb, Name: name, Namespace: namespace}
	if strings.HasPrefix(resource, "/") {
		req.Path = resource
	} else {
		group, res, sub, err := ParseResource(resource)
		if err != nil {
			return nil, err
		}
		if sub != "" && subresource != "" && sub != subresource {
			return nil, fmt.Errorf("subresource given twice: %q and %q", sub, subresource)
		}
		req.Group, req.Resource, req.Subresource = group, res, cmp.Or(subresource, sub)
	}
	if verb == "" {
		return nil, fmt.Errorf("who-can: a verb is required")
	}
	return Analyze(inv).WhoCan(req), nil
}

// WhoCan is WhoCan on an analysis, for a parsed request.
func (a *Analysis) WhoCan(req Request) []Access {
	anywhere := req.Namespace == AnyNamespace
	var out []Access
	for _, g := range a.Grants {
		if g.Role == nil {
			continue
		}
		r, ok := a.requestFor(req, g.Binding, anywhere)
		if !ok {
			continue
		}
		perms := allowedBy(Held{Grant: g}, r)
		if len(perms) == 0 {
			continue
		}
		acc := Access{Subject: g.Subject, Binding: g.Binding.String(), Role: g.Binding.RoleString(), Scope: g.Scope()}
		for _, p := range perms {
			acc.Rules = append(acc.Rules, ruleWhere(p.Rule)+": "+formatRule(p.Rule.PolicyRule))
		}
		out = append(out, acc)
	}
	slices.SortFunc(out, func(x, y Access) int {
		return cmp.Or(compareSubjects(x.Subject, y.Subject), cmp.Compare(x.Scope, y.Scope), cmp.Compare(x.Binding, y.Binding))
	})
	return out
}

func ruleWhere(r *Rule) string {
	if r.From != "" {
		return fmt.Sprintf("ClusterRole %s rules[%d]", r.From, r.Index)
	}
	return fmt.Sprintf("rules[%d]", r.Index)
}

// requestFor is the request as the API server sees it for one binding: the
// namespace RequestInfo gives it, and whether the binding can grant it at all.
// anywhere asks for "in some namespace": a RoleBinding answers for its own.
//   - A cluster-scoped resource is requested outside any namespace, whatever
//     -n says: only a ClusterRoleBinding grants it.
//   - /api/v1/namespaces/N is a request in namespace N, so a RoleBinding in N
//     grants get/update/patch/delete of N itself; list, watch, create and
//     deletecollection of namespaces are on the collection, cluster-scoped.
func (a *Analysis) requestFor(req Request, b *Binding, anywhere bool) (Request, bool) {
	r := req
	if r.Path != "" {
		return r, true // non-resource URLs: allowedBy keeps ClusterRoleBindings only
	}
	if r.Group == "" && r.Resource == "namespaces" {
		if !requestHasName(r.Verb, r.resource()) {
			r.Namespace, r.Name = "", ""
			return r, b.ClusterWide()
		}
		switch {
		case r.Name != "":
			r.Namespace = r.Name
		case anywhere && !b.ClusterWide():
			r.Name, r.Namespace = b.Namespace, b.Namespace // some namespace: the binding's own
		default:
			r.Namespace = "" // a named verb without a name: the name "" at the cluster scope
		}
		return r, b.ClusterWide() || b.Namespace == r.Namespace
	}
	if a.clusterScoped(r.Group, r.Resource) {
		r.Namespace = ""
		return r, b.ClusterWide()
	}
	if anywhere {
		r.Namespace = b.Namespace
		if b.ClusterWide() {
			r.Namespace = ""
		}
	}
	return r, true
}

// clusterScoped says whether a resource has no namespace: as discovery (live)
// or a CRD in the files says, else as the built-in table for this version does.
func (a *Analysis) clusterScoped(group, resource string) bool {
	if namespaced, known := a.inv.Namespaced(group, resource); known {
		return !namespaced
	}
	return clusterScopedResource(group, resource)
}

// ScopeKnown reports whether the analysis knows if a resource is namespaced:
// from discovery, a CRD in the input, or a built-in group of the table. For
// any other resource a RoleBinding is counted as granting it in its namespace,
// which is right for a namespaced resource and too generous for a
// cluster-scoped one: callers say so.
func (a *Analysis) ScopeKnown(group, resource string) bool {
	if group == "*" || resource == "*" {
		return true
	}
	if _, known := a.inv.Namespaced(group, resource); known {
		return true
	}
	return builtinGroups[group]
}

// builtinGroups are the API groups of Kubernetes itself, which the table covers.
var builtinGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true, "rbac.authorization.k8s.io": true,
	"networking.k8s.io": true, "admissionregistration.k8s.io": true, "apiextensions.k8s.io": true,
	"apiregistration.k8s.io": true, "scheduling.k8s.io": true, "authentication.k8s.io": true,
	"authorization.k8s.io": true, "certificates.k8s.io": true, "storage.k8s.io": true, "resource.k8s.io": true,
	"flowcontrol.apiserver.k8s.io": true, "node.k8s.io": true, "storagemigration.k8s.io": true,
	"coordination.k8s.io": true, "discovery.k8s.io": true, "events.k8s.io": true, "internal.apiserver.k8s.io": true,
}

// clusterScopedResource reports whether a built-in resource has no namespace, so a
// RoleBinding never grants it. namespaces is namespaced for this purpose: a
// request on namespace NS is made in NS, so a RoleBinding there grants it.
func clusterScopedResource(group, resource string) bool {
	switch group {
	case "":
		switch resource {
		case "nodes", "persistentvolumes", "componentstatuses", "users", "groups":
			return true
		}
	case "rbac.authorization.k8s.io":
		return resource == "clusterroles" || resource == "clusterrolebindings"
	case "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "scheduling.k8s.io",
		"authentication.k8s.io", "flowcontrol.apiserver.k8s.io", "node.k8s.io", "storagemigration.k8s.io":
		return true
	case "certificates.k8s.io":
		// podcertificaterequests are namespaced; the rest of the group is not.
		return resource != "podcertificaterequests"
	case "storage.k8s.io":
		switch resource {
		case "storageclasses", "csidrivers", "csinodes", "volumeattachments", "volumeattributesclasses":
			return true
		}
	case "resource.k8s.io":
		return resource == "deviceclasses" || resource == "devicetaintrules" || resource == "resourceslices"
	case "networking.k8s.io":
		return resource == "ingressclasses" || resource == "ipaddresses" || resource == "servicecidrs"
	case "authorization.k8s.io":
		return resource != "localsubjectaccessreviews"
	case "internal.apiserver.k8s.io":
		return resource == "storageversions"
	}
	return false
}
