package finding

// CompareWithBaseline marks each finding of r "new" or "unchanged" by whether
// the baseline report has one with the same fingerprint (each baseline
// finding matches once, so a second copy of a finding is new), lists the
// baseline's findings that r no longer has as r.Fixed ("absent"), and
// summarises both in r.Summary.Baseline, whose New counts are what --fail-on
// then judges.
//
// known says whether r judged a check: a baseline finding of a check that was
// skipped or not selected this time is not fixed but unseen, and is left out.
func CompareWithBaseline(r *Report, base *Report, file string, known func(check string) bool) {
	left := map[string]int{}
	for _, f := range base.Items {
		left[f.Fingerprint()]++
	}
	sum := &BaselineSummary{Report: file}
	for i := range r.Items {
		f := &r.Items[i]
		fp := f.Fingerprint()
		if left[fp] > 0 {
			left[fp]--
			f.BaselineState = BaselineUnchanged
			sum.Unchanged++
			continue
		}
		f.BaselineState = BaselineNew
		if f.Accepted == nil {
			sum.New.add(f.Severity)
		}
	}
	var fixed []Finding
	for _, f := range base.Items {
		fp := f.Fingerprint()
		if left[fp] == 0 || !known(f.Check) {
			continue
		}
		left[fp]--
		f.BaselineState = BaselineAbsent
		f.Accepted = nil
		f.Remediation = nil
		fixed = append(fixed, f)
	}
	Sort(fixed)
	sum.Fixed = len(fixed)
	r.Fixed = fixed
	r.Summary.Baseline = sum
}

// Failing returns the findings that fail a gate: not accepted, and new when the report was compared with a baseline.
func (r *Report) Failing() []Finding {
	out := r.Items[:0:0]
	for _, f := range r.Items {
		if f.Accepted == nil && (r.Summary.Baseline == nil || f.BaselineState != BaselineUnchanged) {
			out = append(out, f)
		}
	}
	return out
}
