package controls

import (
	"slices"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Results is what an audit's checks did, as the scorecard needs it.
type Results struct {
	// Ran are the checks that ran and saw what they judge.
	Ran map[string]bool
	// NotRun says why a check did not run or could not see (skipped, not
	// applicable, unknown, not selected); a check in neither map did not run.
	NotRun   map[string]string
	Findings []finding.Finding
}

// Score judges the catalogue's controls. A control passes only when every
// check that evidences it ran and found nothing; one whose check did not run
// or could not see is unknown, and one no check evidences is unknown or manual.
func Score(c *Catalogue, res Results) *finding.Scorecard {
	sc := &finding.Scorecard{Framework: c.Framework, Catalogue: c.ID(), Title: c.Title,
		Summary: finding.ControlCounts{Score: -1}, Sections: []finding.SectionScore{}, Results: []finding.ControlResult{}}
	byCheck := map[string][]*finding.Finding{}
	for i := range res.Findings {
		f := &res.Findings[i]
		byCheck[f.Check] = append(byCheck[f.Check], f)
	}
	for _, s := range c.Sections {
		sec := finding.SectionScore{ID: s.ID, Title: s.Title, ControlCounts: finding.ControlCounts{Score: -1}}
		for _, ctl := range s.Controls {
			r := finding.ControlResult{ID: c.Ref(ctl), Section: s.ID, Title: ctl.Title, Assessment: ctl.Assessment, Level: ctl.Level}
			if len(ctl.Checks) == 0 {
				r.Status, r.Reason = finding.ControlUnknown, ctl.Unseen
				if ctl.Assessment == "manual" {
					r.Status = finding.ControlManual
				}
			} else {
				r.Status = finding.ControlPass
				for _, e := range ctl.Checks {
					ev := judge(ParseEvidence(e), res, byCheck)
					r.Evidence = append(r.Evidence, ev)
					switch {
					case ev.Status == finding.ControlFail:
						r.Status = finding.ControlFail
					case ev.Status == finding.ControlUnknown && r.Status == finding.ControlPass:
						r.Status = finding.ControlUnknown
						r.Reason = ev.Reason
					}
				}
				if r.Status != finding.ControlUnknown {
					r.Reason = ""
				}
			}
			sec.Add(r.Status)
			sc.Summary.Add(r.Status)
			sc.Results = append(sc.Results, r)
		}
		sc.Sections = append(sc.Sections, sec)
	}
	return sc
}

func judge(e Evidence, res Results, byCheck map[string][]*finding.Finding) finding.ControlEvidence {
	ev := finding.ControlEvidence{Check: e.Check, Facet: e.Facet}
	if !res.Ran[e.Check] {
		ev.Status, ev.Reason = finding.ControlUnknown, res.NotRun[e.Check]
		if ev.Reason == "" {
			ev.Reason = "not run"
		}
		ev.Reason = e.Check + ": " + ev.Reason
		return ev
	}
	ev.Status = finding.ControlPass
	for _, f := range byCheck[e.Check] {
		if e.Facet != "" && slices.Contains(f.Facets, finding.UnknownFacet(e.Facet)) {
			if ev.Status == finding.ControlPass {
				ev.Status, ev.Reason = finding.ControlUnknown, e.Check+": "+f.Message
			}
			continue
		}
		if e.Facet != "" && !slices.Contains(f.Facets, e.Facet) {
			continue
		}
		if f.Severity <= finding.Info {
			continue // facts worth knowing, not failures (as in the summary's score)
		}
		if f.Accepted != nil {
			ev.Accepted++
			continue
		}
		ev.Status, ev.Reason = finding.ControlFail, ""
		ev.Findings = append(ev.Findings, finding.ControlFinding{Severity: f.Severity, Resource: f.Resource.String(), Message: f.Message})
	}
	return ev
}
