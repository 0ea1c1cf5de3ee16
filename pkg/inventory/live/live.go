// Package live reads an inventory from a live API server: paginated,
// parallel, protobuf, only the kinds asked for, inventory.Secrets as metadata only. It
// is the only part of the inventory that talks to the network, kept apart so
// that the checks, which import package inventory, are provably client-free.
package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// namespaceNotFound is the error of an audit narrowed to a namespace that does not exist.
type namespaceNotFound struct{ name string }

func (e *namespaceNotFound) Error() string {
	return fmt.Sprintf("namespace %q not found: nothing to audit (check -n)", e.name)
}

// PageSize is how many objects one list request asks for.
const PageSize = 500

// LiveOptions says what to read from an API server.
type LiveOptions struct {
	Kinds []inventory.Kind
	// Namespace narrows namespaced kinds to one namespace; empty means all.
	Namespace string
	// Parallel is how many lists run at once; 0 means one per kind.
	Parallel int
	// PageSize is the limit of each list request; 0 means PageSize.
	PageSize int64
	// Progress, when set, is called as each kind is listed with how many
	// kinds are done of how many, and the objects listed so far.
	Progress func(done, kinds, objects int)
}

// FromCluster lists the needed kinds from the API server, in parallel and
// paginated, asking for protobuf. managedFields are dropped as objects arrive
// and inventory.Secrets are listed as metadata only. A forbidden or unserved kind is
// recorded in Missing (the checks that need it are skipped) and the run goes on;
// any other error (server unreachable, timeouts) fails the load.
func FromCluster(ctx context.Context, config *rest.Config, opts LiveOptions) (*inventory.Inventory, error) {
	cfg := rest.CopyConfig(config)
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	mc, err := metadata.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create metadata client: %w", err)
	}
	dc, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create dynamic client: %w", err)
	}
	inv := inventory.New()
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("contact API server %s: %w", config.Host, err)
	}
	inv.ServerVersion = v.GitVersion

	if needsScopes(opts.Kinds) {
		if err := discoverScopes(cs, inv); err != nil {
			return nil, err
		}
	}

	l := &lister{config: config, cs: cs, mc: mc, dc: dc, ns: opts.Namespace, inv: inv, pageSize: opts.PageSize, sh: &inventory.Sharer{}}
	if l.pageSize <= 0 {
		l.pageSize = PageSize
	}
	kinds := dedupe(opts.Kinds)
	par := opts.Parallel
	if par <= 0 {
		par = len(kinds)
	}
	sem := make(chan struct{}, max(par, 1))
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	var progress sync.Mutex
	done, objects := 0, 0
	for i, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = l.list(ctx, k)
			if opts.Progress != nil {
				l.mu.Lock()
				n := inv.Count(k)
				l.mu.Unlock()
				progress.Lock()
				done, objects = done+1, objects+n
				opts.Progress(done, len(kinds), objects)
				progress.Unlock()
			}
		}()
	}
	wg.Wait()

	for i, k := range kinds {
		err := errs[i]
		var nsMissing *namespaceNotFound
		switch {
		case err == nil:
			inv.Loaded[k] = true
		case errors.As(err, &nsMissing):
			return nil, err
		case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			inv.Missing[k] = "forbidden"
		case apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err):
			inv.Missing[k] = inventory.NotServed
		default:
			return nil, fmt.Errorf("list %s%s: %w", k, l.where(k), err)
		}
	}
	return inv, nil
}

func dedupe(ks []inventory.Kind) []inventory.Kind {
	seen := map[inventory.Kind]bool{}
	var out []inventory.Kind
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

type lister struct {
	config   *rest.Config
	cs       kubernetes.Interface
	mc       metadata.Interface
	dc       dynamic.Interface
	ns       string
	pageSize int64
	sh       *inventory.Sharer // one per read: equal parts are shared across kinds
	mu       sync.Mutex
	inv      *inventory.Inventory
}

func (l *lister) where(k inventory.Kind) string {
	if l.ns != "" && !k.ClusterScoped() {
		return " in namespace " + l.ns
	}
	return ""
}

// listPages lists every page of a kind; if the continue token expires
// mid-way (410 Gone) it starts over with a single unpaginated list. Objects
// are trimmed and share their equal parts as each page arrives, and the
// list is sized once from the server's count of the items left.
func listPages[T any, L any](ctx context.Context, l *lister, list func(context.Context, metav1.ListOptions) (L, error),
	items func(L) ([]T, string), meta func(*T) metav1.Object) ([]T, error) {
	return listPagesAs(ctx, l, list, items, meta, func(o *T) T { return *o })
}

// listPagesAs is listPages keeping each item as conv makes it, a page at a
// time (the inventory's Pod from a corev1.Pod).
func listPagesAs[T, U any, L any](ctx context.Context, l *lister, list func(context.Context, metav1.ListOptions) (L, error),
	items func(L) ([]T, string), meta func(*T) metav1.Object, conv func(*T) U) ([]U, error) {
	var out []U
	opts := metav1.ListOptions{Limit: l.pageSize}
	for {
		page, err := list(ctx, opts)
		if apierrors.IsResourceExpired(err) && opts.Continue != "" {
			out, opts = nil, metav1.ListOptions{}
			continue
		}
		if err != nil {
			return nil, err
		}
		got, cont := items(page)
		for i := range got {
			inventory.Trim(&got[i])
		}
		if out == nil && len(got) > 0 {
			// Sized once: the decoder's slice of a page, and appending page
			// after page, would leave up to a quarter of a big list unused.
			left := 0
			if rl, ok := any(page).(interface{ GetRemainingItemCount() *int64 }); ok && rl.GetRemainingItemCount() != nil {
				left = int(*rl.GetRemainingItemCount())
			}
			out = make([]U, 0, len(got)+left)
		}
		for i := range got {
			out = append(out, conv(&got[i]))
			l.sh.Object(&out[len(out)-1]) // the kept object shares, not the page's
		}
		if cont == "" {
			return out, nil
		}
		opts.Continue = cont
	}
}

func (l *lister) list(ctx context.Context, k inventory.Kind) error {
	cs, ns := l.cs, l.ns
	if k.IsCNIPolicy() {
		return l.listCNIPolicies(ctx, k)
	}
	if _, _, ok := inventory.CustomResource(k); ok && k.Optional() {
		return l.listOptionalCustom(ctx, k)
	}
	if k.Optional() {
		return l.listPolicies(ctx, k)
	}
	if _, _, ok := inventory.CustomResource(k); ok {
		return l.listCustom(ctx, k)
	}
	switch k {
	case inventory.CustomWorkloads:
		return l.listCustomWorkloads(ctx)
	case inventory.AnonymousAccess:
		probe, err := probeAnonymous(ctx, l.config)
		return l.done(err, func() { l.inv.Anonymous = probe })
	case inventory.APIServerHealth:
		probe, err := probeHealth(ctx, l.config)
		return l.done(err, func() { l.inv.Health = probe })
	case inventory.TLSCertificates:
		probe, err := probeCertificates(ctx, l.config)
		return l.done(err, func() { l.inv.TLS = probe })
	case inventory.KubeletConfigs:
		kubelets, err := l.probeKubelets(ctx)
		return l.done(err, func() { l.inv.Kubelets = kubelets })
	case inventory.Namespaces:
		if ns != "" {
			// A namespace-scoped audit needs only its own namespace, and get is often allowed where list is not.
			n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				// The namespaces resource is always served: a 404 is the namespace itself.
				return &namespaceNotFound{name: ns}
			}
			if err != nil {
				return err
			}
			inventory.Trim(n)
			l.sh.Object(n)
			return l.set(func() { l.inv.Namespaces = []corev1.Namespace{*n} })
		}
		v, err := listPages(ctx, l, cs.CoreV1().Namespaces().List, func(l *corev1.NamespaceList) ([]corev1.Namespace, string) { return l.Items, l.Continue }, func(o *corev1.Namespace) metav1.Object { return o })
		return l.done(err, func() { l.inv.Namespaces = v })
	case inventory.Pods:
		v, err := listPagesAs(ctx, l, cs.CoreV1().Pods(ns).List, func(l *corev1.PodList) ([]corev1.Pod, string) { return l.Items, l.Continue },
			func(o *corev1.Pod) metav1.Object { return o }, inventory.PodOf)
		return l.done(err, func() { l.inv.Pods = v })
	case inventory.ServiceAccounts:
		v, err := listPages(ctx, l, cs.CoreV1().ServiceAccounts(ns).List, func(l *corev1.ServiceAccountList) ([]corev1.ServiceAccount, string) { return l.Items, l.Continue }, func(o *corev1.ServiceAccount) metav1.Object { return o })
		return l.done(err, func() { l.inv.ServiceAccounts = v })
	case inventory.Secrets:
		// Metadata only: the server never sends Secret data to us.
		res := corev1.SchemeGroupVersion.WithResource("secrets")
		v, err := listPages(ctx, l, func(ctx context.Context, o metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
			return l.mc.Resource(res).Namespace(ns).List(ctx, o)
		}, func(l *metav1.PartialObjectMetadataList) ([]metav1.PartialObjectMetadata, string) {
			return l.Items, l.Continue
		}, func(o *metav1.PartialObjectMetadata) metav1.Object { return o })
		return l.done(err, func() { l.inv.Secrets = v })
	case inventory.ConfigMaps:
		v, err := listPages(ctx, l, cs.CoreV1().ConfigMaps(ns).List, func(l *corev1.ConfigMapList) ([]corev1.ConfigMap, string) { return l.Items, l.Continue }, func(o *corev1.ConfigMap) metav1.Object { return o })
		return l.done(err, func() { l.inv.ConfigMaps = v })
	case inventory.Nodes:
		v, err := listPages(ctx, l, cs.CoreV1().Nodes().List, func(l *corev1.NodeList) ([]corev1.Node, string) { return l.Items, l.Continue }, func(o *corev1.Node) metav1.Object { return o })
		return l.done(err, func() { l.inv.Nodes = v })
	case inventory.PodTemplates:
		v, err := listPages(ctx, l, cs.CoreV1().PodTemplates(ns).List, func(l *corev1.PodTemplateList) ([]corev1.PodTemplate, string) { return l.Items, l.Continue }, func(o *corev1.PodTemplate) metav1.Object { return o })
		return l.done(err, func() { l.inv.PodTemplates = v })
	case inventory.ReplicationControllers:
		v, err := listPages(ctx, l, cs.CoreV1().ReplicationControllers(ns).List, func(l *corev1.ReplicationControllerList) ([]corev1.ReplicationController, string) {
			return l.Items, l.Continue
		}, func(o *corev1.ReplicationController) metav1.Object { return o })
		return l.done(err, func() { l.inv.ReplicationControllers = v })
	case inventory.Deployments:
		v, err := listPages(ctx, l, cs.AppsV1().Deployments(ns).List, func(l *appsv1.DeploymentList) ([]appsv1.Deployment, string) { return l.Items, l.Continue }, func(o *appsv1.Deployment) metav1.Object { return o })
		return l.done(err, func() { l.inv.Deployments = v })
	case inventory.StatefulSets:
		v, err := listPages(ctx, l, cs.AppsV1().StatefulSets(ns).List, func(l *appsv1.StatefulSetList) ([]appsv1.StatefulSet, string) { return l.Items, l.Continue }, func(o *appsv1.StatefulSet) metav1.Object { return o })
		return l.done(err, func() { l.inv.StatefulSets = v })
	case inventory.DaemonSets:
		v, err := listPages(ctx, l, cs.AppsV1().DaemonSets(ns).List, func(l *appsv1.DaemonSetList) ([]appsv1.DaemonSet, string) { return l.Items, l.Continue }, func(o *appsv1.DaemonSet) metav1.Object { return o })
		return l.done(err, func() { l.inv.DaemonSets = v })
	case inventory.ReplicaSets:
		v, err := listPages(ctx, l, cs.AppsV1().ReplicaSets(ns).List, func(l *appsv1.ReplicaSetList) ([]appsv1.ReplicaSet, string) { return l.Items, l.Continue }, func(o *appsv1.ReplicaSet) metav1.Object { return o })
		return l.done(err, func() { l.inv.ReplicaSets = v })
	case inventory.Jobs:
		v, err := listPages(ctx, l, cs.BatchV1().Jobs(ns).List, func(l *batchv1.JobList) ([]batchv1.Job, string) { return l.Items, l.Continue }, func(o *batchv1.Job) metav1.Object { return o })
		return l.done(err, func() { l.inv.Jobs = v })
	case inventory.CronJobs:
		v, err := listPages(ctx, l, cs.BatchV1().CronJobs(ns).List, func(l *batchv1.CronJobList) ([]batchv1.CronJob, string) { return l.Items, l.Continue }, func(o *batchv1.CronJob) metav1.Object { return o })
		return l.done(err, func() { l.inv.CronJobs = v })
	case inventory.Roles:
		v, err := listPages(ctx, l, cs.RbacV1().Roles(ns).List, func(l *rbacv1.RoleList) ([]rbacv1.Role, string) { return l.Items, l.Continue }, func(o *rbacv1.Role) metav1.Object { return o })
		return l.done(err, func() { l.inv.Roles = v })
	case inventory.ClusterRoles:
		v, err := listPages(ctx, l, cs.RbacV1().ClusterRoles().List, func(l *rbacv1.ClusterRoleList) ([]rbacv1.ClusterRole, string) { return l.Items, l.Continue }, func(o *rbacv1.ClusterRole) metav1.Object { return o })
		return l.done(err, func() { l.inv.ClusterRoles = v })
	case inventory.RoleBindings:
		v, err := listPages(ctx, l, cs.RbacV1().RoleBindings(ns).List, func(l *rbacv1.RoleBindingList) ([]rbacv1.RoleBinding, string) { return l.Items, l.Continue }, func(o *rbacv1.RoleBinding) metav1.Object { return o })
		return l.done(err, func() { l.inv.RoleBindings = v })
	case inventory.ClusterRoleBindings:
		v, err := listPages(ctx, l, cs.RbacV1().ClusterRoleBindings().List, func(l *rbacv1.ClusterRoleBindingList) ([]rbacv1.ClusterRoleBinding, string) {
			return l.Items, l.Continue
		}, func(o *rbacv1.ClusterRoleBinding) metav1.Object { return o })
		return l.done(err, func() { l.inv.ClusterRoleBindings = v })
	case inventory.NetworkPolicies:
		v, err := listPages(ctx, l, cs.NetworkingV1().NetworkPolicies(ns).List, func(l *networkingv1.NetworkPolicyList) ([]networkingv1.NetworkPolicy, string) {
			return l.Items, l.Continue
		}, func(o *networkingv1.NetworkPolicy) metav1.Object { return o })
		return l.done(err, func() { l.inv.NetworkPolicies = v })
	case inventory.ValidatingWebhookConfigurations:
		v, err := listPages(ctx, l, cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().List, func(l *admissionregistrationv1.ValidatingWebhookConfigurationList) ([]admissionregistrationv1.ValidatingWebhookConfiguration, string) {
			return l.Items, l.Continue
		}, func(o *admissionregistrationv1.ValidatingWebhookConfiguration) metav1.Object { return o })
		return l.done(err, func() { l.inv.ValidatingWebhooks = v })
	case inventory.MutatingWebhookConfigurations:
		v, err := listPages(ctx, l, cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List, func(l *admissionregistrationv1.MutatingWebhookConfigurationList) ([]admissionregistrationv1.MutatingWebhookConfiguration, string) {
			return l.Items, l.Continue
		}, func(o *admissionregistrationv1.MutatingWebhookConfiguration) metav1.Object { return o })
		return l.done(err, func() { l.inv.MutatingWebhooks = v })
	}
	return fmt.Errorf("inventory: no loader for kind %q", strings.TrimSpace(string(k)))
}

// listCustom lists a kind served by a CRD, at the first of its versions the
// server serves. When none is served the tool is not installed: the kind is
// read and empty, so checks report what its absence means. Forbidden stays an
// error, as for built-in kinds: RBAC is checked before the resource is looked up.
func (l *lister) listCustom(ctx context.Context, k inventory.Kind) error {
	versions, _, _ := inventory.CustomResource(k)
	for _, version := range versions {
		nri := l.dc.Resource(schema.GroupVersionResource{Group: k.Group(), Version: version, Resource: string(k)})
		var ri dynamic.ResourceInterface = nri
		if !k.ClusterScoped() {
			ri = nri.Namespace(l.ns)
		}
		v, err := listPages(ctx, l, ri.List, func(l *unstructured.UnstructuredList) ([]unstructured.Unstructured, string) {
			return l.Items, l.GetContinue()
		}, func(o *unstructured.Unstructured) metav1.Object { return o })
		if apierrors.IsNotFound(err) {
			continue
		}
		return l.done(err, func() { l.inv.SetCustom(k, v) })
	}
	return nil
}

func (l *lister) done(err error, set func()) error {
	if err != nil {
		return err
	}
	return l.set(set)
}

func (l *lister) set(set func()) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	set()
	return nil
}

// probeAnonymous sends two requests without credentials and records the
// status codes. Only a failure to reach the server is an error.
func probeAnonymous(ctx context.Context, config *rest.Config) (*inventory.AnonymousProbe, error) {
	cfg := rest.AnonymousClientConfig(config)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create anonymous client: %w", err)
	}
	status := func(path string, params map[string]string) (int, error) {
		req := cs.CoreV1().RESTClient().Get().AbsPath(path)
		for k, v := range params {
			req = req.Param(k, v)
		}
		code := 0
		err := req.Do(ctx).StatusCode(&code).Error()
		if code == 0 {
			return 0, fmt.Errorf("probe %s without credentials: %w", path, err)
		}
		return code, nil
	}
	var p inventory.AnonymousProbe
	if p.Version, err = status("/version", nil); err != nil {
		return nil, err
	}
	if p.Namespaces, err = status("/api/v1/namespaces", map[string]string{"limit": "1"}); err != nil {
		return nil, err
	}
	return &p, nil
}

// needsScopes reports whether the kinds include RBAC, whose verdicts depend on
// which resources are namespaced: discovery says, for every resource served.
func needsScopes(kinds []inventory.Kind) bool {
	for _, k := range kinds {
		switch k {
		case inventory.Roles, inventory.ClusterRoles, inventory.RoleBindings, inventory.ClusterRoleBindings:
			return true
		}
	}
	return false
}

// discoverScopes records whether each served resource is namespaced. A group
// whose discovery fails (an aggregated API that is down) is left out: its
// resources fall back to the checks' table, and unknown is said there.
func discoverScopes(cs kubernetes.Interface, inv *inventory.Inventory) error {
	_, lists, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return fmt.Errorf("discover the API resources: %w", err)
	}
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			gr := schema.GroupResource{Group: gv.Group, Resource: r.Name}
			inv.Verbs[gr] = append(inv.Verbs[gr], r.Verbs...)
			if !strings.Contains(r.Name, "/") { // a subresource lives where its resource does
				inv.Scopes[gr] = r.Namespaced
			}
		}
	}
	return nil
}
