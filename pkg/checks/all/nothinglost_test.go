package all

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// What the checks find on the sample and fixture clusters, as (check,
// object, subject), is recorded in testdata/found.txt. A change that makes
// the report smaller (grouping findings, folding one check's findings into
// another's) must still name each of them: as a finding of that check about
// that object and subject, as an alike object of such a finding, or as an
// object listed in the "affected" evidence of a finding of that check. A tuple named nowhere fails the test. New
// findings do not (a new check touches only its domain's files and fixture);
// `go test -update` records them, and its diff shows any removed line: a
// finding the tool no longer reports.
func TestNothingFoundIsLost(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob("../../../test/testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	var now []string
	lost, covered, alike := 0, 0, 0
	recorded := readFound(t)
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		inv, err := inventory.FromFiles([]string{dir}, nil)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		name := filepath.Base(dir)
		fs := checks.Run(inv, reg.All()).Findings
		for _, f := range fs {
			now = append(now, foundLine(name, f.Check, f.Resource.String(), f.Subject))
		}
		// Named in the report document, where findings a summary finding
		// lists are written inside it (finding.Fold) and findings alike but
		// for their object are written once, listing the others (finding.Group).
		named := map[string]bool{}
		for _, f := range finding.Group(finding.Fold(fs)) {
			alike += len(f.Alike)
			// Each alike object's finding is the item's with the object's
			// names where the item has its own (its subject's too): as a
			// reader of the document gets it.
			each, err := finding.Ungroup([]finding.Finding{f})
			if err != nil {
				t.Fatalf("%s: %v", dir, err)
			}
			for _, g := range each {
				obj := g.Resource.String()
				named[foundLine(name, g.Check, obj, g.Subject)] = true
				for _, c := range g.Covers {
					named[foundLine(name, c.Check, obj, g.Subject)] = true
					covered++
				}
				for _, o := range affected(g) {
					named[foundLine(name, g.Check, o, g.Subject)] = true
				}
			}
		}
		for _, line := range recorded {
			if strings.HasPrefix(line, name+"\t") && !named[line] && !updating() {
				lost++
				t.Errorf("no longer named: %s", line)
			}
		}
	}
	if updating() {
		slices.Sort(now)
		now = slices.Compact(now)
		checktest.Golden(t, filepath.Join("testdata", "found.txt"), []byte(strings.Join(now, "\n")+"\n"))
	}
	if covered == 0 {
		t.Error("no finding of the fixtures is written inside another: the fold is not exercised")
	}
	if alike == 0 {
		t.Error("no finding of the fixtures is written once for several objects: the grouping is not exercised")
	}
	if len(recorded) < 500 {
		t.Errorf("testdata/found.txt holds %d lines: is the record still being read?", len(recorded))
	}
}

// foundLine is one (fixture, check, object, subject) of the record.
func foundLine(fixture, check, object string, subject *finding.Subject) string {
	s := "-"
	if subject != nil {
		s = subject.String()
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s", fixture, check, object, s)
}

// affected are the objects a grouped finding names in its evidence.
func affected(f finding.Finding) []string {
	switch v := f.Evidence["affected"].(type) {
	case []string:
		return v
	case []finding.Resource:
		out := make([]string, len(v))
		for i, r := range v {
			out[i] = r.String()
		}
		return out
	}
	return nil
}

func readFound(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join("testdata", "found.txt"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// updating reports whether -update was given (checktest registers the flag).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}
