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
		r := req
		if anywhere {
			// A RoleBinding grants in its own namespace; a ClusterRoleBinding in every one.
			r.Namespace = g.Binding.Namespace
			if g.Binding.ClusterWide() {
				r.Namespace = ""
			}
			if !g.Binding.ClusterWide() && req.Path == "" && clusterScopedResource(req.Group, req.Resource) {
				continue
			}
		}
		perms := allowedBy(Held{Grant: g}, r, r.policyRule())
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
	case "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "scheduling.k8s.io", "certificates.k8s.io",
		"authentication.k8s.io":
		return true
	case "storage.k8s.io":
		return resource == "storageclasses" || resource == "csidrivers" || resource == "csinodes" || resource == "volumeattachments"
	case "networking.k8s.io":
		return resource == "ingressclasses" || resource == "ipaddresses" || resource == "servicecidrs"
	case "authorization.k8s.io":
		return resource != "localsubjectaccessreviews"
	}
	return false
}
