package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// sarifRun is the part of `-o sarif` these tests read.
type sarifRun struct {
	Tool struct {
		Driver struct {
			Name  string `json:"name"`
			Rules []struct {
				ID   string `json:"id"`
				Help struct {
					Text string `json:"text"`
				} `json:"help"`
			} `json:"rules"`
		} `json:"driver"`
	} `json:"tool"`
	Results []struct {
		RuleID    string `json:"ruleId"`
		RuleIndex int    `json:"ruleIndex"`
		Message   struct {
			Text string `json:"text"`
		} `json:"message"`
		Locations []struct {
			PhysicalLocation *struct {
				ArtifactLocation struct {
					URI string `json:"uri"`
				} `json:"artifactLocation"`
				Region *struct {
					StartLine int `json:"startLine"`
				} `json:"region"`
			} `json:"physicalLocation"`
			LogicalLocations []struct {
				FullyQualifiedName string `json:"fullyQualifiedName"`
			} `json:"logicalLocations"`
		} `json:"locations"`
	} `json:"results"`
}

// sarifThroughKubectl runs `kubectl harden ARGS -o sarif`, validates the log
// against the SARIF 2.1.0 schema committed with the printer, and decodes its run.
func sarifThroughKubectl(t *testing.T, args ...string) sarifRun {
	t.Helper()
	res := harden(t, append(args, "-o", "sarif")...)
	if res.Code != 0 {
		t.Fatalf("kubectl harden %v -o sarif: exit %d: %s", args, res.Code, res.Stderr)
	}
	f, err := os.Open(filepath.Join(root, "pkg", "output", "testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(res.Stdout))
	if err != nil {
		t.Fatalf("-o sarif is not JSON: %v\n%s", err, res.Stdout)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("-o sarif does not validate against SARIF 2.1.0: %v", err)
	}
	var log struct {
		Runs []sarifRun `json:"runs"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("decode SARIF (%v): %d runs", err, len(log.Runs))
	}
	return log.Runs[0]
}

// The live sample cluster: one rule per registered check, one result per finding of -o json.
func TestSARIFLiveAudit(t *testing.T) {
	run := sarifThroughKubectl(t)
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Tool.Driver.Rules) != len(reg.All()) {
		t.Errorf("%d rules, the registry has %d checks", len(run.Tool.Driver.Rules), len(reg.All()))
	}
	for i, c := range reg.All() {
		if i < len(run.Tool.Driver.Rules) && (run.Tool.Driver.Rules[i].ID != c.ID || !strings.Contains(run.Tool.Driver.Rules[i].Help.Text, c.ID)) {
			t.Errorf("rule %d is %s, want %s with help naming it", i, run.Tool.Driver.Rules[i].ID, c.ID)
		}
	}
	r, _ := report(t, env.Kubeconfig)
	if len(run.Results) != len(r.Items) || len(run.Results) == 0 {
		t.Fatalf("%d SARIF results, %d findings in -o json", len(run.Results), len(r.Items))
	}
	for i, res := range run.Results {
		f := r.Items[i]
		if res.RuleID != f.Check || run.Tool.Driver.Rules[res.RuleIndex].ID != f.Check || res.Message.Text != f.Message {
			t.Errorf("result %d: %s %q, finding %s %q", i, res.RuleID, res.Message.Text, f.Check, f.Message)
		}
		if len(res.Locations) != 1 || res.Locations[0].PhysicalLocation != nil ||
			len(res.Locations[0].LogicalLocations) != 1 || res.Locations[0].LogicalLocations[0].FullyQualifiedName != f.Resource.String() {
			t.Errorf("result %d of a live object: locations %+v, want only the object %s", i, res.Locations, f.Resource)
		}
	}
}

// Manifests (-f): results point at the file and line each object was read from.
func TestSARIFFileAuditPointsAtLines(t *testing.T) {
	dir := testdata("demo")
	run := sarifThroughKubectl(t, "-f", dir)
	res := harden(t, "-f", dir, "-o", "json")
	var r finding.Report
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(run.Results) != len(r.Items) || len(run.Results) == 0 {
		t.Fatalf("%d SARIF results, %d findings in -o json", len(run.Results), len(r.Items))
	}
	withLine := 0
	for i, res := range run.Results {
		f := r.Items[i]
		if f.Source == nil {
			continue
		}
		phys := res.Locations[0].PhysicalLocation
		if phys == nil {
			t.Errorf("%s on %s: no file location, the report says %s:%d", f.Check, f.Resource, f.Source.File, f.Source.Line)
			continue
		}
		if want := "file://" + filepath.ToSlash(f.Source.File); phys.ArtifactLocation.URI != want {
			t.Errorf("%s on %s: uri %s, want %s", f.Check, f.Resource, phys.ArtifactLocation.URI, want)
		}
		if f.Source.Line > 0 {
			withLine++
			if phys.Region == nil || phys.Region.StartLine != f.Source.Line {
				t.Errorf("%s on %s: region %+v, want line %d", f.Check, f.Resource, phys.Region, f.Source.Line)
			}
			// The line starts the object's document: its name is in the lines
			// from there to the next document.
			b, err := os.ReadFile(f.Source.File)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(b), "\n")
			found := false
			for _, l := range lines[min(f.Source.Line-1, len(lines)):] {
				if strings.HasPrefix(l, "---") {
					break
				}
				if strings.TrimSpace(l) == "name: "+f.Resource.Name {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s on %s: line %d of %s does not start that object", f.Check, f.Resource, f.Source.Line, f.Source.File)
			}
		}
	}
	if withLine == 0 {
		t.Error("no finding of the sample manifests carries a line")
	}
}
