package finding

import (
	"encoding/json"
	"testing"
)

type widgetCoverage struct {
	Widgets int `json:"widgets"`
}

func (*widgetCoverage) CoverageDomain() string { return "widgets" }

// A coverage document is had by its type, in memory and after the report
// went through JSON (where it is kept raw until asked for).
func TestCoverageOf(t *testing.T) {
	r := &Report{Coverage: []Coverage{{Domain: "widgets", Data: &widgetCoverage{Widgets: 3}}}}
	if c, ok, err := CoverageOf[*widgetCoverage](r); !ok || err != nil || c.Widgets != 3 {
		t.Fatalf("in memory: %+v %v %v", c, ok, err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := CoverageOf[*widgetCoverage](&back); !ok || err != nil || c.Widgets != 3 {
		t.Fatalf("from JSON %s: %+v %v %v", b, c, ok, err)
	}
	// Written again, the raw document is the same document.
	again, err := json.Marshal(&back)
	if err != nil || string(again) != string(b) {
		t.Errorf("re-encoded:\n%s\nwant\n%s", again, b)
	}
	if _, ok, _ := CoverageOf[*widgetCoverage](&Report{}); ok {
		t.Error("a report without coverage has none")
	}
	bad := Report{Coverage: []Coverage{{Domain: "widgets", Data: rawCoverage{domain: "widgets", raw: json.RawMessage(`{"widgets": "many"}`)}}}}
	if _, _, err := CoverageOf[*widgetCoverage](&bad); err == nil {
		t.Error("a document of another shape is an error")
	}
}
