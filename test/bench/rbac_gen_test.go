package bench

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// rbacCluster is the shape of a synthetic cluster for the RBAC benchmark.
type rbacCluster struct {
	namespaces       int
	bindingsPerNS    int // RoleBindings in each namespace
	clusterBindings  int // ClusterRoleBindings
	clusterRoles     int
	serviceAccountsN int // per namespace
	podsPerNS        int
}

// rbacRuleSets are the rules the synthetic roles cycle through: harmless
// reads, and each kind of danger the checks look for, so every check and the
// escalation graph have work to do.
func rbacRuleSets() [][]rbacv1.PolicyRule {
	r := func(groups, resources, verbs []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
	}
	core, apps := []string{""}, []string{"apps"}
	return [][]rbacv1.PolicyRule{
		{r(core, []string{"configmaps", "services"}, []string{"get", "list", "watch"})},
		{r(core, []string{"pods", "pods/log"}, []string{"get", "list"}), r(apps, []string{"deployments"}, []string{"get", "list"})},
		{r(core, []string{"pods"}, []string{"create", "delete"}), r(apps, []string{"deployments", "statefulsets"}, []string{"create", "update", "patch"})},
		{r(core, []string{"secrets"}, []string{"get", "list"})},
		{r(core, []string{"pods/exec", "pods/portforward"}, []string{"create"})},
		{r(core, []string{"serviceaccounts/token"}, []string{"create"})},
		{r(core, []string{"configmaps"}, []string{"*"})},
		{{APIGroups: core, Resources: []string{"secrets"}, ResourceNames: []string{"tls"}, Verbs: []string{"get"}}},
		{r([]string{"rbac.authorization.k8s.io"}, []string{"roles", "rolebindings"}, []string{"get", "list", "create", "bind"})},
		{r(core, []string{"events"}, []string{"create", "patch"}), r([]string{"coordination.k8s.io"}, []string{"leases"}, []string{"get", "update"})},
	}
}

// generate builds the inventory directly as typed objects: the benchmark
// measures the analysis, not YAML decoding.
func (c rbacCluster) generate() *inventory.Inventory {
	inv := inventory.New()
	for _, k := range []inventory.Kind{inventory.Namespaces, inventory.ServiceAccounts, inventory.Pods, inventory.Secrets,
		inventory.Roles, inventory.ClusterRoles, inventory.RoleBindings, inventory.ClusterRoleBindings} {
		inv.Loaded[k] = true
	}
	sets := rbacRuleSets()
	for i := 0; i < c.clusterRoles; i++ {
		rules := sets[i%len(sets)]
		if i%97 == 0 {
			rules = []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
		}
		inv.ClusterRoles = append(inv.ClusterRoles, rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr-%d", i), ResourceVersion: "1"}, Rules: rules,
		})
	}
	saName := func(i int) string {
		if i == 0 {
			return "default"
		}
		return fmt.Sprintf("sa-%d", i)
	}
	for n := 0; n < c.namespaces; n++ {
		ns := fmt.Sprintf("team-%d", n)
		inv.Namespaces = append(inv.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		for s := 0; s < c.serviceAccountsN; s++ {
			inv.ServiceAccounts = append(inv.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: saName(s), Namespace: ns}})
		}
		for p := 0; p < c.podsPerNS; p++ {
			inv.Pods = append(inv.Pods, inventory.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", p), Namespace: ns},
				Spec:       &corev1.PodSpec{ServiceAccountName: saName(p % c.serviceAccountsN)},
			})
		}
		inv.Secrets = append(inv.Secrets, metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
			Name: "sa-1-token", Namespace: ns, Annotations: map[string]string{"kubernetes.io/service-account.name": saName(1)},
		}})
		for r := 0; r < 3; r++ {
			inv.Roles = append(inv.Roles, rbacv1.Role{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("role-%d", r), Namespace: ns, ResourceVersion: "1"},
				Rules:      sets[(n+r)%len(sets)],
			})
		}
		for b := 0; b < c.bindingsPerNS; b++ {
			ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fmt.Sprintf("role-%d", b%3)}
			if b%2 == 1 {
				ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: fmt.Sprintf("cr-%d", (n*7+b)%c.clusterRoles)}
			}
			subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: saName(b % c.serviceAccountsN), Namespace: ns}}
			if b%3 == 0 {
				subjects = append(subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "User", Name: fmt.Sprintf("dev-%d@example.com", (n+b)%500)})
			}
			inv.RoleBindings = append(inv.RoleBindings, rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rb-%d", b), Namespace: ns, ResourceVersion: "1"},
				RoleRef:    ref, Subjects: subjects,
			})
		}
	}
	for i := 0; i < c.clusterBindings; i++ {
		var subject rbacv1.Subject
		switch i % 3 {
		case 0:
			subject = rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "User", Name: fmt.Sprintf("ops-%d@example.com", i%300)}
		case 1:
			subject = rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "Group", Name: fmt.Sprintf("team-%d", i%200)}
		default:
			subject = rbacv1.Subject{Kind: "ServiceAccount", Name: saName(i % c.serviceAccountsN), Namespace: fmt.Sprintf("team-%d", i%c.namespaces)}
		}
		inv.ClusterRoleBindings = append(inv.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i), ResourceVersion: "1"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: fmt.Sprintf("cr-%d", i%c.clusterRoles)},
			Subjects:   []rbacv1.Subject{subject},
		})
	}
	return inv
}

// rbacFresh is a new inventory over the same objects, so the shared analysis is rebuilt.
func rbacFresh(src *inventory.Inventory) *inventory.Inventory {
	inv := *src
	inv.ResetMemo()
	return &inv
}
