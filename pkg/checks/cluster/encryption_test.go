package cluster

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// What kube-apiserver lists in /readyz?verbose with one KMS v2 provider
// (a single kms-providers check), and with two KMS v1 providers of which the
// second fails (one kms-provider-N check each).
const (
	readyzKMSv2 = `[+]ping ok
[+]log ok
[+]etcd ok
[+]etcd-readiness ok
[+]kms-providers ok
[+]informer-sync ok
[+]poststarthook/start-apiserver-admission-initializer ok
[+]shutdown ok
readyz check passed
`
	healthzKMSv1 = `[+]ping ok
[+]log ok
[+]etcd ok
[+]kms-provider-0 ok
[-]kms-provider-1 failed: reason withheld
[+]poststarthook/start-apiserver-admission-initializer ok
healthz check failed
`
	// The envtest API server: no encryption configuration.
	readyzPlain = `[+]ping ok
[+]log ok
[+]etcd ok
[+]etcd-readiness ok
[+]informer-sync ok
[+]shutdown ok
readyz check passed
`
)

func TestParseHealthChecks(t *testing.T) {
	got := inventory.ParseHealthChecks(healthzKMSv1)
	want := map[string]bool{"ping": true, "log": true, "etcd": true, "kms-provider-0": true, "kms-provider-1": false, "poststarthook/start-apiserver-admission-initializer": true}
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for k, v := range want {
		if ok, seen := got[k]; !seen || ok != v {
			t.Errorf("%s: got %v (seen %v), want %v", k, ok, seen, v)
		}
	}
}

func healthInventory(endpoint, body string, pods ...corev1.Pod) *inventory.Inventory {
	inv := inventory.New()
	inv.Loaded[inventory.Pods], inv.Loaded[inventory.APIServerHealth] = true, true
	inv.Pods = inventory.PodsOf(pods...)
	inv.Health = &inventory.HealthProbe{Endpoints: map[string]map[string]bool{endpoint: inventory.ParseHealthChecks(body)}}
	return inv
}

func apiserverPod(args ...string) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-cp1", Namespace: "kube-system", Labels: map[string]string{"component": "kube-apiserver"}},
		Spec:       corev1.PodSpec{NodeName: "cp1", Containers: []corev1.Container{{Name: "kube-apiserver", Command: append([]string{"kube-apiserver"}, args...)}}},
	}
}

func TestEncryptionAtRest(t *testing.T) {
	cases := []struct {
		name    string
		inv     *inventory.Inventory
		unknown bool
		want    []string
	}{
		{"KMS v2 on a managed control plane", healthInventory("/readyz", readyzKMSv2), false, nil},
		{"KMS v1, one failing", healthInventory("/healthz", healthzKMSv1), false, []string{
			"low: the API server encrypts with KMS v1 plugins (health checks kms-provider-0, kms-provider-1): KMS v1 is deprecated and off by default since Kubernetes 1.29",
			"medium: the API server's health check kms-provider-1 fails: the KMS plugin does not answer, so resources encrypted with it cannot be read or written",
		}},
		{"nothing visible", healthInventory("/readyz", readyzPlain), true, nil},
		{"flag set on a visible pod", healthInventory("/readyz", readyzPlain, apiserverPod("--encryption-provider-config=/etc/kubernetes/enc.yaml")), false, nil},
		{"flag missing on a visible pod", healthInventory("/readyz", readyzPlain, apiserverPod("--profiling=false")), false, []string{
			"medium: kube-apiserver on node cp1: --encryption-provider-config is not set: Secrets are not encrypted at rest",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range Checks() {
				if c.ID != "cluster/encryption-at-rest" {
					continue
				}
				res := checks.Run(tc.inv, []checks.Check{c})
				if tc.unknown {
					if len(res.Unknown) != 1 || len(res.Ran) != 0 {
						t.Fatalf("got %+v, want unknown", res)
					}
					return
				}
				if len(res.Ran) != 1 {
					t.Fatalf("did not run: %+v", res)
				}
			}
			if got := messages(t, tc.inv, "cluster/encryption-at-rest"); !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}
