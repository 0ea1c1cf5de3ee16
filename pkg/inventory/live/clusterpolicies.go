package live

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// listPolicies lists a cluster-scoped network policy kind through the
// dynamic client, at the first of its versions discovery serves. Discovery is
// asked first, so that a cluster without the CRD reads as not installed
// (loaded, none) even for a user whom RBAC would refuse the list: RBAC is
// checked before the resource is looked up. A served kind that may not be
// listed is forbidden, and the checks that need it are skipped.
func (l *lister) listPolicies(ctx context.Context, k inventory.Kind) error {
	for _, r := range inventory.PolicyResources() {
		if r.Kind != k {
			continue
		}
		version, served, err := l.servedVersion(inventory.PolicyGroup, r.Resource, r.Versions)
		if err != nil {
			return err
		}
		if !served {
			return l.set(func() { l.inv.NotInstalled[k] = true })
		}
		gvr := schema.GroupVersionResource{Group: inventory.PolicyGroup, Version: version, Resource: r.Resource}
		items, err := listPages(ctx, l, l.dc.Resource(gvr).List, func(l *unstructured.UnstructuredList) ([]unstructured.Unstructured, string) {
			return l.Items, l.GetContinue()
		}, func(o *unstructured.Unstructured) metav1.Object { return o })
		if apierrors.IsNotFound(err) {
			// The CRD was deleted since discovery answered.
			return l.set(func() { l.inv.NotInstalled[k] = true })
		}
		if err != nil {
			return err
		}
		js := make([][]byte, len(items))
		for i := range items {
			if js[i], err = items[i].MarshalJSON(); err != nil {
				return fmt.Errorf("read %s %s: %w", r.Object, items[i].GetName(), err)
			}
		}
		var decodeErr error
		_ = l.set(func() {
			for i := range items {
				if _, err := l.inv.AddPolicyObject(items[i].GroupVersionKind(), js[i]); err != nil && decodeErr == nil {
					decodeErr = fmt.Errorf("read %s %s: %w", r.Object, items[i].GetName(), err)
				}
			}
		})
		return decodeErr
	}
	return fmt.Errorf("inventory: no loader for kind %q", k)
}

// servedVersion returns the first of versions at which discovery serves
// group/resource.
func (l *lister) servedVersion(group, resource string, versions []string) (string, bool, error) {
	for _, v := range versions {
		gv := schema.GroupVersion{Group: group, Version: v}.String()
		list, err := l.cs.Discovery().ServerResourcesForGroupVersion(gv)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", false, fmt.Errorf("discover %s: %w", gv, err)
		}
		for _, r := range list.APIResources {
			if r.Name == resource {
				return v, true, nil
			}
		}
	}
	return "", false, nil
}
