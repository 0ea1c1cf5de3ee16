// Package workload holds the checks on how workloads run that Pod Security
// Admission does not cover: resource limits, image pinning, writable root
// filesystems, Secrets in environment variables and the default namespace.
// Each pod spec is judged once: at its controller's template when the
// controller is in the inventory (custom workloads such as Argo Rollouts
// included), else at the pod.
package workload

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Domain is the domain name of every check in this package.
const Domain = "workload"

var workloadKinds = []inventory.Kind{
	inventory.Pods, inventory.Deployments, inventory.StatefulSets, inventory.DaemonSets,
	inventory.ReplicaSets, inventory.Jobs, inventory.CronJobs, inventory.ReplicationControllers,
	inventory.CustomWorkloads,
}

// Checks returns the workload checks.

// The IDs of the workload checks.
const (
	IDDefaultNamespace       = "workload/default-namespace"
	IDImageNotPinned         = "workload/image-not-pinned"
	IDImageVulnerabilities   = "workload/image-vulnerabilities"
	IDNoResourceLimits       = "workload/no-resource-limits"
	IDSecretInEnv            = "workload/secret-in-env"
	IDSharedProcessNamespace = "workload/shared-process-namespace"
	IDWritableRootFilesystem = "workload/writable-root-filesystem"
)

func Checks() []checks.Check {
	return []checks.Check{
		{
			ID: IDNoResourceLimits, Domain: Domain, Severity: finding.Low,
			Title:       "Container without memory limit or CPU request",
			Description: "A container without a memory limit can exhaust its node's memory, and one without a CPU request can starve its neighbours: a denial of service within reach of one compromised workload.",
			Remediation: "Set resources.limits.memory and resources.requests.cpu on every container, or a LimitRange default in the namespace.",
			Needs:       workloadKinds,
			Run:         func(inv *inventory.Inventory) []finding.Finding { return perContainer(inv, noLimits) },
		},
		{
			ID: IDImageNotPinned, Domain: Domain, Severity: finding.Low,
			Title:       "Image neither pinned by digest nor by a fixed tag",
			Description: "An image referenced by :latest or no tag changes under the workload without review; a digest pins exactly what was scanned and approved.",
			Remediation: "Reference images by digest (image@sha256:...) or at least by an immutable version tag.",
			Needs:       workloadKinds,
			Run:         func(inv *inventory.Inventory) []finding.Finding { return perContainer(inv, unpinnedImage) },
		},
		{
			ID: IDWritableRootFilesystem, Domain: Domain, Severity: finding.Low,
			Title:       "Container root filesystem is writable",
			Description: "An attacker in a container with a writable root filesystem can drop tools and modify binaries; the NSA/CISA guide recommends immutable container filesystems.",
			Remediation: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the application must write.",
			Needs:       workloadKinds,
			Run:         func(inv *inventory.Inventory) []finding.Finding { return perContainer(inv, writableRoot) },
		},
		{
			ID: IDSecretInEnv, Domain: Domain, Severity: finding.Medium,
			Title:       "Secret exposed through environment variables",
			Description: "Environment variables are printed by crash handlers, inherited by child processes and shown by debugging tools; Secrets mounted as files are not.",
			Remediation: "Mount the Secret as a volume and read it from a file.",
			Needs:       workloadKinds,
			Run:         func(inv *inventory.Inventory) []finding.Finding { return perContainer(inv, secretInEnv) },
		},
		{
			ID: IDDefaultNamespace, Domain: Domain, Severity: finding.Low,
			Title:       "Workload in the default namespace",
			Description: "The default namespace is where everything lands without a decision: policies, quotas and RBAC are rarely scoped to it, so workloads there share a boundary with whatever else ends up there.",
			Remediation: "Move the workload to a namespace of its own, with its own RBAC, NetworkPolicy and Pod Security labels.",
			Needs:       workloadKinds,
			Run:         defaultNamespace,
		},
		{
			ID: IDSharedProcessNamespace, Domain: Domain, Severity: finding.Medium,
			Title:       "Pod shares one process namespace between its containers",
			Description: "With shareProcessNamespace every container sees the others' processes and, through /proc, their files and environment: a compromised sidecar reaches the main container's secrets.",
			Remediation: "Remove spec.shareProcessNamespace unless the pod's design needs it, and then keep secrets out of the other containers' reach.",
			Needs:       workloadKinds,
			Run:         sharedProcessNamespace,
		},
		imageVulnerabilitiesCheck(),
	}
}

func sharedProcessNamespace(inv *inventory.Inventory) []finding.Finding {
	var out []finding.Finding
	for _, s := range Specs(inv) {
		if s.Spec.ShareProcessNamespace != nil && *s.Spec.ShareProcessNamespace && !systemNamespace(inv, s.Resource.Namespace) {
			out = append(out, finding.Finding{
				Message: fmt.Sprintf("%s %s/%s shares its process namespace between %d containers (%s.shareProcessNamespace)",
					s.Resource.Kind, s.Resource.Namespace, s.Resource.Name, len(s.Spec.Containers), s.Path),
				Resource: s.Resource,
			})
		}
	}
	return out
}

// Spec is a pod spec to judge, with the object that owns it.
type Spec struct {
	Resource finding.Resource
	Spec     *corev1.PodSpec
	// Path is the field path of the pod spec in the object, e.g. spec.template.spec.
	Path string
}

// Specs returns every pod spec once: controllers' and custom workloads'
// templates, and pods whose controller is not in the inventory, by the owner
// rule every domain shares (inventory.PodSpecs). Computed once per run.
func Specs(inv *inventory.Inventory) []Spec {
	return inv.Memo("workload/specs", func() any { return specs(inv) }).([]Spec)
}

func specs(inv *inventory.Inventory) []Spec {
	var out []Spec
	for _, s := range inventory.PodSpecs(inv) {
		switch {
		case s.Owner >= 0:
			continue // judged at the template of the controller that makes it
		case s.Mirror:
			continue // mirror pods belong to the node, the cluster checks read them
		case s.Ref.Kind == "PodTemplate":
			continue // a PodTemplate runs nothing by itself
		}
		out = append(out, Spec{Resource: finding.Resource{APIVersion: s.Ref.APIVersion, Kind: s.Ref.Kind, Namespace: s.Ref.Namespace, Name: s.Ref.Name},
			Spec: s.Spec, Path: s.Path})
	}
	// Controllers by kind (custom workloads after the built-in ones), then pods.
	slices.SortStableFunc(out, func(x, y Spec) int { return cmp.Compare(kindRank(x.Resource), kindRank(y.Resource)) })
	return out
}

// kindRank orders the specs: outermost controllers first, pods last.
func kindRank(r finding.Resource) int {
	switch r.Kind {
	case "CronJob":
		return 0
	case "Deployment":
		return 1
	case "Job":
		return 2
	case "ReplicaSet":
		return 3
	case "StatefulSet":
		return 4
	case "DaemonSet":
		return 5
	case "ReplicationController":
		return 6
	case "Pod":
		return 8
	}
	return 7 // custom workloads
}

// systemNamespace reports namespaces run by the platform, judged only with --include-system.
func systemNamespace(inv *inventory.Inventory, ns string) bool { return inv.SkipsSystem(ns) }

// containerRule judges one container and returns the finding message and field, or "" when it passes.
type containerRule func(c *corev1.Container) (msg, field string)

func perContainer(inv *inventory.Inventory, rule containerRule) []finding.Finding {
	var out []finding.Finding
	for _, s := range Specs(inv) {
		if systemNamespace(inv, s.Resource.Namespace) {
			continue
		}
		each := func(kind string, cs []corev1.Container) {
			for i := range cs {
				msg, field := rule(&cs[i])
				if msg == "" {
					continue
				}
				path := fmt.Sprintf("%s.%s[%d]", s.Path, kind, i)
				if field != "" {
					path += "." + field
				}
				out = append(out, finding.Finding{
					Message:  fmt.Sprintf("%s %s container %s: %s", s.Resource.Kind, qualified(s.Resource), cs[i].Name, msg),
					Resource: s.Resource,
					Evidence: map[string]any{"container": cs[i].Name, "field": path},
				})
			}
		}
		each("initContainers", s.Spec.InitContainers)
		each("containers", s.Spec.Containers)
	}
	return out
}

func qualified(r finding.Resource) string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

func noLimits(c *corev1.Container) (string, string) {
	var missing []string
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		missing = append(missing, "memory limit")
	}
	_, req := c.Resources.Requests[corev1.ResourceCPU]
	_, lim := c.Resources.Limits[corev1.ResourceCPU]
	if !req && !lim { // a CPU limit alone defaults the request to it
		missing = append(missing, "CPU request")
	}
	if len(missing) == 0 {
		return "", ""
	}
	return "no " + strings.Join(missing, " and no "), "resources"
}

func unpinnedImage(c *corev1.Container) (string, string) {
	img := c.Image
	if strings.Contains(img, "@sha256:") || img == "" {
		return "", ""
	}
	name := img[strings.LastIndex(img, "/")+1:]
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 {
		tag = name[i+1:]
	}
	switch tag {
	case "":
		return fmt.Sprintf("image %s has no tag (means :latest) and no digest", img), "image"
	case "latest":
		return fmt.Sprintf("image %s uses the moving tag :latest", img), "image"
	}
	return "", ""
}

func writableRoot(c *corev1.Container) (string, string) {
	if sc := c.SecurityContext; sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		return "", ""
	}
	return "readOnlyRootFilesystem is not true", "securityContext.readOnlyRootFilesystem"
}

func secretInEnv(c *corev1.Container) (string, string) {
	var names []string
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			names = append(names, fmt.Sprintf("%s (from Secret %s)", e.Name, e.ValueFrom.SecretKeyRef.Name))
		}
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			names = append(names, fmt.Sprintf("every key of Secret %s", e.SecretRef.Name))
		}
	}
	if len(names) == 0 {
		return "", ""
	}
	return "Secret values in environment variables: " + strings.Join(names, ", "), "env"
}

func defaultNamespace(inv *inventory.Inventory) []finding.Finding {
	var out []finding.Finding
	for _, s := range Specs(inv) {
		if s.Resource.Namespace == "default" {
			out = append(out, finding.Finding{
				Message:  fmt.Sprintf("%s %s runs in the default namespace", s.Resource.Kind, s.Resource.Name),
				Resource: s.Resource,
			})
		}
	}
	return out
}
