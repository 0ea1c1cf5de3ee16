package rbac

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Request is what a subject asks the authorizer to allow, as in a SubjectAccessReview.
// Findings carry the requests they claim a subject may make (evidence
// "requests"), so a claim can be confirmed with a SubjectAccessReview.
type Request struct {
	Verb        string `json:"verb"`
	Group       string `json:"group,omitempty"` // "" is the core group
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
	// Namespace of the request; empty for cluster-scoped resources, and for a
	// namespaced resource it means across all namespaces (only cluster-wide bindings apply).
	Namespace string `json:"namespace,omitempty"`
	// Path is set instead of the resource fields for a non-resource URL such as /metrics.
	Path string `json:"path,omitempty"`
}

func (r Request) String() string {
	if r.Path != "" {
		return r.Verb + " " + r.Path
	}
	s := r.Verb + " " + r.resource()
	if r.Group != "" {
		s = r.Verb + " " + r.Resource + "." + r.Group
		if r.Subresource != "" {
			s += "/" + r.Subresource
		}
	}
	if r.Name != "" {
		s += " " + r.Name
	}
	if r.Namespace != "" {
		s += " in namespace " + r.Namespace
	}
	return s
}

func (r Request) resource() string {
	if r.Subresource != "" {
		return r.Resource + "/" + r.Subresource
	}
	return r.Resource
}

// ruleAllows reports whether one rule allows the request, exactly as the API
// server's RBAC authorizer decides (plugin/pkg/auth/authorizer/rbac RuleAllows):
// verb and group exact or *; resource exact, *, or */SUB for a subresource
// (pods/* is no wildcard); resourceNames compared with the request's name,
// which is "" for a request without one, so resourceNames [""] allows list,
// watch, create and deletecollection; non-resource URLs exact, *, or a prefix
// ending in *. validation.Covers, which answers whether one rule set covers
// another, differs on resourceNames [""] and is not used for requests.
func ruleAllows(rule rbacv1.PolicyRule, req Request) bool {
	if !matchesOrStar(rule.Verbs, req.Verb) {
		return false
	}
	if req.Path != "" {
		for _, u := range rule.NonResourceURLs {
			if u == "*" || u == req.Path || (strings.HasSuffix(u, "*") && strings.HasPrefix(req.Path, strings.TrimSuffix(u, "*"))) {
				return true
			}
		}
		return false
	}
	if !matchesOrStar(rule.APIGroups, req.Group) {
		return false
	}
	combined := req.resource()
	resourceOK := false
	for _, r := range rule.Resources {
		if r == rbacv1.ResourceAll || r == combined || (req.Subresource != "" && r == "*/"+req.Subresource) {
			resourceOK = true
			break
		}
	}
	if !resourceOK {
		return false
	}
	if len(rule.ResourceNames) == 0 {
		return true
	}
	for _, n := range rule.ResourceNames {
		if n == req.Name {
			return true
		}
	}
	return false
}

func matchesOrStar(xs []string, x string) bool {
	for _, v := range xs {
		if v == "*" || v == x {
			return true
		}
	}
	return false
}

// ruleAllowsSomeName reports whether a rule allows verb on group/resource for
// at least one object name. names is nil when any name is allowed, else the
// names the rule is limited to. A rule with resourceNames never allows a
// request that has no name: list, watch, deletecollection, and create on a
// collection (a create of a subresource, such as pods/exec, names its parent).
func ruleAllowsSomeName(rule rbacv1.PolicyRule, verb, group, resource string) (ok bool, names []string) {
	if len(rule.NonResourceURLs) > 0 && len(rule.Resources) == 0 {
		return false, nil
	}
	res, sub, _ := strings.Cut(resource, "/")
	req := Request{Verb: verb, Group: group, Resource: res, Subresource: sub}
	unnamed := rule
	unnamed.ResourceNames = nil
	if !ruleAllows(unnamed, req) {
		return false, nil
	}
	if len(rule.ResourceNames) == 0 {
		return true, nil
	}
	if !requestHasName(verb, resource) {
		// The request carries the name "": only resourceNames [""] allows it, and then for every object.
		return slices.Contains(rule.ResourceNames, ""), nil
	}
	if verb == "escalate" && slices.Contains(rule.ResourceNames, "") {
		// escalate is asked on create with the request's name, which is "":
		// "" among the names lets its holder create any role with any rules.
		return true, nil
	}
	for _, n := range rule.ResourceNames {
		if n != "" {
			names = append(names, n)
		}
	}
	return len(names) > 0, names
}

// requestHasName reports whether a request with this verb on this resource carries an object name.
func requestHasName(verb, resource string) bool {
	switch verb {
	case "list", "watch", "deletecollection":
		return false
	case "create":
		return strings.Contains(resource, "/")
	}
	return true
}

// builtinGroup returns the API group of a resource people name without one.
func builtinGroup(resource string) (string, bool) {
	switch resource {
	case "pods", "secrets", "configmaps", "services", "serviceaccounts", "namespaces", "nodes", "persistentvolumes",
		"persistentvolumeclaims", "events", "endpoints", "replicationcontrollers", "podtemplates", "limitranges",
		"resourcequotas", "users", "groups", "componentstatuses", "bindings":
		return "", true
	case "deployments", "daemonsets", "statefulsets", "replicasets", "controllerrevisions":
		return "apps", true
	case "jobs", "cronjobs":
		return "batch", true
	case "roles", "rolebindings", "clusterroles", "clusterrolebindings":
		return rbacv1.GroupName, true
	case "networkpolicies", "ingresses", "ingressclasses":
		return "networking.k8s.io", true
	case "validatingwebhookconfigurations", "mutatingwebhookconfigurations", "validatingadmissionpolicies",
		"validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings":
		return "admissionregistration.k8s.io", true
	case "certificatesigningrequests", "signers":
		return "certificates.k8s.io", true
	case "poddisruptionbudgets":
		return "policy", true
	case "storageclasses", "csidrivers", "volumeattachments":
		return "storage.k8s.io", true
	case "customresourcedefinitions":
		return "apiextensions.k8s.io", true
	case "leases":
		return "coordination.k8s.io", true
	case "tokenreviews", "uids", "userextras":
		return "authentication.k8s.io", true
	case "subjectaccessreviews", "selfsubjectaccessreviews", "localsubjectaccessreviews":
		return "authorization.k8s.io", true
	case "priorityclasses":
		return "scheduling.k8s.io", true
	case "horizontalpodautoscalers":
		return "autoscaling", true
	case "endpointslices":
		return "discovery.k8s.io", true
	}
	return "", false
}

// ParseResource reads RESOURCE[.GROUP][/SUBRESOURCE] as kubectl auth can-i does:
// "pods/exec", "deployments.apps", "widgets.example.com". A bare name that is
// not a built-in resource is an error, since its group cannot be guessed
// offline; "*" stands for every resource in every group.
func ParseResource(s string) (group, resource, subresource string, err error) {
	resource, subresource, _ = strings.Cut(s, "/")
	if resource == "" {
		return "", "", "", fmt.Errorf("resource %q: empty resource name", s)
	}
	if resource == "*" {
		return "*", "*", subresource, nil
	}
	if r, g, ok := strings.Cut(resource, "."); ok {
		return g, r, subresource, nil
	}
	g, ok := builtinGroup(resource)
	if !ok {
		return "", "", "", fmt.Errorf("resource %q: not a built-in resource, give it with its group as RESOURCE.GROUP (for example widgets.example.com)", resource)
	}
	return g, resource, subresource, nil
}
