package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
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

// fix with ac[c]ept writes the exception (to .kubectl-harden.yaml in the
// working directory, created), changes nothing in the cluster, and the next
// audit run there honours it: the finding is accepted and --fail-on passes.
func TestFixAcceptWritesAnException(t *testing.T) {
	apply(t, "fix", "accept.yaml")
	const ns = "fix-accept"
	binding := roleBindingTarget(ns, "fix-accept-admin")
	before := snapshot(t, binding)
	work, home := t.TempDir(), t.TempDir()
	selection := "-n " + ns + " --check rbac/cluster-admin-binding --max-exception-days 30"
	gate := "kubectl harden " + selection + " --fail-on high"
	if out, errOut, code := shell(t, work, home, gate); code != 2 {
		t.Fatalf("before accepting: exit %d, want 2\n%s%s", code, out, errOut)
	}

	d := pipeDialogueIn(t, work, nil, append(strings.Fields("fix "+selection), "--journal-dir", filepath.Join(t.TempDir(), "journals"))...)
	seg, ok := d.prompt()
	if !ok || !strings.Contains(seg, "ac[c]ept") || !strings.Contains(changeLine(seg), "fix-accept-admin") {
		t.Fatalf("first question:\n%s", seg)
	}
	d.answer("accept")
	if seg, ok := d.until("Reason (why it is accepted): "); !ok || !strings.Contains(seg, "as an exception in .kubectl-harden.yaml; the cluster is not changed") {
		t.Fatalf("no reason asked:\n%s", seg)
	}
	d.answer("the deployer installs the namespace's CRDs until the operator ships")
	if _, ok := d.until("Owner (who answers for it): "); !ok {
		t.Fatal("no owner asked")
	}
	d.answer("platform-team")
	def := time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")
	if seg, ok := d.until("]: "); !ok || !strings.Contains(seg, "at most 30 days away) ["+def) {
		t.Fatalf("expiry asked without the default bounded by --max-exception-days (%s):\n%s", def, seg)
	}
	d.answer("") // the default
	out, code := d.wait()
	if code != 0 || !strings.Contains(out, "1 accepted") || !strings.Contains(out, "Exceptions written to: .kubectl-harden.yaml") {
		t.Fatalf("session: exit %d\n%s\nstderr: %s", code, out, d.stderr.String())
	}

	file := filepath.Join(work, ".kubectl-harden.yaml")
	entries, err := exceptions.Load(file, exceptions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries, want 1", len(entries))
	}
	e := entries[0]
	if e.Check != "rbac/cluster-admin-binding" || e.Expires != def || e.Owner != "platform-team" ||
		e.Resource == nil || e.Resource.Kind != "RoleBinding" || e.Resource.Namespace != ns || e.Resource.Name != "fix-accept-admin" ||
		e.Subject == nil || e.Subject.Kind != "ServiceAccount" || e.Subject.Name != "deployer" {
		t.Errorf("entry %+v resource %+v subject %+v", e, e.Resource, e.Subject)
	}
	sameObjects(t, "after accept", []remedy.Target{binding}, before, snapshot(t, binding))

	// The next run, in the same directory, reads the file: accepted, and the gate passes.
	if out, errOut, code := shell(t, work, home, gate); code != 0 || !strings.Contains(out, "ACCEPTED 1 finding") {
		t.Errorf("after accepting: exit %d, want 0\n%s%s", code, out, errOut)
	}
	out, errOut, code := shell(t, work, home, "kubectl harden "+selection+" -o json")
	var r finding.Report
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("-o json: exit %d\n%s", code, errOut)
	}
	if len(r.Items) != 1 || r.Items[0].Accepted == nil || r.Items[0].Accepted.By != ".kubectl-harden.yaml:4" || r.Summary.Critical+r.Summary.High != 0 {
		t.Errorf("report items %+v summary %+v", r.Items, r.Summary)
	}
	// And fix offers it no more.
	if out, errOut, code := shell(t, work, home, "kubectl harden fix "+selection); code != 0 || !strings.Contains(out, "No remediation changes") {
		t.Errorf("fix after accepting: exit %d\n%s%s", code, out, errOut)
	}
}
