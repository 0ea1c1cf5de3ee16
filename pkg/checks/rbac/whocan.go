package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

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
// from discovery, a CRD in the input, or the table of built-in resources. For
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
	_, known := BuiltinScope(group, resource)
	return known
}

// builtinScopes says, for every resource Kubernetes v1.37 serves (read off
// the API server's discovery; an e2e test compares the two), whether it is
// namespaced. Offline it is the scope of a resource no CRD in the input
// names; live, discovery answers first. Subresources (pods/exec) take their
// resource's scope.
//
// One table serves every server version, because Kubernetes never changes a
// resource's scope: a resource only appears, and is later removed. Read off
// the +genclient:nonNamespaced markers of k8s.io/api from v0.17 to v0.37, no
// group and resource ever had both scopes; the resources that older versions
// served and v1.37 does not are at the end, so for those versions the table
// is a correct superset.
var builtinScopes = map[schema.GroupResource]bool{
	{Group: "", Resource: "bindings"}:                                                      true,
	{Group: "", Resource: "componentstatuses"}:                                             false,
	{Group: "", Resource: "configmaps"}:                                                    true,
	{Group: "", Resource: "endpoints"}:                                                     true,
	{Group: "", Resource: "events"}:                                                        true,
	{Group: "", Resource: "limitranges"}:                                                   true,
	{Group: "", Resource: "namespaces"}:                                                    false,
	{Group: "", Resource: "nodes"}:                                                         false,
	{Group: "", Resource: "persistentvolumeclaims"}:                                        true,
	{Group: "", Resource: "persistentvolumes"}:                                             false,
	{Group: "", Resource: "pods"}:                                                          true,
	{Group: "", Resource: "podtemplates"}:                                                  true,
	{Group: "", Resource: "replicationcontrollers"}:                                        true,
	{Group: "", Resource: "resourcequotas"}:                                                true,
	{Group: "", Resource: "secrets"}:                                                       true,
	{Group: "", Resource: "serviceaccounts"}:                                               true,
	{Group: "", Resource: "services"}:                                                      true,
	{Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicies"}:         false,
	{Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicybindings"}:   false,
	{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"}:     false,
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}:       false,
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings"}: false,
	{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"}:   false,
	{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}:                 false,
	{Group: "apiregistration.k8s.io", Resource: "apiservices"}:                             false,
	{Group: "apps", Resource: "controllerrevisions"}:                                       true,
	{Group: "apps", Resource: "daemonsets"}:                                                true,
	{Group: "apps", Resource: "deployments"}:                                               true,
	{Group: "apps", Resource: "replicasets"}:                                               true,
	{Group: "apps", Resource: "statefulsets"}:                                              true,
	{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}:                       false,
	{Group: "authentication.k8s.io", Resource: "tokenreviews"}:                             false,
	{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}:                 true,
	{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}:                  false,
	{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}:                   false,
	{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}:                      false,
	{Group: "autoscaling", Resource: "horizontalpodautoscalers"}:                           true,
	{Group: "batch", Resource: "cronjobs"}:                                                 true,
	{Group: "batch", Resource: "jobs"}:                                                     true,
	{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}:                 false,
	{Group: "certificates.k8s.io", Resource: "clustertrustbundles"}:                        false,
	{Group: "certificates.k8s.io", Resource: "podcertificaterequests"}:                     true,
	{Group: "coordination.k8s.io", Resource: "leases"}:                                     true,
	{Group: "discovery.k8s.io", Resource: "endpointslices"}:                                true,
	{Group: "events.k8s.io", Resource: "events"}:                                           true,
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas"}:                       false,
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "prioritylevelconfigurations"}:       false,
	{Group: "networking.k8s.io", Resource: "ingressclasses"}:                               false,
	{Group: "networking.k8s.io", Resource: "ingresses"}:                                    true,
	{Group: "networking.k8s.io", Resource: "ipaddresses"}:                                  false,
	{Group: "networking.k8s.io", Resource: "networkpolicies"}:                              true,
	{Group: "networking.k8s.io", Resource: "servicecidrs"}:                                 false,
	{Group: "node.k8s.io", Resource: "runtimeclasses"}:                                     false,
	{Group: "policy", Resource: "poddisruptionbudgets"}:                                    true,
	{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}:                  false,
	{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}:                         false,
	{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}:                         true,
	{Group: "rbac.authorization.k8s.io", Resource: "roles"}:                                true,
	{Group: "resource.k8s.io", Resource: "deviceclasses"}:                                  false,
	{Group: "resource.k8s.io", Resource: "devicetaintrules"}:                               false,
	{Group: "resource.k8s.io", Resource: "resourceclaims"}:                                 true,
	{Group: "resource.k8s.io", Resource: "resourceclaimtemplates"}:                         true,
	{Group: "resource.k8s.io", Resource: "resourceslices"}:                                 false,
	{Group: "scheduling.k8s.io", Resource: "priorityclasses"}:                              false,
	{Group: "storage.k8s.io", Resource: "csidrivers"}:                                      false,
	{Group: "storage.k8s.io", Resource: "csinodes"}:                                        false,
	{Group: "storage.k8s.io", Resource: "csistoragecapacities"}:                            true,
	{Group: "storage.k8s.io", Resource: "storageclasses"}:                                  false,
	{Group: "storage.k8s.io", Resource: "volumeattachments"}:                               false,
	{Group: "storage.k8s.io", Resource: "volumeattributesclasses"}:                         false,
	{Group: "storagemigration.k8s.io", Resource: "storageversionmigrations"}:               false,
	// Served only with an alpha or beta API on.
	{Group: "coordination.k8s.io", Resource: "leasecandidates"}:        true,
	{Group: "internal.apiserver.k8s.io", Resource: "storageversions"}:  false,
	{Group: "lifecycle.k8s.io", Resource: "evictionrequests"}:          true,
	{Group: "lifecycle.k8s.io", Resource: "evictions"}:                 true,
	{Group: "resource.k8s.io", Resource: "resourcepoolstatusrequests"}: false,
	{Group: "scheduling.k8s.io", Resource: "compositepodgroups"}:       true,
	{Group: "scheduling.k8s.io", Resource: "podgroups"}:                true,
	{Group: "scheduling.k8s.io", Resource: "workloads"}:                true,
	// Served by older versions only: extensions/v1beta1 (workloads,
	// networkpolicies and podsecuritypolicies up to v1.15, ingresses up to
	// v1.21), policy podsecuritypolicies (v1.24), and alpha APIs since removed.
	{Group: "auditregistration.k8s.io", Resource: "auditsinks"}:     false,
	{Group: "extensions", Resource: "daemonsets"}:                   true,
	{Group: "extensions", Resource: "deployments"}:                  true,
	{Group: "extensions", Resource: "ingresses"}:                    true,
	{Group: "extensions", Resource: "networkpolicies"}:              true,
	{Group: "extensions", Resource: "podsecuritypolicies"}:          false,
	{Group: "extensions", Resource: "replicasets"}:                  true,
	{Group: "networking.k8s.io", Resource: "clustercidrs"}:          false,
	{Group: "policy", Resource: "podsecuritypolicies"}:              false,
	{Group: "resource.k8s.io", Resource: "podschedulingcontexts"}:   true,
	{Group: "resource.k8s.io", Resource: "podschedulings"}:          true,
	{Group: "resource.k8s.io", Resource: "resourceclaimparameters"}: true,
	{Group: "resource.k8s.io", Resource: "resourceclasses"}:         false,
	{Group: "resource.k8s.io", Resource: "resourceclassparameters"}: true,
	{Group: "settings.k8s.io", Resource: "podpresets"}:              true,
	// Pseudo-resources, never served, that RBAC rules name: impersonation
	// (users, groups, uids; userextras/KEY in authentication.k8s.io;
	// serviceaccounts is the real resource) and certificate signers.
	{Group: "", Resource: "users"}:                           false,
	{Group: "", Resource: "groups"}:                          false,
	{Group: "", Resource: "uids"}:                            false,
	{Group: "authentication.k8s.io", Resource: "userextras"}: false,
	{Group: "certificates.k8s.io", Resource: "signers"}:      false,
}

// BuiltinResourceNames are the built-in resources as who-can takes them
// (pods, deployments.apps), sorted, for completion without a server.
func BuiltinResourceNames() []string {
	out := make([]string, 0, len(builtinScopes))
	for gr := range builtinScopes {
		name := gr.Resource
		if gr.Group != "" {
			name += "." + gr.Group
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// BuiltinScope says whether a built-in resource is namespaced; known is
// false for a resource the table does not hold.
func BuiltinScope(group, resource string) (namespaced, known bool) {
	resource, _, _ = strings.Cut(resource, "/")
	namespaced, known = builtinScopes[schema.GroupResource{Group: group, Resource: resource}]
	return namespaced, known
}

// clusterScopedResource reports whether a built-in resource has no namespace, so a
// RoleBinding never grants it. namespaces is namespaced for this purpose: a
// request on namespace NS is made in NS, so a RoleBinding there grants it.
func clusterScopedResource(group, resource string) bool {
	if group == "" && resource == "namespaces" {
		return false
	}
	namespaced, known := BuiltinScope(group, resource)
	return known && !namespaced
}
