package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
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

// policyRule is the request written as the narrowest rule that allows it, for validation.Covers.
func (r Request) policyRule() rbacv1.PolicyRule {
	if r.Path != "" {
		return rbacv1.PolicyRule{Verbs: []string{r.Verb}, NonResourceURLs: []string{r.Path}}
	}
	pr := rbacv1.PolicyRule{Verbs: []string{r.Verb}, APIGroups: []string{r.Group}, Resources: []string{r.resource()}}
	if r.Name != "" {
		pr.ResourceNames = []string{r.Name}
	}
	return pr
}

// ruleAllows reports whether one rule allows the request, with the API
// server's matching: verb and group exact or *, resource exact, * or */sub,
// resourceNames restricting only named requests, non-resource URLs exact or by trailing *.
func ruleAllows(rule rbacv1.PolicyRule, want rbacv1.PolicyRule) bool {
	ok, _ := validation.Covers([]rbacv1.PolicyRule{rule}, []rbacv1.PolicyRule{want})
	return ok
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
	want := rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{group}, Resources: []string{resource}}
	if len(rule.ResourceNames) == 0 {
		return ruleAllows(rule, want), nil
	}
	if !requestHasName(verb, resource) {
		return false, nil
	}
	unnamed := rule
	unnamed.ResourceNames = nil
	if !ruleAllows(unnamed, want) {
		return false, nil
	}
	return true, rule.ResourceNames
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
