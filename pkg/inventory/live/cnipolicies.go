package live

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// listCNIPolicies lists a Cilium or Calico policy kind through the dynamic
// client, at the first of its group versions discovery serves (Calico's
// projectcalico.org/v3 before the crd.projectcalico.org/v1 CRDs that back it,
// so that no policy is read twice). As for the cluster-scoped tiers,
// discovery is asked first: a cluster without the CNI reads as not installed.
func (l *lister) listCNIPolicies(ctx context.Context, k inventory.Kind) error {
	for _, r := range inventory.CNIPolicyResources() {
		if r.Kind != k {
			continue
		}
		for _, gv := range r.Versions {
			_, served, err := l.servedVersion(gv.Group, r.Resource, []string{gv.Version})
			if err != nil {
				return err
			}
			if !served {
				continue
			}
			nri := l.dc.Resource(schema.GroupVersionResource{Group: gv.Group, Version: gv.Version, Resource: r.Resource})
			var ri dynamic.ResourceInterface = nri
			if r.Namespaced {
				ri = nri.Namespace(l.ns)
			}
			items, err := listPages(ctx, l, ri.List, func(l *unstructured.UnstructuredList) ([]unstructured.Unstructured, string) {
				return l.Items, l.GetContinue()
			}, func(o *unstructured.Unstructured) metav1.Object { return o })
			if apierrors.IsNotFound(err) {
				// The CRD was deleted since discovery answered.
				continue
			}
			if err != nil {
				return err
			}
			var addErr error
			_ = l.set(func() { addErr = l.inv.AddCNIPolicyObjects(k, items) })
			return addErr
		}
		return l.set(func() { l.inv.NotInstalled[k] = true })
	}
	return fmt.Errorf("inventory: no loader for kind %q", k)
}
