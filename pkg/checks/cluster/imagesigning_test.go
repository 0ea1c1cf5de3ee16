package cluster

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

const imageSigning = "cluster/image-signing-not-enforced"

const noneRecognised = "medium: no image signature verification recognised: no sigstore ClusterImagePolicy, Kyverno verifyImages rule or ImageValidatingPolicy, nor the ImagePolicyWebhook admission plugin; any image, signed or not, is admitted unless a tool this audit cannot see verifies it"

func TestImageSigning(t *testing.T) {
	cases := []struct {
		fixture string
		want    []string
	}{
		{"none.yaml", []string{noneRecognised}},
		{"kyverno-without-verify-images.yaml", []string{noneRecognised}},
		{"sigstore.yaml", []string{
			"low: ClusterImagePolicy trial is in warn mode: images that fail verification are admitted with a warning",
			"medium: ValidatingWebhookConfiguration policy.sigstore.dev webhook policy.sigstore.dev of sigstore policy-controller has failurePolicy Ignore: images are admitted unverified while it is unavailable",
			"medium: namespace blog is not covered by image signature verification (sigstore policy-controller checks only namespaces labelled policy.sigstore.dev/include=true)",
		}},
		{"kyverno.yaml", []string{
			"low: ClusterPolicy verify-audit verifies image signatures in Audit mode only: unverified images are admitted and only reported",
			"medium: ClusterPolicy verify-audit has failurePolicy Ignore: images are admitted unverified while Kyverno is unavailable",
			"medium: ValidatingWebhookConfiguration kyverno-resource-validating-webhook-cfg webhook validate.kyverno.svc-ignore of Kyverno has failurePolicy Ignore: images are admitted unverified while it is unavailable",
			"medium: namespace blog is not covered by image signature verification",
		}},
		{"cluster-wide.yaml", nil},
		{"image-validating-policy.yaml", []string{
			"low: ImageValidatingPolicy audit-signatures does not deny (validationActions Audit): unverified images are admitted",
			"medium: ImageValidatingPolicy audit-signatures has failurePolicy Ignore: images are admitted unverified while Kyverno is unavailable",
		}},
		{"audit-only.yaml", []string{
			"info: Gatekeeper ConstraintTemplate ratifyverification looks like image verification: not counted as enforcement, check its constraints and external data provider",
			"low: ImageValidatingPolicy warn-signatures does not deny (validationActions Warn): unverified images are admitted",
			"medium: no image signature verification recognised that denies unverified images: the policies found only audit or warn",
		}},
		{"imagepolicywebhook.yaml", nil},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			inv := checktest.Load(t, "image-signing/"+tc.fixture)
			if got := messages(t, inv, imageSigning); !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}

// TestImageSigningSystemNamespaces: kube-system is left out of the coverage
// report by default and reported with --include-system.
func TestImageSigningSystemNamespaces(t *testing.T) {
	inv := checktest.Load(t, "image-signing/sigstore.yaml")
	inv.Settings.IncludeSystem = true
	got := messages(t, inv, imageSigning)
	want := "medium: namespace kube-system is not covered by image signature verification (sigstore policy-controller checks only namespaces labelled policy.sigstore.dev/include=true)"
	if !slices.Contains(got, want) {
		t.Errorf("got %q, want it to contain %q", got, want)
	}
}

// TestImageSigningToolsNotInstalled is a live inventory whose server serves
// none of the tools' resources: they are read and empty, so the check runs
// and says nothing verifies signatures.
func TestImageSigningToolsNotInstalled(t *testing.T) {
	inv := inventory.New()
	for _, k := range inventory.AllKinds() {
		if k.IsResource() {
			inv.Loaded[k] = true
		}
	}
	inv.Namespaces = []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}}
	if got := messages(t, inv, imageSigning); !slices.Equal(got, []string{noneRecognised}) {
		t.Errorf("got %q", got)
	}
}
