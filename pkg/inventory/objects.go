package inventory

import (
	"iter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Meta is the metadata of one object of the inventory, whatever its kind.
type Meta struct {
	Key         Key
	Labels      map[string]string
	Annotations map[string]string
}

// Objects yields the metadata of every object the inventory holds, kind by
// kind in a fixed order, for what looks at objects as objects (the audit
// engine matching exceptions by labels and annotations), not at their specs.
func (inv *Inventory) Objects() iter.Seq[Meta] {
	return func(yield func(Meta) bool) {
		emit := func(kind string, m *metav1.ObjectMeta) bool {
			return yield(Meta{Key: Key{Kind: kind, Namespace: m.Namespace, Name: m.Name}, Labels: m.Labels, Annotations: m.Annotations})
		}
		each := func(kind string, n int, meta func(i int) *metav1.ObjectMeta) bool {
			for i := 0; i < n; i++ {
				if !emit(kind, meta(i)) {
					return false
				}
			}
			return true
		}
		_ = each("Namespace", len(inv.Namespaces), func(i int) *metav1.ObjectMeta { return &inv.Namespaces[i].ObjectMeta }) &&
			each("Pod", len(inv.Pods), func(i int) *metav1.ObjectMeta { return &inv.Pods[i].ObjectMeta }) &&
			each("ServiceAccount", len(inv.ServiceAccounts), func(i int) *metav1.ObjectMeta { return &inv.ServiceAccounts[i].ObjectMeta }) &&
			each("Secret", len(inv.Secrets), func(i int) *metav1.ObjectMeta { return &inv.Secrets[i].ObjectMeta }) &&
			each("ConfigMap", len(inv.ConfigMaps), func(i int) *metav1.ObjectMeta { return &inv.ConfigMaps[i].ObjectMeta }) &&
			each("Node", len(inv.Nodes), func(i int) *metav1.ObjectMeta { return &inv.Nodes[i].ObjectMeta }) &&
			each("PodTemplate", len(inv.PodTemplates), func(i int) *metav1.ObjectMeta { return &inv.PodTemplates[i].ObjectMeta }) &&
			each("ReplicationController", len(inv.ReplicationControllers), func(i int) *metav1.ObjectMeta { return &inv.ReplicationControllers[i].ObjectMeta }) &&
			each("Deployment", len(inv.Deployments), func(i int) *metav1.ObjectMeta { return &inv.Deployments[i].ObjectMeta }) &&
			each("StatefulSet", len(inv.StatefulSets), func(i int) *metav1.ObjectMeta { return &inv.StatefulSets[i].ObjectMeta }) &&
			each("DaemonSet", len(inv.DaemonSets), func(i int) *metav1.ObjectMeta { return &inv.DaemonSets[i].ObjectMeta }) &&
			each("ReplicaSet", len(inv.ReplicaSets), func(i int) *metav1.ObjectMeta { return &inv.ReplicaSets[i].ObjectMeta }) &&
			each("Job", len(inv.Jobs), func(i int) *metav1.ObjectMeta { return &inv.Jobs[i].ObjectMeta }) &&
			each("CronJob", len(inv.CronJobs), func(i int) *metav1.ObjectMeta { return &inv.CronJobs[i].ObjectMeta }) &&
			each("Role", len(inv.Roles), func(i int) *metav1.ObjectMeta { return &inv.Roles[i].ObjectMeta }) &&
			each("ClusterRole", len(inv.ClusterRoles), func(i int) *metav1.ObjectMeta { return &inv.ClusterRoles[i].ObjectMeta }) &&
			each("RoleBinding", len(inv.RoleBindings), func(i int) *metav1.ObjectMeta { return &inv.RoleBindings[i].ObjectMeta }) &&
			each("ClusterRoleBinding", len(inv.ClusterRoleBindings), func(i int) *metav1.ObjectMeta { return &inv.ClusterRoleBindings[i].ObjectMeta }) &&
			each("NetworkPolicy", len(inv.NetworkPolicies), func(i int) *metav1.ObjectMeta { return &inv.NetworkPolicies[i].ObjectMeta }) &&
			each("ClusterNetworkPolicy", len(inv.ClusterNetworkPolicies), func(i int) *metav1.ObjectMeta { return &inv.ClusterNetworkPolicies[i].ObjectMeta }) &&
			each("AdminNetworkPolicy", len(inv.AdminNetworkPolicies), func(i int) *metav1.ObjectMeta { return &inv.AdminNetworkPolicies[i].ObjectMeta }) &&
			each("BaselineAdminNetworkPolicy", len(inv.BaselineAdminNetworkPolicies), func(i int) *metav1.ObjectMeta { return &inv.BaselineAdminNetworkPolicies[i].ObjectMeta }) &&
			each("ValidatingWebhookConfiguration", len(inv.ValidatingWebhooks), func(i int) *metav1.ObjectMeta { return &inv.ValidatingWebhooks[i].ObjectMeta }) &&
			each("MutatingWebhookConfiguration", len(inv.MutatingWebhooks), func(i int) *metav1.ObjectMeta { return &inv.MutatingWebhooks[i].ObjectMeta }) &&
			inv.customObjects(yield)
	}
}

// customObjects yields the custom resources read as unstructured objects, and the custom workloads by their own Kind.
func (inv *Inventory) customObjects(yield func(Meta) bool) bool {
	for i := range inv.CustomWorkloads {
		w := &inv.CustomWorkloads[i]
		if !yield(Meta{Key: Key{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name}, Labels: w.Labels, Annotations: w.Annotations}) {
			return false
		}
	}
	for _, k := range []Kind{ClusterImagePolicies, KyvernoClusterPolicies, KyvernoPolicies, ImageValidatingPolicies, ConstraintTemplates, Certificates, VulnerabilityReports} {
		for _, u := range *inv.customList(k) {
			if !yield(Meta{Key: Key{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}, Labels: u.GetLabels(), Annotations: u.GetAnnotations()}) {
				return false
			}
		}
	}
	return true
}
