package cmd

import (
	"bytes"
	"fmt"
	"net"
	"regexp"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// ImageRepository is where the release publishes the plugin's image (the
// kos section of .goreleaser.yaml), tagged with the release's version.
const ImageRepository = "ghcr.io/kubectl-harden/kubectl-harden"

// DefaultScheduleNamespace is where `kubectl harden schedule` puts the CronJob without -n.
const DefaultScheduleNamespace = "kubectl-harden"

// ScheduleOptions are the flags of `kubectl harden schedule`.
type ScheduleOptions struct {
	*AuditOptions

	Name          string
	Image         string
	Schedule      string
	PolicyReports bool
	WithSecrets   bool
	RoleName      string
	// APIServerCIDRs narrow the job's egress to the API server's addresses.
	APIServerCIDRs []string

	namespace string
	selected  []checks.Check
}

var scheduleLong = templates.LongDesc(`
	Print the manifests that make a cluster audit itself on a schedule: a Namespace
	(Pod Security "restricted" enforced), a ServiceAccount, the auditor ClusterRole of
	'kubectl harden auditor-role' bound to it, a NetworkPolicy that denies the job's
	pods all ingress and any egress but to the API server's ports, and a CronJob that runs the plugin's image with that
	ServiceAccount's token. The job's pod runs as non-root on a read-only root file
	system, with every capability dropped, no privilege escalation, the RuntimeDefault
	seccomp profile, and CPU and memory limits: the manifests pass the plugin's own
	checks.

	By default the job prints the report as JSON to its log ('kubectl logs'). With
	--policy-reports it writes the findings as wgpolicyk8s.io PolicyReport and
	ClusterPolicyReport objects instead (the plugin server-side applies them itself,
	so the image holds no kubectl), and the output adds a ClusterRole and binding that
	let the ServiceAccount write those objects. Install the PolicyReport CRDs first.

	The image is the release's, ` + ImageRepository + `:VERSION, with the version of
	this plugin; a build without a release version needs --image.`)

var scheduleExample = templates.Examples(`
	# A daily audit in the namespace kubectl-harden, its report in the job's log
	kubectl harden schedule | kubectl apply -f -

	# Every six hours, in the namespace security, writing PolicyReports
	kubectl harden schedule -n security --schedule "0 */6 * * *" --policy-reports

	# With an image from your own registry
	kubectl harden schedule --image registry.example.com/kubectl-harden:v1.2.3`)

func newCmdSchedule(o *AuditOptions) *cobra.Command {
	s := &ScheduleOptions{AuditOptions: o, Name: "kubectl-harden", Schedule: "@daily", RoleName: "kubectl-harden-auditor"}
	cmd := &cobra.Command{
		Use:     "schedule",
		Short:   "Print the manifests of a CronJob that audits the cluster from inside it",
		Long:    scheduleLong,
		Example: scheduleExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.Complete(); err != nil {
				return err
			}
			if err := s.Validate(); err != nil {
				return err
			}
			return s.Run()
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&s.Name, "name", s.Name, "Name of the ServiceAccount, CronJob and NetworkPolicy")
	fs.StringVar(&s.Image, "image", "", "Image holding the plugin as its entrypoint (default "+ImageRepository+":VERSION, this plugin's release version)")
	fs.StringVar(&s.Schedule, "schedule", s.Schedule, "When the audit runs, in cron syntax (e.g. \"0 3 * * *\") or a macro such as @daily")
	fs.BoolVar(&s.PolicyReports, "policy-reports", false, "Write PolicyReports (wgpolicyk8s.io CRDs needed) instead of printing the JSON report to the job's log, and grant the ServiceAccount that")
	fs.BoolVar(&s.WithSecrets, "with-secrets", false, "Let the auditor role list Secrets, so the checks reading them run (its holder can read every Secret; see 'kubectl harden auditor-role')")
	fs.StringVar(&s.RoleName, "role-name", s.RoleName, "Name of the auditor ClusterRole")
	fs.StringSliceVar(&s.APIServerCIDRs, "apiserver-cidr", nil, "The API server's addresses as CIDRs (repeatable): the job's egress goes only there (without it, to any address on 443 and 6443, which the netpol checks report)")
	return cmd
}

// Complete picks the namespace and the checks the role is for.
func (s *ScheduleOptions) Complete() error {
	s.namespace = DefaultScheduleNamespace
	if ns := s.ConfigFlags.Namespace; ns != nil && *ns != "" {
		s.namespace = *ns
	}
	if s.Image == "" {
		s.Image = defaultImage(Version())
	}
	reg, err := s.Registry()
	if err != nil {
		return err
	}
	s.selected = append(reg.All(), checks.Check{Needs: all.CoverageNeeds(nil)})
	return nil
}

// releaseVersion is a version the release publishes an image for.
var releaseVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// defaultImage is the released image of version, or "" when it has none.
func defaultImage(v string) string {
	if !releaseVersion.MatchString(v) || regexp.MustCompile(`snapshot|dirty|-g[0-9a-f]{7,}`).MatchString(v) {
		return ""
	}
	return ImageRepository + ":" + v
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the flags.
func (s *ScheduleOptions) Validate() error {
	if s.Image == "" {
		return fmt.Errorf("this build of the plugin (%s) has no released image: pass --image with an image that holds kubectl-harden as its entrypoint (the release publishes %s:VERSION)", Version(), ImageRepository)
	}
	for flag, v := range map[string]string{"--name": s.Name, "--namespace": s.namespace, "--role-name": s.RoleName} {
		if len(v) > 52 || !dnsLabel.MatchString(v) {
			return fmt.Errorf("%s %q must be a DNS label of at most 52 characters (lower case letters, digits and dashes)", flag, v)
		}
	}
	if s.Schedule == "" {
		return fmt.Errorf("--schedule must not be empty")
	}
	for _, c := range s.APIServerCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			return fmt.Errorf("--apiserver-cidr %q: %v", c, err)
		}
	}
	return nil
}

// Run prints the manifests.
func (s *ScheduleOptions) Run() error {
	var out bytes.Buffer
	fmt.Fprintf(&out, "# kubectl harden schedule: an audit of this cluster %s, run by the CronJob %s/%s.\n", s.Schedule, s.namespace, s.Name)
	if s.PolicyReports {
		fmt.Fprintln(&out, "# It writes PolicyReports: install the wgpolicyk8s.io CRDs first ('kubectl get policyreports -A' shows them).")
	} else {
		fmt.Fprintf(&out, "# Its report is JSON in the job's log: kubectl logs -n %s job/<job name>\n", s.namespace)
	}
	for i, obj := range s.Objects() {
		b, err := marshalManifest(obj)
		if err != nil {
			return err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	if _, err := s.Out.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write the manifests: %w", err)
	}
	return nil
}

// Args are the plugin's arguments in the job.
func (s *ScheduleOptions) Args() []string {
	if s.PolicyReports {
		return []string{"-o", "policyreport", "--write-policyreports"}
	}
	return []string{"-o", "json"}
}

// PolicyReportWriterRole is the ClusterRole that lets the job write its reports.
func PolicyReportWriterRole(name string) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": output.PolicyReportSource}},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"wgpolicyk8s.io"},
			Resources: []string{"clusterpolicyreports", "policyreports"},
			// list and delete remove the reports a run no longer produces.
			Verbs: []string{"create", "delete", "get", "list", "patch", "update"},
		}},
	}
}

// Objects are the manifests, in the order kubectl apply creates them.
func (s *ScheduleOptions) Objects() []runtime.Object {
	ns, name := s.namespace, s.Name
	labels := map[string]string{"app.kubernetes.io/name": "kubectl-harden", "app.kubernetes.io/instance": name}
	restricted := map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/audit":   "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
	}
	objs := []runtime.Object{
		&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: restricted}},
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta:                   metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			AutomountServiceAccountToken: ptr(false)},
	}
	bind := func(role, binding string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: binding, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}},
		}
	}
	objs = append(objs, rbac.AuditorRole(s.RoleName, s.selected, s.WithSecrets), bind(s.RoleName, s.RoleName+"-"+ns+"-"+name))
	if s.PolicyReports {
		writer := "kubectl-harden-policyreport-writer"
		objs = append(objs, PolicyReportWriterRole(writer), bind(writer, writer+"-"+ns+"-"+name))
	}
	objs = append(objs, &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: networkingv1.NetworkPolicySpec{
			// The job only calls the API server (on 443 at its Service, on
			// 6443 where the CNI sees the endpoint's port); nothing calls it.
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: s.apiserverPeers(), Ports: []networkingv1.NetworkPolicyPort{
				{Protocol: ptr(corev1.ProtocolTCP), Port: ptr(intstr.FromInt32(443))},
				{Protocol: ptr(corev1.ProtocolTCP), Port: ptr(intstr.FromInt32(6443))},
			}}, {
				// In the cluster the job reaches the API server by address; the
				// cluster DNS is allowed for a kubeconfig that names it by host name.
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{
					{Protocol: ptr(corev1.ProtocolUDP), Port: ptr(intstr.FromInt32(53))},
					{Protocol: ptr(corev1.ProtocolTCP), Port: ptr(intstr.FromInt32(53))},
				},
			}},
		},
	})
	objs = append(objs, s.CronJob(labels))
	return objs
}

// apiserverPeers are the API server's addresses, or nil (any address) when not given.
func (s *ScheduleOptions) apiserverPeers() []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for _, c := range s.APIServerCIDRs {
		out = append(out, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}})
	}
	return out
}

// CronJob is the job that runs the audit with the ServiceAccount's token.
func (s *ScheduleOptions) CronJob(labels map[string]string) *batchv1.CronJob {
	uid := int64(65532) // the nonroot user of the distroless base image ko uses
	pod := corev1.PodSpec{
		ServiceAccountName:           s.Name,
		AutomountServiceAccountToken: ptr(true),
		RestartPolicy:                corev1.RestartPolicyNever,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: ptr(true), RunAsUser: &uid, RunAsGroup: &uid,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:            "kubectl-harden",
			Image:           s.Image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Args:            s.Args(),
			// client-go's caches and klog write under HOME; the root file system is read-only.
			Env:          []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}, {Name: "NO_COLOR", Value: "1"}},
			VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false),
				ReadOnlyRootFilesystem:   ptr(true),
				Privileged:               ptr(false),
				RunAsNonRoot:             ptr(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
			},
		}},
		Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr(resource.MustParse("64Mi"))}}}},
	}
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.namespace, Labels: labels},
		Spec: batchv1.CronJobSpec{
			Schedule:                   s.Schedule,
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr(int32(3)),
			FailedJobsHistoryLimit:     ptr(int32(3)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: batchv1.JobSpec{
					BackoffLimit:          ptr(int32(2)),
					ActiveDeadlineSeconds: ptr(int64(3600)),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec:       pod,
					},
				},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// marshalManifest encodes obj as YAML without the empty status and
// creationTimestamp fields the typed structs carry.
func marshalManifest(obj runtime.Object) ([]byte, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", obj, err)
	}
	delete(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(m, "spec")
	}
	dropNullTimestamps(m)
	return yaml.Marshal(m)
}

func dropNullTimestamps(v any) {
	switch t := v.(type) {
	case map[string]any:
		if ts, ok := t["creationTimestamp"]; ok && ts == nil {
			delete(t, "creationTimestamp")
		}
		for k, c := range t {
			if mm, ok := c.(map[string]any); ok && len(mm) == 0 && k == "metadata" {
				delete(t, k)
				continue
			}
			dropNullTimestamps(c)
		}
	case []any:
		for _, c := range t {
			dropNullTimestamps(c)
		}
	}
}
