package inventory

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjectRef names an object as the API server does.
type ObjectRef struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

// Group is the API group of the object ("" for the core group).
func (r ObjectRef) Group() string {
	gv, err := schema.ParseGroupVersion(r.APIVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}

// PodSpec is one pod spec of the inventory, with the object that carries it:
// a Pod, a PodTemplate, a controller's pod template or a custom workload's.
type PodSpec struct {
	Ref ObjectRef
	// Object is the inventory's own object: *Pod, *appsv1.Deployment,
	// *CustomWorkload, ... It is shared: read it, never change it.
	Object any
	// Index is the object's position in its inventory list (inv.Pods, inv.Deployments, ...).
	Index int
	// Meta is the object's metadata (its labels, UID and ownerReferences).
	Meta *metav1.ObjectMeta
	// PodTemplate is the object's pod template; nil for a Pod.
	PodTemplate *corev1.PodTemplateSpec
	// Template is the metadata of the pods the spec makes: the pod template's,
	// or for a Pod its own. Its labels are those policies select the pods by.
	Template *metav1.ObjectMeta
	Spec     *corev1.PodSpec
	// Path and MetaPath are the field paths of Spec and Template in the
	// object: spec and metadata for a Pod, spec.template.spec and
	// spec.template.metadata for a Deployment.
	Path, MetaPath string
	// Pod says the object is a Pod; Mirror that it is a static pod's mirror,
	// which belongs to its node's kubelet and not to the API.
	Pod, Mirror bool
	// Controller says the object makes pods from its template (every kind but
	// Pod and PodTemplate), so that it can own other objects here.
	Controller bool
	// Parent is the index in PodSpecs of the object's controller (its
	// controller ownerReference, same namespace, same UID when both are
	// known), or -1 when the inventory does not hold it.
	Parent int
	// Owner is the index of the outermost controller above the object
	// (Pod -> ReplicaSet -> Deployment gives the Deployment), or -1 when it
	// has none here and stands for itself. An object on an ownership cycle
	// (written into manifests) stands for itself too; one owned into a cycle
	// is owned by the first object of the cycle its chain reaches.
	Owner int
}

// PodSpecs returns every pod spec of the inventory once, with owners
// resolved, computed once per inventory. Every check that reads pod specs
// goes through it, so all agree on who owns what; each decides what to count
// (templates, pods, or both). The order is that of PodSpecKinds, each kind in
// inventory order.
func PodSpecs(inv *Inventory) []PodSpec {
	return inv.Memo("inventory/podspecs", func() any { return podSpecs(inv) }).([]PodSpec)
}

func podSpecs(inv *Inventory) []PodSpec {
	n := len(inv.Pods) + len(inv.PodTemplates) + len(inv.ReplicationControllers) + len(inv.Deployments) +
		len(inv.StatefulSets) + len(inv.DaemonSets) + len(inv.ReplicaSets) + len(inv.Jobs) + len(inv.CronJobs) + len(inv.CustomWorkloads)
	out := make([]PodSpec, 0, n)
	// The paths of a kind's template are the same for all its objects: one string each.
	type paths struct{ spec, meta string }
	at := func(prefix string) paths { return paths{prefix + ".spec", prefix + ".metadata"} }
	add := func(apiVersion, kind string, obj any, index int, m *metav1.ObjectMeta, t *corev1.PodTemplateSpec, p paths) {
		out = append(out, PodSpec{
			Ref:    ObjectRef{APIVersion: apiVersion, Kind: kind, Namespace: m.Namespace, Name: m.Name},
			Object: obj, Index: index, Meta: m, PodTemplate: t, Template: &t.ObjectMeta, Spec: &t.Spec,
			Path: p.spec, MetaPath: p.meta,
			Controller: kind != "PodTemplate", Parent: -1, Owner: -1,
		})
	}
	template, jobTemplate, podTemplate := at("spec.template"), at("spec.jobTemplate.spec.template"), at("template")
	for i := range inv.Pods {
		p := &inv.Pods[i]
		out = append(out, PodSpec{
			Ref:    ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name},
			Object: p, Index: i, Meta: &p.ObjectMeta, Template: &p.ObjectMeta, Spec: p.Spec,
			Path: "spec", MetaPath: "metadata",
			Pod: true, Mirror: p.Annotations[corev1.MirrorPodAnnotationKey] != "",
			Parent: -1, Owner: -1,
		})
	}
	for i := range inv.PodTemplates {
		o := &inv.PodTemplates[i]
		add("v1", "PodTemplate", o, i, &o.ObjectMeta, &o.Template, podTemplate)
	}
	for i := range inv.ReplicationControllers {
		if o := &inv.ReplicationControllers[i]; o.Spec.Template != nil {
			add("v1", "ReplicationController", o, i, &o.ObjectMeta, o.Spec.Template, template)
		}
	}
	for i := range inv.Deployments {
		o := &inv.Deployments[i]
		add("apps/v1", "Deployment", o, i, &o.ObjectMeta, &o.Spec.Template, template)
	}
	for i := range inv.StatefulSets {
		o := &inv.StatefulSets[i]
		add("apps/v1", "StatefulSet", o, i, &o.ObjectMeta, &o.Spec.Template, template)
	}
	for i := range inv.DaemonSets {
		o := &inv.DaemonSets[i]
		add("apps/v1", "DaemonSet", o, i, &o.ObjectMeta, &o.Spec.Template, template)
	}
	for i := range inv.ReplicaSets {
		o := &inv.ReplicaSets[i]
		add("apps/v1", "ReplicaSet", o, i, &o.ObjectMeta, &o.Spec.Template, template)
	}
	for i := range inv.Jobs {
		o := &inv.Jobs[i]
		add("batch/v1", "Job", o, i, &o.ObjectMeta, &o.Spec.Template, template)
	}
	for i := range inv.CronJobs {
		o := &inv.CronJobs[i]
		add("batch/v1", "CronJob", o, i, &o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template, jobTemplate)
	}
	for i := range inv.CustomWorkloads {
		o := &inv.CustomWorkloads[i]
		add(o.APIVersion, o.Kind, o, i, &o.ObjectMeta, &o.Template, at(strings.TrimSuffix(o.Path, ".spec")))
	}
	resolveOwners(out)
	return out
}

// resolveOwners sets Parent and Owner. Only a controller ownerReference
// counts: the controller is what makes the pods from its template, while
// other owners only hold them for garbage collection.
func resolveOwners(specs []PodSpec) {
	type name struct{ kind, namespace, name string }
	controllers := map[name][]int{}
	for i := range specs {
		if s := &specs[i]; s.Controller {
			k := name{s.Ref.Kind, s.Ref.Namespace, s.Ref.Name}
			controllers[k] = append(controllers[k], i)
		}
	}
	for i := range specs {
		ref := metav1.GetControllerOfNoCopy(specs[i].Meta)
		if ref == nil {
			continue
		}
		if p := pickOwner(specs, controllers[name{ref.Kind, specs[i].Ref.Namespace, ref.Name}], ref); p != i {
			specs[i].Parent = p
		}
	}
	for i := range specs {
		specs[i].Owner = outermost(specs, i)
	}
}

// pickOwner returns which candidate, all of the reference's kind and name, it
// refers to, or -1. A UID mismatch is an owner deleted and recreated under the
// same name: not this one. The API group tells candidates apart only when
// two tools share a Kind (apps and apps.kruise.io StatefulSets).
func pickOwner(specs []PodSpec, candidates []int, ref *metav1.OwnerReference) int {
	for _, c := range candidates {
		if uid := specs[c].Meta.UID; ref.UID != "" && uid != "" && ref.UID != uid {
			continue
		}
		if len(candidates) > 1 && (ObjectRef{APIVersion: ref.APIVersion}).Group() != specs[c].Ref.Group() {
			continue
		}
		return c
	}
	return -1
}

// outermost follows Parent from i to the top of its chain, or -1 when i has
// no parent. Chains are short (Pod -> ReplicaSet -> Deployment, Pod -> Job ->
// CronJob); one that comes back on itself is a cycle, and its first repeated
// object is where the cycle begins.
func outermost(specs []PodSpec, i int) int {
	var buf [8]int
	chain := append(buf[:0], i)
	for j := specs[i].Parent; j >= 0; j = specs[j].Parent {
		for k, c := range chain {
			if c == j {
				if k == 0 {
					return -1 // i is on the cycle: it stands for itself
				}
				return chain[k]
			}
		}
		chain = append(chain, j)
	}
	if len(chain) == 1 {
		return -1
	}
	return chain[len(chain)-1]
}
