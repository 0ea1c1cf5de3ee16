package netpol

import (
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Workload is what coverage and the isolation findings count: a controller
// of the inventory (Deployment, StatefulSet, DaemonSet, CronJob, or a
// ReplicaSet, Job or ReplicationController no listed controller owns) with
// every pod it runs, or a pod no listed controller runs. Manifests hold
// controllers and no pods, a live cluster both: counting each workload once,
// by the labels its pod template gives its pods, makes the two agree and keeps
// a Deployment of thirty replicas from weighing thirty times.
type Workload struct {
	// Kind is the controller's kind, or Pod.
	Kind      string
	Namespace string
	Name      string
	// Labels are those of the pods it makes: its pod template's, or the pod's own.
	Labels labels.Set
	Bucket Bucket
	// Pods are indexes into Analysis.Pods of the pods it runs; for a Pod, the pod itself.
	Pods []int
	// Isolation is that of its pod template: the policies whose podSelector
	// matches the template's labels. A Pod's is the pod's own.
	Isolation
}

// Ref names the workload as kubectl does, kind/name: deployment/etl, pod/debug.
func (w *Workload) Ref() string { return strings.ToLower(w.Kind) + "/" + w.Name }

// Controlled reports whether the workload is a controller rather than a pod of its own.
func (w *Workload) Controlled() bool { return w.Kind != "Pod" }

// WorkloadKinds are the controllers whose pod templates the analysis reads.
// Live, ReplicaSets and Jobs must be listed too: they link a Deployment's and
// a CronJob's pods to it, so that those pods are not counted a second time.
func WorkloadKinds() []inventory.Kind {
	return []inventory.Kind{inventory.Deployments, inventory.StatefulSets, inventory.DaemonSets, inventory.ReplicaSets,
		inventory.Jobs, inventory.CronJobs, inventory.ReplicationControllers}
}

// controller is an object of the inventory with a pod template.
type controller struct {
	kind     string
	meta     *metav1.ObjectMeta
	template *corev1.PodTemplateSpec
	labels   labels.Set
	// finished is set for a Job that has completed or failed: it starts no more pods.
	finished bool
	workload int // index into Analysis.Workloads of the outermost listed controller
}

func listControllers(inv *inventory.Inventory) []controller {
	var out []controller
	add := func(kind string, m *metav1.ObjectMeta, t *corev1.PodTemplateSpec) *controller {
		out = append(out, controller{kind: kind, meta: m, template: t, labels: labels.Set(t.Labels)})
		return &out[len(out)-1]
	}
	for i := range inv.Deployments {
		add("Deployment", &inv.Deployments[i].ObjectMeta, &inv.Deployments[i].Spec.Template)
	}
	for i := range inv.StatefulSets {
		add("StatefulSet", &inv.StatefulSets[i].ObjectMeta, &inv.StatefulSets[i].Spec.Template)
	}
	for i := range inv.DaemonSets {
		add("DaemonSet", &inv.DaemonSets[i].ObjectMeta, &inv.DaemonSets[i].Spec.Template)
	}
	for i := range inv.ReplicaSets {
		add("ReplicaSet", &inv.ReplicaSets[i].ObjectMeta, &inv.ReplicaSets[i].Spec.Template)
	}
	for i := range inv.ReplicationControllers {
		if rc := &inv.ReplicationControllers[i]; rc.Spec.Template != nil {
			add("ReplicationController", &rc.ObjectMeta, rc.Spec.Template)
		}
	}
	for i := range inv.CronJobs {
		add("CronJob", &inv.CronJobs[i].ObjectMeta, &inv.CronJobs[i].Spec.JobTemplate.Spec.Template)
	}
	for i := range inv.Jobs {
		j := &inv.Jobs[i]
		c := add("Job", &j.ObjectMeta, &j.Spec.Template)
		c.labels = jobTemplateLabels(j)
		c.finished = jobFinished(j)
	}
	return out
}

// jobTemplateLabels returns the labels a Job's pods carry. Unless the Job
// picks its own selector, the API server adds job-name labels to the
// template when the Job is created; manifests read offline lack them, and a
// policy selecting a Job's pods by name must match the same pods either way.
// (The controller-uid labels it also adds cannot be known before creation.)
func jobTemplateLabels(j *batchv1.Job) labels.Set {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return labels.Set(j.Spec.Template.Labels)
	}
	set := make(labels.Set, len(j.Spec.Template.Labels)+2)
	set[batchv1.JobNameLabel] = j.Name
	set["job-name"] = j.Name
	for k, v := range j.Spec.Template.Labels {
		set[k] = v
	}
	return set
}

func jobFinished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// ownerKey names a controller by what an ownerReference says of it.
type ownerKey struct{ kind, namespace, name string }

// collectWorkloads finds each controller's outermost listed owner (Pod ->
// ReplicaSet -> Deployment, Pod -> Job -> CronJob, ...), makes a Workload of
// every controller without one and of every pod no listed controller runs,
// and indexes the controllers' pod templates by label for the policies.
func (a *Analysis) collectWorkloads(inv *inventory.Inventory) {
	ctrls := listControllers(inv)
	byKey := make(map[ownerKey]int, len(ctrls))
	for i := range ctrls {
		byKey[ownerKey{ctrls[i].kind, ctrls[i].meta.Namespace, ctrls[i].meta.Name}] = i
	}
	// owner returns the listed controller of an object, -1 when it has none.
	owner := func(m *metav1.ObjectMeta) int {
		ref := metav1.GetControllerOfNoCopy(m)
		if ref == nil {
			return -1
		}
		i, ok := byKey[ownerKey{ref.Kind, m.Namespace, ref.Name}]
		// A UID mismatch is an owner deleted and recreated under the same name: not this one.
		if !ok || ref.UID != "" && ctrls[i].meta.UID != "" && ref.UID != ctrls[i].meta.UID {
			return -1
		}
		return i
	}
	parent := make([]int, len(ctrls))
	for i := range ctrls {
		parent[i] = owner(ctrls[i].meta)
	}
	// top returns the outermost listed controller above i. Owner chains are at
	// most ReplicaSet -> Deployment or Job -> CronJob; one that does not end
	// within a few steps is a cycle written into manifests, and then each
	// controller in it stands for itself.
	top := func(i int) int {
		j := i
		for range 4 {
			if parent[j] < 0 {
				return j
			}
			j = parent[j]
		}
		return i
	}
	for i := range ctrls {
		c := &ctrls[i]
		if top(i) != i {
			continue
		}
		bucket := Judged
		switch {
		case c.template.Spec.HostNetwork:
			bucket = HostNetwork
		case c.finished:
			bucket = Inactive
		}
		c.workload = a.addWorkload(Workload{Kind: c.kind, Namespace: c.meta.Namespace, Name: c.meta.Name, Labels: c.labels, Bucket: bucket})
		a.index(c.meta.Namespace).templates.add(c.workload, c.labels)
	}
	for i := range ctrls {
		if t := top(i); t != i {
			ctrls[i].workload = ctrls[t].workload
		}
	}
	for i := range a.Pods {
		p := a.Pods[i].Pod
		if c := owner(&p.ObjectMeta); c >= 0 {
			w := &a.Workloads[ctrls[top(c)].workload]
			w.Pods = append(w.Pods, i)
			continue
		}
		a.addWorkload(Workload{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Labels: labels.Set(p.Labels), Bucket: a.Pods[i].Bucket, Pods: []int{i}})
	}
}

func (a *Analysis) addWorkload(w Workload) int {
	a.Workloads = append(a.Workloads, w)
	i := len(a.Workloads) - 1
	ix := a.index(w.Namespace)
	ix.workloads = append(ix.workloads, i)
	return i
}

// linkWorkloads fills each workload's isolating policies: a controller's from
// the policies that select its template, a pod's are the pod's own.
func (a *Analysis) linkWorkloads() {
	for _, ns := range a.Namespaces {
		for _, pi := range a.byNamespace[ns].policies {
			p := &a.Policies[pi]
			for _, wi := range p.SelectedWorkloads {
				w := &a.Workloads[wi]
				if p.Types.Ingress {
					w.Ingress = append(w.Ingress, pi)
				}
				if p.Types.Egress {
					w.Egress = append(w.Egress, pi)
				}
			}
		}
	}
	for i := range a.Workloads {
		if w := &a.Workloads[i]; !w.Controlled() {
			w.Isolation = a.Pods[w.Pods[0]].Isolation
		}
	}
}

// NamespaceWorkloads returns the indexes into Workloads of a namespace's workloads, by kind and name.
func (a *Analysis) NamespaceWorkloads(ns string) []int {
	if ix := a.byNamespace[ns]; ix != nil {
		return ix.workloads
	}
	return nil
}
