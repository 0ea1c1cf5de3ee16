package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

const acceptDebugger = `apiVersion: kubectl-harden.io/v1alpha1
kind: Exceptions
exceptions:
- check: psa/
  resource: {kind: Pod, namespace: legacy, name: node-*}
  reason: the node debugger is break-glass tooling
  owner: sre@example.com
  expires: 2099-12-31
`

func TestExceptionsGateAndDefaultFile(t *testing.T) {
	demoAbs, err := filepath.Abs(demo)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", demoAbs, "--check", "psa/privileged", "--check", "psa/host-namespaces", "--check", "psa/host-path", "--fail-on", "high", "-o", "name"}
	dir := t.TempDir()
	t.Chdir(dir)
	if code, out, errOut := run(t, "", args...); code != 2 || !strings.Contains(out, "pod/legacy/node-debugger") {
		t.Fatalf("before the exception: exit %d, want 2\n%s%s", code, out, errOut)
	}
	// .kubectl-harden.yaml in the current directory is read without a flag.
	if err := os.WriteFile(exceptionsFileName, []byte(acceptDebugger), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", args...)
	if code != 0 || out != "" {
		t.Fatalf("with .kubectl-harden.yaml: exit %d, want 0\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "", append(args, "--show-accepted")...)
	if code != 0 || !strings.Contains(out, "pod/legacy/node-debugger") {
		t.Errorf("--show-accepted -o name: exit %d\n%s", code, out)
	}
	// In the report: kept, marked, out of the counts.
	code, out, _ = run(t, "", "-f", demoAbs, "--check", "psa/privileged", "-o", "json")
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	if len(r.Items) != 1 || r.Items[0].Accepted == nil || r.Items[0].Accepted.By != ".kubectl-harden.yaml:4" || r.Summary.High != 0 || r.Summary.Accepted != 1 {
		t.Errorf("report items %+v summary %+v", r.Items, r.Summary)
	}
	// Given as --exceptions too, it is read once.
	if code, _, errOut := run(t, "", append(args, "--exceptions", "./"+exceptionsFileName)...); code != 0 {
		t.Errorf("the default file named again: exit %d: %s", code, errOut)
	}
	// --max-exception-days refuses an entry that goes further: exit 1, nothing applied.
	code, out, errOut = run(t, "", append(args, "--max-exception-days", "90")...)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: .kubectl-harden.yaml:8: exceptions[0].expires: 2099-12-31 is more than 90 days away") {
		t.Errorf("--max-exception-days 90: exit %d out %q err %q", code, out, errOut)
	}
}

const exceptionsFileName = ".kubectl-harden.yaml"

func TestMalformedExceptionsFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "ex.yaml")
	os.WriteFile(bad, []byte(strings.Replace(acceptDebugger, "owner: sre@example.com", "ownr: sre@example.com", 1)), 0o644)
	code, out, errOut := run(t, "", "-f", demo, "--exceptions", bad, "--check", "psa/privileged")
	if code != 1 || out != "" || errOut != "error: "+bad+":7: exceptions[0].ownr: unknown field (want check, resource, subject, reason, owner, expires)\n" {
		t.Errorf("exit %d out %q err %q", code, out, errOut)
	}
	code, _, errOut = run(t, "", "-f", demo, "--exceptions", filepath.Join(dir, "missing.yaml"))
	if code != 1 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing file: exit %d err %q", code, errOut)
	}
}

func TestBaselineAndDiff(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	code, out, errOut := run(t, "", "-f", demo, "-o", "json")
	if code != 0 {
		t.Fatal(errOut)
	}
	os.WriteFile(base, []byte(out), 0o644)
	if code, out, _ := run(t, "", "-f", demo, "--fail-on", "low", "--allow-skipped", "-o", "name"); code != 2 || out == "" {
		t.Fatalf("without a baseline: exit %d", code)
	}
	// A baseline of the same report: nothing new, nothing to fail on.
	code, out, errOut = run(t, "", "-f", demo, "--fail-on", "low", "--allow-skipped", "--baseline", base)
	if code != 0 || !strings.Contains(out, "No new findings since the baseline") || !strings.Contains(out, "BASELINE "+base+": 0 new") {
		t.Errorf("baseline of the same report: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "", "diff", base, base, "--fail-on", "low", "--allow-skipped", "-o", "json")
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("diff: exit %d: %v", code, err)
	}
	if r.Summary.Baseline == nil || r.Summary.Baseline.New.Total() != 0 || r.Summary.Baseline.Unchanged != len(r.Items) || len(r.Fixed) != 0 {
		t.Errorf("diff of a report with itself: %+v", r.Summary.Baseline)
	}
	// diff prints every format an audit prints, and rejects what an audit rejects.
	for _, format := range []string{"jsonpath={.summary.baseline.unchanged}", "patch", "dot", "html", "policyreport", "sarif"} {
		if code, out, errOut := run(t, "", "diff", base, base, "-o", format); code != 0 || out == "" {
			t.Errorf("diff -o %s: exit %d %q", format, code, errOut)
		}
	}
	if code, _, errOut := run(t, "", "diff", base, base, "-o", "bogus"); code != 1 || !strings.Contains(errOut, "unknown output format") {
		t.Errorf("diff -o bogus: exit %d %q", code, errOut)
	}
	// The workload checks only now: the other findings of the baseline are not called fixed.
	code, out, _ = run(t, "", "-f", demo, "--check", "workload/", "--baseline", base, "-o", "json")
	r = finding.Report{}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	if r.Summary.Baseline.Fixed != 0 || r.Summary.Baseline.New.Total() != 0 {
		t.Errorf("checks that did not run fixed findings: %+v", r.Summary.Baseline)
	}
	for _, c := range []struct{ args []string }{
		{[]string{"--baseline", filepath.Join(dir, "none.json")}},
		{[]string{"--baseline", filepath.Join(demo, "00-namespaces.yaml")}},
	} {
		if code, _, errOut := run(t, "", append([]string{"-f", demo}, c.args...)...); code != 1 || !strings.Contains(errOut, "--baseline") {
			t.Errorf("%v: exit %d err %q", c.args, code, errOut)
		}
	}
}

// The findings about exceptions are registered: a stale entry is reported
// with the registry's controls, --skip-check leaves it out, --check of it is
// refused (nothing runs for it), and an entry cannot accept it.
func TestFindingsAboutExceptionsAreRegistered(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.yaml")
	os.WriteFile(stale, []byte(strings.Replace(acceptDebugger, "name: node-*", "name: gone-*", 1)), 0o644)
	args := []string{"-f", demo, "--check", "psa/privileged", "--exceptions", stale}
	code, out, errOut := run(t, "", append(args, "-o", "json")...)
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d: %v %s", code, err, errOut)
	}
	var got *finding.Finding
	for i := range r.Items {
		if r.Items[i].Check == "exceptions/stale" {
			got = &r.Items[i]
		}
	}
	if got == nil || len(got.Controls) == 0 {
		t.Fatalf("no exceptions/stale finding with controls: %+v", r.Items)
	}
	if r.Summary.Checks != 1 {
		t.Errorf("%d checks ran, want psa/privileged only", r.Summary.Checks)
	}
	if code, out, _ := run(t, "", append(args, "--skip-check", "exceptions/stale", "-o", "name")...); code != 0 || strings.Contains(out, "exceptions/stale") {
		t.Errorf("--skip-check exceptions/stale: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "", "-f", demo, "--check", "exceptions/stale"); code != 1 || !strings.Contains(errOut, "--skip-check exceptions/stale") {
		t.Errorf("--check exceptions/stale: exit %d %q", code, errOut)
	}
	accepting := filepath.Join(dir, "accepting.yaml")
	os.WriteFile(accepting, []byte(strings.Replace(acceptDebugger, "check: psa/", "check: exceptions/stale", 1)), 0o644)
	if code, _, errOut := run(t, "", "-f", demo, "--exceptions", accepting); code != 1 || !strings.Contains(errOut, `unknown check "exceptions/stale"`) {
		t.Errorf("an entry accepting exceptions/stale: exit %d %q", code, errOut)
	}
}

// SARIF rules carry the controls of the benchmark the audit applied, as its
// findings do: psa/host-path is CIS 5.2.12 before v1.12 and 5.2.11 since.
func TestSARIFRulesUseTheAppliedBenchmark(t *testing.T) {
	for benchmark, want := range map[string]string{"cis-1.9": "5.2.12", "cis-2.0": "5.2.11"} {
		code, out, errOut := run(t, "", "-f", demo, "--benchmark", benchmark, "-o", "sarif")
		if code != 0 {
			t.Fatalf("%s: exit %d %s", benchmark, code, errOut)
		}
		var log struct {
			Runs []struct {
				Tool struct {
					Driver struct {
						Rules []struct {
							ID            string `json:"id"`
							Relationships []struct {
								Target struct {
									ID string `json:"id"`
								} `json:"target"`
							} `json:"relationships"`
						} `json:"rules"`
					} `json:"driver"`
				} `json:"tool"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil || len(log.Runs) != 1 {
			t.Fatalf("%s: %v", benchmark, err)
		}
		var got []string
		for _, r := range log.Runs[0].Tool.Driver.Rules {
			if r.ID == "psa/host-path" {
				for _, rel := range r.Relationships {
					got = append(got, rel.Target.ID)
				}
			}
		}
		if !slices.Contains(got, want) {
			t.Errorf("%s: psa/host-path rule relates to %v, want %s", benchmark, got, want)
		}
	}
}
