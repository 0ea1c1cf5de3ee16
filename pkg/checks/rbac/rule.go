package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// formatRule renders a policy rule the way `kubectl describe role` reads, on one line.
func formatRule(r rbacv1.PolicyRule) string {
	var parts []string
	if len(r.NonResourceURLs) > 0 {
		parts = append(parts, "nonResourceURLs: ["+strings.Join(r.NonResourceURLs, ", ")+"]")
	} else {
		groups := make([]string, len(r.APIGroups))
		for i, g := range r.APIGroups {
			if g == "" {
				g = `""`
			}
			groups[i] = g
		}
		parts = append(parts, "apiGroups: ["+strings.Join(groups, ", ")+"]", "resources: ["+strings.Join(r.Resources, ", ")+"]")
		if len(r.ResourceNames) > 0 {
			parts = append(parts, "resourceNames: ["+strings.Join(r.ResourceNames, ", ")+"]")
		}
	}
	parts = append(parts, "verbs: ["+strings.Join(r.Verbs, ", ")+"]")
	return strings.Join(parts, ", ")
}
