package netpol

import (
	"slices"
	"testing"
)

func TestNamespaceReach(t *testing.T) {
	inv := load(t, "nsreach/namespaces.yaml")
	inv.Settings.NamespaceReach = true
	c := ComputeCoverage(inv)
	namespaces, cells, note := c.NamespaceReach()
	if note != "" {
		t.Fatalf("note %q", note)
	}
	if want := []string{"locked", "open", "partial"}; !slices.Equal(namespaces, want) {
		t.Fatalf("namespaces %v, want %v", namespaces, want)
	}
	// rows are sources, columns destinations: locked, open, partial
	want := [][]string{
		{ReachNone, ReachAll, ReachNone},
		{ReachNone, ReachAll, ReachSome},
		{ReachNone, ReachAll, ReachNone},
	}
	for i := range want {
		if !slices.Equal(cells[i], want[i]) {
			t.Errorf("from %s: got %v, want %v", namespaces[i], cells[i], want[i])
		}
	}
}

// Without the analysis (a coverage decoded from JSON, or an audit whose
// report does not draw the matrix) there is no matrix, and it says so.
func TestNamespaceReachWithoutAnalysis(t *testing.T) {
	if ns, cells, note := (&Coverage{}).NamespaceReach(); ns != nil || cells != nil || note == "" {
		t.Errorf("got %v %v %q", ns, cells, note)
	}
	c := ComputeCoverage(load(t, "nsreach/namespaces.yaml"))
	if c.analysis != nil {
		t.Error("the coverage keeps the analysis (and the pods) though no report asked for the matrix")
	}
	if ns, cells, note := c.NamespaceReach(); ns != nil || cells != nil || note == "" {
		t.Errorf("got %v %v %q", ns, cells, note)
	}
}
