package all

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/controls"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// catalogueViolations lists what is wrong between the catalogues and the
// registry: evidence naming a check or facet that does not exist, an
// automated control that no check evidences and that does not say why, and a
// check that evidences no control of some framework at all.
func catalogueViolations(lib *controls.Library, reg *checks.Registry) []string {
	var out []string
	mapped := map[string]bool{}
	for _, c := range lib.All() {
		for _, s := range c.Sections {
			for _, ctl := range s.Controls {
				where := c.ID() + " " + ctl.ID
				if len(ctl.Checks) == 0 && ctl.Assessment == "automated" && ctl.Unseen == "" {
					out = append(out, where+": automated, but no check evidences it and unseen does not say why")
				}
				if len(ctl.Checks) > 0 && ctl.Unseen != "" {
					out = append(out, where+": has checks and says it is unseen")
				}
				for _, e := range ctl.Checks {
					ev := controls.ParseEvidence(e)
					chk, ok := reg.Get(ev.Check)
					if !ok {
						out = append(out, where+": no check "+ev.Check)
						continue
					}
					if ev.Facet != "" && !slices.Contains(chk.Facets, ev.Facet) {
						out = append(out, where+": check "+ev.Check+" declares no facet "+ev.Facet)
					}
					mapped[ev.Check] = true
				}
			}
		}
	}
	for _, chk := range reg.All() {
		if !mapped[chk.ID] {
			out = append(out, chk.ID+": no catalogue control lists it")
		}
	}
	return out
}

func TestCataloguesAgreeWithRegistry(t *testing.T) {
	lib, err := controls.Load()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range catalogueViolations(lib, reg) {
		t.Error(v)
	}
}

// The catalogue test fails for evidence naming an unknown check or facet, for
// an automated control with neither checks nor a reason, and for a check no
// control lists.
func TestCatalogueViolationsCatchMistakes(t *testing.T) {
	none := func(*inventory.Inventory) []finding.Finding { return nil }
	reg, err := checks.NewRegistry([]checks.Check{
		{ID: "rbac/one", Domain: "rbac", Facets: []string{"a"}, Run: none},
		{ID: "rbac/unlisted", Domain: "rbac", Run: none},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := controls.Parse("cis-9.9.yaml", []byte(`
framework: cis
version: "9.9"
title: test
prefix: CIS-
sections:
- id: "1"
  title: one
  controls:
  - {id: "1.1", title: ok, assessment: automated, checks: [rbac/one, "rbac/one:a"]}
  - {id: "1.2", title: typo, assessment: automated, checks: [rbac/onee]}
  - {id: "1.3", title: facet, assessment: automated, checks: ["rbac/one:b"]}
  - {id: "1.4", title: bare, assessment: automated}
  - {id: "1.5", title: manual, assessment: manual}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(catalogueViolations(controls.NewLibrary(c), reg), "\n")
	for _, want := range []string{"1.2: no check rbac/onee", "1.3: check rbac/one declares no facet b", "1.4: automated, but no check", "rbac/unlisted: no catalogue control lists it"} {
		if !strings.Contains(got, want) {
			t.Errorf("violations miss %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"1.1", "1.5"} {
		if strings.Contains(got, "cis-9.9 "+not+":") {
			t.Errorf("a good control %s is reported:\n%s", not, got)
		}
	}
}
