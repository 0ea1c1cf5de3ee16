package netpol

import (
	"cmp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Workload is what coverage and the isolation findings count: a controller
// of the inventory (Deployment, StatefulSet, DaemonSet, CronJob, a custom
// workload such as an Argo Rollout, or a ReplicaSet, Job or
// ReplicationController no listed controller owns) with every pod it runs,
// or a pod no listed controller runs. Manifests hold
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
	// serviceAccount is the one its pod template runs as ("" for a Pod: read the pod's).
	serviceAccount string
}

// Ref names the workload as kubectl does, kind/name: deployment/etl, pod/debug.
func (w *Workload) Ref() string { return strings.ToLower(w.Kind) + "/" + w.Name }

// Controlled reports whether the workload is a controller rather than a pod of its own.
func (w *Workload) Controlled() bool { return w.Kind != "Pod" }

// WorkloadKinds are the controllers whose pod templates the analysis reads.
// Live, ReplicaSets and Jobs must be listed too: they link a Deployment's and
// a CronJob's pods to it, so that those pods are not counted a second time;
// custom workloads likewise link an Argo Rollout's ReplicaSets to it, so that
// a live audit counts what an audit of the manifests counts.
func WorkloadKinds() []inventory.Kind {
	return []inventory.Kind{inventory.Deployments, inventory.StatefulSets, inventory.DaemonSets, inventory.ReplicaSets,
		inventory.Jobs, inventory.CronJobs, inventory.ReplicationControllers, inventory.CustomWorkloads}
}

// controller is an object of the inventory with a pod template.
type controller struct {
	kind     string
	meta     *metav1.ObjectMeta
	template *corev1.PodTemplateSpec
	labels   labels.Set
	// finished is set for a Job that has completed or failed: it starts no more pods.
	finished bool
	spec     int // index into inventory.PodSpecs
	workload int // index into Analysis.Workloads of the outermost listed controller
}

// listControllers returns the objects that make pods from a template, by kind
// (the built-in controllers, then custom workloads), each kind in inventory order.
func listControllers(inv *inventory.Inventory) []controller {
	specs := inventory.PodSpecs(inv)
	var out []controller
	for i := range specs {
		s := &specs[i]
		if !s.Controller {
			continue
		}
		c := controller{kind: s.Ref.Kind, meta: s.Meta, template: s.PodTemplate, labels: labels.Set(s.Template.Labels), spec: i}
		if j, ok := s.Object.(*batchv1.Job); ok {
			c.labels = jobTemplateLabels(j)
			c.finished = jobFinished(j)
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(x, y controller) int {
		return cmp.Compare(controllerRank(specs[x.spec].Object), controllerRank(specs[y.spec].Object))
	})
	return out
}

// controllerRank is the order workloads are made in, which the order of
// Analysis.Workloads follows.
func controllerRank(obj any) int {
	switch obj.(type) {
	case *appsv1.Deployment:
		return 0
	case *appsv1.StatefulSet:
		return 1
	case *appsv1.DaemonSet:
		return 2
	case *appsv1.ReplicaSet:
		return 3
	case *corev1.ReplicationController:
		return 4
	case *batchv1.CronJob:
		return 5
	case *batchv1.Job:
		return 6
	}
	return 7
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

// collectWorkloads makes a Workload of every controller no listed
// controller owns and of every pod no listed controller runs, with the owners
// inventory.PodSpecs resolves (Pod -> ReplicaSet -> Deployment, Pod -> Job ->
// CronJob, ...), and indexes the controllers' pod templates by label for the policies.
func (a *Analysis) collectWorkloads(inv *inventory.Inventory) {
	specs := inventory.PodSpecs(inv)
	ctrls := listControllers(inv)
	ctrlOf := make(map[int]int, len(ctrls)) // index into specs -> index into ctrls
	for i := range ctrls {
		ctrlOf[ctrls[i].spec] = i
	}
	// top returns the outermost listed controller above i, or i.
	top := func(i int) int {
		if o := specs[ctrls[i].spec].Owner; o >= 0 {
			return ctrlOf[o]
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
		c.workload = a.addWorkload(Workload{Kind: c.kind, Namespace: c.meta.Namespace, Name: c.meta.Name, Labels: c.labels, Bucket: bucket,
			serviceAccount: serviceAccountOf(c.template.Spec.ServiceAccountName)})
		a.index(c.meta.Namespace).templates.add(c.workload, c.labels)
	}
	for i := range ctrls {
		if t := top(i); t != i {
			ctrls[i].workload = ctrls[t].workload
		}
	}
	podSpec := make([]int, len(a.Pods)) // index into a.Pods -> index into specs
	for j := range specs {
		if specs[j].Pod {
			podSpec[specs[j].Index] = j
		}
	}
	for i := range a.Pods {
		p := a.Pods[i].Pod
		if o := specs[podSpec[i]].Owner; o >= 0 {
			w := &a.Workloads[ctrls[ctrlOf[o]].workload]
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
