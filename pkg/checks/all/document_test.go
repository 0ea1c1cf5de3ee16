package all

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// A report document read back holds what the audit found: on every fixture,
// the findings of the document (folded and grouped, finding.Document) read
// back are, field for field, those of a document that writes each finding
// as an item of its own.
func TestDocumentReadsBackAsTheAudit(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	grouped := 0
	for _, dir := range fixtureDirs(t) {
		inv, err := inventory.FromFiles([]string{dir}, nil)
		if err != nil {
			continue // fixtures of malformed input
		}
		r := finding.NewReport(finding.Metadata{}, nil, nil, checks.Run(inv, reg.All()).Findings)
		doc := finding.Document(r)
		for _, f := range doc.Items {
			grouped += len(f.Alike)
		}
		// Each finding its own item: what the document held before grouping.
		flat := *r
		flat.Items = finding.Fold(r.Items)
		want := readBack(t, &flat)
		got := readBack(t, doc)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the document reads back as\n%s\nwant\n%s", dir, got, want)
		}
	}
	if grouped == 0 {
		t.Error("no fixture has findings alike but for their object: the grouping is not exercised")
	}
}

// readBack marshals a report document, reads it as a report and returns its findings as JSON.
func readBack(t *testing.T, doc *finding.Report) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back finding.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(back.Items, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
