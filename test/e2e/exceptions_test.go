package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const excNamespace = "exc-shop"

// gateArgs audit the exceptions test's namespace and fail on high findings.
var gateArgs = []string{"-n", excNamespace, "--check", "psa/privileged", "--fail-on", "high"}

const excFile = `apiVersion: kubectl-harden.io/v1alpha1
kind: Exceptions
exceptions:
- check: psa/privileged
  resource:
    kind: Deployment
    namespace: exc-*
    selector: {matchLabels: {tier: front}}
  reason: the web tier needs it until the rebuild
  owner: shop-team@example.com
  expires: 2099-12-31
`

// --fail-on high exits 2 before an exception is added and 0 after, from an
// exceptions file named by --exceptions, from .kubectl-harden.yaml in the
// working directory, and from the object's annotation when it is honoured.
func TestExceptionsPassTheGateLive(t *testing.T) {
	t.Cleanup(func() {
		// The namespace stays Terminating on this server (no namespace
		// controller): its objects stay too, and other tests sharing the
		// server must not see an accept annotation.
		if res, err := env.Kubectl(nil, "delete", "deployment", "-n", excNamespace, "exc-web", "--wait=false", "--ignore-not-found"); err != nil || res.Code != 0 {
			t.Errorf("delete deployment exc-web: %v %s", err, res.Stderr)
		}
		if res, err := env.Kubectl(nil, "delete", "namespace", excNamespace, "--wait=false", "--ignore-not-found"); err != nil || res.Code != 0 {
			t.Errorf("delete namespace %s: %v %s", excNamespace, err, res.Stderr)
		}
	})
	apply(t, "exceptions")
	if res := harden(t, append(gateArgs, "-o", "name")...); res.Code != 2 || !strings.Contains(res.Stdout, "psa/privileged:deployment/exc-shop/exc-web") {
		t.Fatalf("before the exception: exit %d, want 2\n%s%s", res.Code, res.Stdout, res.Stderr)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "exceptions.yaml")
	if err := os.WriteFile(file, []byte(excFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := harden(t, append(gateArgs, "--exceptions", file)...); res.Code != 0 || !strings.Contains(res.Stdout, "ACCEPTED 1 finding") {
		t.Fatalf("with --exceptions: exit %d, want 0\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	r, _ := report(t, env.Kubeconfig, "-n", excNamespace, "--check", "psa/privileged", "--exceptions", file)
	if len(r.Items) != 1 || r.Items[0].Accepted == nil || r.Items[0].Accepted.By != file+":4" || r.Items[0].Accepted.Owner != "shop-team@example.com" || r.Summary.High != 0 {
		t.Errorf("report items %+v summary %+v", r.Items, r.Summary)
	}

	// .kubectl-harden.yaml in the current directory, no flag.
	work, home := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(work, ".kubectl-harden.yaml"), []byte(excFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := shell(t, work, home, "kubectl harden "+strings.Join(gateArgs, " ")); code != 0 {
		t.Errorf(".kubectl-harden.yaml: exit %d, want 0\n%s%s", code, out, errOut)
	}

	// The annotation: honoured only when asked.
	ann := "kubectl-harden.io/accept=psa/privileged: raw sockets for the probe; owner=net-team; expires=2099-01-31"
	if res, err := env.Kubectl(nil, "annotate", "-n", excNamespace, "deployment", "exc-web", ann); err != nil || res.Code != 0 {
		t.Fatalf("kubectl annotate: %v %s", err, res.Stderr)
	}
	if res := harden(t, gateArgs...); res.Code != 2 || !strings.Contains(res.Stderr, "not honoured: --accept-annotations") {
		t.Errorf("annotation without --accept-annotations: exit %d, want 2\n%s", res.Code, res.Stderr)
	}
	if res := harden(t, append(gateArgs, "--accept-annotations")...); res.Code != 0 {
		t.Errorf("annotation with --accept-annotations: exit %d, want 0\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	r, _ = report(t, env.Kubeconfig, "-n", excNamespace, "--check", "psa/privileged", "--accept-annotations")
	if len(r.Items) != 1 || r.Items[0].Accepted == nil || r.Items[0].Accepted.By != "annotation" || r.Items[0].Accepted.Owner != "net-team" {
		t.Errorf("annotation: items %+v", r.Items)
	}
}

// A baseline of the same report leaves nothing new (exit 0), and the SARIF
// with suppressions and baselineState validates against the SARIF 2.1.0 schema.
func TestBaselineAndSARIFLive(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	res := mustHarden(t, "-o", "json")
	if err := os.WriteFile(base, []byte(res.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := harden(t, "--fail-on", "low", "-o", "name"); res.Code != 2 {
		t.Fatalf("--fail-on low on the sample cluster: exit %d, want 2", res.Code)
	}
	res = harden(t, "--fail-on", "low", "--baseline", base)
	if res.Code != 0 || !strings.Contains(res.Stdout, "0 new") || !strings.Contains(res.Stdout, "0 fixed since") {
		t.Fatalf("baseline of the same report: exit %d, want 0\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := harden(t, "diff", base, base, "--fail-on", "low"); res.Code != 0 {
		t.Errorf("diff of a report with itself: exit %d\n%s", res.Code, res.Stderr)
	}

	exc := filepath.Join(dir, "exceptions.yaml")
	if err := os.WriteFile(exc, []byte(`apiVersion: kubectl-harden.io/v1alpha1
kind: Exceptions
exceptions:
- check: rbac/cluster-admin-binding
  subject: {kind: ServiceAccount, namespace: ci, name: deployer}
  reason: the CI deployer installs CRDs
  owner: platform
  expires: 2099-12-31
`), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--baseline", base, "--exceptions", exc}
	sarifThroughKubectl(t, args...) // validates against the schema
	res = mustHarden(t, append(args, "-o", "sarif")...)
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID              string            `json:"ruleId"`
				BaselineState       string            `json:"baselineState"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Suppressions        []struct {
					Kind, Status, Justification string
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &log); err != nil {
		t.Fatal(err)
	}
	suppressed, states := 0, map[string]int{}
	for _, r := range log.Runs[0].Results {
		states[r.BaselineState]++
		if len(r.PartialFingerprints) != 1 {
			t.Errorf("%s: partialFingerprints %v", r.RuleID, r.PartialFingerprints)
		}
		if len(r.Suppressions) > 0 {
			suppressed++
			if r.RuleID != "rbac/cluster-admin-binding" || r.Suppressions[0].Kind != "external" || r.Suppressions[0].Status != "accepted" {
				t.Errorf("suppression of %s: %+v", r.RuleID, r.Suppressions)
			}
		}
	}
	if suppressed == 0 || states["unchanged"] == 0 || states[""] != 0 {
		t.Errorf("%d suppressed results, baseline states %v", suppressed, states)
	}
}
