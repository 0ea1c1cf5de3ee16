package inventory

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Pod is a pod as the inventory keeps it: its metadata and spec as the API
// has them, but for the node, and of its status only what checks read.
// corev1.PodStatus is 384 of the 1,240 bytes of a corev1.Pod, which a
// 50,000-pod cluster holds 47,000 times; the fields keep their names, so code
// reads p.Status.Phase either way.
//
// The spec is a pointer, never nil, that pods with equal specs share (the
// replicas of a controller: see Sharer), and its nodeName is empty: the node
// a pod runs on, the one field its replicas never share, is NodeName. The
// 592-byte PodSpec is then held once per controller instead of once per pod.
type Pod struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              *corev1.PodSpec `json:"spec,omitempty"`
	Status            PodStatus       `json:"status,omitempty"`
	// NodeName is spec.nodeName (Trim moves it here from a decoded spec).
	NodeName string `json:"-"`
}

// PodStatus is the part of corev1.PodStatus checks read: whether the pod has
// finished (a finished pod sends and receives nothing) and its addresses
// (NetworkPolicy ipBlock peers).
type PodStatus struct {
	Phase  corev1.PodPhase `json:"phase,omitempty"`
	PodIP  string          `json:"podIP,omitempty"`
	PodIPs []corev1.PodIP  `json:"podIPs,omitempty"`
}

// PodOf returns the inventory's pod for an API pod; the two share the
// metadata's and spec's maps and slices.
func PodOf(p *corev1.Pod) Pod {
	spec := p.Spec
	spec.NodeName = ""
	return Pod{TypeMeta: p.TypeMeta, ObjectMeta: p.ObjectMeta, Spec: &spec, NodeName: p.Spec.NodeName,
		Status: PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs}}
}

// PodsOf returns the inventory's pods for API pods (tests and tools build
// inventories from corev1 objects).
func PodsOf(ps ...corev1.Pod) []Pod {
	out := make([]Pod, len(ps))
	for i := range ps {
		out[i] = PodOf(&ps[i])
	}
	return out
}

// API returns the pod as a corev1.Pod, with its node and the status the inventory keeps.
func (p *Pod) API() *corev1.Pod {
	out := &corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: p.ObjectMeta,
		Status: corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs}}
	if p.Spec != nil {
		out.Spec = *p.Spec
	}
	out.Spec.NodeName = p.NodeName
	return out
}

// settle makes a decoded pod the inventory's: a spec, without its node.
func (p *Pod) settle() {
	if p.Spec == nil {
		p.Spec = &corev1.PodSpec{}
	}
	if p.Spec.NodeName != "" {
		p.NodeName, p.Spec.NodeName = p.Spec.NodeName, ""
	}
}
