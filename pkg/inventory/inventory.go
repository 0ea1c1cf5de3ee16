// Package inventory is the snapshot of cluster objects the checks read, and
// its two loaders: live from an API server, and offline from manifest files.
package inventory

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// Kind is a kind of object the inventory can hold; checks declare the kinds they need.
type Kind string

const (
	Namespaces                      Kind = "namespaces"
	Pods                            Kind = "pods"
	ServiceAccounts                 Kind = "serviceaccounts"
	Secrets                         Kind = "secrets"
	ConfigMaps                      Kind = "configmaps"
	Nodes                           Kind = "nodes"
	PodTemplates                    Kind = "podtemplates"
	ReplicationControllers          Kind = "replicationcontrollers"
	Deployments                     Kind = "deployments"
	StatefulSets                    Kind = "statefulsets"
	DaemonSets                      Kind = "daemonsets"
	ReplicaSets                     Kind = "replicasets"
	Jobs                            Kind = "jobs"
	CronJobs                        Kind = "cronjobs"
	Roles                           Kind = "roles"
	ClusterRoles                    Kind = "clusterroles"
	RoleBindings                    Kind = "rolebindings"
	ClusterRoleBindings             Kind = "clusterrolebindings"
	NetworkPolicies                 Kind = "networkpolicies"
	ValidatingWebhookConfigurations Kind = "validatingwebhookconfigurations"
	MutatingWebhookConfigurations   Kind = "mutatingwebhookconfigurations"

	// Custom resources of admission tools that verify image signatures. A
	// cluster without the tool does not serve them: that reads as none, not as unknown.
	ClusterImagePolicies    Kind = "clusterimagepolicies"    // sigstore policy-controller, policy.sigstore.dev
	KyvernoClusterPolicies  Kind = "clusterpolicies"         // Kyverno, kyverno.io
	KyvernoPolicies         Kind = "policies"                // Kyverno, kyverno.io (namespaced)
	ImageValidatingPolicies Kind = "imagevalidatingpolicies" // Kyverno, policies.kyverno.io
	ConstraintTemplates     Kind = "constrainttemplates"     // Gatekeeper, templates.gatekeeper.sh

	// The cluster-scoped network policy tiers of sigs.k8s.io/network-policy-api
	// (policy.networking.k8s.io): ClusterNetworkPolicy (v1alpha2, also served
	// as v1beta1), and the older AdminNetworkPolicy and BaselineAdminNetworkPolicy
	// (v1alpha1). Optional kinds: a cluster without the CRD has none.
	ClusterNetworkPolicies       Kind = "clusternetworkpolicies"
	AdminNetworkPolicies         Kind = "adminnetworkpolicies"
	BaselineAdminNetworkPolicies Kind = "baselineadminnetworkpolicies"

	// CustomWorkloads are custom resources that embed a pod template (Argo
	// Rollouts, Knative Services, OpenKruise CloneSets; offline, any object
	// of that shape): one kind, so checks need not know each tool.
	CustomWorkloads Kind = "customworkloads"

	// Custom resources of add-ons whose results the checks read, optional:
	// live, an unserved CRD reads as none (not installed), and the checks say
	// what they cannot see then. cert-manager's Certificates (cert-manager.io)
	// and trivy-operator's VulnerabilityReports (aquasecurity.github.io).
	Certificates         Kind = "certificates"
	VulnerabilityReports Kind = "vulnerabilityreports"

	// AnonymousAccess is not a resource: it is what the API server answers to
	// requests without credentials, probed live (see AnonymousProbe).
	AnonymousAccess Kind = "anonymous-access"
	// APIServerHealth is not a resource: the named checks the API server
	// lists in /readyz?verbose and /healthz?verbose, probed live (see HealthProbe).
	APIServerHealth Kind = "apiserver-health"
	// TLSCertificates is not a resource: the API server's serving certificate
	// from the TLS handshake and the kubeconfig's own client certificate,
	// read live (see CertificateProbe).
	TLSCertificates Kind = "tls-certificates"
)

// AllKinds lists every kind the inventory knows, in a stable order.
var allKinds = []Kind{
	Namespaces, Pods, ServiceAccounts, Secrets, ConfigMaps, Nodes, PodTemplates, ReplicationControllers,
	Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs,
	Roles, ClusterRoles, RoleBindings, ClusterRoleBindings, NetworkPolicies,
	ClusterNetworkPolicies, AdminNetworkPolicies, BaselineAdminNetworkPolicies,
	CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies, CalicoNetworkPolicies, CalicoGlobalNetworkPolicies,
	ValidatingWebhookConfigurations, MutatingWebhookConfigurations,
	ClusterImagePolicies, KyvernoClusterPolicies, KyvernoPolicies, ImageValidatingPolicies, ConstraintTemplates,
	Certificates, VulnerabilityReports,
	CustomWorkloads, AnonymousAccess, APIServerHealth, TLSCertificates, KubeletConfigs,
}

// AllKinds returns every kind the inventory knows.
func AllKinds() []Kind { return append([]Kind(nil), allKinds...) }

// Key identifies an object by kind, namespace and name.
type Key struct {
	Kind      string // the object's Kind, e.g. "Pod"
	Namespace string
	Name      string
}

func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// Source is where an offline object was read from.
type Source struct {
	File string
	Line int
}

// Inventory is a read-only snapshot of the objects the selected checks need.
// Checks must not modify it: several checks read it at once.
type Inventory struct {
	// ServerVersion is the API server's gitVersion (v1.37.2), or for files the --server-version given.
	ServerVersion string
	// Offline is set when the objects came from files, not a live server.
	Offline bool
	// Complete is set when the files are said to be the whole cluster.
	Complete bool

	Namespaces             []corev1.Namespace
	Pods                   []Pod
	ServiceAccounts        []corev1.ServiceAccount
	Secrets                []metav1.PartialObjectMetadata // metadata only: Secret data never enters memory
	ConfigMaps             []corev1.ConfigMap
	Nodes                  []corev1.Node
	PodTemplates           []corev1.PodTemplate
	ReplicationControllers []corev1.ReplicationController
	Deployments            []appsv1.Deployment
	StatefulSets           []appsv1.StatefulSet
	DaemonSets             []appsv1.DaemonSet
	ReplicaSets            []appsv1.ReplicaSet
	Jobs                   []batchv1.Job
	CronJobs               []batchv1.CronJob
	Roles                  []rbacv1.Role
	ClusterRoles           []rbacv1.ClusterRole
	RoleBindings           []rbacv1.RoleBinding
	ClusterRoleBindings    []rbacv1.ClusterRoleBinding
	NetworkPolicies        []networkingv1.NetworkPolicy

	// The cluster-scoped network policy tiers, typed: v1beta1 ClusterNetworkPolicies
	// (the same schema) are decoded as v1alpha2.
	ClusterNetworkPolicies       []npav1alpha2.ClusterNetworkPolicy
	AdminNetworkPolicies         []npav1alpha1.AdminNetworkPolicy
	BaselineAdminNetworkPolicies []npav1alpha1.BaselineAdminNetworkPolicy
	// The CNIs' own network policies (Cilium, Calico), kept as read without
	// status: their schemas change between releases (see cnipolicies.go).
	CiliumNetworkPolicies            []unstructured.Unstructured
	CiliumClusterwideNetworkPolicies []unstructured.Unstructured
	CalicoNetworkPolicies            []unstructured.Unstructured
	CalicoGlobalNetworkPolicies      []unstructured.Unstructured
	ValidatingWebhooks               []admissionregistrationv1.ValidatingWebhookConfiguration
	MutatingWebhooks                 []admissionregistrationv1.MutatingWebhookConfiguration
	// Custom resources are kept as read: their schemas change between the tools' versions.
	ClusterImagePolicies    []unstructured.Unstructured
	KyvernoClusterPolicies  []unstructured.Unstructured
	KyvernoPolicies         []unstructured.Unstructured
	ImageValidatingPolicies []unstructured.Unstructured
	ConstraintTemplates     []unstructured.Unstructured
	// cert-manager Certificates and trivy-operator VulnerabilityReports, as read.
	Certificates         []unstructured.Unstructured
	VulnerabilityReports []unstructured.Unstructured
	// CustomWorkloads are the custom resources that carry a pod template, decoded to it.
	CustomWorkloads []CustomWorkload
	// Unmodelled counts the objects read from files whose kind no check reads,
	// by apiVersion/Kind ("v1/Service"): they are reported, never silently dropped.
	Unmodelled map[string]int
	// Anonymous is what the server answered to requests without credentials (live only).
	Anonymous *AnonymousProbe
	// Health is the API server's list of health checks (live only).
	Health *HealthProbe
	// TLS is what the TLS handshake and the kubeconfig show of certificates (live only).
	TLS *CertificateProbe
	// Kubelets are the nodes' kubelet configurations (live only, with --kubelet), one per Node.
	Kubelets []Kubelet

	// Loaded says which kinds were read. A kind not loaded is unknown, not empty.
	Loaded map[Kind]bool
	// Missing gives the reason a needed kind could not be read (for example "forbidden").
	Missing map[Kind]string
	// OptedOut marks the opt-in kinds (see Kind.OptIn) the audit was not
	// asked to read: the checks that need them are unknown, not skipped.
	OptedOut map[Kind]bool
	// NotInstalled marks the optional kinds (see Kind.Optional) read as none
	// because the API server does not serve their CRD, or, offline, because
	// the files hold none of them: loaded and empty, and said so in the report.
	NotInstalled map[Kind]bool
	// NotInManifests marks the optional kinds read as none because the files
	// are an application's manifests, not a cluster (see Read): the cluster's
	// add-on objects were not seen, and the report says so.
	NotInManifests map[Kind]bool
	// Sources maps objects read from files to their file and line.
	Sources map[Key]Source
	// Settings are the user's choices that change what checks report.
	Settings Settings
	// Scopes says, per API group and resource, whether the resource is
	// namespaced: live from discovery, offline from the CRDs in the files.
	// A resource neither shows is looked up in the checks' own table.
	Scopes map[schema.GroupResource]bool
	// Verbs are the verbs discovery lists for each resource and subresource
	// ("pods/exec"), live only; empty when not known.
	Verbs map[schema.GroupResource][]string
	// Warnings are what the loader has to say about its input (an object given
	// twice, a kind that could not be listed); the command prints them on stderr.
	Warnings []string

	objects   int         // offline: objects read, of any kind
	positions map[Key]int // offline: where each named object is in its list, for duplicates
	// offline: custom workloads and unmodelled objects already read, by
	// group/Kind/namespace/name (Key has no group, and two tools may share a Kind)
	customSeen map[string]int
	memo       *memoTable
}

type memoTable struct {
	mu      sync.Mutex
	entries map[string]*memoEntry
}

// Settings are run-wide choices the checks read (they stay pure functions of the inventory).
type Settings struct {
	// IncludeSystem reports built-in system: roles, bindings and namespaces even at their defaults.
	IncludeSystem bool
	// Namespace is the namespace -n narrows the audit to, "" for all. A
	// remedy then stays within it: no cluster-wide change is offered.
	Namespace string
	// Now is the time of the audit, against which certificate expiry is
	// judged; zero when unknown (expiry is then not judged).
	Now time.Time
	// CertExpiryDays is how many days before expiry a certificate is
	// reported (--cert-expiry-days); 0 means DefaultCertExpiryDays.
	CertExpiryDays int
	// NamespaceReach keeps what the namespace reachability matrix is
	// computed from (the NetworkPolicy analysis, and through it the pods)
	// in the report's coverage, for the reports that draw it (html, dot).
	// Without it the inventory is garbage once the report is made.
	NamespaceReach bool
}

// DefaultCertExpiryDays is how many days ahead certificate expiry is reported by default.
const DefaultCertExpiryDays = 30

// ExpiryHorizon returns the time before which a certificate's expiry is
// reported, and false when the audit's time is unknown.
func (s Settings) ExpiryHorizon() (now, horizon time.Time, ok bool) {
	if s.Now.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	days := s.CertExpiryDays
	if days <= 0 {
		days = DefaultCertExpiryDays
	}
	return s.Now, s.Now.Add(time.Duration(days) * 24 * time.Hour), true
}

type memoEntry struct {
	once  sync.Once
	value any
}

// New returns an empty inventory.
func New() *Inventory {
	return &Inventory{Loaded: map[Kind]bool{}, Missing: map[Kind]string{}, NotInstalled: map[Kind]bool{}, NotInManifests: map[Kind]bool{}, OptedOut: map[Kind]bool{}, Sources: map[Key]Source{},
		positions: map[Key]int{}, memo: &memoTable{}, Unmodelled: map[string]int{}, Scopes: map[schema.GroupResource]bool{}, Verbs: map[schema.GroupResource][]string{}}
}

// Has reports whether kind k was read successfully.
func (inv *Inventory) Has(k Kind) bool { return inv.Loaded[k] }

// Memo computes a value once per key and shares it between checks, so that a
// domain's analysis (the RBAC permission graph, pod isolation) is built once per run.
func (inv *Inventory) Memo(key string, compute func() any) any {
	m := inv.memo
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]*memoEntry{}
	}
	e, ok := m.entries[key]
	if !ok {
		e = &memoEntry{}
		m.entries[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.value = compute() })
	return e.value
}

// SourceOf returns the file and line an object was read from, if any.
func (inv *Inventory) SourceOf(kind, namespace, name string) (Source, bool) {
	s, ok := inv.Sources[Key{Kind: kind, Namespace: namespace, Name: name}]
	return s, ok
}

// Namespace returns the namespace object by name.
func (inv *Inventory) Namespace(name string) (*corev1.Namespace, bool) {
	for i := range inv.Namespaces {
		if inv.Namespaces[i].Name == name {
			return &inv.Namespaces[i], true
		}
	}
	return nil, false
}

// NamespaceNames returns every namespace the inventory knows of: listed
// namespaces and namespaces named by namespaced objects, sorted.
func (inv *Inventory) NamespaceNames() []string {
	seen := map[string]bool{}
	for _, ns := range inv.Namespaces {
		seen[ns.Name] = true
	}
	for _, p := range inv.Pods {
		seen[p.Namespace] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		if n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// ParseKinds reads a comma-separated list of kinds, for tests and tools.
func ParseKinds(s string) ([]Kind, error) {
	var out []Kind
	known := map[Kind]bool{}
	for _, k := range allKinds {
		known[k] = true
	}
	for _, p := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(p))
		if !known[k] {
			return nil, fmt.Errorf("unknown kind %q", k)
		}
		out = append(out, k)
	}
	return out, nil
}

// groups gives the API group of each kind ("" is the core group).
var groups = map[Kind]string{
	Deployments: "apps", StatefulSets: "apps", DaemonSets: "apps", ReplicaSets: "apps",
	Jobs: "batch", CronJobs: "batch",
	Roles: "rbac.authorization.k8s.io", ClusterRoles: "rbac.authorization.k8s.io",
	RoleBindings: "rbac.authorization.k8s.io", ClusterRoleBindings: "rbac.authorization.k8s.io",
	NetworkPolicies:                  "networking.k8s.io",
	ClusterNetworkPolicies:           PolicyGroup,
	AdminNetworkPolicies:             PolicyGroup,
	BaselineAdminNetworkPolicies:     PolicyGroup,
	CiliumNetworkPolicies:            "cilium.io",
	CiliumClusterwideNetworkPolicies: "cilium.io",
	CalicoNetworkPolicies:            "projectcalico.org",
	CalicoGlobalNetworkPolicies:      "projectcalico.org",
	ValidatingWebhookConfigurations:  "admissionregistration.k8s.io",
	MutatingWebhookConfigurations:    "admissionregistration.k8s.io",
	ClusterImagePolicies:             "policy.sigstore.dev",
	KyvernoClusterPolicies:           "kyverno.io",
	KyvernoPolicies:                  "kyverno.io",
	ImageValidatingPolicies:          "policies.kyverno.io",
	ConstraintTemplates:              "templates.gatekeeper.sh",
	Certificates:                     "cert-manager.io",
	VulnerabilityReports:             "aquasecurity.github.io",
}

// customResource says how a kind served by a CRD is found: the versions to
// try, preferred first (the first one served is listed), and its object Kind.
type customResource struct {
	versions []string
	kind     string
}

var customResources = map[Kind]customResource{
	ClusterImagePolicies:    {versions: []string{"v1beta1", "v1alpha1"}, kind: "ClusterImagePolicy"},
	KyvernoClusterPolicies:  {versions: []string{"v1"}, kind: "ClusterPolicy"},
	KyvernoPolicies:         {versions: []string{"v1"}, kind: "Policy"},
	ImageValidatingPolicies: {versions: []string{"v1", "v1beta1", "v1alpha1"}, kind: "ImageValidatingPolicy"},
	ConstraintTemplates:     {versions: []string{"v1", "v1beta1"}, kind: "ConstraintTemplate"},
	Certificates:            {versions: []string{"v1"}, kind: "Certificate"},
	VulnerabilityReports:    {versions: []string{"v1alpha1"}, kind: "VulnerabilityReport"},
}

// customKind returns the inventory kind of a custom resource's group and
// Kind, whatever its version.
func customKind(group, kind string) (Kind, bool) {
	for k, cr := range customResources {
		if groups[k] == group && cr.kind == kind {
			return k, true
		}
	}
	return "", false
}

// customList returns the slice that holds a custom resource kind.
func (inv *Inventory) customList(k Kind) *[]unstructured.Unstructured {
	switch k {
	case ClusterImagePolicies:
		return &inv.ClusterImagePolicies
	case KyvernoClusterPolicies:
		return &inv.KyvernoClusterPolicies
	case KyvernoPolicies:
		return &inv.KyvernoPolicies
	case ImageValidatingPolicies:
		return &inv.ImageValidatingPolicies
	case ConstraintTemplates:
		return &inv.ConstraintTemplates
	case Certificates:
		return &inv.Certificates
	case VulnerabilityReports:
		return &inv.VulnerabilityReports
	}
	return nil
}

// Group returns the kind's API group; the resource name is the Kind string itself.
func (k Kind) Group() string { return groups[k] }

// IsResource reports whether the kind is read by listing an API resource
// (and so needs list permission), rather than probed.
func (k Kind) IsResource() bool {
	return k != AnonymousAccess && k != APIServerHealth && k != TLSCertificates && k != KubeletConfigs
}

// AnonymousProbe holds the HTTP status codes the API server returned to
// requests sent without any credentials.
type AnonymousProbe struct {
	// Version is the status of GET /version (200 is the default: public info).
	Version int `json:"version"`
	// Namespaces is the status of GET /api/v1/namespaces: 401 when anonymous
	// auth is off, 403 when it is on and RBAC denies, 200 when anyone may list.
	Namespaces int `json:"namespaces"`
}

// ResetMemo forgets the shared analyses, so a copied inventory recomputes them (benchmarks).
func (inv *Inventory) ResetMemo() { inv.memo = &memoTable{} }

// Forget drops the values Memo keeps under the key prefix and the keys below
// it (prefix/...), so the garbage collector can take what nothing else holds;
// a later Memo of such a key computes it again.
func (inv *Inventory) Forget(prefix string) {
	m := inv.memo
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.entries {
		if k == prefix || strings.HasPrefix(k, prefix+"/") {
			delete(m.entries, k)
		}
	}
}

// TokenSecret is a legacy service-account token Secret. Secrets are read as
// metadata only, so it is told by the annotation naming its ServiceAccount,
// not by its type.
type TokenSecret struct {
	Secret         *metav1.PartialObjectMetadata
	ServiceAccount string
	// LastUsed and InvalidSince are the dates the legacy token tracker and
	// cleaner label the Secret with; InvalidSince set means the token no longer authenticates.
	LastUsed, InvalidSince string
}

// TokenSecrets returns the legacy token Secrets, in inventory order.
func (inv *Inventory) TokenSecrets() []TokenSecret {
	var out []TokenSecret
	for i := range inv.Secrets {
		s := &inv.Secrets[i]
		if sa := s.Annotations[corev1.ServiceAccountNameKey]; sa != "" {
			out = append(out, TokenSecret{Secret: s, ServiceAccount: sa,
				LastUsed:     s.Labels["kubernetes.io/legacy-token-last-used"],
				InvalidSince: s.Labels["kubernetes.io/legacy-token-invalid-since"]})
		}
	}
	return out
}

// PodSpecKinds are the kinds whose objects carry a pod spec (a pod or a pod
// template). Offline, a check that reads pod specs needs any one of them in
// the input, not all: a directory of Deployments is a complete workload input.
func PodSpecKinds() []Kind {
	return []Kind{Pods, PodTemplates, ReplicationControllers, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, CustomWorkloads}
}

// Count returns how many objects of kind k the inventory holds.
func (inv *Inventory) Count(k Kind) int {
	switch k {
	case Namespaces:
		return len(inv.Namespaces)
	case Pods:
		return len(inv.Pods)
	case ServiceAccounts:
		return len(inv.ServiceAccounts)
	case Secrets:
		return len(inv.Secrets)
	case ConfigMaps:
		return len(inv.ConfigMaps)
	case Nodes:
		return len(inv.Nodes)
	case PodTemplates:
		return len(inv.PodTemplates)
	case ReplicationControllers:
		return len(inv.ReplicationControllers)
	case Deployments:
		return len(inv.Deployments)
	case StatefulSets:
		return len(inv.StatefulSets)
	case DaemonSets:
		return len(inv.DaemonSets)
	case ReplicaSets:
		return len(inv.ReplicaSets)
	case Jobs:
		return len(inv.Jobs)
	case CronJobs:
		return len(inv.CronJobs)
	case Roles:
		return len(inv.Roles)
	case ClusterRoles:
		return len(inv.ClusterRoles)
	case RoleBindings:
		return len(inv.RoleBindings)
	case ClusterRoleBindings:
		return len(inv.ClusterRoleBindings)
	case NetworkPolicies:
		return len(inv.NetworkPolicies)
	case ClusterNetworkPolicies:
		return len(inv.ClusterNetworkPolicies)
	case AdminNetworkPolicies:
		return len(inv.AdminNetworkPolicies)
	case BaselineAdminNetworkPolicies:
		return len(inv.BaselineAdminNetworkPolicies)
	case ValidatingWebhookConfigurations:
		return len(inv.ValidatingWebhooks)
	case MutatingWebhookConfigurations:
		return len(inv.MutatingWebhooks)
	case CustomWorkloads:
		return len(inv.CustomWorkloads)
	case CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies, CalicoNetworkPolicies, CalicoGlobalNetworkPolicies:
		return len(*inv.cniPolicyList(k))
	case AnonymousAccess:
		if inv.Anonymous != nil {
			return 1
		}
		return 0
	case APIServerHealth:
		if inv.Health != nil {
			return 1
		}
		return 0
	case TLSCertificates:
		if inv.TLS != nil {
			return 1
		}
		return 0
	case KubeletConfigs:
		return len(inv.Kubelets)
	}
	if l := inv.customList(k); l != nil {
		return len(*l)
	}
	return 0
}

// objectKinds names the object Kind of each built-in kind, for messages.
var objectKinds = map[Kind]string{
	Namespaces: "Namespace", Pods: "Pod", ServiceAccounts: "ServiceAccount", Secrets: "Secret", ConfigMaps: "ConfigMap",
	Nodes: "Node", PodTemplates: "PodTemplate", ReplicationControllers: "ReplicationController",
	Deployments: "Deployment", StatefulSets: "StatefulSet", DaemonSets: "DaemonSet", ReplicaSets: "ReplicaSet",
	Jobs: "Job", CronJobs: "CronJob", Roles: "Role", ClusterRoles: "ClusterRole", RoleBindings: "RoleBinding",
	ClusterRoleBindings: "ClusterRoleBinding", NetworkPolicies: "NetworkPolicy",

	ClusterNetworkPolicies: "ClusterNetworkPolicy", AdminNetworkPolicies: "AdminNetworkPolicy",
	BaselineAdminNetworkPolicies: "BaselineAdminNetworkPolicy",

	CiliumNetworkPolicies: "CiliumNetworkPolicy", CiliumClusterwideNetworkPolicies: "CiliumClusterwideNetworkPolicy",
	CalicoNetworkPolicies: "NetworkPolicy.projectcalico.org", CalicoGlobalNetworkPolicies: "GlobalNetworkPolicy.projectcalico.org",

	ValidatingWebhookConfigurations: "ValidatingWebhookConfiguration", MutatingWebhookConfigurations: "MutatingWebhookConfiguration",
}

// ObjectKind returns the object Kind of k ("NetworkPolicy" for networkpolicies).
func (k Kind) ObjectKind() string {
	if n, ok := objectKinds[k]; ok {
		return n
	}
	if cr, ok := customResources[k]; ok {
		return cr.kind
	}
	return string(k)
}

// IsCluster reports whether the inventory shows a cluster rather than a set of
// manifests: a live server, files said to be complete, or a dump that holds
// the kube-system namespace. Checks that judge the cluster as a whole run only then.
func (inv *Inventory) IsCluster() bool {
	if !inv.Offline || inv.Complete {
		return true
	}
	_, ok := inv.Namespace("kube-system")
	return ok
}

// IsSystemNamespace reports the namespaces Kubernetes itself creates
// (kube-system, kube-public, kube-node-lease). Their pods (kube-proxy, CNI and
// CSI agents) need host access by design and are the platform's job: checks
// judge them only with --include-system (see SkipsSystem).
func IsSystemNamespace(ns string) bool {
	switch ns {
	case "kube-system", "kube-public", "kube-node-lease":
		return true
	}
	return false
}

// SkipsSystem reports whether the checks leave namespace ns out: a system
// namespace, and the run was not asked to include them (--include-system).
func (inv *Inventory) SkipsSystem(ns string) bool {
	return !inv.Settings.IncludeSystem && IsSystemNamespace(ns)
}

// NotServed is the Missing reason of a kind the API server does not serve.
const NotServed = "not served by this API server"

// clusterScoped kinds are listed cluster-wide even when a namespace is given.
var clusterScoped = map[Kind]bool{
	Namespaces: true, Nodes: true, ClusterRoles: true, ClusterRoleBindings: true,
	ValidatingWebhookConfigurations: true, MutatingWebhookConfigurations: true,
	ClusterImagePolicies: true, KyvernoClusterPolicies: true, ImageValidatingPolicies: true, ConstraintTemplates: true,
	ClusterNetworkPolicies: true, AdminNetworkPolicies: true, BaselineAdminNetworkPolicies: true,
	CiliumClusterwideNetworkPolicies: true, CalicoGlobalNetworkPolicies: true,
}

// ClusterScoped reports whether the kind's objects are cluster-scoped.
func (k Kind) ClusterScoped() bool { return clusterScoped[k] }

// CustomResource says how a kind served by a CRD is found: the versions to
// try, preferred first, and its object Kind; ok is false for built-in kinds.
func CustomResource(k Kind) (versions []string, kind string, ok bool) {
	cr, ok := customResources[k]
	return cr.versions, cr.kind, ok
}

// SetCustom stores the custom resources of kind k as read from a server
// (the live lister trims each page as it arrives: see Trim).
func (inv *Inventory) SetCustom(k Kind, items []unstructured.Unstructured) {
	if l := inv.customList(k); l != nil {
		*l = items
	}
}

// Namespaced says whether group/resource is namespaced, and whether the
// inventory knows (from discovery or a CRD in the files).
func (inv *Inventory) Namespaced(group, resource string) (namespaced, known bool) {
	namespaced, known = inv.Scopes[schema.GroupResource{Group: group, Resource: resource}]
	return namespaced, known
}
