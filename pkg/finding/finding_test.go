package finding

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestSeverityRoundTrip(t *testing.T) {
	for _, s := range Severities() {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s: round trip gave %v (%v)", s, back, err)
		}
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("ParseSeverity accepted an unknown level")
	}
	if s, err := ParseSeverity("HIGH"); err != nil || s != High {
		t.Errorf("ParseSeverity is not case-insensitive: %v %v", s, err)
	}
}

func TestFilter(t *testing.T) {
	items := []Finding{
		{Check: "rbac/a", Severity: Critical}, {Check: "rbac/b", Severity: Low},
		{Check: "netpol/c", Severity: High}, {Check: "psa/d", Severity: Info},
	}
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"rbac/a", "rbac/b", "netpol/c", "psa/d"}},
		{"severity", Filter{MinSeverity: High}, []string{"rbac/a", "netpol/c"}},
		{"check", Filter{Checks: []string{"rbac/b"}}, []string{"rbac/b"}},
		{"domain prefix", Filter{Checks: []string{"rbac/"}}, []string{"rbac/a", "rbac/b"}},
		{"skip wins", Filter{Checks: []string{"rbac/"}, SkipChecks: []string{"rbac/a"}}, []string{"rbac/b"}},
	}
	for _, tc := range cases {
		var got []string
		for _, f := range tc.f.Apply(items) {
			got = append(got, f.Check)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
	if !AtOrAbove(items, Critical) || AtOrAbove(items[1:], Critical) {
		t.Error("AtOrAbove")
	}
}

func TestReportSummaryAndScore(t *testing.T) {
	ran := []RanCheck{{"rbac/a", Critical}, {"rbac/b", Low}, {"netpol/c", High}, {"psa/d", Medium}}
	items := []Finding{
		{Check: "rbac/b", Severity: Low, Resource: Resource{Name: "z"}},
		{Check: "rbac/a", Severity: Critical, Resource: Resource{Name: "y"}},
		{Check: "rbac/a", Severity: Critical, Resource: Resource{Name: "x"}},
		{Check: "psa/d", Severity: Info},
	}
	r := NewReport(Metadata{GeneratedAt: time.Unix(0, 0)}, ran, nil, items)
	if r.Summary.Critical != 2 || r.Summary.Low != 1 || r.Summary.Info != 1 || r.Summary.Checks != 4 || r.Summary.Failed != 2 {
		t.Errorf("summary %+v", r.Summary)
	}
	// Passed: netpol/c (10) and psa/d (4, its only finding is info) of 20+2+10+4.
	if r.Summary.Score != 14*100/36 {
		t.Errorf("score %d", r.Summary.Score)
	}
	if r.Items[0].Resource.Name != "x" || r.Items[1].Resource.Name != "y" || r.Items[2].Check != "rbac/b" {
		t.Errorf("items not sorted by severity then object: %+v", r.Items)
	}
	if empty := NewReport(Metadata{}, ran, nil, nil); empty.Summary.Score != 100 || empty.Items == nil {
		t.Errorf("a clean run scores 100 and has an empty (not null) items list: %+v", empty.Summary)
	}
}

// Each domain is scored as the run is, and a check whose findings are all
// info (or hidden by --severity: Ran counts them) scores as it should.
func TestDomainScores(t *testing.T) {
	ran := []RanCheck{{ID: "rbac/a", Severity: Critical}, {ID: "rbac/b", Severity: High}, {ID: "netpol/c", Severity: Medium}, {ID: "netpol/d", Severity: Info}}
	items := []Finding{{Check: "rbac/b", Severity: High}, {Check: "netpol/d", Severity: Info}}
	r := NewReport(Metadata{}, ran, nil, items)
	r.Items = nil // --severity hid every finding: the scores stay
	got := r.DomainScores()
	want := []DomainScore{{Domain: "rbac", Score: 66, Checks: 2, Failed: 1}, {Domain: "netpol", Score: 100, Checks: 2, Failed: 0}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if r.Ran[1].Findings != 1 || r.Ran[1].Worst != High || r.Ran[0].Findings != 0 {
		t.Errorf("ran %+v", r.Ran)
	}
}
