package rbac

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// SecretChecks returns the IDs of the checks that read Secrets, sorted.
func SecretChecks(cs []checks.Check) []string {
	var out []string
	for _, c := range cs {
		if slices.Contains(c.Needs, inventory.Secrets) {
			out = append(out, c.ID)
		}
	}
	sort.Strings(out)
	return out
}

// SecretsNote says, one sentence a line, what leaving Secrets out costs.
func SecretsNote(ids []string) []string {
	return []string{
		"Note: this role leaves out Secrets, since list on secrets returns their data.",
		fmt.Sprintf("These checks will be skipped with \"cannot list secrets: forbidden\": %s.", strings.Join(ids, ", ")),
		"To run them too, print the role with --with-secrets, whose holder can read every Secret.",
	}
}

// AuditorRole returns the smallest ClusterRole that lets every given check
// run: get/list on the kinds they read, nothing else, labelled
// AuditorRoleLabel so the audit recognises it. Secrets only withSecrets:
// the plugin lists them as metadata, but RBAC cannot grant list for metadata
// alone, and the role would let its holder read every Secret's data.
func AuditorRole(name string, cs []checks.Check, withSecrets bool) *rbacv1.ClusterRole {
	byGroup := map[string][]string{}
	for _, k := range checks.Needs(cs) {
		if k == inventory.Secrets && !withSecrets {
			continue
		}
		// Most kinds are one resource; custom workloads are read from a
		// resource of each workload CRD, Calico's policies from two groups,
		// the kubelets' configurations by listing nodes (and get on
		// nodes/proxy, which the role leaves out), probes from none.
		for _, gr := range k.Lists() {
			byGroup[gr.Group] = append(byGroup[gr.Group], gr.Resource)
		}
	}
	var gs []string
	for g := range byGroup {
		gs = append(gs, g)
	}
	sort.Strings(gs)
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{AuditorRoleLabel: "true"}},
	}
	for _, g := range gs {
		rs := byGroup[g]
		sort.Strings(rs)
		rs = slices.Compact(rs)
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: rs, Verbs: []string{"get", "list"}})
	}
	return role
}
