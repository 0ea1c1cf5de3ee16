package inventory

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// LastAppliedAnnotation is kubectl's copy of the applied object: often the
// largest field of an object, and read by no check.
const LastAppliedAnnotation = corev1.LastAppliedConfigAnnotation

// TrimMeta drops from an object's metadata what no check reads: managedFields
// and kubectl's last-applied copy of the object. Both loaders call it as each
// object arrives, so memory follows what the checks need, not the input.
func TrimMeta(m metav1.Object) {
	m.SetManagedFields(nil)
	if a := m.GetAnnotations(); a != nil {
		if _, ok := a[LastAppliedAnnotation]; ok {
			delete(a, LastAppliedAnnotation)
			if len(a) == 0 {
				m.SetAnnotations(nil)
			}
		}
	}
}

// Trim drops what no check reads from an object of a modelled kind: the
// metadata TrimMeta drops and the status, except a pod's phase and addresses
// (NetworkPolicy peers and finished pods) and a Job's conditions. A pod also
// loses its UID (owner references are matched to controllers' UIDs only),
// its containers' volume mounts and the names of its projected
// volumes, which no check reads either (a projected volume is allowed at
// every Pod Security level, so its name never appears in a verdict, and its
// index, which field paths name, stays): the ServiceAccount admission gives
// each pod's token volume a name of its own, so without them the pods of
// one controller share their containers and volumes (see Sharer). A
// ConfigMap keeps its metadata only: no check reads a ConfigMap's data, and
// a dump's dashboards and bundles can be megabytes each.
func Trim(obj any) {
	if m, ok := obj.(metav1.Object); ok {
		TrimMeta(m)
	}
	switch o := obj.(type) {
	case *Pod:
		o.settle()
		o.UID = ""          // a pod owns nothing here: only controllers' UIDs are matched
		trimPodSpec(o.Spec) // its status is the part checks read
	case *corev1.Pod:
		o.Status = corev1.PodStatus{Phase: o.Status.Phase, PodIP: o.Status.PodIP, PodIPs: o.Status.PodIPs}
		o.UID = ""
		trimPodSpec(&o.Spec)
	case *batchv1.Job:
		o.Status = batchv1.JobStatus{Conditions: o.Status.Conditions}
	case *corev1.Node:
		o.Status = corev1.NodeStatus{}
	case *corev1.Namespace:
		o.Status = corev1.NamespaceStatus{}
	case *appsv1.Deployment:
		o.Status = appsv1.DeploymentStatus{}
	case *appsv1.ReplicaSet:
		o.Status = appsv1.ReplicaSetStatus{}
	case *appsv1.StatefulSet:
		o.Status = appsv1.StatefulSetStatus{}
	case *appsv1.DaemonSet:
		o.Status = appsv1.DaemonSetStatus{}
	case *batchv1.CronJob:
		o.Status = batchv1.CronJobStatus{}
	case *corev1.ReplicationController:
		o.Status = corev1.ReplicationControllerStatus{}
	case *corev1.ConfigMap:
		o.Data, o.BinaryData = nil, nil
	case *unstructured.Unstructured:
		// A custom resource as a live list's page holds it.
		if gv, err := schema.ParseGroupVersion(o.GetAPIVersion()); err == nil {
			if k, ok := customKind(gv.Group, o.GetKind()); ok {
				TrimCustom(k, o)
			}
		}
	}
}

// trimPodSpec drops a pod's volume mounts and its projected volumes' names
// (see Trim). The spec is the pod's own, freshly decoded.
func trimPodSpec(spec *corev1.PodSpec) {
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			cs[i].VolumeMounts = nil
		}
	}
	for i := range spec.EphemeralContainers {
		spec.EphemeralContainers[i].VolumeMounts = nil
	}
	for i := range spec.Volumes {
		if spec.Volumes[i].Projected != nil {
			spec.Volumes[i].Name = ""
		}
	}
}

// TrimCustom drops from a custom resource what no check reads: the metadata
// TrimMeta drops and, of a trivy-operator VulnerabilityReport, all but the
// scanned image and each vulnerability's ID, severity, package and versions.
// A report lists every vulnerability of an image with its title,
// description, links and scores, hundreds of kilobytes for a common base
// image, and a cluster holds one per container of each workload.
func TrimCustom(k Kind, u *unstructured.Unstructured) {
	TrimMeta(u)
	if k != VulnerabilityReports {
		return
	}
	report, _ := u.Object["report"].(map[string]any)
	if report == nil {
		return
	}
	kept := map[string]any{}
	pick := func(from map[string]any, to map[string]any, fields ...string) {
		for _, f := range fields {
			if v, ok := from[f]; ok {
				to[f] = v
			}
		}
	}
	if r, ok := report["registry"].(map[string]any); ok {
		reg := map[string]any{}
		pick(r, reg, "server")
		kept["registry"] = reg
	}
	if a, ok := report["artifact"].(map[string]any); ok {
		art := map[string]any{}
		pick(a, art, "repository", "tag", "digest")
		kept["artifact"] = art
	}
	if vs, ok := report["vulnerabilities"].([]any); ok {
		out := make([]any, len(vs))
		for i, v := range vs {
			m, ok := v.(map[string]any)
			if !ok {
				out[i] = v // not an entry; the check skips it as before
				continue
			}
			e := make(map[string]any, 5)
			pick(m, e, "vulnerabilityID", "severity", "resource", "installedVersion", "fixedVersion")
			out[i] = e
		}
		kept["vulnerabilities"] = out
	}
	u.Object["report"] = kept
	delete(u.Object, "status")
}
