// Package all assembles the registry of every domain's checks.
package all

import (
	"slices"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/cluster"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/workload"
	"github.com/kubectl-harden/kubectl-harden/pkg/controls"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Registry returns every registered check (and the findings about
// exceptions the audit engine reports), each with the controls the
// catalogues map it to at the newest CIS benchmark (an audit maps its
// findings again at the benchmark it applies).
func Registry() (*checks.Registry, error) {
	lib, err := controls.Load()
	if err != nil {
		return nil, err
	}
	m := lib.Mapping(lib.Newest())
	groups := [][]checks.Check{rbac.Checks(), netpol.Checks(), psa.Checks(), workload.Checks(), cluster.Checks(), exceptionChecks()}
	for _, g := range groups {
		for i := range g {
			g[i].Controls = m.CheckControls(g[i].ID)
		}
	}
	return checks.NewRegistry(groups...)
}

// Coverage returns the domains' summary tables (NetworkPolicy isolation, PSA
// levels per namespace) for the report, for the domains asked (all when empty).
func Coverage(inv *inventory.Inventory, domains []string) []finding.Coverage {
	var out []finding.Coverage
	for _, c := range coverages() {
		if wanted(domains, c.domain) && checks.MissingReason(inv, c.needs) == "" {
			out = append(out, finding.Coverage{Domain: c.domain, Data: c.compute(inv)})
		}
	}
	return out
}

// Run runs the checks and takes the coverage summaries of the domains asked
// (all when empty), as checks.Run and then Coverage do. With release it runs
// one domain at a time and forgets each domain's analyses as soon as its
// checks have returned and its summary is taken, and the inventory's shared
// ones (its pod specs) at the end: a big cluster's analyses are never all held
// at once, and the inventory keeps none afterwards (a later Analyze computes
// them again, so a caller that reads an analysis after the audit asks for no
// release). The result and the summaries are the same either way. released,
// when not nil, is called after each domain's analyses are forgotten.
func Run(inv *inventory.Inventory, cs []checks.Check, domains []string, release bool, released func(domain string)) (checks.Result, []finding.Coverage) {
	if !release {
		return checks.Run(inv, cs), Coverage(inv, domains)
	}
	taken := map[string]finding.CoverageDocument{}
	take := func(domain string) {
		for _, c := range coverages() {
			if c.domain == domain && wanted(domains, domain) && checks.MissingReason(inv, c.needs) == "" {
				taken[domain] = c.compute(inv)
			}
		}
	}
	order := checks.DomainsOf(cs)
	res := checks.RunByDomain(inv, cs, func(domain string) {
		take(domain)
		inv.Forget(domain)
		if domain == order[len(order)-1] {
			// The shared analyses (pod specs) too, before the findings
			// are gathered into one list.
			inv.Forget("inventory")
		}
		if released != nil {
			released(domain)
		}
	})
	var out []finding.Coverage
	for _, c := range coverages() {
		doc, ok := taken[c.domain]
		if !ok && wanted(domains, c.domain) && checks.MissingReason(inv, c.needs) == "" {
			doc, ok = c.compute(inv), true // no check of the domain ran
			inv.Forget(c.domain)
		}
		if ok {
			out = append(out, finding.Coverage{Domain: c.domain, Data: doc})
		}
	}
	inv.ResetMemo()
	return res, out
}

// CoverageNeeds returns the kinds the coverage summaries of the domains read.
func CoverageNeeds(domains []string) []inventory.Kind {
	var out []inventory.Kind
	for _, c := range coverages() {
		if wanted(domains, c.domain) {
			out = append(out, c.needs...)
		}
	}
	return out
}

type coverage struct {
	domain  string
	needs   []inventory.Kind
	compute func(*inventory.Inventory) finding.CoverageDocument
}

// coverages lists each domain's summary, one line per domain.
func coverages() []coverage {
	return []coverage{
		{domain: "netpol", needs: netpol.CoverageNeeds(), compute: func(inv *inventory.Inventory) finding.CoverageDocument { return netpol.ComputeCoverage(inv) }},
		{domain: "psa", needs: psa.Needs(), compute: func(inv *inventory.Inventory) finding.CoverageDocument { return psa.ComputeCoverage(inv) }},
		{domain: cluster.Domain, needs: cluster.KubeletCoverageNeeds(), compute: func(inv *inventory.Inventory) finding.CoverageDocument { return cluster.KubeletCoverage(inv) }},
	}
}

func wanted(domains []string, d string) bool {
	return len(domains) == 0 || slices.Contains(domains, d)
}
