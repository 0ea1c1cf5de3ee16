package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// sarifSchema compiles the OASIS SARIF 2.1.0 schema (errata 01) committed
// under testdata, with format assertions on so URIs and times are checked too.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read SARIF schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const loc = "sarif-schema-2.1.0.json"
	if err := c.AddResource(loc, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		t.Fatalf("compile SARIF schema: %v", err)
	}
	return sch
}

func validateSARIF(t *testing.T, sch *jsonschema.Schema, out []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v\n%s", err, out)
	}
	return sch.Validate(inst)
}

func testRules() []Rule {
	return []Rule{
		{ID: "rbac/cluster-admin-binding", Domain: "rbac", Severity: finding.Critical, Title: "Subject bound to cluster-admin",
			Description: "cluster-admin can do anything to any object.", Remediation: "Bind a narrower role.",
			Controls: []finding.Control{"CIS-5.1.1", "NSA-CISA-RBAC", "NIST-800-53-AC-6"}},
		{ID: "workload/privileged", Domain: "workload", Severity: finding.High, Title: "Privileged container",
			Description: "A privileged container is root on the node.", Remediation: "Drop privileged.",
			Controls: []finding.Control{"CIS-5.2.2", "NIST-800-190-4.4.1", "NSA-CISA-Pod-Security"}},
		{ID: "psa/namespace-unlabelled", Domain: "psa", Severity: finding.Medium, Title: "Namespace without Pod Security labels",
			Controls: []finding.Control{"CIS-5.2.1", "ACME-7"}},
		{ID: "netpol/info", Domain: "netpol", Severity: finding.Info, Title: "Informational"},
	}
}

func testReport(items []finding.Finding, skipped []finding.Skipped) *finding.Report {
	ran := []finding.RanCheck{{ID: "rbac/cluster-admin-binding", Severity: finding.Critical}, {ID: "workload/privileged", Severity: finding.High}}
	return finding.NewReport(finding.Metadata{
		Context:     "kind-dev",
		Server:      &finding.ServerInfo{Host: "https://127.0.0.1:6443", Version: "v1.37.2"},
		GeneratedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}, ran, skipped, items)
}

var (
	liveAdmin = finding.Finding{
		Check: "rbac/cluster-admin-binding", Severity: finding.Critical, Title: "Subject bound to cluster-admin",
		Message:  "ServiceAccount ci/deployer is bound to cluster-admin by ClusterRoleBinding deployer-admin",
		Resource: finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "deployer-admin"},
		Subject:  &finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
		Controls: []finding.Control{"CIS-5.1.1", "NSA-CISA-RBAC", "NIST-800-53-AC-6"},
		Remediation: &remedy.Remediation{Summary: "delete ClusterRoleBinding deployer-admin",
			Changes: []remedy.Change{remedy.NewDelete("remove the grant", remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "deployer-admin"}, "")}},
	}
	filePrivileged = finding.Finding{
		Check: "workload/privileged", Severity: finding.High, Title: "Privileged container",
		Message:  "container app of Deployment shop/web is privileged",
		Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		Controls: []finding.Control{"CIS-5.2.2"},
		Source:   &finding.Source{File: "deploy/shop/web.yaml", Line: 12},
	}
	absoluteFile = finding.Finding{
		Check: "psa/namespace-unlabelled", Severity: finding.Medium, Message: "namespace shop has no pod-security.kubernetes.io/enforce label",
		Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: "shop"},
		Source:   &finding.Source{File: "/srv/manifests/my ns.yaml"},
	}
	stdinFinding = finding.Finding{
		Check: "netpol/info", Severity: finding.Info, Message: "namespace legacy has no NetworkPolicy",
		Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: "legacy"},
		Source:   &finding.Source{File: "<stdin>", Line: 3},
	}
	unregistered = finding.Finding{
		Check: "cluster/extra", Severity: finding.Low, Title: "Set by hand", Message: "not in the registry",
		Resource: finding.Resource{APIVersion: "v1", Kind: "Node", Name: "n1"},
	}
)

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := sarifSchema(t)
	tests := []struct {
		name    string
		report  *finding.Report
		version string
	}{
		{"no findings", testReport(nil, nil), "v0.1.0"},
		{"live cluster findings", testReport([]finding.Finding{liveAdmin}, nil), "v0.1.0"},
		{"files, lines, stdin and absolute paths", testReport([]finding.Finding{filePrivileged, absoluteFile, stdinFinding}, nil), "dev"},
		{"skipped checks and an unregistered check", testReport([]finding.Finding{unregistered},
			[]finding.Skipped{{Check: "rbac/cluster-admin-binding", Reason: "cannot list clusterrolebindings: forbidden"}, {Check: "gone/check", Reason: "not loaded"}}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &SARIF{Version: tt.version, Rules: func(*finding.Report) ([]Rule, error) { return testRules(), nil }}
			var out bytes.Buffer
			if err := p.Print(tt.report, &out); err != nil {
				t.Fatal(err)
			}
			if err := validateSARIF(t, sch, out.Bytes()); err != nil {
				t.Fatalf("SARIF log does not validate against the 2.1.0 schema: %v\n%s", err, out.String())
			}
		})
	}
}

// The validator must be able to fail, or the test above proves nothing.
func TestSARIFSchemaRejectsInvalidLogs(t *testing.T) {
	sch := sarifSchema(t)
	p := &SARIF{Version: "v0.1.0", Rules: func(*finding.Report) ([]Rule, error) { return testRules(), nil }}
	var out bytes.Buffer
	if err := p.Print(testReport([]finding.Finding{liveAdmin, filePrivileged}, nil), &out); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(log map[string]any)
	}{
		{"unknown level", func(log map[string]any) { rawResult(log, 0)["level"] = "fatal" }},
		{"line zero", func(log map[string]any) {
			locs := rawResult(log, 1)["locations"].([]any)
			locs[0].(map[string]any)["physicalLocation"].(map[string]any)["region"].(map[string]any)["startLine"] = 0
		}},
		{"missing tool", func(log map[string]any) { delete(log["runs"].([]any)[0].(map[string]any), "tool") }},
		{"wrong version", func(log map[string]any) { log["version"] = "2.0.0" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log map[string]any
			if err := json.Unmarshal(out.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			tt.mutate(log)
			b, err := json.Marshal(log)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateSARIF(t, sch, b); err == nil {
				t.Fatal("schema accepted an invalid SARIF log")
			}
		})
	}
}

func rawResult(log map[string]any, i int) map[string]any {
	return log["runs"].([]any)[0].(map[string]any)["results"].([]any)[i].(map[string]any)
}

// sarifLog is the part of a SARIF log the content test reads.
type sarifLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name                string `json:"name"`
				Version             string `json:"version"`
				SupportedTaxonomies []struct {
					Name  string `json:"name"`
					Index int    `json:"index"`
				} `json:"supportedTaxonomies"`
				Rules []struct {
					ID               string                          `json:"id"`
					ShortDescription struct{ Text string }           `json:"shortDescription"`
					FullDescription  *struct{ Text string }          `json:"fullDescription"`
					Help             struct{ Text, Markdown string } `json:"help"`
					Default          struct{ Level string }          `json:"defaultConfiguration"`
					Properties       map[string]any                  `json:"properties"`
					Relationships    []struct {
						Target struct {
							ID            string `json:"id"`
							Index         int    `json:"index"`
							ToolComponent struct {
								Name  string `json:"name"`
								Index int    `json:"index"`
							} `json:"toolComponent"`
						} `json:"target"`
						Kinds []string `json:"kinds"`
					} `json:"relationships"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Taxonomies []struct {
			Name string `json:"name"`
			Taxa []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"taxa"`
		} `json:"taxonomies"`
		Results []struct {
			RuleID              string                `json:"ruleId"`
			RuleIndex           int                   `json:"ruleIndex"`
			Level               string                `json:"level"`
			Message             struct{ Text string } `json:"message"`
			PartialFingerprints map[string]string     `json:"partialFingerprints"`
			Locations           []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					Region           *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name               string `json:"name"`
					FullyQualifiedName string `json:"fullyQualifiedName"`
					Kind               string `json:"kind"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			Properties map[string]any `json:"properties"`
		} `json:"results"`
		Invocations []struct {
			ExecutionSuccessful        bool   `json:"executionSuccessful"`
			StartTimeUtc               string `json:"startTimeUtc"`
			ToolExecutionNotifications []struct {
				Level          string                `json:"level"`
				Message        struct{ Text string } `json:"message"`
				AssociatedRule *struct {
					ID    string `json:"id"`
					Index int    `json:"index"`
				} `json:"associatedRule"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
	} `json:"runs"`
}

func printSARIF(t *testing.T, r *finding.Report) sarifLog {
	t.Helper()
	p := &SARIF{Version: "v0.1.0", Rules: func(*finding.Report) ([]Rule, error) { return testRules(), nil }}
	var out bytes.Buffer
	if err := p.Print(r, &out); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatalf("decode SARIF: %v\n%s", err, out.String())
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("want one SARIF 2.1.0 run, got version %q with %d runs", log.Version, len(log.Runs))
	}
	return log
}

func TestSARIFRules(t *testing.T) {
	log := printSARIF(t, testReport([]finding.Finding{unregistered}, nil))
	run := log.Runs[0]
	if run.Tool.Driver.Name != "kubectl-harden" || run.Tool.Driver.Version != "v0.1.0" {
		t.Errorf("driver = %s %s", run.Tool.Driver.Name, run.Tool.Driver.Version)
	}
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
	}
	want := []string{"rbac/cluster-admin-binding", "workload/privileged", "psa/namespace-unlabelled", "netpol/info", "cluster/extra"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("rules = %v, want one per check plus the unregistered one: %v", ids, want)
	}
	taxon := func(component, id string) (string, bool) {
		for _, tx := range run.Taxonomies {
			if tx.Name != component {
				continue
			}
			for _, t := range tx.Taxa {
				if t.ID == id {
					return t.Name, true
				}
			}
		}
		return "", false
	}
	tests := []struct {
		rule             int
		level, secSev    string
		helpHas          []string
		relationships    []string // component:id
		fullDescription  bool
		taggedWithDomain string
	}{
		{0, "error", "9.5", []string{"cluster-admin can do anything", "Remediation: Bind a narrower role.", "Controls: CIS-5.1.1, NSA-CISA-RBAC, NIST-800-53-AC-6", "kubectl harden --check rbac/cluster-admin-binding"},
			[]string{"CIS:5.1.1", "NSA-CISA:RBAC", "NIST-800-53:AC-6"}, true, "rbac"},
		{1, "error", "8.0", []string{"Remediation: Drop privileged."}, []string{"CIS:5.2.2", "NIST-800-190:4.4.1", "NSA-CISA:Pod-Security"}, true, "workload"},
		{2, "warning", "5.5", []string{"Controls: CIS-5.2.1, ACME-7"}, []string{"CIS:5.2.1", "ACME:7"}, false, "psa"},
		{3, "note", "0.0", []string{"kubectl harden --check netpol/info"}, nil, false, "netpol"},
		{4, "note", "3.0", nil, nil, false, ""},
	}
	for _, tt := range tests {
		r := run.Tool.Driver.Rules[tt.rule]
		t.Run(r.ID, func(t *testing.T) {
			if r.Default.Level != tt.level {
				t.Errorf("default level %q, want %q", r.Default.Level, tt.level)
			}
			if got := r.Properties["security-severity"]; got != tt.secSev {
				t.Errorf("security-severity %v, want %s", got, tt.secSev)
			}
			if r.ShortDescription.Text == "" {
				t.Error("no short description")
			}
			if (r.FullDescription != nil) != tt.fullDescription {
				t.Errorf("full description present = %v, want %v", r.FullDescription != nil, tt.fullDescription)
			}
			for _, s := range tt.helpHas {
				if !strings.Contains(r.Help.Text, s) {
					t.Errorf("help text lacks %q:\n%s", s, r.Help.Text)
				}
			}
			if !strings.Contains(r.Help.Markdown, "`kubectl harden --check "+r.ID+"`") {
				t.Errorf("markdown help lacks the command:\n%s", r.Help.Markdown)
			}
			var rels []string
			for _, rel := range r.Relationships {
				rels = append(rels, rel.Target.ToolComponent.Name+":"+rel.Target.ID)
				if rel.Target.ToolComponent.Index < 0 || rel.Target.ToolComponent.Index >= len(run.Taxonomies) ||
					run.Taxonomies[rel.Target.ToolComponent.Index].Name != rel.Target.ToolComponent.Name {
					t.Errorf("relationship %v points at the wrong taxonomy", rel.Target)
					continue
				}
				tx := run.Taxonomies[rel.Target.ToolComponent.Index]
				if rel.Target.Index < 0 || rel.Target.Index >= len(tx.Taxa) || tx.Taxa[rel.Target.Index].ID != rel.Target.ID {
					t.Errorf("relationship %v points at the wrong taxon", rel.Target)
				}
				if name, ok := taxon(rel.Target.ToolComponent.Name, rel.Target.ID); !ok || !strings.HasSuffix(name, rel.Target.ID) {
					t.Errorf("taxon %s:%s missing or misnamed (%q)", rel.Target.ToolComponent.Name, rel.Target.ID, name)
				}
			}
			if strings.Join(rels, " ") != strings.Join(tt.relationships, " ") {
				t.Errorf("relationships %v, want %v", rels, tt.relationships)
			}
			tags, _ := r.Properties["tags"].([]any)
			hasTag := func(s string) bool {
				for _, tag := range tags {
					if tag == s {
						return true
					}
				}
				return false
			}
			if tt.taggedWithDomain != "" && !hasTag(tt.taggedWithDomain) {
				t.Errorf("tags %v lack the domain %s", tags, tt.taggedWithDomain)
			}
		})
	}
	var supported []string
	for _, s := range run.Tool.Driver.SupportedTaxonomies {
		supported = append(supported, s.Name)
	}
	if got := strings.Join(supported, " "); got != "CIS NSA-CISA NIST-800-53 NIST-800-190 ACME" {
		t.Errorf("supported taxonomies %q", got)
	}
}

func TestSARIFResults(t *testing.T) {
	log := printSARIF(t, testReport([]finding.Finding{liveAdmin, filePrivileged, absoluteFile, stdinFinding}, nil))
	run := log.Runs[0]
	tests := []struct {
		ruleID     string
		level      string
		objectName string
		object     string
		uri        string // "" means no physical location
		line       int
	}{
		{"rbac/cluster-admin-binding", "error", "deployer-admin", "clusterrolebinding/deployer-admin", "", 0},
		{"workload/privileged", "error", "web", "deployment/shop/web", "deploy/shop/web.yaml", 12},
		{"psa/namespace-unlabelled", "warning", "shop", "namespace/shop", "file:///srv/manifests/my%20ns.yaml", 0},
		{"netpol/info", "note", "legacy", "namespace/legacy", "", 0},
	}
	if len(run.Results) != len(tests) {
		t.Fatalf("%d results, want %d", len(run.Results), len(tests))
	}
	seen := map[string]bool{}
	for i, tt := range tests {
		res := run.Results[i]
		t.Run(tt.ruleID, func(t *testing.T) {
			if res.RuleID != tt.ruleID || run.Tool.Driver.Rules[res.RuleIndex].ID != tt.ruleID {
				t.Fatalf("result %d: ruleId %s, ruleIndex %d -> %s", i, res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
			}
			if res.Level != tt.level {
				t.Errorf("level %q, want %q", res.Level, tt.level)
			}
			if res.Message.Text == "" {
				t.Error("empty message")
			}
			fp := res.PartialFingerprints[fingerprintKey]
			if len(fp) != 64 || seen[fp] {
				t.Errorf("fingerprint %q is not a fresh sha256", fp)
			}
			seen[fp] = true
			if len(res.Locations) != 1 || len(res.Locations[0].LogicalLocations) != 1 {
				t.Fatalf("locations %+v", res.Locations)
			}
			obj := res.Locations[0].LogicalLocations[0]
			if obj.Name != tt.objectName || obj.FullyQualifiedName != tt.object || obj.Kind != "resource" {
				t.Errorf("logical location %+v, want %s (%s)", obj, tt.object, tt.objectName)
			}
			phys := res.Locations[0].PhysicalLocation
			switch {
			case tt.uri == "" && phys != nil:
				t.Errorf("unexpected physical location %+v", phys)
			case tt.uri != "" && phys == nil:
				t.Errorf("no physical location, want %s", tt.uri)
			case tt.uri != "":
				if phys.ArtifactLocation.URI != tt.uri {
					t.Errorf("uri %q, want %q", phys.ArtifactLocation.URI, tt.uri)
				}
				if tt.line == 0 && phys.Region != nil {
					t.Errorf("region %+v for a finding without a line", phys.Region)
				}
				if tt.line > 0 && (phys.Region == nil || phys.Region.StartLine != tt.line) {
					t.Errorf("region %+v, want start line %d", phys.Region, tt.line)
				}
			}
		})
	}
	if got := run.Results[0].Properties["subject"]; got != "ServiceAccount ci/deployer" {
		t.Errorf("subject property %v", got)
	}
	if got := run.Results[0].Properties["remediation"]; got != "delete ClusterRoleBinding deployer-admin" {
		t.Errorf("remediation property %v", got)
	}
	if src, _ := run.Results[3].Properties["source"].(map[string]any); src["file"] != "<stdin>" {
		t.Errorf("stdin source property %v", run.Results[3].Properties["source"])
	}
}

func TestSARIFFingerprintIsStable(t *testing.T) {
	a, b := liveAdmin, liveAdmin
	b.Remediation = nil // how it is fixed is not what it is
	if fingerprint(a) != fingerprint(b) {
		t.Error("fingerprint depends on the remediation")
	}
	c := liveAdmin
	c.Subject = &finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "other"}
	if fingerprint(a) == fingerprint(c) {
		t.Error("two subjects share a fingerprint")
	}
}

func TestSARIFSkippedChecksAreNotifications(t *testing.T) {
	log := printSARIF(t, testReport(nil, []finding.Skipped{
		{Check: "rbac/cluster-admin-binding", Reason: "cannot list clusterrolebindings: forbidden"},
		{Check: "gone/check", Reason: "not loaded"},
	}))
	invs := log.Runs[0].Invocations
	if len(invs) != 1 || !invs[0].ExecutionSuccessful || invs[0].StartTimeUtc != "2026-01-02T03:04:05Z" {
		t.Fatalf("invocations %+v", invs)
	}
	ns := invs[0].ToolExecutionNotifications
	if len(ns) != 2 {
		t.Fatalf("%d notifications, want 2", len(ns))
	}
	if ns[0].Level != "warning" || !strings.Contains(ns[0].Message.Text, "forbidden") ||
		ns[0].AssociatedRule == nil || ns[0].AssociatedRule.ID != "rbac/cluster-admin-binding" || ns[0].AssociatedRule.Index != 0 {
		t.Errorf("notification %+v", ns[0])
	}
	if ns[1].AssociatedRule != nil {
		t.Errorf("a check without a rule got one: %+v", ns[1].AssociatedRule)
	}
}

func TestSARIFRulesError(t *testing.T) {
	p := &SARIF{Rules: func(*finding.Report) ([]Rule, error) { return nil, errors.New("duplicate check") }}
	err := p.Print(testReport(nil, nil), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "duplicate check") {
		t.Fatalf("err = %v", err)
	}
}

func TestFileURI(t *testing.T) {
	tests := []struct {
		path, uri string
		ok        bool
	}{
		{"deploy/app.yaml", "deploy/app.yaml", true},
		{"./deploy/../deploy/app.yaml", "deploy/app.yaml", true},
		{"a b/c#d.yaml", "a%20b/c%23d.yaml", true},
		{"/abs/app.yaml", "file:///abs/app.yaml", true},
		{"<stdin>", "", false},
		{"-", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		uri, ok := fileURI(tt.path)
		if uri != tt.uri || ok != tt.ok {
			t.Errorf("fileURI(%q) = %q, %v; want %q, %v", tt.path, uri, ok, tt.uri, tt.ok)
		}
	}
}

func TestSARIFLeavesOutDefaultsButKeepsEmptyResults(t *testing.T) {
	p := &SARIF{Version: "v0.1.0", Rules: func(*finding.Report) ([]Rule, error) { return testRules(), nil }}
	for _, r := range []*finding.Report{sampleReport(), finding.NewReport(finding.Metadata{}, nil, nil, nil)} {
		var buf bytes.Buffer
		if err := p.Print(r, &buf); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, ": -1") || strings.Count(out, ": []") != strings.Count(out, `"results": []`) {
			t.Errorf("schema defaults written out:\n%s", out)
		}
		if !strings.Contains(out, `"results": [`) {
			t.Errorf("no results array: an empty one says nothing was found, a missing one that nothing ran:\n%s", out)
		}
	}
}

// The log written a result at a time is the log the library writes whole,
// without its defaults, byte for byte.
func TestSARIFStreamedEqualsWhole(t *testing.T) {
	p := &SARIF{Version: "v0.1.0", Rules: func(*finding.Report) ([]Rule, error) { return testRules(), nil }}
	for _, r := range []*finding.Report{sampleReport(), finding.NewReport(finding.Metadata{}, nil, nil, nil)} {
		var got bytes.Buffer
		if err := p.Print(r, &got); err != nil {
			t.Fatal(err)
		}
		rules, _ := p.Rules(r)
		log, err := p.log(r, rules)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tidyJSON(log.Write, "")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("streamed log differs from the whole one:\n--- got\n%s\n--- want\n%s", got.Bytes(), want)
		}
	}
}
