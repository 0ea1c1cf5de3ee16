package all

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
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
	if len(c.Needs) == 0 {
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
		if !fired[c.ID] && !liveOnly[c.ID] {
			t.Errorf("%s fires on no fixture: add one that fails it", c.ID)
		}
	}
}

// liveOnly checks read what only a live server shows; their e2e tests make them fire.
var liveOnly = map[string]bool{"cluster/anonymous-access": true, "cluster/control-plane-not-visible": true,
	"cluster/apiserver-certificate-expiry": true, "cluster/client-certificate-expiry": true}
