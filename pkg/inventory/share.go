package inventory

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Sharer lets objects that hold equal parts keep one copy of them. The pods
// of a ReplicaSet, DaemonSet, StatefulSet or Job carry the same containers,
// volumes, tolerations and labels, apart from a few fields of their own (the
// node, the name and addresses; Trim drops the token volume's generated
// name); a ReplicaSet carries its
// Deployment's template, and labels, selectors, security contexts and token
// volumes repeat across the whole cluster. Each object keeps its own values,
// but an equal part points at one copy (see interner). The inventory is
// read-only, so sharing is invisible to checks; it cuts the memory of a big
// cluster by the number of replicas and more. Both loaders use one Sharer
// per read.
type Sharer struct {
	once sync.Once
	in   *interner
	seen sync.Map // controller UID -> chan struct{}, closed once its first pod's parts are in the table
}

func (s *Sharer) table() *interner {
	s.once.Do(func() { s.in = newInterner() })
	return s.in
}

// Object shares the parts of a decoded object of a modelled kind (a pointer
// to it, trimmed) with equal parts of the objects read before it. A pod
// adds to the table only when it is the first of its controller read, or
// has none: the others differ from it in what only they have. Safe for
// concurrent use; a nil Sharer does nothing.
func (s *Sharer) Object(obj any) {
	if s == nil {
		return
	}
	if _, ok := obj.(*unstructured.Unstructured); ok {
		return // custom resources, kept as read: few, and their maps hold anything
	}
	if p, ok := obj.(*Pod); ok {
		shareWithin(p)
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.UID != "" {
			first := make(chan struct{})
			if v, loaded := s.seen.LoadOrStore(ref.UID, first); loaded {
				// Its controller's first pod may still be interning on the
				// other core: share with its parts once they are in.
				<-v.(chan struct{})
				s.table().intern(obj, false)
				return
			}
			defer close(first)
		}
	}
	s.table().intern(obj, true)
}

// shareWithin gives a pod one copy of the string it holds twice, its own
// and so not in the table: its IP and its first of podIPs. (Its token
// volume's generated name, the other, is trimmed: see Trim.)
func shareWithin(p *Pod) {
	if ips := p.Status.PodIPs; len(ips) > 0 && ips[0].IP == p.Status.PodIP {
		ips[0].IP = p.Status.PodIP
	}
}
