package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Publish writes report objects the plugin owns (PolicyReports and
// ClusterPolicyReports), as `kubectl apply --server-side --force-conflicts`
// would: the objects are the plugin's own output, named by it, so their
// fields are taken over from any earlier writer. Then it deletes the objects
// of the same kinds and name, carrying the selector label, that this run no
// longer produced: the reports of a namespace whose findings were all fixed
// would otherwise keep showing them. Only namespace narrows which such
// objects are looked at ("" for every namespace). It returns one line per
// object written or deleted, in kubectl's words.
func (c *Client) Publish(ctx context.Context, objs []*unstructured.Unstructured, selector string, namespace string) ([]string, error) {
	var out []string
	written := map[string]bool{}
	kinds := map[string]remedy.Target{} // apiVersion/kind -> a target of that kind, for pruning
	name := ""
	for _, obj := range objs {
		t := remedy.Target{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
		ri, err := c.resource(t)
		if err != nil {
			return out, err
		}
		written[t.String()] = true
		if _, err := ri.Apply(ctx, t.Name, obj, metav1.ApplyOptions{FieldManager: remedy.FieldManager, Force: true}); err != nil {
			// A namespace being deleted takes no new objects; its report goes with it.
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				out = append(out, describe(t)+" not written: the namespace is being deleted")
				continue
			}
			return out, fmt.Errorf("apply %s: %w", t, err)
		}
		out = append(out, describe(t)+" serverside-applied")
		kinds[t.APIVersion+"/"+t.Kind] = remedy.Target{APIVersion: t.APIVersion, Kind: t.Kind, Namespace: namespace}
		if name == "" {
			name = t.Name
		} else if name != t.Name {
			return out, fmt.Errorf("report objects are named both %s and %s: cannot tell which earlier reports are stale", name, t.Name)
		}
	}
	for _, k := range sortedTargets(kinds) {
		ri, err := c.listResource(k)
		if err != nil {
			return out, err
		}
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return out, fmt.Errorf("list %ss to remove stale reports: %w", strings.ToLower(k.Kind), err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			t := remedy.Target{APIVersion: k.APIVersion, Kind: k.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
			if o.GetName() != name || written[t.String()] {
				continue
			}
			dri, err := c.resource(t)
			if err != nil {
				return out, err
			}
			uid := o.GetUID()
			if err := dri.Delete(ctx, t.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
				return out, fmt.Errorf("delete stale %s: %w", t, err)
			}
			out = append(out, describe(t)+" deleted (stale)")
		}
	}
	return out, nil
}

// listResource is the client that lists a kind in t's namespace, every
// namespace when it is "" (or, for a cluster-scoped kind, the cluster).
func (c *Client) listResource(t remedy.Target) (dynamic.ResourceInterface, error) {
	gvk := t.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("find the API resource of %s: %w", gvk.Kind, err)
	}
	return c.dyn.Resource(m.Resource).Namespace(t.Namespace), nil
}

func sortedTargets(m map[string]remedy.Target) []remedy.Target {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]remedy.Target, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// describe names an object as kubectl's apply output does: kind.group/name.
func describe(t remedy.Target) string {
	gvk := t.GroupVersionKind()
	kind := strings.ToLower(gvk.Kind)
	if gvk.Group != "" {
		kind += "." + gvk.Group
	}
	if t.Namespace != "" {
		return kind + "/" + t.Name + " (namespace " + t.Namespace + ")"
	}
	return kind + "/" + t.Name
}
