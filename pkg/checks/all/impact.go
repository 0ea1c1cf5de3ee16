package all

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Impact says what changing one object may break, as the domain that owns
// its kind judges its own remedies: before is the inventory as it is, after
// the same with the changed object in place (absent when deleted). false when
// no domain judges the kind.
func Impact(before, after *inventory.Inventory, kind, namespace, name string) ([]string, bool) {
	switch kind {
	case "NetworkPolicy":
		if !before.Has(inventory.NetworkPolicies) || !before.Has(inventory.Pods) {
			return nil, false
		}
		return netpol.Impact(before, after, namespace), true
	case "Namespace":
		ns, ok := after.Namespace(name)
		if !ok || !before.Has(inventory.Namespaces) || !before.Has(inventory.Pods) {
			return nil, false
		}
		return psa.Impact(before, name, ns.Labels), true
	}
	return nil, false
}
