package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// InformationURI is where SARIF viewers send a user who asks what the tool is.
const InformationURI = "https://github.com/kubectl-harden/kubectl-harden"

// fingerprintKey names the partial fingerprint SARIF consumers (GitHub code
// scanning) use to follow one finding across runs; bump the suffix if the
// recipe changes, so old alerts are not silently matched to new ones.
// v2: check, object, subject and the evidence that defines the finding, not the message (finding.Fingerprint).
const fingerprintKey = "kubectlHardenFinding/" + finding.FingerprintVersion

// Rule is what a SARIF log says about one check. pkg/cmd fills it from the
// check registry, so this package need not import the checks.
type Rule struct {
	ID          string
	Domain      string
	Severity    finding.Severity
	Title       string
	Description string
	Remediation string
	Controls    []finding.Control
}

// SARIF prints a report as a SARIF 2.1.0 log for code-scanning tools: one
// rule per check (with its help text and its CIS/NSA-CISA/NIST controls as
// taxonomy relationships) and one result per finding, located at the object
// and, for -f input, at its file and line.
type SARIF struct {
	// Version is the plugin's version, written as the tool driver's version.
	Version string
	// Rules returns every check, its controls at the benchmark the report
	// applied. It is called when printing, so a broken registry is reported
	// as a print error rather than at start-up.
	Rules func(r *finding.Report) ([]Rule, error)
}

// Print writes the SARIF log.
func (s *SARIF) Print(r *finding.Report, w io.Writer) error {
	rules, err := s.Rules(r)
	if err != nil {
		return fmt.Errorf("describe checks for SARIF: %w", err)
	}
	log, err := s.log(r, rules)
	if err != nil {
		return err
	}
	// The log without its results is written whole; the results, which grow
	// with the cluster, one at a time into the place the empty array holds,
	// so no decoded copy of the whole log is ever made.
	run := log.Runs[0]
	results := run.Results
	run.Results = []*sarif.Result{}
	head, err := tidyJSON(log.Write, "")
	if err != nil {
		return fmt.Errorf("encode sarif: %w", err)
	}
	at := bytes.Index(head, []byte(sarifResultsMarker))
	if at < 0 {
		return fmt.Errorf("encode sarif: no results in the run")
	}
	indent := string(head[bytes.LastIndexByte(head[:at], '\n')+1 : at])
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head[:at])
	if len(results) == 0 {
		bw.WriteString(sarifResultsMarker)
	} else {
		bw.WriteString(`"results": [`)
		for i, res := range results {
			b, err := tidyJSON(func(w io.Writer) error {
				b, err := json.Marshal(res)
				if err == nil {
					_, err = w.Write(b)
				}
				return err
			}, indent+"  ")
			if err != nil {
				return fmt.Errorf("encode sarif: %w", err)
			}
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n" + indent + "  ")
			bw.Write(bytes.TrimSuffix(b, []byte("\n")))
		}
		bw.WriteString("\n" + indent + "]")
	}
	bw.Write(head[at+len(sarifResultsMarker):])
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// sarifResultsMarker is the run's results in the log written without them.
const sarifResultsMarker = `"results": []`

// tidyJSON returns what write writes, without the SARIF defaults
// (dropDefaults), indented by two spaces after prefix on every line but the first.
func tidyJSON(write func(io.Writer) error, prefix string) ([]byte, error) {
	var raw bytes.Buffer
	if err := write(&raw); err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(raw.Bytes(), &doc); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(dropDefaults(doc)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// sarifDefaults are the properties the library writes at their schema
// default (-1 for "no index", empty arrays): leaving them out means the same
// and keeps the log readable.
var sarifDefaults = map[string]bool{"index": true, "parentIndex": true, "byteOffset": true, "charOffset": true, "id": true, "rank": true}

// dropDefaults removes empty arrays (but results) and objects, and -1 in the index-like
// properties, everywhere in a decoded SARIF document.
func dropDefaults(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			e = dropDefaults(e)
			switch ev := e.(type) {
			case []any:
				// An empty results array says the analysis found nothing; absent would say it did not run.
				if len(ev) == 0 && k != "results" {
					delete(t, k)
					continue
				}
			case map[string]any:
				if len(ev) == 0 {
					delete(t, k)
					continue
				}
			case float64:
				if ev == -1 && sarifDefaults[k] {
					delete(t, k)
					continue
				}
			}
			t[k] = e
		}
	case []any:
		for i := range t {
			t[i] = dropDefaults(t[i])
		}
	}
	return v
}

func (s *SARIF) log(r *finding.Report, rules []Rule) (*sarif.Report, error) {
	run := sarif.NewRunWithInformationURI("kubectl-harden", InformationURI)
	driver := run.Tool.Driver
	if s.Version != "" {
		driver.WithVersion(s.Version)
	}
	tax := newTaxonomies()
	ruleIndex := map[string]int{}
	for _, rule := range rules {
		ruleIndex[rule.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRule(rule, tax))
	}
	// A finding of a check the registry does not describe (a check ID set by
	// hand in a domain package) still needs a rule for its ruleIndex.
	for _, f := range append(r.Items[:len(r.Items):len(r.Items)], r.Fixed...) {
		if _, ok := ruleIndex[f.Check]; !ok {
			ruleIndex[f.Check] = len(driver.Rules)
			driver.Rules = append(driver.Rules, sarifRule(Rule{ID: f.Check, Severity: f.Severity, Title: f.Title, Controls: f.Controls}, tax))
		}
	}
	run.WithTaxonomies(tax.components)
	for _, c := range tax.components {
		driver.SupportedTaxonomies = append(driver.SupportedTaxonomies, sarif.NewToolComponentReference().WithName(*c.Name).WithIndex(tax.index[*c.Name]))
	}

	for _, f := range r.Items {
		run.AddResult(result(f, ruleIndex[f.Check]))
	}
	// With a baseline, what it had and this run does not are results too, as
	// "absent", so code scanning closes their alerts.
	for _, f := range r.Fixed {
		run.AddResult(result(f, ruleIndex[f.Check]))
	}
	run.AddInvocation(invocation(r, ruleIndex))
	props := sarif.NewPropertyBag().Add("score", r.Summary.Score)
	if m := r.Metadata; m.Context != "" {
		props.Add("context", m.Context)
	}
	if m := r.Metadata; m.Server != nil {
		if m.Server.Host != "" {
			props.Add("server", m.Server.Host)
		}
		if m.Server.Version != "" {
			props.Add("serverVersion", m.Server.Version)
		}
	}
	run.WithProperties(props)

	log := sarif.NewReport()
	log.AddRun(run)
	return log, nil
}

// Level maps a severity to a SARIF level: critical and high fail a code
// scanning gate (error), medium warns, low and info are notes.
func Level(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return sarif.LevelError
	case s == finding.Medium:
		return sarif.LevelWarning
	}
	return sarif.LevelNote
}

// securitySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's "security-severity" property to show critical/high/medium/low.
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "9.5"
	case finding.High:
		return "8.0"
	case finding.Medium:
		return "5.5"
	case finding.Low:
		return "3.0"
	}
	return "0.0"
}

func sarifRule(r Rule, tax *taxonomies) *sarif.ReportingDescriptor {
	title := r.Title
	if title == "" {
		title = r.ID
	}
	rule := sarif.NewRule(r.ID).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(title)).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(Level(r.Severity)))
	if r.Description != "" {
		rule.WithFullDescription(sarif.NewMultiformatMessageString().WithText(r.Description))
	}
	text, markdown := help(r)
	rule.WithHelp(sarif.NewMultiformatMessageString().WithText(text).WithMarkdown(markdown))

	props := sarif.NewPropertyBag().
		Add("security-severity", securitySeverity(r.Severity)).
		Add("severity", r.Severity.String())
	props.AddTag("security")
	if r.Domain != "" {
		props.AddTag(r.Domain)
	}
	controls := make([]string, 0, len(r.Controls))
	for _, c := range r.Controls {
		controls = append(controls, string(c))
		props.AddTag(string(c))
		rule.AddRelationship(tax.relationship(c))
	}
	props.Add("controls", controls)
	rule.WithProperties(props)
	return rule
}

// help is the rule's help in plain text and in Markdown: why it matters, how
// to fix it, which controls it maps to, and how to run only this check.
func help(r Rule) (text, markdown string) {
	var t, m strings.Builder
	if r.Description != "" {
		fmt.Fprintf(&t, "%s\n\n", r.Description)
		fmt.Fprintf(&m, "%s\n\n", r.Description)
	}
	if r.Remediation != "" {
		fmt.Fprintf(&t, "Remediation: %s\n\n", r.Remediation)
		fmt.Fprintf(&m, "**Remediation:** %s\n\n", r.Remediation)
	}
	if len(r.Controls) > 0 {
		cs := make([]string, len(r.Controls))
		for i, c := range r.Controls {
			cs[i] = string(c)
		}
		fmt.Fprintf(&t, "Controls: %s\n\n", strings.Join(cs, ", "))
		fmt.Fprintf(&m, "**Controls:** %s\n\n", strings.Join(cs, ", "))
	}
	fmt.Fprintf(&t, "Run only this check: kubectl harden --check %s", r.ID)
	fmt.Fprintf(&m, "Run only this check: `kubectl harden --check %s`", r.ID)
	return t.String(), m.String()
}

func result(f finding.Finding, ruleIndex int) *sarif.Result {
	res := sarif.NewRuleResult(f.Check).
		WithRuleIndex(ruleIndex).
		WithLevel(Level(f.Severity)).
		WithMessage(sarif.NewTextMessage(f.Message)).
		WithPartialFingerprints(map[string]string{fingerprintKey: fingerprint(f)})

	obj := sarif.NewLogicalLocation().
		WithName(f.Resource.Name).
		WithFullyQualifiedName(f.Resource.String()).
		WithKind("resource")
	loc := sarif.NewLocation().AddLogicalLocation(obj)
	if f.Source != nil {
		if uri, ok := fileURI(f.Source.File); ok {
			phys := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri))
			if f.Source.Line > 0 {
				phys.WithRegion(sarif.NewRegion().WithStartLine(f.Source.Line))
			}
			loc.WithPhysicalLocation(phys)
		}
	}
	res.AddLocation(loc)
	if f.BaselineState != "" {
		res.WithBaselineState(f.BaselineState)
	}
	if a := f.Accepted; a != nil {
		res.AddSuppression(suppression(a))
	}

	props := sarif.NewPropertyBag().
		Add("severity", f.Severity.String()).
		Add("resource", f.Resource)
	if len(f.Controls) > 0 {
		cs := make([]string, len(f.Controls))
		for i, c := range f.Controls {
			cs[i] = string(c)
		}
		props.Add("controls", cs)
	}
	if f.Subject != nil {
		props.Add("subject", f.Subject.String())
	}
	if f.Remediation != nil && f.Remediation.Summary != "" {
		props.Add("remediation", f.Remediation.Summary)
	}
	if f.Source != nil {
		// Kept even when the file has no URI form (stdin), so nothing is lost.
		props.Add("source", f.Source)
	}
	res.WithProperties(props)
	return res
}

// fingerprint identifies a finding across runs by what it is about, not by
// where it was printed or how its message reads.
func fingerprint(f finding.Finding) string { return f.Fingerprint() }

// suppression says which exception accepts a result: an entry of an
// exceptions file (external, located at its line) or the object's own
// annotation (in source). Accepted is the review status: a person decided.
func suppression(a *finding.Acceptance) *sarif.Suppression {
	s := sarif.NewSuppression().WithStatus("accepted").WithJustification(a.Reason)
	props := sarif.NewPropertyBag().Add("owner", a.Owner).Add("expires", a.Expires).Add("by", a.By)
	s.WithProperties(props)
	if a.By == "annotation" {
		return s.WithKind("inSource")
	}
	s.WithKind("external")
	file, line := a.By, 0
	if i := strings.LastIndex(a.By, ":"); i > 0 {
		if n, err := strconv.Atoi(a.By[i+1:]); err == nil {
			file, line = a.By[:i], n
		}
	}
	if uri, ok := fileURI(file); ok {
		phys := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri))
		if line > 0 {
			phys.WithRegion(sarif.NewRegion().WithStartLine(line))
		}
		s.WithLocation(sarif.NewLocation().WithPhysicalLocation(phys))
	}
	return s
}

// fileURI turns a path given with -f into a SARIF artifact URI: relative paths
// stay relative (code scanning resolves them against the checkout), absolute
// ones become file: URIs. Standard input has no URI.
func fileURI(path string) (string, bool) {
	if path == "" || path == "-" || strings.HasPrefix(path, "<") {
		return "", false
	}
	slashed := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		if !strings.HasPrefix(slashed, "/") {
			slashed = "/" + slashed // C:/x on Windows
		}
		return (&url.URL{Scheme: "file", Path: slashed}).String(), true
	}
	return (&url.URL{Path: filepath.ToSlash(filepath.Clean(path))}).String(), true
}

// invocation records the run's outcome: when the report was made and, as
// warnings, every check that could not run and why.
func invocation(r *finding.Report, ruleIndex map[string]int) *sarif.Invocation {
	inv := sarif.NewInvocation().WithExecutionSuccessful(true)
	if !r.Metadata.GeneratedAt.IsZero() {
		inv.WithStartTimeUtc(r.Metadata.GeneratedAt.UTC().Format(time.RFC3339))
	}
	for _, sk := range r.Summary.Skipped {
		n := sarif.NewNotification().
			WithLevel(sarif.LevelWarning).
			WithMessage(sarif.NewTextMessage(fmt.Sprintf("check %s skipped: %s", sk.Check, sk.Reason)))
		if i, ok := ruleIndex[sk.Check]; ok {
			n.WithAssociatedRule(sarif.NewReportingDescriptorReference().WithID(sk.Check).WithIndex(i))
		}
		inv.AddToolExecutionNotification(n)
	}
	return inv
}

// framework is one benchmark or guide whose controls the checks map to,
// recognised by the prefix of a finding.Control.
type framework struct {
	prefix   string
	name     string
	fullName string
	uri      string
}

// frameworks are tried in order, so the longer NIST prefixes come first.
func frameworks() []framework {
	return []framework{
		{"CIS-", "CIS", "CIS Kubernetes Benchmark", "https://www.cisecurity.org/benchmark/kubernetes"},
		{"NSA-CISA-", "NSA-CISA", "NSA/CISA Kubernetes Hardening Guide", "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF"},
		{"NIST-800-190-", "NIST-800-190", "NIST SP 800-190 Application Container Security Guide", "https://csrc.nist.gov/pubs/sp/800/190/final"},
		{"NIST-800-53-", "NIST-800-53", "NIST SP 800-53 Rev. 5 Security and Privacy Controls", "https://csrc.nist.gov/pubs/sp/800/53/r5/upd1/final"},
	}
}

// taxonomies collects the SARIF taxonomy components (one per framework) and
// their taxa (one per control) as rules refer to them.
type taxonomies struct {
	components []*sarif.ToolComponent
	index      map[string]int            // component name -> index
	taxa       map[string]map[string]int // component name -> taxon ID -> index
}

func newTaxonomies() *taxonomies {
	return &taxonomies{index: map[string]int{}, taxa: map[string]map[string]int{}}
}

// relationship links a rule to the control's taxon, adding both as needed.
func (t *taxonomies) relationship(c finding.Control) *sarif.ReportingDescriptorRelationship {
	fw, id := splitControl(c)
	ci, ok := t.index[fw.name]
	if !ok {
		comp := sarif.NewToolComponent().WithName(fw.name)
		if fw.fullName != "" {
			comp.WithFullName(fw.fullName)
		}
		if fw.uri != "" {
			comp.WithInformationURI(fw.uri)
		}
		ci = len(t.components)
		t.components = append(t.components, comp)
		t.index[fw.name] = ci
		t.taxa[fw.name] = map[string]int{}
	}
	ti, ok := t.taxa[fw.name][id]
	if !ok {
		comp := t.components[ci]
		ti = len(comp.Taxa)
		comp.Taxa = append(comp.Taxa, sarif.NewReportingDescriptor().WithID(id).WithName(string(c)))
		t.taxa[fw.name][id] = ti
	}
	return sarif.NewReportingDescriptorRelationship().
		WithTarget(sarif.NewReportingDescriptorReference().
			WithID(id).
			WithIndex(ti).
			WithToolComponent(sarif.NewToolComponentReference().WithName(fw.name).WithIndex(ci))).
		WithKinds([]string{"relevant"})
}

// splitControl finds a control's framework and its ID within it; a control
// of an unknown framework gets one named by its first dash-separated word.
func splitControl(c finding.Control) (framework, string) {
	s := string(c)
	for _, fw := range frameworks() {
		if strings.HasPrefix(s, fw.prefix) && len(s) > len(fw.prefix) {
			return fw, strings.TrimPrefix(s, fw.prefix)
		}
	}
	name, id, ok := strings.Cut(s, "-")
	if !ok || id == "" {
		return framework{name: "other"}, s
	}
	return framework{name: name}, id
}
