package bench

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// netpolCluster is the shape of a synthetic cluster for the NetworkPolicy analysis.
type netpolCluster struct {
	namespaces      int
	podsPerNS       int
	policiesPerNS   int
	appsPerNS       int // distinct app labels in a namespace
	hostNetworkEach int // every n-th pod uses hostNetwork
}

// generate builds the objects once; each benchmark iteration wraps them in a
// fresh Inventory so that the memoised analysis is recomputed.
func (c netpolCluster) generate() *inventory.Inventory {
	inv := inventory.New()
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	for n := range c.namespaces {
		ns := fmt.Sprintf("team-%04d", n)
		inv.Namespaces = append(inv.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Labels: map[string]string{"team": fmt.Sprint(n % 50), "env": []string{"prod", "stage", "dev"}[n%3]},
		}})
		// Each app is a Deployment whose current ReplicaSet runs its pods, as
		// live: the analysis must link every pod to its Deployment and count it once.
		for a := range c.appsPerNS {
			app := fmt.Sprintf("app-%d", a)
			tpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app, "tier": []string{"web", "api", "db", "cache"}[a%4]}}}
			d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app, UID: types.UID(ns + "/" + app)}, Spec: appsv1.DeploymentSpec{Template: tpl}}
			rs := appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app + "-rs", UID: types.UID(ns + "/" + app + "-rs"),
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(&d, appsv1.SchemeGroupVersion.WithKind("Deployment"))}}, Spec: appsv1.ReplicaSetSpec{Template: tpl}}
			inv.Deployments = append(inv.Deployments, d)
			inv.ReplicaSets = append(inv.ReplicaSets, rs)
		}
		for p := range c.podsPerNS {
			app := fmt.Sprintf("app-%d", p%c.appsPerNS)
			pod := corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", app, p), Labels: map[string]string{
					"app": app, "tier": []string{"web", "api", "db", "cache"}[p%4], "version": fmt.Sprint(p % 3),
					"pod-template-hash": fmt.Sprintf("%x", p*2654435761),
				}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Ports: []corev1.ContainerPort{
					{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090},
				}}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.%d.%d.%d", n/256, n%256, p%250+1)},
			}
			if c.hostNetworkEach > 0 && p%c.hostNetworkEach == 0 {
				pod.Spec.HostNetwork = true
			}
			if p%40 == 39 {
				pod.Status.Phase = corev1.PodSucceeded
			}
			if !pod.Spec.HostNetwork && pod.Status.Phase == corev1.PodRunning {
				pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-rs",
					UID: types.UID(ns + "/" + app + "-rs"), Controller: ptr(true)}}
			}
			inv.Pods = append(inv.Pods, inventory.PodOf(&pod))
		}
		for q := range c.policiesPerNS {
			np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pol-%d", q)}}
			switch q % 5 {
			case 0: // default deny
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
			case 1: // one app, from a namespace label AND pod label
				np.Spec.PodSelector.MatchLabels = map[string]string{"app": fmt.Sprintf("app-%d", q%c.appsPerNS)}
				np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "web"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptr(intstr.FromString("http"))}},
				}}
			case 2: // a tier, egress to DNS and a CIDR
				np.Spec.PodSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"api", "db"}}}
				np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
					{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}},
						Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: ptr(intstr.FromInt32(53))}}},
					{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}},
						Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: ptr(intstr.FromInt32(443)), EndPort: ptr(int32(8443))}}},
				}
			case 3: // everything but one version: no positive requirement, a full scan
				np.Spec.PodSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "version", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"0"}}}
				np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			case 4: // a label nobody has
				np.Spec.PodSelector.MatchLabels = map[string]string{"app": "retired", "tier": "web"}
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
				np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
			}
			inv.NetworkPolicies = append(inv.NetworkPolicies, np)
		}
	}
	for _, k := range append([]inventory.Kind{inventory.Namespaces, inventory.Pods, inventory.NetworkPolicies}, netpol.WorkloadKinds()...) {
		inv.Loaded[k] = true
	}
	// The add-ons' policies (cluster-scoped tiers, Cilium, Calico): none installed.
	for _, k := range inventory.AllKinds() {
		if k.Optional() {
			inv.Loaded[k], inv.NotInstalled[k] = true, true
		}
	}
	return inv
}

// fresh returns an inventory sharing the objects but with an empty memo.
func fresh(src *inventory.Inventory) *inventory.Inventory {
	inv := inventory.New()
	inv.Namespaces, inv.Pods, inv.NetworkPolicies = src.Namespaces, src.Pods, src.NetworkPolicies
	inv.Deployments, inv.ReplicaSets = src.Deployments, src.ReplicaSets
	for k, v := range src.Loaded {
		inv.Loaded[k] = v
	}
	for k, v := range src.NotInstalled {
		inv.NotInstalled[k] = v
	}
	return inv
}

func ptr[T any](v T) *T { return &v }
