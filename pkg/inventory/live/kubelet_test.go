package live

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Who refused a node proxy request, as client-go reports it: the API server's
// own refusal is a Status; the kubelet's answer is text, kept as the cause of
// an unexpected response (and without a status code in the Result).
func TestUnreadReason(t *testing.T) {
	nodes := schema.GroupResource{Resource: "nodes"}
	kubelet403 := apierrors.NewGenericServerResponse(403, "GET", nodes, "n1",
		"Forbidden (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource(s)=[configz proxy])", 0, true)
	cases := []struct {
		code int
		err  error
		want string
	}{
		{403, apierrors.NewForbidden(nodes, "n1", fmt.Errorf(`User "auditor" cannot get resource "nodes/proxy" in API group "" at the cluster scope`)),
			`the API server forbids it (--kubelet needs get on nodes/proxy): nodes "n1" is forbidden: User "auditor" cannot get resource "nodes/proxy"`},
		{0, kubelet403, "the kubelet refused the API server's request (HTTP 403): Forbidden (user=kube-apiserver-kubelet-client"},
		{0, apierrors.NewGenericServerResponse(401, "GET", nodes, "n1", "Unauthorized", 0, true), "the kubelet refused the API server's request (HTTP 401): Unauthorized"},
		{503, apierrors.NewServiceUnavailable("error trying to reach service: dial tcp 10.0.0.9:10250: connect: connection refused"),
			"the kubelet could not be reached through the API server (HTTP 503): error trying to reach service"},
		{0, fmt.Errorf("Get https://api/api/v1/nodes/n1/proxy/configz: %w", context.DeadlineExceeded), "the kubelet did not answer within 10s"},
	}
	for _, tc := range cases {
		if got := unreadReason(tc.code, tc.err); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v:\n  got  %s\n  want %s...", tc.err, got, tc.want)
		}
	}
}
