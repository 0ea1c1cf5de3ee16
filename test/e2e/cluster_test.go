package e2e

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestAnonymousAccessProbedOnTheRealServer asks the API server without
// credentials: with anonymous auth on (kube-apiserver's default) and no grant
// it answers 403, a low finding; once RBAC lets system:anonymous list
// namespaces it answers 200, a critical one.
func TestAnonymousAccessProbedOnTheRealServer(t *testing.T) {
	anon := func() []string {
		t.Helper()
		r, _ := report(t, env.Kubeconfig, "cluster", "--check", "cluster/anonymous-access")
		var out []string
		for _, f := range findingsOf(r, "cluster/anonymous-access") {
			out = append(out, f.Severity.String())
		}
		return out
	}
	if got := anon(); len(got) != 1 || got[0] != "low" {
		t.Fatalf("anonymous auth on, RBAC denying: got %v, want one low finding", got)
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-e2e-anonymous-namespaces"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}}},
	}
	grantRole(t, role, "system:anonymous")
	if got := anon(); len(got) != 1 || got[0] != "critical" {
		t.Fatalf("anonymous may list namespaces: got %v, want one critical finding", got)
	}
}

// TestImageSigningSeenLiveAndOffline installs the CRDs of sigstore
// policy-controller and Kyverno on the real server. Before, their resources
// are not served: that is no verifier, not an error. After, the live audit
// reads the policies through the dynamic client and agrees with the offline
// audit of the same files. The CRDs are removed at the end so other tests see
// a cluster without them.
func TestImageSigningSeenLiveAndOffline(t *testing.T) {
	const check = "cluster/image-signing-not-enforced"
	// lines renders the findings on this test's objects (named cluster-*) comparably.
	lines := func(r *finding.Report) []string {
		var out []string
		for _, f := range findingsOf(r, check) {
			if strings.HasPrefix(f.Resource.Name, "cluster-") {
				out = append(out, f.Severity.String()+" "+f.Resource.String()+": "+f.Message)
			}
		}
		slices.Sort(out)
		return out
	}

	r, stderr := report(t, env.Kubeconfig, "--check", check)
	if got := findingsOf(r, check); len(got) != 1 || !strings.HasPrefix(got[0].Message, "no image signature verification recognised") {
		t.Fatalf("without the tools' CRDs: got %+v, want one finding that none is recognised", got)
	}
	if stderr != "" || len(r.Summary.Skipped) != 0 {
		t.Errorf("unserved custom resources are no verifier, not a warning or a skip: stderr %q, skipped %+v", stderr, r.Summary.Skipped)
	}

	crds := []string{"crd/clusterimagepolicies.policy.sigstore.dev", "crd/clusterpolicies.kyverno.io"}
	t.Cleanup(func() {
		res, err := env.Kubectl(nil, append([]string{"delete", "--wait=true", "--ignore-not-found"}, crds...)...)
		if err != nil || res.Code != 0 {
			t.Errorf("delete the CRDs: %v %s", err, res.Stderr)
		}
	})
	apply(t, "cluster", "image-signing", "crds")
	res, err := env.Kubectl(nil, append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, crds...)...)
	if err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRDs: %v %s", err, res.Stderr)
	}
	apply(t, "cluster", "image-signing", "objects")

	live, stderr := report(t, env.Kubeconfig, "--check", check)
	if stderr != "" {
		t.Errorf("live audit warned: %q", stderr)
	}
	// The files hold every object this check reads: --complete says so (a check of the cluster as a whole needs a cluster).
	offline, _ := report(t, env.Kubeconfig, "-f", testdata("cluster", "image-signing", "objects"), "--complete", "--check", check)
	want := []string{
		"low clusterpolicy/cluster-verify-audit: ClusterPolicy cluster-verify-audit verifies image signatures in Audit mode only: unverified images are admitted and only reported",
		"medium clusterpolicy/cluster-verify-audit: ClusterPolicy cluster-verify-audit has failurePolicy Ignore: images are admitted unverified while Kyverno is unavailable",
		"medium namespace/cluster-unsigned: namespace cluster-unsigned is not covered by image signature verification (sigstore policy-controller checks only namespaces labelled policy.sigstore.dev/include=true)",
	}
	if got := lines(live); !slices.Equal(got, want) {
		t.Errorf("live audit:\n  %q\nwant\n  %q", got, want)
	}
	if got := lines(offline); !slices.Equal(got, want) {
		t.Errorf("offline audit of the same files:\n  %q\nwant\n  %q", got, want)
	}
	for _, f := range findingsOf(live, check) {
		if strings.HasPrefix(f.Message, "no image signature verification recognised") {
			t.Errorf("an enforcing ClusterImagePolicy is installed, yet: %s", f.Message)
		}
	}
}
