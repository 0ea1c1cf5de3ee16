package cluster

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

func messages(t *testing.T, inv *inventory.Inventory, id string) []string {
	t.Helper()
	var out []string
	for _, f := range checktest.Run(t, inv, Checks(), id) {
		out = append(out, f.Severity.String()+": "+f.Message)
	}
	slices.Sort(out)
	return out
}

func TestControlPlaneChecks(t *testing.T) {
	inv := checktest.Load(t, "control-plane.yaml")
	cases := map[string][]string{
		"cluster/apiserver-flags": {
			"critical: kube-apiserver on node cp2: --authorization-mode includes AlwaysAllow: every request is authorized",
			"high: kube-apiserver on node cp1: --etcd-cafile is not set: etcd's serving certificate is not verified",
			"high: kube-apiserver on node cp1: --etcd-certfile and --etcd-keyfile are not set: the API server does not authenticate to etcd with a client certificate",
			"high: kube-apiserver on node cp1: anonymous requests are authenticated as system:anonymous (--anonymous-auth is not false)",
			"high: kube-apiserver on node cp2: --authorization-mode does not include RBAC",
			"low: kube-apiserver on node cp1: --audit-log-maxage is not set: keep audit logs for 30 days or as your retention policy says",
			"low: kube-apiserver on node cp1: --audit-log-maxbackup is not set: keep 10 rotated audit logs or as your retention policy says",
			"low: kube-apiserver on node cp1: --audit-log-maxsize is not set: rotate audit logs at 100 MB or as your retention policy says",
			"low: kube-apiserver on node cp1: --service-account-extend-token-expiration is not false: projected tokens are valid for a year rather than the hour asked for",
			"low: kube-apiserver on node cp1: --tls-cipher-suites is not set: Go's defaults include suites the benchmark does not count as strong",
			"low: kube-apiserver on node cp1: TLS 11 is accepted (--tls-min-version)",
			"low: kube-apiserver on node cp1: the AlwaysPullImages admission plugin is not enabled: pods can use private images already pulled to their node without the pull secret",
			"low: kube-apiserver on node cp1: the DenyServiceExternalIPs admission plugin is not enabled: any user who may create Services can set externalIPs and intercept traffic",
			"low: kube-apiserver on node cp1: the EventRateLimit admission plugin is not enabled: a flood of events can overload the API server",
			"medium: kube-apiserver on node cp1: --audit-policy-file is not set: no audit policy: nothing is audited",
			"medium: kube-apiserver on node cp1: --client-ca-file is not set: client certificates cannot be verified",
			"medium: kube-apiserver on node cp1: --kubelet-certificate-authority is not set: kubelets' serving certificates are not verified",
			"medium: kube-apiserver on node cp1: --kubelet-client-certificate and --kubelet-client-key are not set: the API server does not authenticate to kubelets with a client certificate",
			"medium: kube-apiserver on node cp1: --service-account-key-file is not set: service account tokens are verified with the serving key, which cannot be rotated apart",
			"medium: kube-apiserver on node cp1: --tls-cert-file and --tls-private-key-file are not set: the API server serves a self-signed certificate",
			"medium: kube-apiserver on node cp2: --authorization-mode does not include Node: kubelets are not limited to their own node's objects",
		},
		"cluster/etcd-flags": {
			"high: etcd on node cp1: --peer-client-cert-auth is not true: peers are not required to present a certificate",
			"high: etcd on node cp1: clients are served over plain HTTP on http://10.0.0.5:2379",
		},
		"cluster/controller-manager-flags": {
			"low: kube-controller-manager on node cp1: RotateKubeletServerCertificate=false: kubelet serving certificates are not rotated",
		},
		"cluster/scheduler-flags": {
			"low: kube-scheduler on node cp1: --bind-address is not 127.0.0.1: the scheduler's metrics and health endpoints listen on every address",
		},
		"cluster/webhook-fails-open": {
			"low: ValidatingWebhookConfiguration policy webhook lenient.policy.example.com has failurePolicy Ignore: requests are admitted unchecked while it is unavailable",
		},
		// Files show no health checks; the pods show cp1 without the flag.
		"cluster/encryption-at-rest": {
			"medium: kube-apiserver on node cp1: --encryption-provider-config is not set: Secrets are not encrypted at rest",
		},
		"cluster/legacy-token-secret": {
			"medium: Secret ci/builder-token holds a non-expiring token of ServiceAccount ci/builder, last used 2026-10-01",
		},
		// Offline input says nothing about what the API would show.
		"cluster/control-plane-not-visible": nil,
	}
	for id, want := range cases {
		t.Run(id, func(t *testing.T) {
			if got := messages(t, inv, id); !slices.Equal(got, want) {
				t.Errorf("got\n  %q\nwant\n  %q", got, want)
			}
		})
	}
}

func TestControlPlaneNotVisibleOnLiveClusterWithoutPods(t *testing.T) {
	inv := inventory.New()
	inv.Loaded[inventory.Pods] = true
	inv.Pods = []inventory.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default"}, Spec: &corev1.PodSpec{}}}
	got := messages(t, inv, "cluster/control-plane-not-visible")
	if len(got) != 1 || got[0][:5] != "info:" {
		t.Fatalf("got %q", got)
	}
	if msgs := messages(t, inv, "cluster/apiserver-flags"); len(msgs) != 0 {
		t.Errorf("flags judged without a visible apiserver: %q", msgs)
	}
}

func TestLegacyTokenRemedyDeletesTheSecret(t *testing.T) {
	inv := checktest.Load(t, "control-plane.yaml")
	for _, c := range Checks() {
		if c.ID != "cluster/legacy-token-secret" {
			continue
		}
		f := c.Run(inv)[0]
		if f.Remediation == nil || len(f.Remediation.Changes) != 1 || f.Remediation.Changes[0].Target.Name != "builder-token" {
			t.Fatalf("remediation %+v", f.Remediation)
		}
		if f.Subject == nil || *f.Subject != (finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "builder"}) {
			t.Errorf("subject %+v", f.Subject)
		}
	}
}

func TestAnonymousAccess(t *testing.T) {
	cases := []struct {
		probe *inventory.AnonymousProbe
		want  []string
	}{
		{&inventory.AnonymousProbe{Version: 200, Namespaces: 200}, []string{"critical: a request without credentials listed namespaces (HTTP 200): RBAC grants system:anonymous or system:unauthenticated read access to the cluster"}},
		{&inventory.AnonymousProbe{Version: 200, Namespaces: 403}, []string{"low: anonymous auth is on: requests without credentials are served as system:anonymous (listing namespaces was forbidden by RBAC, HTTP 403)"}},
		{&inventory.AnonymousProbe{Version: 401, Namespaces: 401}, nil},
	}
	for _, tc := range cases {
		inv := inventory.New()
		inv.Loaded[inventory.AnonymousAccess] = true
		inv.Anonymous = tc.probe
		if got := messages(t, inv, "cluster/anonymous-access"); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: got %q want %q", *tc.probe, got, tc.want)
		}
	}
}

func TestAnonymousAccessIsSkippedOffline(t *testing.T) {
	inv := checktest.Load(t, "control-plane.yaml")
	for _, c := range Checks() {
		if c.ID != "cluster/anonymous-access" {
			continue
		}
		res := checks.Run(inv, []checks.Check{c})
		if len(res.Skipped) != 1 || res.Skipped[0].Reason != "anonymous-access needs a live API server to probe" {
			t.Errorf("offline: %+v", res)
		}
	}
}

// With --authorization-config the authorizers are in a file the API does not
// show: the authorization rules say unknown (an info finding with an unknown
// facet, which makes their controls unknown), never pass and never fail.
func TestStructuredAuthorizationIsUnknown(t *testing.T) {
	inv := inventory.New()
	inv.Loaded[inventory.Pods] = true
	inv.Pods = inventory.PodsOf(corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-cp1", Namespace: "kube-system", Labels: map[string]string{"component": "kube-apiserver", "tier": "control-plane"}},
		Spec: corev1.PodSpec{NodeName: "cp1", Containers: []corev1.Container{{Name: "kube-apiserver",
			Command: []string{"kube-apiserver", "--authorization-config=/etc/kubernetes/authz.yaml", "--anonymous-auth=false"}}}},
	})
	var unknown []string
	for _, f := range checktest.Run(t, inv, Checks(), "cluster/apiserver-flags") {
		for _, fc := range f.Facets {
			if rule, ok := strings.CutPrefix(fc, "unknown:"); ok {
				unknown = append(unknown, rule)
				if f.Severity != finding.Info || !strings.Contains(f.Message, "unknown: authorization is configured by --authorization-config") {
					t.Errorf("%s: %s %q", rule, f.Severity, f.Message)
				}
			}
			if strings.HasPrefix(fc, "authorization-") {
				t.Errorf("authorization judged from flags that do not decide it: %s", f.Message)
			}
		}
	}
	slices.Sort(unknown)
	if want := []string{"authorization-node", "authorization-not-always-allow", "authorization-rbac"}; !slices.Equal(unknown, want) {
		t.Errorf("unknown facets %v, want %v", unknown, want)
	}
}
