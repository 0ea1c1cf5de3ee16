package inventory

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CustomWorkload is a custom resource that carries a pod template: its
// controller makes pods from it, so it is judged like a Deployment's.
type CustomWorkload struct {
	APIVersion        string `json:"apiVersion"`
	Kind              string `json:"kind"`
	metav1.ObjectMeta `json:"metadata"`
	// Path is the field path of the pod spec in the object:
	// spec.template.spec, or spec.jobTemplate.spec.template.spec.
	Path string `json:"path"`
	// Template is the pod template at the path's parent, decoded as a core
	// PodTemplateSpec: fields the tool adds around the pod spec (Knative's
	// containerConcurrency, timeoutSeconds, ...) are left out.
	Template corev1.PodTemplateSpec `json:"template"`
}

// KnownWorkload is a custom resource kind known to carry a pod template, and
// how the live loader finds it.
type KnownWorkload struct {
	Group, Kind, Resource string
	// Versions are tried in order; the first one discovery serves is listed.
	Versions []string
}

// KnownWorkloads returns the custom workloads a live audit lists.
func KnownWorkloads() []KnownWorkload { return append([]KnownWorkload(nil), knownWorkloads...) }

// knownWorkloads are the custom workloads listed from a live server. Each
// keeps its template at spec.template; Knative's spec.template.spec is a
// RevisionSpec, a core PodSpec inlined with fields of its own.
var knownWorkloads = []KnownWorkload{
	{Group: "argoproj.io", Kind: "Rollout", Resource: "rollouts", Versions: []string{"v1alpha1"}},
	{Group: "serving.knative.dev", Kind: "Service", Resource: "services", Versions: []string{"v1", "v1beta1"}},
	{Group: "apps.kruise.io", Kind: "CloneSet", Resource: "clonesets", Versions: []string{"v1alpha1"}},
}

// CustomWorkloadResources are the API resources the live loader lists for
// CustomWorkloads, so that an auditor role can grant exactly them.
func CustomWorkloadResources() []schema.GroupResource {
	out := make([]schema.GroupResource, 0, len(knownWorkloads))
	for _, w := range knownWorkloads {
		out = append(out, schema.GroupResource{Group: w.Group, Resource: w.Resource})
	}
	return out
}

func isKnownWorkload(group, kind string) bool {
	for _, w := range knownWorkloads {
		if w.Group == group && w.Kind == kind {
			return true
		}
	}
	return false
}

// workloadShape is the part of a custom resource that says whether it carries
// a pod template, and where.
type workloadShape struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		Template    json.RawMessage `json:"template"`
		JobTemplate struct {
			Spec struct {
				Template json.RawMessage `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// hasContainers reports whether raw is an object with a spec.containers list:
// the shape of a pod template, whatever else the object holds.
func hasContainers(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	var probe struct {
		Spec struct {
			Containers []json.RawMessage `json:"containers"`
		} `json:"spec"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Spec.Containers != nil
}

// decodeCustomWorkload reads an object as a custom workload. ok is false when
// it has no pod template at spec.template or spec.jobTemplate.spec.template;
// err is set when it has one that does not decode as a pod template.
func DecodeCustomWorkload(gvk schema.GroupVersionKind, js []byte) (cw CustomWorkload, ok bool, err error) {
	var shape workloadShape
	if err := json.Unmarshal(js, &shape); err != nil {
		return CustomWorkload{}, false, err
	}
	raw, path := shape.Spec.Template, "spec.template.spec"
	if !hasContainers(raw) {
		raw, path = shape.Spec.JobTemplate.Spec.Template, "spec.jobTemplate.spec.template.spec"
		if !hasContainers(raw) {
			return CustomWorkload{}, false, nil
		}
	}
	cw = CustomWorkload{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, ObjectMeta: shape.Metadata, Path: path}
	if err := json.Unmarshal(raw, &cw.Template); err != nil {
		return CustomWorkload{}, true, fmt.Errorf("%s: %w", path[:len(path)-len(".spec")], err)
	}
	TrimMeta(&cw.ObjectMeta)
	TrimMeta(&cw.Template.ObjectMeta)
	return cw, true, nil
}

// decodeUnmodelled takes an object of a kind the inventory does not model: a
// custom workload when it carries a pod template, else a count in Unmodelled.
// A known workload kind (a Rollout) whose template does not decode is an
// error like any malformed object; for other kinds the shape was only a
// guess, and the object is counted instead.
func decodeUnmodelled(gvk schema.GroupVersionKind, js []byte) (decoded, error) {
	cw, ok, err := DecodeCustomWorkload(gvk, js)
	if err != nil && isKnownWorkload(gvk.Group, gvk.Kind) {
		return decoded{}, err
	}
	if ok && err == nil {
		return decoded{store: func(inv *Inventory) Key { return inv.addCustomWorkload(gvk, cw) }}, nil
	}
	var meta struct {
		Metadata struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(js, &meta) // a kind not modelled is not judged malformed
	return decoded{store: func(inv *Inventory) Key {
		inv.countUnmodelled(gvk, meta.Metadata.Namespace, meta.Metadata.Name)
		return Key{}
	}}, nil
}

func (inv *Inventory) addCustomWorkload(gvk schema.GroupVersionKind, cw CustomWorkload) Key {
	if inv.customSeen == nil {
		inv.customSeen = map[string]int{}
	}
	key := Key{Kind: gvk.Kind, Namespace: cw.Namespace, Name: cw.Name}
	seen := gvk.Group + "/" + key.String()
	prev, dup := inv.customSeen[seen]
	switch {
	case key.Name != "" && dup && prev >= 0:
		// Given twice: the later copy wins, as with kubectl apply.
		inv.CustomWorkloads[prev] = cw
	default:
		if key.Name != "" && dup {
			// An earlier copy without a template was counted as unmodelled.
			inv.uncount(gvk)
		}
		if key.Name != "" {
			inv.customSeen[seen] = len(inv.CustomWorkloads)
		}
		inv.CustomWorkloads = append(inv.CustomWorkloads, cw)
	}
	if modelledKind(gvk.Kind) {
		// Sources has no group: a Kruise StatefulSet's line must not
		// replace that of an apps/v1 StatefulSet of the same name.
		return Key{}
	}
	return key
}

// countUnmodelled counts an object once; a later copy of a custom workload
// without its template leaves the earlier one in place.
func (inv *Inventory) countUnmodelled(gvk schema.GroupVersionKind, namespace, name string) {
	if inv.customSeen == nil {
		inv.customSeen = map[string]int{}
	}
	if name != "" {
		seen := gvk.Group + "/" + Key{Kind: gvk.Kind, Namespace: namespace, Name: name}.String()
		if _, dup := inv.customSeen[seen]; dup {
			return
		}
		inv.customSeen[seen] = -1
	}
	if inv.Unmodelled == nil {
		inv.Unmodelled = map[string]int{}
	}
	inv.Unmodelled[unmodelledKey(gvk)]++
}

// modelledKind reports whether a Kind is also that of a kind the inventory
// models (StatefulSet), whatever its group.
func modelledKind(kind string) bool {
	for _, k := range allKinds {
		if k.ObjectKind() == kind {
			return true
		}
	}
	return false
}

func (inv *Inventory) uncount(gvk schema.GroupVersionKind) {
	k := unmodelledKey(gvk)
	if inv.Unmodelled[k]--; inv.Unmodelled[k] <= 0 {
		delete(inv.Unmodelled, k)
	}
}

// unmodelledKey is "apiVersion/Kind": v1/Service, example.com/v1/Widget.
func unmodelledKey(gvk schema.GroupVersionKind) string {
	if gv := gvk.GroupVersion().String(); gv != "" {
		return gv + "/" + gvk.Kind
	}
	return gvk.Kind
}
