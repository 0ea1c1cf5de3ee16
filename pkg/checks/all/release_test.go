package all

import (
	"fmt"
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Running one domain at a time and forgetting each domain's analyses gives
// the same findings and the same coverage as running
// every check at once, on every fixture; afterwards the inventory keeps no
// analysis (asking again computes a new one).
func TestReleaseKeepsTheResult(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, dir := range fixtureDirs(t) {
		held, err := inventory.FromFiles([]string{dir}, nil)
		if err != nil {
			continue // fixtures of malformed input
		}
		released, err := inventory.FromFiles([]string{dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var before, heldBefore *psa.Analysis
		if released.Has(inventory.Namespaces) {
			before, heldBefore = psa.Analyze(released), psa.Analyze(held)
		}
		want, wantCov := Run(held, reg.All(), nil, false, nil)
		var told []string
		got, gotCov := Run(released, reg.All(), nil, true, func(d string) { told = append(told, d) })
		if order := checks.DomainsOf(reg.All()); !slices.Equal(told, order) {
			t.Errorf("%s: released told of %v, want each domain once, in the order run: %v", dir, told, order)
		}
		// A check's findings come in map order; the report sorts them.
		finding.Sort(want.Findings)
		finding.Sort(got.Findings)
		if a, b := checktest.JSON(t, want), checktest.JSON(t, got); a != b {
			t.Errorf("%s: the result differs when the analyses are released: %s", dir, firstDifference(t, want, got))
		}
		if a, b := checktest.JSON(t, wantCov), checktest.JSON(t, gotCov); a != b {
			t.Errorf("%s: the coverage differs when the analyses are released:\n%s\nvs\n%s", dir, a, b)
		}
		if before != nil && (psa.Analyze(released) == before || psa.Analyze(held) != heldBefore) {
			t.Errorf("%s: the released inventory still holds the analysis the checks used, or the other one lost it", dir)
		}
		compared++
	}
	if compared < 10 {
		t.Fatalf("only %d fixtures compared", compared)
	}
}

// The coverage of a domain none of whose checks run is still taken.
func TestReleaseTakesCoverageOfDomainsWithoutChecks(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	var rbacOnly []checks.Check
	for _, c := range reg.All() {
		if c.Domain == "rbac" {
			rbacOnly = append(rbacOnly, c)
		}
	}
	covered := 0
	for _, dir := range fixtureDirs(t) {
		a, err := inventory.FromFiles([]string{dir}, nil)
		if err != nil {
			continue
		}
		b, _ := inventory.FromFiles([]string{dir}, nil)
		_, want := Run(a, rbacOnly, nil, false, nil)
		_, got := Run(b, rbacOnly, nil, true, nil)
		if x, y := checktest.JSON(t, want), checktest.JSON(t, got); x != y {
			t.Errorf("%s: coverage %s, released %s", dir, x, y)
		}
		if len(got) > 0 {
			covered++
		}
	}
	if covered == 0 {
		t.Fatal("no fixture gave a coverage summary: the comparison is empty")
	}
}

// firstDifference names the first part of two results that differs.
func firstDifference(t *testing.T, a, b checks.Result) string {
	t.Helper()
	for _, part := range []struct {
		name string
		x, y any
	}{{"ran", a.Ran, b.Ran}, {"skipped", a.Skipped, b.Skipped}, {"not applicable", a.NotApplicable, b.NotApplicable}, {"unknown", a.Unknown, b.Unknown}} {
		if x, y := checktest.JSON(t, part.x), checktest.JSON(t, part.y); x != y {
			return part.name + ": " + x + " vs " + y
		}
	}
	if len(a.Findings) != len(b.Findings) {
		return fmt.Sprintf("%d findings vs %d", len(a.Findings), len(b.Findings))
	}
	for i := range a.Findings {
		if x, y := checktest.JSON(t, a.Findings[i]), checktest.JSON(t, b.Findings[i]); x != y {
			return fmt.Sprintf("finding %d: %s vs %s", i, x, y)
		}
	}
	return "nothing"
}
