package netpol

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// podTemplates holds, per namespace, the labels of the pods the workloads
// would create. A policy matching only a template (a Deployment scaled to
// zero, or manifests read offline, where no Pod objects exist) is not dead.
type podTemplates map[string][]labels.Set

func templateIndex(inv *inventory.Inventory) podTemplates {
	t := podTemplates{}
	add := func(ns string, tpl *corev1.PodTemplateSpec) {
		t[ns] = append(t[ns], labels.Set(tpl.Labels))
	}
	for i := range inv.Deployments {
		add(inv.Deployments[i].Namespace, &inv.Deployments[i].Spec.Template)
	}
	for i := range inv.StatefulSets {
		add(inv.StatefulSets[i].Namespace, &inv.StatefulSets[i].Spec.Template)
	}
	for i := range inv.DaemonSets {
		add(inv.DaemonSets[i].Namespace, &inv.DaemonSets[i].Spec.Template)
	}
	for i := range inv.ReplicaSets {
		add(inv.ReplicaSets[i].Namespace, &inv.ReplicaSets[i].Spec.Template)
	}
	for i := range inv.Jobs {
		add(inv.Jobs[i].Namespace, &inv.Jobs[i].Spec.Template)
	}
	for i := range inv.CronJobs {
		add(inv.CronJobs[i].Namespace, &inv.CronJobs[i].Spec.JobTemplate.Spec.Template)
	}
	for i := range inv.ReplicationControllers {
		if tpl := inv.ReplicationControllers[i].Spec.Template; tpl != nil {
			add(inv.ReplicationControllers[i].Namespace, tpl)
		}
	}
	return t
}

func (t podTemplates) matches(p *Policy) bool {
	sets := t[p.Namespace]
	if len(sets) == 0 {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	if err != nil {
		return false
	}
	for _, s := range sets {
		if sel.Matches(s) {
			return true
		}
	}
	return false
}
