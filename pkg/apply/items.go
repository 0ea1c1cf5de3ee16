package apply

import (
	"slices"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Item is one change to review, with the findings it fixes. Several findings
// often share one change (every subject of one cluster-admin binding, every
// pod of one namespace): it is shown and applied once.
type Item struct {
	Check    string
	Severity finding.Severity
	Title    string
	// Why is the check's description: why the finding matters.
	Why      string
	Findings []finding.Finding
	Change   remedy.Change
	// Alternative is n when the change belongs to the findings' n-th
	// alternative remediation, to be made instead of their own changes (the
	// items after it), and 0 for those. The session asks about an
	// alternative even under [a]ll, and --yes leaves it out.
	Alternative int
	// Summary is the alternative's summary: what it does instead.
	Summary string
	// Revised names the change after which the session re-planned this item
	// (its findings or its change are not what the audit first said); 0 when
	// it is as planned.
	Revised int
}

// Items turns findings into the changes to review, most severe first (the
// order of the findings), one Item per distinct change; an alternative comes
// before the changes it would replace (finding.GroupChoices). why returns a
// check's description; it may be nil.
func Items(findings []finding.Finding, why func(check string) string) []Item {
	var out []Item
	for _, g := range finding.GroupChoices(findings) {
		first := g.Findings[0]
		it := Item{Check: first.Check, Severity: first.Severity, Title: first.Title, Findings: g.Findings, Change: g.Change,
			Alternative: g.Alternative, Summary: g.Summary}
		if why != nil {
			it.Why = why(first.Check)
		}
		out = append(out, it)
	}
	return out
}

// findingKey identifies a finding across re-runs of its check: the message
// may change (a count, a path), the check, the object and the subject do not.
func findingKey(f finding.Finding) string {
	k := f.Check + " " + f.Resource.APIVersion + "/" + f.Resource.Kind + " " + f.Resource.Namespace + "/" + f.Resource.Name
	if f.Subject != nil {
		k += " " + f.Subject.Kind + " " + f.Subject.Namespace + "/" + f.Subject.Name
	}
	return k
}

// Revision is what re-planning did to one item still to review.
type Revision struct {
	// Index is the item's place in the items given to replan.
	Index int
	Item  Item
	// Dropped: every finding it fixed is gone.
	Dropped bool
}

// replan revises the items still to review after change number n (of the
// item applied) landed. checks are the checks the change can affect and
// found what they report now. An item none of whose findings is reported any
// more is dropped ("resolved by change n"); one whose findings are still
// there takes their current messages and the change they propose now, which
// may differ. Items of other checks stay as they are, and so do the other
// changes of the applied change's own findings: a remedy of several changes
// (a DNS allow, then the default deny) is a whole even when its first change
// already silences the finding. Only the changes of the same remedy are
// such a whole: once an alternative is applied, the changes it replaces are
// judged again like any other, and so is an alternative once a change of the
// findings' own remedy is. A change another item still to review already
// proposes is not proposed twice.
func replan(todo []Item, n int, applied Item, checks []string, found []finding.Finding) (out []Item, revised []Revision) {
	sibling := map[string]bool{}
	for _, f := range applied.Findings {
		sibling[findingKey(f)] = true
	}
	now := map[string]finding.Finding{}
	for _, f := range found {
		now[findingKey(f)] = f
	}
	fresh := Items(found, nil)
	// proposes: the first item of fresh of each finding and remedy (0 its
	// own, n its n-th alternative), by finding key and remedy; still: every
	// change fresh proposes for them.
	type proposal struct {
		finding     string
		alternative int
	}
	proposes := map[proposal]int{}
	still := map[proposal]map[string]bool{}
	for i, it := range fresh {
		for _, f := range it.Findings {
			k := proposal{findingKey(f), it.Alternative}
			if _, ok := proposes[k]; !ok {
				proposes[k] = i
				still[k] = map[string]bool{}
			}
			still[k][it.Change.Key()] = true
		}
	}
	seen := map[string]bool{}
	for j, it := range todo {
		touched := false
		var kept []finding.Finding
		for _, f := range it.Findings {
			if !slices.Contains(checks, f.Check) {
				kept = append(kept, f)
				continue
			}
			touched = true
			if cur, ok := now[findingKey(f)]; ok {
				kept = append(kept, cur)
			}
		}
		if !touched || it.Alternative == applied.Alternative && slices.ContainsFunc(it.Findings, func(f finding.Finding) bool { return sibling[findingKey(f)] }) {
			seen[it.Change.Key()] = true
			out = append(out, it)
			continue
		}
		rev := it
		rev.Findings = kept
		if len(kept) == 0 {
			revised = append(revised, Revision{Index: j, Item: it, Dropped: true})
			out = append(out, Item{}) // a hole keeps the numbering; Run skips it
			continue
		}
		// A change the first finding still reported no longer proposes gives
		// way to the first it now proposes, by the same remedy; one it still
		// proposes stays (the second change of a remedy of two is not the first).
		k := proposal{findingKey(kept[0]), it.Alternative}
		if i, ok := proposes[k]; ok && !still[k][it.Change.Key()] {
			rev.Change, rev.Summary = fresh[i].Change, fresh[i].Summary
		}
		if seen[rev.Change.Key()] {
			revised = append(revised, Revision{Index: j, Item: it, Dropped: true})
			out = append(out, Item{})
			continue
		}
		seen[rev.Change.Key()] = true
		if rev.Change.Key() != it.Change.Key() || !sameFindings(rev.Findings, it.Findings) {
			rev.Revised = n
			revised = append(revised, Revision{Index: j, Item: rev})
		}
		out = append(out, rev)
	}
	return out, revised
}

func sameFindings(a, b []finding.Finding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if findingKey(a[i]) != findingKey(b[i]) || a[i].Message != b[i].Message {
			return false
		}
	}
	return true
}

// dropped reports whether an item is the hole replan leaves for a dropped one.
func (it Item) dropped() bool { return it.Check == "" && len(it.Findings) == 0 }
