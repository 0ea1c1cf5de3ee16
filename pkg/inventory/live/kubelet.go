package live

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// kubeletParallel is how many nodes' kubelets are asked at once, and
// kubeletTimeout how long one may take to answer: a node that is down
// makes its own settings unknown, not the audit slow.
const (
	kubeletParallel = 8
	kubeletTimeout  = 10 * time.Second
)

// probeKubelets lists the nodes and asks each node's kubelet for its
// configuration through the API server: GET /api/v1/nodes/NAME/proxy/configz.
// Only a failure to list the nodes is an error (forbidden skips the checks
// that need the kubelets); a node whose kubelet cannot be read is kept with
// the reason, so its settings are unknown rather than passed.
func (l *lister) probeKubelets(ctx context.Context) ([]inventory.Kubelet, error) {
	// The kubelet's version is in the status, which the list drops as nodes arrive.
	versions := map[string]string{}
	nodes, err := listPages(ctx, l, l.cs.CoreV1().Nodes().List, func(l *corev1.NodeList) ([]corev1.Node, string) {
		for i := range l.Items {
			versions[l.Items[i].Name] = l.Items[i].Status.NodeInfo.KubeletVersion
		}
		return l.Items, l.Continue
	}, func(o *corev1.Node) metav1.Object { return o })
	if err != nil {
		return nil, err
	}
	// The kubelet answers JSON, and the API server's errors are read as JSON too.
	cfg := rest.CopyConfig(l.config)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	out := make([]inventory.Kubelet, len(nodes))
	sem := make(chan struct{}, kubeletParallel)
	var wg sync.WaitGroup
	for i := range nodes {
		n := &nodes[i]
		out[i] = inventory.Kubelet{Node: n.Name, KubeletVersion: versions[n.Name]}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i].Config, out[i].Unread = readConfigz(ctx, cs, n.Name)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// readConfigz asks one node's kubelet for its configuration; it returns the
// configuration, or why it could not be read.
func readConfigz(ctx context.Context, cs kubernetes.Interface, node string) (*inventory.KubeletConfiguration, string) {
	ctx, cancel := context.WithTimeout(ctx, kubeletTimeout)
	defer cancel()
	code := 0
	res := cs.CoreV1().RESTClient().Get().Resource("nodes").Name(node).SubResource("proxy").Suffix("configz").Do(ctx).StatusCode(&code)
	body, _ := res.Raw()
	// Error, unlike Raw, decodes the API server's own Status from an error body.
	err := res.Error()
	if err == nil {
		c, perr := inventory.ParseConfigz(body)
		if perr != nil {
			return nil, "the kubelet's /configz did not parse: " + perr.Error()
		}
		return c, ""
	}
	return nil, unreadReason(code, err)
}

// unreadReason says who refused the proxy request, or that the kubelet did
// not answer. The API server's own refusals carry a Status; what the kubelet
// answers (its own 401 or 403, a proxy error) is text client-go keeps as the
// cause of an unexpected response.
func unreadReason(code int, err error) string {
	msg, fromKubelet := err.Error(), false
	var st apierrors.APIStatus
	if errors.As(err, &st) && code == 0 {
		// client-go gives no status code for a body it cannot decode (the kubelet's text): the error has it.
		code = int(st.Status().Code)
	}
	if st != nil && st.Status().Details != nil {
		for _, c := range st.Status().Details.Causes {
			if c.Type == metav1.CauseTypeUnexpectedServerResponse && strings.TrimSpace(c.Message) != "" {
				msg, fromKubelet = strings.TrimSpace(c.Message), true
			}
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the kubelet did not answer within %s", kubeletTimeout)
	case code == http.StatusForbidden && !fromKubelet:
		return "the API server forbids it (--kubelet needs get on nodes/proxy): " + msg
	case code == http.StatusUnauthorized && !fromKubelet:
		return "the API server did not authenticate the request: " + msg
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Sprintf("the kubelet refused the API server's request (HTTP %d): %s", code, msg)
	case code == http.StatusNotFound:
		return "the kubelet does not serve /configz (HTTP 404): " + msg
	case code == 0:
		return "the request failed: " + msg
	}
	return fmt.Sprintf("the kubelet could not be reached through the API server (HTTP %d): %s", code, msg)
}
