package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// acceptedReport has a finding accepted by a file entry, one by an
// annotation, one new since a baseline and one the baseline had that is gone.
func acceptedReport() *finding.Report {
	byFile, byAnnotation := liveAdmin, filePrivileged
	byFile.Accepted = &finding.Acceptance{By: ".kubectl-harden.yaml:12", Reason: "CI installs CRDs", Owner: "platform", Expires: "2026-12-31"}
	byAnnotation.Accepted = &finding.Acceptance{By: "annotation", Reason: "needs raw sockets", Owner: "net-team", Expires: "2026-06-30"}
	r := testReport([]finding.Finding{byFile, byAnnotation, absoluteFile}, nil)
	old := testReport([]finding.Finding{liveAdmin, filePrivileged, stdinFinding}, nil)
	finding.CompareWithBaseline(r, old, "base.json", func(string) bool { return true })
	return r
}

func TestSARIFSuppressionsAndBaselineValidate(t *testing.T) {
	p := &SARIF{Version: "v0.1.0", Rules: func(*finding.Report) ([]Rule, error) { return testRules(), nil }}
	var out bytes.Buffer
	if err := p.Print(acceptedReport(), &out); err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(t, sarifSchema(t), out.Bytes()); err != nil {
		t.Fatalf("SARIF with suppressions and baselineState does not validate against the 2.1.0 schema: %v\n%s", err, out.String())
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID              string            `json:"ruleId"`
				BaselineState       string            `json:"baselineState"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Suppressions        []struct {
					Kind          string         `json:"kind"`
					Status        string         `json:"status"`
					Justification string         `json:"justification"`
					Properties    map[string]any `json:"properties"`
					Location      *struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
							Region           struct{ StartLine int } `json:"region"`
						} `json:"physicalLocation"`
					} `json:"location"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	res := log.Runs[0].Results
	if len(res) != 4 {
		t.Fatalf("%d results, want 3 findings and 1 absent", len(res))
	}
	var states []string
	for _, r := range res {
		states = append(states, r.RuleID+"="+r.BaselineState)
		if len(r.PartialFingerprints[fingerprintKey]) != 64 {
			t.Errorf("%s: partialFingerprints %v", r.RuleID, r.PartialFingerprints)
		}
	}
	want := "rbac/cluster-admin-binding=unchanged workload/privileged=unchanged psa/namespace-unlabelled=new netpol/info=absent"
	if got := strings.Join(states, " "); got != want {
		t.Errorf("baseline states\n  %s\nwant\n  %s", got, want)
	}
	file, ann := res[0].Suppressions, res[1].Suppressions
	if len(file) != 1 || file[0].Kind != "external" || file[0].Status != "accepted" || file[0].Justification != "CI installs CRDs" ||
		file[0].Properties["owner"] != "platform" || file[0].Properties["expires"] != "2026-12-31" || file[0].Location == nil ||
		file[0].Location.PhysicalLocation.ArtifactLocation.URI != ".kubectl-harden.yaml" || file[0].Location.PhysicalLocation.Region.StartLine != 12 {
		t.Errorf("file suppression %+v", file)
	}
	if len(ann) != 1 || ann[0].Kind != "inSource" || ann[0].Location != nil || ann[0].Properties["owner"] != "net-team" {
		t.Errorf("annotation suppression %+v", ann)
	}
	if len(res[2].Suppressions) != 0 {
		t.Errorf("an unaccepted finding has suppressions")
	}
}

func TestTableCountsAcceptedAndBaseline(t *testing.T) {
	r := acceptedReport()
	var out bytes.Buffer
	if err := (&Table{}).Print(r, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"ACCEPTED 2 findings accepted by exceptions: not counted above nor in --fail-on (--show-accepted lists them)",
		"BASELINE base.json: 1 new, 2 unchanged (not shown), 1 fixed since",
		"FIXED SINCE THE BASELINE (1)",
		"namespace/shop",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "deployer-admin") || strings.Contains(s, "ACCEPTED (") {
		t.Errorf("accepted findings listed without --show-accepted:\n%s", s)
	}
	out.Reset()
	if err := (&Table{ShowAccepted: true}).Print(r, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "ACCEPTED (2)") || !strings.Contains(s, ".kubectl-harden.yaml:12") || !strings.Contains(s, "needs raw sockets") {
		t.Errorf("--show-accepted:\n%s", s)
	}
	out.Reset()
	if err := printNames(r, &out, false); err != nil {
		t.Fatal(err)
	}
	if out.String() != "psa/namespace-unlabelled:namespace/shop\n" {
		t.Errorf("-o name: %q", out.String())
	}
	// The score and counts leave the accepted findings out.
	if r.Summary.Accepted != 2 || r.Summary.Critical != 0 || r.Summary.High != 0 || r.Summary.Medium != 1 || r.Summary.Score != 100 {
		t.Errorf("summary %+v", r.Summary)
	}
}
