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

// listCustomWorkloads lists the known custom workloads the server serves.
// Discovery says what is served: a tool that is not installed has none,
// which is no error. A forbidden list is an error, as for built-in kinds, so
// the checks that need the kind are skipped rather than run blind.
func (l *lister) listCustomWorkloads(ctx context.Context) error {
	var out []inventory.CustomWorkload
	for _, w := range inventory.KnownWorkloads() {
		res, served, err := l.servedResource(w)
		if err != nil {
			return err
		}
		if !served {
			continue
		}
		gvr := schema.GroupVersionResource{Group: w.Group, Version: res.Version, Resource: w.Resource}
		nri := l.dc.Resource(gvr)
		var ri dynamic.ResourceInterface = nri
		if res.Namespaced {
			ri = nri.Namespace(l.ns)
		}
		items, err := listPages(ctx, l, ri.List, func(l *unstructured.UnstructuredList) ([]unstructured.Unstructured, string) {
			return l.Items, l.GetContinue()
		}, func(o *unstructured.Unstructured) metav1.Object { return o })
		if apierrors.IsNotFound(err) {
			continue // its CRD was deleted since discovery answered
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
		}
		for i := range items {
			u := &items[i]
			js, err := u.MarshalJSON()
			if err != nil {
				return fmt.Errorf("read %s %s/%s: %w", w.Kind, u.GetNamespace(), u.GetName(), err)
			}
			cw, ok, err := inventory.DecodeCustomWorkload(u.GroupVersionKind(), js)
			if err != nil {
				return fmt.Errorf("read %s %s/%s: %w", w.Kind, u.GetNamespace(), u.GetName(), err)
			}
			// A Rollout with a workloadRef has no template of its own: the
			// Deployment it refers to is judged instead.
			if ok {
				out = append(out, cw)
			}
		}
	}
	return l.set(func() { l.inv.CustomWorkloads = out })
}

// servedResource returns the first of a known workload's versions that
// discovery serves its resource at, with whether it is namespaced.
func (l *lister) servedResource(w inventory.KnownWorkload) (res metav1.APIResource, served bool, err error) {
	for _, v := range w.Versions {
		gv := schema.GroupVersion{Group: w.Group, Version: v}.String()
		list, err := l.cs.Discovery().ServerResourcesForGroupVersion(gv)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return metav1.APIResource{}, false, fmt.Errorf("discover %s: %w", gv, err)
		}
		for _, r := range list.APIResources {
			if r.Name == w.Resource {
				r.Version = v
				return r, true, nil
			}
		}
	}
	return metav1.APIResource{}, false, nil
}
