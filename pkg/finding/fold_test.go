package finding

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFoldAndUnfold(t *testing.T) {
	web := Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	db := Resource{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "shop", Name: "db"}
	src := &Source{File: "dump.yaml", Line: 7}
	host := Finding{Check: "psa/restricted-blocker", Severity: Low, Title: "blocker", Message: "web does not pass", Resource: web, Source: src,
		Summarizes: []string{"psa/seccomp", "psa/capabilities", "psa/run-as-root"}, Evidence: map[string]any{"pods": 3}}
	seccomp := Finding{Check: "psa/seccomp", Severity: Low, Title: "seccomp", Message: "web: seccompProfile", Resource: web, Source: src, Controls: []Control{"CIS-5.7.2"}}
	accepted := Finding{Check: "psa/capabilities", Severity: Low, Title: "caps", Message: "web: caps", Resource: web, Source: src,
		Accepted: &Acceptance{By: "exceptions.yaml:3", Reason: "r", Owner: "o", Expires: "2030-01-01"}}
	otherObject := Finding{Check: "psa/seccomp", Severity: Low, Title: "seccomp", Message: "db: seccompProfile", Resource: db, Source: src}
	notSummarized := Finding{Check: "workload/no-resource-limits", Severity: Low, Title: "limits", Message: "web: no limits", Resource: web, Source: src}
	newOne := Finding{Check: "psa/run-as-root", Severity: Medium, Title: "root", Message: "web: root", Resource: web, Source: src, BaselineState: BaselineNew}
	items := []Finding{newOne, host, seccomp, accepted, otherObject, notSummarized}

	folded := Fold(items)
	if len(folded) != len(items)-1 {
		t.Fatalf("folded into %d items, want %d (only psa/seccomp of web folds)", len(folded), len(items)-1)
	}
	for _, f := range folded {
		if f.Check == "psa/restricted-blocker" {
			want := []Covered{{Check: "psa/seccomp", Severity: Low, Title: "seccomp", Message: "web: seccompProfile", Controls: []Control{"CIS-5.7.2"}}}
			if !reflect.DeepEqual(f.Covers, want) {
				t.Errorf("covers = %+v, want %+v", f.Covers, want)
			}
		} else if len(f.Covers) > 0 {
			t.Errorf("%s covers %v", f.Check, f.Covers)
		}
	}
	if items[1].Covers != nil {
		t.Error("Fold changed its input")
	}

	// Back from a document: the same findings (what a document holds of them), in the report's order.
	unfolded := Unfold(folded)
	want := append([]Finding(nil), items...)
	for i := range want {
		want[i].Summarizes = nil
		if want[i].Check == "psa/seccomp" && want[i].Resource == web {
			want[i].Source = src // a covered finding takes its host's source, here the same
		}
	}
	Sort(want)
	for i := range unfolded {
		unfolded[i].Summarizes = nil
	}
	if !reflect.DeepEqual(unfolded, want) {
		t.Errorf("Unfold(Fold(x)) =\n%+v\nwant\n%+v", unfolded, want)
	}
	if got := Fold(nil); got != nil {
		t.Errorf("Fold(nil) = %v", got)
	}
}

func TestReportDocumentRoundTrip(t *testing.T) {
	web := Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	items := []Finding{
		{Check: "psa/restricted-blocker", Severity: Low, Title: "blocker", Message: "web", Resource: web, Summarizes: []string{"psa/seccomp"}},
		{Check: "psa/seccomp", Severity: Low, Title: "seccomp", Message: "web: seccomp", Resource: web, Controls: []Control{"CIS-5.7.2"}},
	}
	r := NewReport(Metadata{}, nil, nil, items)
	b, err := json.Marshal(Document(r))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Items []json.RawMessage }
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Items) != 1 {
		t.Fatalf("the document holds %d items (%v), want 1", len(doc.Items), err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Items) != 2 || back.Items[1].Check != "psa/seccomp" || back.Items[1].Resource != web || back.Items[0].Covers != nil {
		t.Errorf("read back %+v", back.Items)
	}
}
