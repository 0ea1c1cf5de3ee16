package inventory

import (
	"reflect"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Sharer lets pods that hold equal parts keep one copy of them. The pods of a
// ReplicaSet, DaemonSet, StatefulSet or Job carry the same containers,
// volumes, tolerations and labels, apart from a few fields of their own (the
// node, the token volume's generated name): each pod keeps its own values,
// but an equal part points at the first pod's copy. The inventory is
// read-only, so sharing is invisible to checks; it cuts the memory of a big
// cluster by the number of replicas. Both loaders use one Sharer per read.
type Sharer struct {
	first sync.Map // controller UID -> *corev1.Pod, the first pod of that controller read
}

// Pod shares the parts of p equal to those of the first pod of its controller.
// Bare pods are left as they are. Safe for concurrent use.
func (s *Sharer) Pod(p *corev1.Pod) {
	if s == nil {
		return
	}
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil || ref.UID == "" {
		return
	}
	first := *p // the representative; pods sharing with it only read it
	v, loaded := s.first.LoadOrStore(ref.UID, &first)
	if !loaded {
		return
	}
	rep := v.(*corev1.Pod)
	shareMeta(&rep.ObjectMeta, &p.ObjectMeta)
	shareSpec(&rep.Spec, &p.Spec)
}

func same[T any](a, b T) bool { return reflect.DeepEqual(a, b) }

func shareMeta(rep, m *metav1.ObjectMeta) {
	if same(rep.Labels, m.Labels) {
		m.Labels = rep.Labels
	}
	if same(rep.Annotations, m.Annotations) {
		m.Annotations = rep.Annotations
	}
	if same(rep.OwnerReferences, m.OwnerReferences) {
		m.OwnerReferences = rep.OwnerReferences
	}
	if rep.GenerateName == m.GenerateName {
		m.GenerateName = rep.GenerateName
	}
	if rep.Namespace == m.Namespace {
		m.Namespace = rep.Namespace
	}
}

func shareSpec(rep, s *corev1.PodSpec) {
	shareContainers(rep.Containers, s.Containers)
	shareContainers(rep.InitContainers, s.InitContainers)
	if len(rep.Volumes) == len(s.Volumes) {
		for i := range s.Volumes {
			if same(rep.Volumes[i].VolumeSource, s.Volumes[i].VolumeSource) {
				s.Volumes[i].VolumeSource = rep.Volumes[i].VolumeSource
			}
			if rep.Volumes[i].Name == s.Volumes[i].Name {
				s.Volumes[i].Name = rep.Volumes[i].Name
			}
		}
		if same(rep.Volumes, s.Volumes) {
			s.Volumes = rep.Volumes
		}
	}
	if same(rep.Tolerations, s.Tolerations) {
		s.Tolerations = rep.Tolerations
	}
	if same(rep.NodeSelector, s.NodeSelector) {
		s.NodeSelector = rep.NodeSelector
	}
	if same(rep.Affinity, s.Affinity) {
		s.Affinity = rep.Affinity
	}
	if same(rep.SecurityContext, s.SecurityContext) {
		s.SecurityContext = rep.SecurityContext
	}
	if same(rep.ImagePullSecrets, s.ImagePullSecrets) {
		s.ImagePullSecrets = rep.ImagePullSecrets
	}
	if same(rep.TopologySpreadConstraints, s.TopologySpreadConstraints) {
		s.TopologySpreadConstraints = rep.TopologySpreadConstraints
	}
	if same(rep.DNSConfig, s.DNSConfig) {
		s.DNSConfig = rep.DNSConfig
	}
	for _, f := range []struct{ rep, s *string }{
		{&rep.ServiceAccountName, &s.ServiceAccountName}, {&rep.DeprecatedServiceAccount, &s.DeprecatedServiceAccount},
		{&rep.SchedulerName, &s.SchedulerName}, {&rep.PriorityClassName, &s.PriorityClassName},
		{&rep.NodeName, &s.NodeName}, {&rep.Subdomain, &s.Subdomain},
	} {
		if *f.rep == *f.s {
			*f.s = *f.rep
		}
	}
}

func shareContainers(rep, cs []corev1.Container) {
	if len(rep) != len(cs) {
		return
	}
	for i := range cs {
		r, c := &rep[i], &cs[i]
		for _, f := range []struct{ rep, c *string }{{&r.Name, &c.Name}, {&r.Image, &c.Image}, {&r.TerminationMessagePath, &c.TerminationMessagePath}, {&r.WorkingDir, &c.WorkingDir}} {
			if *f.rep == *f.c {
				*f.c = *f.rep
			}
		}
		if same(r.Command, c.Command) {
			c.Command = r.Command
		}
		if same(r.Args, c.Args) {
			c.Args = r.Args
		}
		if same(r.Env, c.Env) {
			c.Env = r.Env
		}
		if same(r.EnvFrom, c.EnvFrom) {
			c.EnvFrom = r.EnvFrom
		}
		if same(r.Ports, c.Ports) {
			c.Ports = r.Ports
		}
		if same(r.Resources, c.Resources) {
			c.Resources = r.Resources
		}
		if same(r.SecurityContext, c.SecurityContext) {
			c.SecurityContext = r.SecurityContext
		}
		if same(r.VolumeMounts, c.VolumeMounts) {
			c.VolumeMounts = r.VolumeMounts
		}
		if same(r.LivenessProbe, c.LivenessProbe) {
			c.LivenessProbe = r.LivenessProbe
		}
		if same(r.ReadinessProbe, c.ReadinessProbe) {
			c.ReadinessProbe = r.ReadinessProbe
		}
		if same(r.StartupProbe, c.StartupProbe) {
			c.StartupProbe = r.StartupProbe
		}
		if same(r.Lifecycle, c.Lifecycle) {
			c.Lifecycle = r.Lifecycle
		}
		if same(r.RestartPolicy, c.RestartPolicy) {
			c.RestartPolicy = r.RestartPolicy
		}
	}
}
