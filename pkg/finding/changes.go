package finding

import "github.com/kubectl-harden/kubectl-harden/pkg/remedy"

// ChangeGroup is one distinct remediation change and the findings that
// propose it. Several findings often share one change (every subject of one
// cluster-admin binding, every pod of one namespace): the patch stream prints
// it once and the fix session reviews it once.
type ChangeGroup struct {
	Change   remedy.Change
	Findings []Finding
	// Alternative is 0 for a change of the findings' remediations, and n for
	// a change of their n-th alternative (remedy.Remediation.Alternatives),
	// made only instead of those.
	Alternative int
	// Summary is the alternative remediation's summary; empty for Alternative 0.
	Summary string
}

// GroupChanges returns the distinct changes of the findings' remediations,
// in the order they first appear, each with the findings that propose it.
// Alternatives are left out: this is the plan a script applies.
func GroupChanges(findings []Finding) []ChangeGroup {
	var out []ChangeGroup
	for _, g := range GroupChoices(findings) {
		if g.Alternative == 0 {
			out = append(out, g)
		}
	}
	return out
}

// GroupChoices is GroupChanges with the alternatives, in the order a person
// reviews them: each alternative change comes where it is first offered,
// before the changes of the finding that offers it, so that the choice is
// made before the changes it would replace.
func GroupChoices(findings []Finding) []ChangeGroup {
	var out []ChangeGroup
	type key struct {
		alternative int
		change      string
	}
	index := map[key]int{}
	add := func(f Finding, ch remedy.Change, alternative int, summary string) {
		k := key{alternative, ch.Key()}
		if i, ok := index[k]; ok {
			out[i].Findings = append(out[i].Findings, f)
			return
		}
		index[k] = len(out)
		out = append(out, ChangeGroup{Change: ch, Findings: []Finding{f}, Alternative: alternative, Summary: summary})
	}
	for _, f := range findings {
		if f.Remediation == nil {
			continue
		}
		for i, alt := range f.Remediation.Alternatives {
			for _, ch := range alt.Changes {
				add(f, ch, i+1, alt.Summary)
			}
		}
		for _, ch := range f.Remediation.Changes {
			add(f, ch, 0, "")
		}
	}
	return out
}
