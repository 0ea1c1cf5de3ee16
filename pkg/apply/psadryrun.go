package apply

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DryRunNamespaceLabels asks the API server what setting labels on a
// namespace would do, without doing it: a server-side dry-run merge patch.
// It returns the warnings the server answers with; for a new Pod Security
// enforce level the PodSecurity admission names the existing pods that would
// violate it. The server judges only a change of the enforce level or
// version, and says nothing when the new level is privileged or (at the same
// version) less strict. It needs patch on the namespace.
func DryRunNamespaceLabels(ctx context.Context, cfg *rest.Config, namespace string, labels map[string]string) ([]string, error) {
	c := rest.CopyConfig(cfg)
	w := &warningList{}
	// A client of its own, so that its warnings are this request's and no one else's.
	c.WarningHandler, c.WarningHandlerWithContext = w, nil
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("create a client for %s: %w", cfg.Host, err)
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return nil, fmt.Errorf("encode the labels of namespace %s: %w", namespace, err)
	}
	if _, err := cs.CoreV1().Namespaces().Patch(ctx, namespace, types.MergePatchType, patch, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		return nil, fmt.Errorf("dry-run the Pod Security labels of namespace %s: %w", namespace, err)
	}
	return w.take(), nil
}
