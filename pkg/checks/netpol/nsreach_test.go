package netpol

import (
	"slices"
	"testing"
)

func TestNamespaceReach(t *testing.T) {
	c := ComputeCoverage(load(t, "nsreach/namespaces.yaml"))
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

// Without the analysis (a coverage decoded from JSON) there is no matrix, and it says so.
func TestNamespaceReachWithoutAnalysis(t *testing.T) {
	if ns, cells, note := (&Coverage{}).NamespaceReach(); ns != nil || cells != nil || note == "" {
		t.Errorf("got %v %v %q", ns, cells, note)
	}
}
