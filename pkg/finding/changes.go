package finding

import "github.com/kubectl-harden/kubectl-harden/pkg/remedy"

// ChangeGroup is one distinct remediation change and the findings that
// propose it. Several findings often share one change (every subject of one
// cluster-admin binding, every pod of one namespace): the patch stream prints
// it once and the fix session reviews it once.
type ChangeGroup struct {
	Change   remedy.Change
	Findings []Finding
}

// GroupChanges returns the distinct changes of the findings' remediations,
// in the order they first appear, each with the findings that propose it.
func GroupChanges(findings []Finding) []ChangeGroup {
	var out []ChangeGroup
	index := map[string]int{}
	for _, f := range findings {
		if f.Remediation == nil {
			continue
		}
		for _, ch := range f.Remediation.Changes {
			k := ch.Key()
			if i, ok := index[k]; ok {
				out[i].Findings = append(out[i].Findings, f)
				continue
			}
			index[k] = len(out)
			out = append(out, ChangeGroup{Change: ch, Findings: []Finding{f}})
		}
	}
	return out
}
