package inventory

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The network policies of the CNIs Cilium (cilium.io/v2) and Calico
// (projectcalico.org/v3, served by Calico's API server, and the
// crd.projectcalico.org/v1 CRDs behind it). They are optional kinds, like the
// cluster-scoped tiers: a cluster without the CNI does not serve them. Their
// schemas change between the CNIs' releases, so they are kept as read
// (unstructured, status dropped); the netpol checks read what they model.
const (
	CiliumNetworkPolicies            Kind = "ciliumnetworkpolicies"
	CiliumClusterwideNetworkPolicies Kind = "ciliumclusterwidenetworkpolicies"
	// The Calico kinds are named with their group: "networkpolicies" is
	// NetworkPolicy of networking.k8s.io.
	CalicoNetworkPolicies       Kind = "networkpolicies.projectcalico.org"
	CalicoGlobalNetworkPolicies Kind = "globalnetworkpolicies.projectcalico.org"
)

// CNIPolicyGroupVersion is a group and version a CNI policy kind is read at.
type CNIPolicyGroupVersion struct {
	Group, Version string
}

// CNIPolicyResource says how a CNI network policy kind is served: its
// resource and object Kind, whether it is namespaced, and the group versions
// whose schema the checks read, preferred first (the first one discovery
// serves is listed, so that Calico's policies are not read twice).
type CNIPolicyResource struct {
	Kind       Kind
	Resource   string
	Object     string
	Namespaced bool
	Versions   []CNIPolicyGroupVersion
}

// CNIPolicyResources returns the CNI network policy kinds.
func CNIPolicyResources() []CNIPolicyResource {
	cilium := []CNIPolicyGroupVersion{{"cilium.io", "v2"}}
	calico := []CNIPolicyGroupVersion{{"projectcalico.org", "v3"}, {"crd.projectcalico.org", "v1"}}
	return []CNIPolicyResource{
		{Kind: CiliumNetworkPolicies, Resource: "ciliumnetworkpolicies", Object: "CiliumNetworkPolicy", Namespaced: true, Versions: cilium},
		{Kind: CiliumClusterwideNetworkPolicies, Resource: "ciliumclusterwidenetworkpolicies", Object: "CiliumClusterwideNetworkPolicy", Versions: cilium},
		{Kind: CalicoNetworkPolicies, Resource: "networkpolicies", Object: "NetworkPolicy", Namespaced: true, Versions: calico},
		{Kind: CalicoGlobalNetworkPolicies, Resource: "globalnetworkpolicies", Object: "GlobalNetworkPolicy", Versions: calico},
	}
}

// cniPolicyResource returns the kind of a CNI network policy object.
func cniPolicyResource(gvk schema.GroupVersionKind) (CNIPolicyResource, bool) {
	for _, r := range CNIPolicyResources() {
		if r.Object != gvk.Kind {
			continue
		}
		for _, gv := range r.Versions {
			if gv.Group == gvk.Group && gv.Version == gvk.Version {
				return r, true
			}
		}
	}
	return CNIPolicyResource{}, false
}

// IsCNIPolicy reports whether k is a CNI network policy kind.
func (k Kind) IsCNIPolicy() bool {
	switch k {
	case CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies, CalicoNetworkPolicies, CalicoGlobalNetworkPolicies:
		return true
	}
	return false
}

// APIResources returns the API resources a kind is read from, which the
// auditor role must let its holder list: most kinds are one resource; the
// Calico kinds are served in two groups, custom workloads by each workload CRD.
func (k Kind) APIResources() []schema.GroupResource {
	if k == CustomWorkloads {
		return CustomWorkloadResources()
	}
	for _, r := range CNIPolicyResources() {
		if r.Kind != k {
			continue
		}
		var out []schema.GroupResource
		for _, gv := range r.Versions {
			gr := schema.GroupResource{Group: gv.Group, Resource: r.Resource}
			if len(out) == 0 || out[len(out)-1] != gr {
				out = append(out, gr)
			}
		}
		return out
	}
	return []schema.GroupResource{{Group: k.Group(), Resource: string(k)}}
}

// cniPolicyKey is the key of a CNI policy: Calico's Kind is NetworkPolicy,
// which must not collide with networking.k8s.io's, and its two groups hold
// the same objects.
func cniPolicyKey(r CNIPolicyResource, namespace, name string) Key {
	kind := r.Object
	if r.Kind == CalicoNetworkPolicies || r.Kind == CalicoGlobalNetworkPolicies {
		kind += ".projectcalico.org"
	}
	return Key{Kind: kind, Namespace: namespace, Name: name}
}

// CNIPolicyKey is the Key a CNI policy object's source is recorded under
// (Inventory.SourceOf), by its inventory kind.
func CNIPolicyKey(k Kind, namespace, name string) Key {
	for _, r := range CNIPolicyResources() {
		if r.Kind == k {
			return cniPolicyKey(r, namespace, name)
		}
	}
	return Key{Kind: string(k), Namespace: namespace, Name: name}
}

// cniPolicyList returns the slice that holds a CNI policy kind.
func (inv *Inventory) cniPolicyList(k Kind) *[]unstructured.Unstructured {
	switch k {
	case CiliumNetworkPolicies:
		return &inv.CiliumNetworkPolicies
	case CiliumClusterwideNetworkPolicies:
		return &inv.CiliumClusterwideNetworkPolicies
	case CalicoNetworkPolicies:
		return &inv.CalicoNetworkPolicies
	case CalicoGlobalNetworkPolicies:
		return &inv.CalicoGlobalNetworkPolicies
	}
	return nil
}

// decodeCNIPolicy keeps a CNI policy as read, without status (Cilium writes
// per-node enforcement state there, which no check reads) and the metadata
// no check reads.
func decodeCNIPolicy(r CNIPolicyResource, js []byte) (decoded, error) {
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(js); err != nil {
		return decoded{}, err
	}
	trimCNIPolicy(&u)
	key := cniPolicyKey(r, u.GetNamespace(), u.GetName())
	return decoded{store: func(inv *Inventory) Key {
		put(inv, inv.cniPolicyList(r.Kind), key, u)
		return key
	}}, nil
}

func trimCNIPolicy(u *unstructured.Unstructured) {
	TrimMeta(u)
	delete(u.Object, "status")
}

// AddCNIPolicyObjects stores the CNI policies of kind k read from a live
// server (a dynamic client's objects, status dropped here).
func (inv *Inventory) AddCNIPolicyObjects(k Kind, items []unstructured.Unstructured) error {
	l := inv.cniPolicyList(k)
	if l == nil {
		return fmt.Errorf("inventory: %s is no CNI policy kind", k)
	}
	for i := range items {
		trimCNIPolicy(&items[i])
	}
	*l = append(*l, items...)
	return nil
}
