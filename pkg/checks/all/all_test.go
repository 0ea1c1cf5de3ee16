package all

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

var idShape = regexp.MustCompile(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`)

// contractViolations lists what a check's declaration lacks; the registry
// contract is that every check says what it is, why, how to fix it, what it
// maps to and what it reads.
func contractViolations(c checks.Check) []string {
	var out []string
	if !idShape.MatchString(c.ID) || !strings.HasPrefix(c.ID, c.Domain+"/") {
		out = append(out, "ID must be DOMAIN/lower-case-words")
	}
	for field, v := range map[string]string{"Title": c.Title, "Description": c.Description, "Remediation": c.Remediation} {
		if strings.TrimSpace(v) == "" {
			out = append(out, field+" is empty")
		}
	}
	if len(c.Controls) == 0 {
		out = append(out, "Controls is empty (no control catalogue in pkg/controls lists the check)")
	}
	// A Reported check (the findings about exceptions) reads no inventory:
	// the audit engine reports it about its own input. It must not run.
	switch {
	case c.Reported && (len(c.Needs) > 0 || c.Run != nil):
		out = append(out, "a Reported check has neither Needs nor Run")
	case !c.Reported && len(c.Needs) == 0:
		out = append(out, "Needs is empty")
	}
	if c.Severity == 0 {
		out = append(out, "Severity is unset")
	}
	if lo, hi := c.Severities(); lo > c.Severity || hi < c.Severity {
		out = append(out, "Range does not contain Severity")
	}
	return out
}

func TestRegistryContract(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range reg.All() {
		for _, v := range contractViolations(c) {
			t.Errorf("%s: %s", c.ID, v)
		}
	}
}

// The contract test must fail for an incomplete check.
func TestRegistryContractCatchesIncompleteCheck(t *testing.T) {
	bad := checks.Check{ID: "workload/Bad_Name", Domain: "workload", Title: "t"}
	got := strings.Join(contractViolations(bad), "; ")
	for _, want := range []string{"ID must be", "Description is empty", "Remediation is empty", "Controls is empty", "Needs is empty", "Severity is unset"} {
		if !strings.Contains(got, want) {
			t.Errorf("violations %q miss %q", got, want)
		}
	}
}

// fixtureDirs are every fixture the domain tests and the e2e tests read.
func fixtureDirs(t *testing.T) []string {
	var dirs []string
	for _, glob := range []string{"../*/testdata", "../*/testdata/*", "../../../test/testdata/*", "../../../test/testdata/*/*"} {
		ms, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				dirs = append(dirs, m)
			}
		}
	}
	return dirs
}

// Every check's findings stay within the severities it declares (what
// 'kubectl harden checks' shows, so --fail-on is predictable), and every
// check fires on at least one fixture, so none is a check that cannot fail.
func TestEveryCheckFiresWithinItsSeverities(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	fired := map[string]bool{}
	for _, dir := range fixtureDirs(t) {
		inv, err := inventory.FromFiles([]string{dir}, nil)
		if err != nil {
			continue // fixtures of malformed input
		}
		res := checks.Run(inv, reg.All())
		for _, f := range res.Findings {
			c, ok := reg.Get(f.Check)
			if !ok {
				t.Errorf("%s: finding of unknown check %s", dir, f.Check)
				continue
			}
			fired[c.ID] = true
			if lo, hi := c.Severities(); f.Severity < lo || f.Severity > hi {
				t.Errorf("%s: %s reported %s, outside its declared %s..%s: %s", dir, c.ID, f.Severity, lo, hi, f.Message)
			}
		}
	}
	for _, c := range reg.All() {
		// Reported checks fire in TestReportedChecksAreWhatTheEngineReports.
		if !fired[c.ID] && !liveOnly[c.ID] && !c.Reported {
			t.Errorf("%s fires on no fixture: add one that fails it", c.ID)
		}
	}
}

// liveOnly checks read what only a live server shows; their e2e tests make
// them fire (the kubelet check's fixtures are /configz bodies, *.configz in
// pkg/checks/cluster/testdata/kubelet, and its e2e test runs a real kubelet).
var liveOnly = map[string]bool{"cluster/anonymous-access": true, "cluster/control-plane-not-visible": true,
	"cluster/apiserver-certificate-expiry": true, "cluster/client-certificate-expiry": true, "cluster/kubelet-config": true}

// The exception to "every check fires on a fixture": the Reported checks
// (findings about exceptions) have nothing to run on a fixture. Their
// contract is that pkg/exceptions makes exactly them, within their
// severities and under their titles, and that no check runs for them.
func TestReportedChecksAreWhatTheEngineReports(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	entry := func(check, expires string, line int) exceptions.Entry {
		e := exceptions.Entry{Check: check, Reason: "r", Owner: "o", Expires: expires, Source: &finding.Source{File: "x.yaml", Line: line}}
		if err := e.Validate(exceptions.Options{}); err != nil {
			t.Fatal(err)
		}
		return e
	}
	pod := finding.Resource{APIVersion: "v1", Kind: "Pod", Namespace: "a", Name: "p"}
	about := exceptions.Apply([]exceptions.Entry{entry("psa/privileged", "2026-01-01", 4), entry("workload/", "2099-01-01", 9)},
		[]finding.Finding{{Check: "psa/privileged", Resource: pod}}, exceptions.Env{Now: now, Ran: []string{"psa/privileged", "workload/no-resource-limits"}})
	about = append(about, exceptions.InvalidAnnotation(pod, nil, errors.New("line 1: owner: required")))
	// rbac narrow's findings, from its own fixture.
	inv, err := inventory.FromFiles([]string{"../rbac/testdata/narrow/rbac.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	log, err := inventory.ReadAuditLogs([]string{"../rbac/testdata/narrow/audit-app.jsonl"}, nil, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rbac.Narrow(inv, log, rbac.NarrowOptions{}) {
		if n.Finding != nil {
			about = append(about, *n.Finding)
		}
	}
	made := map[string]bool{}
	for _, f := range about {
		c, ok := reg.Get(f.Check)
		if !ok || !c.Reported {
			t.Errorf("%s: not registered as a Reported check", f.Check)
			continue
		}
		made[f.Check] = true
		if lo, hi := c.Severities(); f.Severity < lo || f.Severity > hi {
			t.Errorf("%s reported %s, outside its declared %s..%s", f.Check, f.Severity, lo, hi)
		}
		if f.Title != c.Title {
			t.Errorf("%s: finding title %q, registry title %q", f.Check, f.Title, c.Title)
		}
	}
	var reported []string
	for _, c := range reg.All() {
		if c.Reported {
			reported = append(reported, c.ID)
			if !made[c.ID] {
				t.Errorf("%s is registered but neither pkg/exceptions nor rbac narrow made such a finding", c.ID)
			}
		}
	}
	if len(reported) == 0 {
		t.Fatal("no Reported check registered")
	}
	if sel, err := reg.Select(nil, finding.Filter{}); err != nil || slices.ContainsFunc(sel, func(c checks.Check) bool { return c.Reported }) {
		t.Errorf("Select chose a Reported check to run: %v", err)
	}
	if slices.Contains(reg.Domains(), "exceptions") {
		t.Errorf("domains %v: exceptions is no domain to audit or fix", reg.Domains())
	}
	if _, err := reg.Select(nil, finding.Filter{Checks: []string{reported[0]}}); err == nil || !strings.Contains(err.Error(), "--skip-check") {
		t.Errorf("--check %s: %v", reported[0], err)
	}
	if _, err := reg.Select(nil, finding.Filter{SkipChecks: reported}); err != nil {
		t.Errorf("--skip-check of the Reported checks: %v", err)
	}
}
