package inventory

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// PolicyGroup is the API group of the cluster-scoped network policy tiers
// (sigs.k8s.io/network-policy-api).
const PolicyGroup = "policy.networking.k8s.io"

// PolicyResource says how a cluster-scoped network policy kind is served: its
// resource, object Kind and the versions whose schema the inventory reads,
// preferred first (the first one discovery serves is listed).
type PolicyResource struct {
	Kind     Kind
	Resource string
	Object   string
	Versions []string
}

// PolicyResources returns the cluster-scoped network policy kinds. A
// ClusterNetworkPolicy of v1beta1 has the schema of v1alpha2 (network-policy-api
// v0.3.0 serves both, no conversion); any other version is not read.
func PolicyResources() []PolicyResource {
	return []PolicyResource{
		{Kind: ClusterNetworkPolicies, Resource: string(ClusterNetworkPolicies), Object: "ClusterNetworkPolicy", Versions: []string{"v1beta1", "v1alpha2"}},
		{Kind: AdminNetworkPolicies, Resource: string(AdminNetworkPolicies), Object: "AdminNetworkPolicy", Versions: []string{"v1alpha1"}},
		{Kind: BaselineAdminNetworkPolicies, Resource: string(BaselineAdminNetworkPolicies), Object: "BaselineAdminNetworkPolicy", Versions: []string{"v1alpha1"}},
	}
}

// policyResource returns the kind of a cluster-scoped network policy object,
// when its group, version and Kind are one the inventory reads.
func policyResource(gvk schema.GroupVersionKind) (PolicyResource, bool) {
	if gvk.Group != PolicyGroup {
		return PolicyResource{}, false
	}
	for _, r := range PolicyResources() {
		if r.Object != gvk.Kind {
			continue
		}
		for _, v := range r.Versions {
			if v == gvk.Version {
				return r, true
			}
		}
	}
	return PolicyResource{}, false
}

// Optional reports whether an empty kind is no blind spot: the policies of an
// add-on that a cluster without it does not have. The cluster-scoped network
// policy tiers are optional: live, an unserved CRD reads as none (not
// installed); offline, files without them read as none, so that manifests of
// namespaced NetworkPolicies are judged as before. So are the CNIs' own
// policies (Cilium, Calico). A forbidden list is still missing: the kind
// exists and could not be seen.
func (k Kind) Optional() bool {
	switch k {
	case ClusterNetworkPolicies, AdminNetworkPolicies, BaselineAdminNetworkPolicies:
		return true
	case Certificates, VulnerabilityReports:
		// Add-ons' results: a cluster without cert-manager has no
		// Certificates; one without trivy-operator no scan results, which
		// the scan check calls unknown, never clean.
		return true
	}
	if k.IsCNIPolicy() {
		return true
	}
	return false
}

// AddPolicyObject stores a cluster-scoped network policy read from a live
// server as JSON (a dynamic client's object). ok is false for a group,
// version or Kind the inventory does not read.
func (inv *Inventory) AddPolicyObject(gvk schema.GroupVersionKind, js []byte) (ok bool, err error) {
	r, ok := policyResource(gvk)
	if !ok {
		return false, nil
	}
	d, err := decodePolicy(r, js)
	if err != nil {
		return true, err
	}
	d.store(inv)
	return true, nil
}

// decodePolicy decodes a cluster-scoped network policy for its typed list;
// a copy of an object already read under its name replaces it.
func decodePolicy(r PolicyResource, js []byte) (decoded, error) {
	switch r.Kind {
	case ClusterNetworkPolicies:
		return typed(r.Object, func(i *Inventory) *[]npav1alpha2.ClusterNetworkPolicy { return &i.ClusterNetworkPolicies },
			func(o *npav1alpha2.ClusterNetworkPolicy) metav1.Object { return o }).decode(js, nil)
	case AdminNetworkPolicies:
		return typed(r.Object, func(i *Inventory) *[]npav1alpha1.AdminNetworkPolicy { return &i.AdminNetworkPolicies },
			func(o *npav1alpha1.AdminNetworkPolicy) metav1.Object { return o }).decode(js, nil)
	case BaselineAdminNetworkPolicies:
		return typed(r.Object, func(i *Inventory) *[]npav1alpha1.BaselineAdminNetworkPolicy { return &i.BaselineAdminNetworkPolicies },
			func(o *npav1alpha1.BaselineAdminNetworkPolicy) metav1.Object { return o }).decode(js, nil)
	}
	return decoded{}, fmt.Errorf("inventory: no list for %s", r.Object)
}
