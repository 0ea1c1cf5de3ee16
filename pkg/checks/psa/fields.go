package psa

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Annotation keys the older seccomp and AppArmor checks read.
const (
	seccompPodAnnotation             = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/"
)

// container is a container of a pod spec with its path.
type container struct {
	c    *corev1.Container
	path *field.Path
}

// containers lists init, regular and ephemeral containers, as the upstream checks visit them.
func containers(spec *corev1.PodSpec, specPath *field.Path) []container {
	var out []container
	for i := range spec.InitContainers {
		out = append(out, container{&spec.InitContainers[i], specPath.Child("initContainers").Index(i)})
	}
	for i := range spec.Containers {
		out = append(out, container{&spec.Containers[i], specPath.Child("containers").Index(i)})
	}
	for i := range spec.EphemeralContainers {
		out = append(out, container{(*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon), specPath.Child("ephemeralContainers").Index(i)})
	}
	return out
}

// locate returns the paths of the fields that make a pod spec fail a check.
// The verdict is the library's; this only points at what to change, so it
// follows each check's rule closely enough to find its fields. When a check
// fails because a field is unset (runAsNonRoot, seccompProfile), the path is
// where setting it once fixes every container: the pod's securityContext.
func locate(id policy.CheckID, v api.Version, detail string, meta *metav1.ObjectMeta, spec *corev1.PodSpec, metaPath, specPath *field.Path) []string {
	var out []string
	add := func(p *field.Path) { out = append(out, p.String()) }
	psc := specPath.Child("securityContext")
	sc := spec.SecurityContext
	cs := containers(spec, specPath)
	csc := func(c container) *field.Path { return c.path.Child("securityContext") }

	switch id {
	case "privileged":
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil && s.Privileged != nil && *s.Privileged {
				add(csc(c).Child("privileged"))
			}
		}
	case "windowsHostProcess":
		if sc != nil && sc.WindowsOptions != nil && sc.WindowsOptions.HostProcess != nil && *sc.WindowsOptions.HostProcess {
			add(psc.Child("windowsOptions", "hostProcess"))
		}
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil && s.WindowsOptions != nil && s.WindowsOptions.HostProcess != nil && *s.WindowsOptions.HostProcess {
				add(csc(c).Child("windowsOptions", "hostProcess"))
			}
		}
	case "hostNamespaces":
		if spec.HostNetwork {
			add(specPath.Child("hostNetwork"))
		}
		if spec.HostPID {
			add(specPath.Child("hostPID"))
		}
		if spec.HostIPC {
			add(specPath.Child("hostIPC"))
		}
	case "hostPathVolumes":
		for i, vol := range spec.Volumes {
			if vol.HostPath != nil {
				add(specPath.Child("volumes").Index(i).Child("hostPath"))
			}
		}
	case "restrictedVolumes":
		for i, vol := range spec.Volumes {
			if name, ok := restrictedVolumeType(vol); ok && name != "" {
				add(specPath.Child("volumes").Index(i).Child(name))
			} else if ok {
				add(specPath.Child("volumes").Index(i))
			}
		}
	case "hostPorts":
		for _, c := range cs {
			for j, p := range c.c.Ports {
				if p.HostPort != 0 {
					add(c.path.Child("ports").Index(j).Child("hostPort"))
				}
			}
		}
	case "hostProbesAndHostLifecycle":
		for _, c := range cs {
			for name, pr := range map[string]*corev1.Probe{"livenessProbe": c.c.LivenessProbe, "readinessProbe": c.c.ReadinessProbe, "startupProbe": c.c.StartupProbe} {
				if pr != nil {
					out = append(out, handlerHosts(c.path.Child(name), pr.HTTPGet, pr.TCPSocket)...)
				}
			}
			if lc := c.c.Lifecycle; lc != nil {
				if lc.PostStart != nil {
					out = append(out, handlerHosts(c.path.Child("lifecycle", "postStart"), lc.PostStart.HTTPGet, lc.PostStart.TCPSocket)...)
				}
				if lc.PreStop != nil {
					out = append(out, handlerHosts(c.path.Child("lifecycle", "preStop"), lc.PreStop.HTTPGet, lc.PreStop.TCPSocket)...)
				}
			}
		}
	case "appArmorProfile":
		bad := func(p *corev1.AppArmorProfile) bool {
			return p != nil && p.Type != corev1.AppArmorProfileTypeRuntimeDefault && p.Type != corev1.AppArmorProfileTypeLocalhost
		}
		if sc != nil && bad(sc.AppArmorProfile) {
			add(psc.Child("appArmorProfile", "type"))
		}
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil && bad(s.AppArmorProfile) {
				add(csc(c).Child("appArmorProfile", "type"))
			}
		}
		for _, k := range sortedKeys(meta.Annotations) {
			val := meta.Annotations[k]
			if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) && val != "" &&
				val != corev1.DeprecatedAppArmorBetaProfileRuntimeDefault && !strings.HasPrefix(val, corev1.DeprecatedAppArmorBetaProfileNamePrefix) {
				add(metaPath.Child("annotations").Key(k))
			}
		}
	case "capabilities_baseline":
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil && s.Capabilities != nil {
				for _, cp := range s.Capabilities.Add {
					if !baselineCapability(cp) {
						add(csc(c).Child("capabilities", "add"))
						break
					}
				}
			}
		}
	case "capabilities_restricted":
		for _, c := range cs {
			s := c.c.SecurityContext
			if s == nil || s.Capabilities == nil || !containsCapability(s.Capabilities.Drop, "ALL") {
				add(csc(c).Child("capabilities", "drop"))
			}
			if s != nil && s.Capabilities != nil {
				for _, cp := range s.Capabilities.Add {
					if cp != "NET_BIND_SERVICE" {
						add(csc(c).Child("capabilities", "add"))
						break
					}
				}
			}
		}
	case "procMount", "procMount_restricted":
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil && s.ProcMount != nil && *s.ProcMount != corev1.DefaultProcMount {
				add(csc(c).Child("procMount"))
			}
		}
	case "seLinuxOptions":
		allowed := map[string]bool{"": true, "container_t": true, "container_init_t": true, "container_kvm_t": true}
		if !v.Older(api.MajorMinorVersion(1, 31)) {
			allowed["container_engine_t"] = true
		}
		check := func(p *field.Path, o *corev1.SELinuxOptions) {
			if o == nil {
				return
			}
			if !allowed[o.Type] {
				add(p.Child("seLinuxOptions", "type"))
			}
			if o.User != "" {
				add(p.Child("seLinuxOptions", "user"))
			}
			if o.Role != "" {
				add(p.Child("seLinuxOptions", "role"))
			}
		}
		if sc != nil {
			check(psc, sc.SELinuxOptions)
		}
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil {
				check(csc(c), s.SELinuxOptions)
			}
		}
	case "sysctls":
		// The allowed set grows by version; the detail lists exactly the forbidden names.
		forbidden := map[string]bool{}
		for _, n := range strings.Split(detail, ", ") {
			forbidden[n] = true
		}
		if sc != nil {
			for i, s := range sc.Sysctls {
				if forbidden[s.Name] {
					add(psc.Child("sysctls").Index(i).Child("name"))
				}
			}
		}
	case "seccompProfile_baseline":
		if sc != nil && sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			add(psc.Child("seccompProfile", "type"))
		}
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil && s.SeccompProfile != nil && s.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
				add(csc(c).Child("seccompProfile", "type"))
			}
		}
		// Before v1.19 the profile was set by annotation.
		for _, k := range sortedKeys(meta.Annotations) {
			if k == seccompPodAnnotation || strings.HasPrefix(k, seccompContainerAnnotationPrefix) {
				if val := meta.Annotations[k]; val != corev1.SeccompProfileRuntimeDefault && val != corev1.DeprecatedSeccompProfileDockerDefault && !strings.HasPrefix(val, corev1.SeccompLocalhostProfileNamePrefix) {
					add(metaPath.Child("annotations").Key(k))
				}
			}
		}
	case "seccompProfile_restricted":
		valid := func(p *corev1.SeccompProfile) bool {
			return p.Type == corev1.SeccompProfileTypeRuntimeDefault || p.Type == corev1.SeccompProfileTypeLocalhost
		}
		podSet := sc != nil && sc.SeccompProfile != nil && valid(sc.SeccompProfile)
		if sc != nil && sc.SeccompProfile != nil && !valid(sc.SeccompProfile) {
			add(psc.Child("seccompProfile", "type"))
		}
		unset := false
		for _, c := range cs {
			s := c.c.SecurityContext
			switch {
			case s != nil && s.SeccompProfile != nil && !valid(s.SeccompProfile):
				add(csc(c).Child("seccompProfile", "type"))
			case (s == nil || s.SeccompProfile == nil) && !podSet:
				unset = true
			}
		}
		if unset && (sc == nil || sc.SeccompProfile == nil) {
			add(psc.Child("seccompProfile"))
		}
	case "allowPrivilegeEscalation":
		for _, c := range cs {
			if s := c.c.SecurityContext; s == nil || s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation {
				add(csc(c).Child("allowPrivilegeEscalation"))
			}
		}
	case "runAsNonRoot":
		podTrue := sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot
		if sc != nil && sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
			add(psc.Child("runAsNonRoot"))
		}
		unset := false
		for _, c := range cs {
			s := c.c.SecurityContext
			switch {
			case s != nil && s.RunAsNonRoot != nil && !*s.RunAsNonRoot:
				add(csc(c).Child("runAsNonRoot"))
			case (s == nil || s.RunAsNonRoot == nil) && !podTrue:
				unset = true
			}
		}
		if unset && (sc == nil || sc.RunAsNonRoot == nil) {
			add(psc.Child("runAsNonRoot"))
		}
	case "runAsUser":
		if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			add(psc.Child("runAsUser"))
		}
		for _, c := range cs {
			if s := c.c.SecurityContext; s != nil && s.RunAsUser != nil && *s.RunAsUser == 0 {
				add(csc(c).Child("runAsUser"))
			}
		}
	}
	sort.Strings(out)
	return compact(out)
}

func handlerHosts(p *field.Path, h *corev1.HTTPGetAction, t *corev1.TCPSocketAction) []string {
	var out []string
	if h != nil && h.Host != "" {
		out = append(out, p.Child("httpGet", "host").String())
	}
	if t != nil && t.Host != "" {
		out = append(out, p.Child("tcpSocket", "host").String())
	}
	return out
}

// restrictedVolumeType returns the field name of a volume's source when the
// restricted level forbids it.
func restrictedVolumeType(v corev1.Volume) (string, bool) {
	switch {
	case v.ConfigMap != nil, v.CSI != nil, v.DownwardAPI != nil, v.EmptyDir != nil, v.Ephemeral != nil,
		v.Image != nil, v.PersistentVolumeClaim != nil, v.Projected != nil, v.Secret != nil:
		return "", false
	case v.HostPath != nil:
		return "hostPath", true
	case v.GCEPersistentDisk != nil:
		return "gcePersistentDisk", true
	case v.AWSElasticBlockStore != nil:
		return "awsElasticBlockStore", true
	case v.GitRepo != nil:
		return "gitRepo", true
	case v.NFS != nil:
		return "nfs", true
	case v.ISCSI != nil:
		return "iscsi", true
	case v.Glusterfs != nil:
		return "glusterfs", true
	case v.RBD != nil:
		return "rbd", true
	case v.FlexVolume != nil:
		return "flexVolume", true
	case v.Cinder != nil:
		return "cinder", true
	case v.CephFS != nil:
		return "cephfs", true
	case v.Flocker != nil:
		return "flocker", true
	case v.FC != nil:
		return "fc", true
	case v.AzureFile != nil:
		return "azureFile", true
	case v.VsphereVolume != nil:
		return "vsphereVolume", true
	case v.Quobyte != nil:
		return "quobyte", true
	case v.AzureDisk != nil:
		return "azureDisk", true
	case v.PhotonPersistentDisk != nil:
		return "photonPersistentDisk", true
	case v.PortworxVolume != nil:
		return "portworxVolume", true
	case v.ScaleIO != nil:
		return "scaleIO", true
	case v.StorageOS != nil:
		return "storageos", true
	}
	// A volume with no source the library knows (from a newer API) is forbidden too.
	return "", true
}

// baselineCapability reports whether the baseline level lets a container add c.
func baselineCapability(c corev1.Capability) bool {
	switch c {
	case "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
		"MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT":
		return true
	}
	return false
}

func containsCapability(cs []corev1.Capability, want corev1.Capability) bool {
	for _, c := range cs {
		if c == want {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
