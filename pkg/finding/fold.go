package finding

import (
	"encoding/json"
	"slices"
)

// Covered is a finding written inside another finding about the same
// object, whose evidence already names it: what is its own (check,
// severity, title, message, controls) and nothing the host repeats.
type Covered struct {
	Check    string    `json:"check"`
	Severity Severity  `json:"severity"`
	Title    string    `json:"title"`
	Message  string    `json:"message"`
	Controls []Control `json:"controls,omitempty"`
}

// Fold returns the findings as the report document writes them: a finding
// of a check another finding about the same object summarizes (the
// per-violation Pod Security findings of a workload, which its
// psa/restricted-blocker finding lists) goes into that finding's covers
// instead of being an item of its own. Only findings in the same state fold
// (neither accepted by an exception, the same baseline state, no subject),
// so what an exception or a baseline says about one stays visible. The
// summary, the score and every other output count and list each finding
// as before; Unfold restores the list from a document.
func Fold(items []Finding) []Finding {
	type key struct {
		r     Resource
		state string
	}
	hosts := map[key]int{}
	for i, f := range items {
		if len(f.Summarizes) > 0 && f.Accepted == nil && f.Subject == nil {
			hosts[key{f.Resource, f.BaselineState}] = i
		}
	}
	if len(hosts) == 0 {
		return items
	}
	covers := map[int][]Covered{}
	folded := make([]bool, len(items))
	for i, f := range items {
		if f.Accepted != nil || f.Subject != nil || len(f.Summarizes) > 0 || len(f.Covers) > 0 {
			continue
		}
		h, ok := hosts[key{f.Resource, f.BaselineState}]
		if !ok || !slices.Contains(items[h].Summarizes, f.Check) {
			continue
		}
		covers[h] = append(covers[h], Covered{Check: f.Check, Severity: f.Severity, Title: f.Title, Message: f.Message, Controls: f.Controls})
		folded[i] = true
	}
	out := make([]Finding, 0, len(items)-len(covers))
	for i, f := range items {
		if folded[i] {
			continue
		}
		if c, ok := covers[i]; ok {
			f.Covers = append(slices.Clip(f.Covers), c...)
		}
		out = append(out, f)
	}
	return out
}

// Unfold turns the covered findings of a report read from a document back
// into findings of their own, about the object and from the source of the
// finding that covered them, in the report's order.
func Unfold(items []Finding) []Finding {
	n := 0
	for _, f := range items {
		n += len(f.Covers)
	}
	if n == 0 {
		return items
	}
	out := make([]Finding, 0, len(items)+n)
	for _, f := range items {
		cs := f.Covers
		f.Covers = nil
		out = append(out, f)
		for _, c := range cs {
			out = append(out, Finding{Check: c.Check, Severity: c.Severity, Title: c.Title, Message: c.Message,
				Resource: f.Resource, Controls: c.Controls, Source: f.Source, BaselineState: f.BaselineState})
		}
	}
	Sort(out)
	return out
}

// Document is the report as -o json and -o yaml write it: its findings
// folded (see Fold), then those alike but for their object written once (see Group).
func Document(r *Report) *Report {
	doc := *r
	doc.Items = Group(Fold(r.Items))
	return &doc
}

// UnmarshalJSON reads a report document: the findings it writes once for
// several objects (Ungroup) and inside others (Unfold) come back as findings
// of their own, so a report read from a file holds the same list the audit made.
func (r *Report) UnmarshalJSON(b []byte) error {
	type document Report // without this method
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	*r = Report(d)
	items, err := Ungroup(r.Items)
	if err != nil {
		return err
	}
	fixed, err := Ungroup(r.Fixed)
	if err != nil {
		return err
	}
	r.Items, r.Fixed = Unfold(items), Unfold(fixed)
	return nil
}
