package inventory

import (
	"encoding/json"
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The fix session keeps its inventory current as changes land, so that the
// checks a change can affect run again on the cluster as it now is. These
// are the only writes to an inventory after it is loaded; they never run
// while checks read it.

// Clone returns a copy that Put and Remove can change without changing inv:
// they replace a kind's list rather than write into it. Shared analyses are
// not copied.
func (inv *Inventory) Clone() *Inventory {
	c := *inv
	// Every list is clipped, so that Put of a new object into the clone
	// appends to a copy: the clone shares the original's backing arrays, and
	// an append into their spare room would write into the original's (or
	// another clone's) next slot.
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.CanSet() {
			f.Set(f.Slice3(0, f.Len(), f.Len()))
		}
	}
	c.memo = &memoTable{}
	c.positions = make(map[Key]int, len(inv.positions))
	for k, v := range inv.positions {
		c.positions[k] = v
	}
	c.Loaded = make(map[Kind]bool, len(inv.Loaded))
	for k, v := range inv.Loaded {
		c.Loaded[k] = v
	}
	return &c
}

// KindOf returns the inventory kind of an object's apiVersion and Kind;
// false for a kind the inventory does not model.
func KindOf(apiVersion, kind string) (Kind, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return "", false
	}
	if k, ok := customKind(gv.Group, kind); ok {
		return k, true
	}
	for _, k := range allKinds {
		if k.IsResource() && k.ObjectKind() == kind && groups[k] == gv.Group {
			return k, true
		}
	}
	return "", false
}

// Put replaces the object of the same kind, namespace and name with obj, or
// adds it. A kind that was not loaded stays unknown: nothing is added to it.
// Shared analyses are forgotten.
func (inv *Inventory) Put(obj *unstructured.Unstructured) error {
	k, ok := KindOf(obj.GetAPIVersion(), obj.GetKind())
	if !ok || !inv.Loaded[k] {
		return nil
	}
	inv.Remove(obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName())
	js, err := json.Marshal(obj.Object)
	if err != nil {
		return fmt.Errorf("encode %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	gv, err := schema.ParseGroupVersion(obj.GetAPIVersion())
	if err != nil {
		return fmt.Errorf("apiVersion %q: %w", obj.GetAPIVersion(), err)
	}
	d, err := decodeObject(gv.WithKind(obj.GetKind()), js, nil)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	d.store(inv)
	return nil
}

// Remove drops the named object; false when the inventory does not hold it.
// Shared analyses are forgotten.
func (inv *Inventory) Remove(apiVersion, kind, namespace, name string) bool {
	k, ok := KindOf(apiVersion, kind)
	if !ok {
		return false
	}
	inv.ResetMemo()
	if inv.positions == nil {
		inv.positions = map[Key]int{}
	}
	key := Key{Kind: kind, Namespace: namespace, Name: name}
	if list := inv.customList(k); list != nil {
		return remove(inv, key, list)
	}
	switch k {
	case Namespaces:
		return remove(inv, key, &inv.Namespaces)
	case Pods:
		return remove(inv, key, &inv.Pods)
	case ServiceAccounts:
		return remove(inv, key, &inv.ServiceAccounts)
	case Secrets:
		return remove(inv, key, &inv.Secrets)
	case ConfigMaps:
		return remove(inv, key, &inv.ConfigMaps)
	case Nodes:
		return remove(inv, key, &inv.Nodes)
	case PodTemplates:
		return remove(inv, key, &inv.PodTemplates)
	case ReplicationControllers:
		return remove(inv, key, &inv.ReplicationControllers)
	case Deployments:
		return remove(inv, key, &inv.Deployments)
	case StatefulSets:
		return remove(inv, key, &inv.StatefulSets)
	case DaemonSets:
		return remove(inv, key, &inv.DaemonSets)
	case ReplicaSets:
		return remove(inv, key, &inv.ReplicaSets)
	case Jobs:
		return remove(inv, key, &inv.Jobs)
	case CronJobs:
		return remove(inv, key, &inv.CronJobs)
	case Roles:
		return remove(inv, key, &inv.Roles)
	case ClusterRoles:
		return remove(inv, key, &inv.ClusterRoles)
	case RoleBindings:
		return remove(inv, key, &inv.RoleBindings)
	case ClusterRoleBindings:
		return remove(inv, key, &inv.ClusterRoleBindings)
	case NetworkPolicies:
		return remove(inv, key, &inv.NetworkPolicies)
	case ClusterNetworkPolicies:
		return remove(inv, key, &inv.ClusterNetworkPolicies)
	case AdminNetworkPolicies:
		return remove(inv, key, &inv.AdminNetworkPolicies)
	case BaselineAdminNetworkPolicies:
		return remove(inv, key, &inv.BaselineAdminNetworkPolicies)
	case ValidatingWebhookConfigurations:
		return remove(inv, key, &inv.ValidatingWebhooks)
	case MutatingWebhookConfigurations:
		return remove(inv, key, &inv.MutatingWebhooks)
	}
	return false
}

// remove replaces *list with a new slice without the object, so a clone
// sharing the old one keeps it, and renumbers the kind's positions.
func remove[T any, P interface {
	*T
	metav1.Object
}](inv *Inventory, key Key, list *[]T) bool {
	out := make([]T, 0, len(*list))
	found := false
	for i := range *list {
		m := P(&(*list)[i])
		if m.GetNamespace() == key.Namespace && m.GetName() == key.Name {
			found = true
			continue
		}
		out = append(out, (*list)[i])
	}
	if !found {
		return false
	}
	*list = out
	for k := range inv.positions {
		if k.Kind == key.Kind {
			delete(inv.positions, k)
		}
	}
	for i := range out {
		m := P(&out[i])
		if m.GetName() != "" {
			inv.positions[Key{Kind: key.Kind, Namespace: m.GetNamespace(), Name: m.GetName()}] = i
		}
	}
	return true
}
