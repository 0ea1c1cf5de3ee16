package finding

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	// ReportAPIVersion and ReportKind identify the Report document; scripts may rely on them.
	ReportAPIVersion = "kubectl-harden.io/v1alpha1"
	ReportKind       = "Report"
)

// Report is the stable document printed by -o json|yaml.
type Report struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   Metadata  `json:"metadata"`
	Summary    Summary   `json:"summary"`
	Items      []Finding `json:"items"`
	// Coverage holds each domain's summary document (netpol.Coverage,
	// psa.Coverage); CoverageOf returns one by its type.
	Coverage []Coverage `json:"coverage,omitempty"`
	// Fixed are the findings of the baseline report (--baseline) that this
	// audit no longer finds, by checks that ran; their baselineState is "absent".
	Fixed []Finding `json:"fixed,omitempty"`
	// Controls is the scorecard of one framework's controls (--framework).
	Controls *Scorecard `json:"controls,omitempty"`
	// Ran is each check that ran with how many findings it had, hidden or
	// not, so printers that report passes (PolicyReport) never call a check
	// passed whose findings --severity only hid. Not part of the document.
	Ran []CheckRun `json:"-"`
}

// CheckRun is a check that ran, the number of its findings and the worst of them.
type CheckRun struct {
	ID       string
	Severity Severity
	Findings int
	Worst    Severity
}

// DomainScore is the score of one domain's checks, computed as the run's.
type DomainScore struct {
	Domain string
	Score  int
	Checks int
	Failed int
}

// DomainScores scores each domain of the checks that ran, in the order the
// domains first appear: the severity-weighted share of its checks that found
// nothing above info, as the report's score.
func (r *Report) DomainScores() []DomainScore {
	var out []DomainScore
	at := map[string]int{}
	total := map[string]int{}
	passed := map[string]int{}
	for _, c := range r.Ran {
		d, _, _ := strings.Cut(c.ID, "/")
		i, ok := at[d]
		if !ok {
			i = len(out)
			at[d] = i
			out = append(out, DomainScore{Domain: d})
		}
		out[i].Checks++
		total[d] += weight(c.Severity)
		if c.Worst > Info {
			out[i].Failed++
		} else {
			passed[d] += weight(c.Severity)
		}
	}
	for i := range out {
		out[i].Score = 100
		if t := total[out[i].Domain]; t > 0 {
			out[i].Score = passed[out[i].Domain] * 100 / t
		}
	}
	return out
}

// Coverage is a domain's summary document (for example NetworkPolicy
// isolation per namespace) carried in the report beside the findings. Data is
// the domain's own type; in a report decoded from JSON it is the raw document
// until CoverageOf decodes it into that type.
type Coverage struct {
	Domain string           `json:"domain"`
	Data   CoverageDocument `json:"data"`
}

// CoverageDocument is a domain's coverage type.
type CoverageDocument interface {
	// CoverageDomain is the domain the document summarises.
	CoverageDomain() string
}

// rawCoverage is a coverage document read from JSON, not yet typed.
type rawCoverage struct {
	domain string
	raw    json.RawMessage
}

func (r rawCoverage) CoverageDomain() string       { return r.domain }
func (r rawCoverage) MarshalJSON() ([]byte, error) { return r.raw, nil }

// UnmarshalJSON keeps the document raw: only the domain's type can read it.
func (c *Coverage) UnmarshalJSON(b []byte) error {
	var v struct {
		Domain string          `json:"domain"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Domain, c.Data = v.Domain, rawCoverage{domain: v.Domain, raw: v.Data}
	return nil
}

// CoverageOf returns the report's coverage document of type T (a pointer to
// the domain's type, e.g. *netpol.Coverage), decoding it when the report was
// read from JSON or YAML; ok is false when the report has none.
func CoverageOf[T CoverageDocument](r *Report) (doc T, ok bool, err error) {
	domain := doc.CoverageDomain()
	for _, c := range r.Coverage {
		if c.Domain != domain {
			continue
		}
		switch d := c.Data.(type) {
		case T:
			return d, true, nil
		case rawCoverage:
			var out T
			if err := json.Unmarshal(d.raw, &out); err != nil {
				return doc, false, fmt.Errorf("coverage of %s: %w", domain, err)
			}
			return out, true, nil
		}
	}
	return doc, false, nil
}

// Metadata says where and when the report was made.
type Metadata struct {
	Context     string      `json:"context,omitempty"`
	Server      *ServerInfo `json:"server,omitempty"`
	Files       []string    `json:"files,omitempty"`
	GeneratedAt time.Time   `json:"generatedAt"`
	// Input says what the audit saw: a check is only as good as what it read.
	Input *Input `json:"input,omitempty"`
	// Benchmark is the CIS Kubernetes Benchmark version whose IDs the findings' controls use.
	Benchmark *Benchmark `json:"benchmark,omitempty"`
}

// Benchmark names the CIS Kubernetes Benchmark version an audit applied, and why that one.
type Benchmark struct {
	ID     string `json:"id"` // cis-1.12
	Title  string `json:"title"`
	Reason string `json:"reason,omitempty"`
}

// Input is what an audit read, kind by kind.
type Input struct {
	// Source is "cluster" for a live API server, "files" for manifests.
	Source string `json:"source"`
	// Complete is set when the files were said to be the whole cluster (--complete).
	Complete bool        `json:"complete,omitempty"`
	Kinds    []InputKind `json:"kinds"`
	// Unmodelled counts objects of kinds no check reads, by apiVersion/Kind.
	Unmodelled []KindCount `json:"unmodelled,omitempty"`
}

// The status of a kind in the input.
const (
	InputListed        = "listed"         // live: listed from the API server
	InputRead          = "read"           // offline: objects of the kind are in the files
	InputAbsent        = "absent"         // offline: no object of the kind in the files, so not seen
	InputAssumedAbsent = "assumed-absent" // offline: none in the files, and the user says the cluster has none
	InputNone          = "none"           // offline: no pod of this kind but workloads of other kinds in the files, or an add-on kind that application manifests do not hold
	InputForbidden     = "forbidden"      // live: the user may not list it
	InputNotServed     = "not-served"     // live: the API server does not serve it
	InputNotInstalled  = "not-installed"  // an add-on kind whose CRD the server does not serve, or that no CRD of a dump defines: there are none
	InputUnavailable   = "unavailable"    // anything else that kept it from being read
)

// InputKind is one kind the audit needed and what became of it.
type InputKind struct {
	Kind   string `json:"kind"`
	Count  int    `json:"count"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// KindCount is a number of objects of one apiVersion/Kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// ServerInfo describes the audited API server.
type ServerInfo struct {
	Host    string `json:"host,omitempty"`
	Version string `json:"version,omitempty"`
}

// Summary counts findings by severity, scores the run and lists the checks that could not run.
type Summary struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
	Score    int `json:"score"`
	Checks   int `json:"checks"`
	Failed   int `json:"failed"`
	// Hidden is how many findings --severity left out of items; they still count above.
	Hidden  int       `json:"hidden,omitempty"`
	Skipped []Skipped `json:"skipped,omitempty"`
	// NotApplicable are checks of the cluster as a whole that files that are not a cluster cannot answer.
	NotApplicable []Skipped `json:"notApplicable,omitempty"`
	// Unknown are checks that could not see what they judge (a control plane the API does not show):
	// neither passed nor failed, they leave the score, and their controls are unknown.
	Unknown []Skipped `json:"unknown,omitempty"`
	// Accepted is how many findings exceptions accepted: they are in items but
	// not in the counts above, the score or --fail-on.
	Accepted int `json:"accepted,omitempty"`
	// Baseline compares the audit with a previous report (--baseline); --fail-on then judges only the new findings.
	Baseline *BaselineSummary `json:"baseline,omitempty"`
}

// BaselineSummary is what changed since the baseline report.
type BaselineSummary struct {
	// Report is the file of the baseline report.
	Report string `json:"report"`
	// New counts, by severity, the findings the baseline does not have (accepted ones left out).
	New       SeverityCounts `json:"new"`
	Unchanged int            `json:"unchanged"`
	Fixed     int            `json:"fixed"`
}

// SeverityCounts counts findings by severity.
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Count returns the number at severity sev.
func (c SeverityCounts) Count(sev Severity) int {
	switch sev {
	case Critical:
		return c.Critical
	case High:
		return c.High
	case Medium:
		return c.Medium
	case Low:
		return c.Low
	}
	return c.Info
}

// Total is the number of findings counted.
func (c SeverityCounts) Total() int { return c.Critical + c.High + c.Medium + c.Low + c.Info }

func (c *SeverityCounts) add(sev Severity) {
	switch sev {
	case Critical:
		c.Critical++
	case High:
		c.High++
	case Medium:
		c.Medium++
	case Low:
		c.Low++
	default:
		c.Info++
	}
}

// Count returns the number of findings at severity s.
func (s Summary) Count(sev Severity) int {
	switch sev {
	case Critical:
		return s.Critical
	case High:
		return s.High
	case Medium:
		return s.Medium
	case Low:
		return s.Low
	}
	return s.Info
}

// Skipped is a check that did not run, and why (for example a forbidden list).
type Skipped struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

// RanCheck is what the report needs to know of a check that ran, to score it.
type RanCheck struct {
	ID       string
	Severity Severity
}

// NewReport builds a report from the findings of the checks that ran. Findings
// are sorted most severe first, then by check and object, so output is stable.
func NewReport(meta Metadata, ran []RanCheck, skipped []Skipped, items []Finding) *Report {
	if items == nil {
		items = []Finding{}
	}
	Sort(items)
	r := &Report{APIVersion: ReportAPIVersion, Kind: ReportKind, Metadata: meta, Items: items}
	r.Summary = Summarize(ran, items)
	r.Summary.Skipped = skipped
	count := map[string]int{}
	worst := map[string]Severity{}
	for _, f := range items {
		count[f.Check]++
		worst[f.Check] = max(worst[f.Check], f.Severity)
	}
	for _, c := range ran {
		r.Ran = append(r.Ran, CheckRun{ID: c.ID, Severity: c.Severity, Findings: count[c.ID], Worst: worst[c.ID]})
	}
	return r
}

// Sort orders findings most severe first, then by check ID, namespace, kind,
// name, message, subject and source: findings that tie on all of them are
// the same to every output, so any two runs order them alike.
func Sort(items []Finding) {
	slices.SortStableFunc(items, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Resource.Namespace, b.Resource.Namespace),
			cmp.Compare(a.Resource.Kind, b.Resource.Kind),
			cmp.Compare(a.Resource.Name, b.Resource.Name),
			cmp.Compare(a.Message, b.Message),
			compareSubjects(a.Subject, b.Subject),
			compareSources(a.Source, b.Source),
		)
	})
}

func compareSubjects(a, b *Subject) int {
	if a == nil || b == nil {
		return cmp.Compare(boolInt(a != nil), boolInt(b != nil))
	}
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

func compareSources(a, b *Source) int {
	if a == nil || b == nil {
		return cmp.Compare(boolInt(a != nil), boolInt(b != nil))
	}
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// weight is how much a failing check of a severity costs the score.
func weight(s Severity) int {
	switch s {
	case Critical:
		return 20
	case High:
		return 10
	case Medium:
		return 4
	case Low:
		return 2
	}
	return 0
}

// Summarize counts items by severity and scores the run: the weighted share of
// the checks that ran and found nothing, 100 when every check passed. Accepted
// findings are counted apart and are not failures.
func Summarize(ran []RanCheck, items []Finding) Summary {
	var s Summary
	failed := map[string]bool{}
	for _, f := range items {
		if f.Accepted != nil {
			s.Accepted++
			continue
		}
		switch f.Severity {
		case Critical:
			s.Critical++
		case High:
			s.High++
		case Medium:
			s.Medium++
		case Low:
			s.Low++
		default:
			s.Info++
		}
		if f.Severity > Info {
			failed[f.Check] = true
		}
	}
	total, passed := 0, 0
	for _, c := range ran {
		w := weight(c.Severity)
		total += w
		if failed[c.ID] {
			s.Failed++
		} else {
			passed += w
		}
	}
	s.Checks = len(ran)
	s.Score = 100
	if total > 0 {
		s.Score = passed * 100 / total
	}
	return s
}

// Filter keeps the findings a user asked to see.
type Filter struct {
	Checks      []string // only these check IDs (or ID prefixes ending in "/"); empty means all
	SkipChecks  []string
	MinSeverity Severity
}

// Wants reports whether the check ID passes the --check and --skip-check selection.
func (f Filter) Wants(id string) bool {
	if matchAny(f.SkipChecks, id) {
		return false
	}
	return len(f.Checks) == 0 || matchAny(f.Checks, id)
}

func matchAny(patterns []string, id string) bool {
	for _, p := range patterns {
		if p == id || (len(p) > 0 && p[len(p)-1] == '/' && len(id) > len(p) && id[:len(p)] == p) {
			return true
		}
	}
	return false
}

// Shown returns the findings at or above the level, for display; the rest still count.
func Shown(items []Finding, min Severity) []Finding {
	if !slices.ContainsFunc(items, func(f Finding) bool { return f.Severity < min }) {
		return items // nothing hidden: no copy of a big report's findings
	}
	out := items[:0:0]
	for _, it := range items {
		if it.Severity >= min {
			out = append(out, it)
		}
	}
	return out
}

// Apply returns the findings at or above MinSeverity whose check is wanted.
func (f Filter) Apply(items []Finding) []Finding {
	out := items[:0:0]
	for _, it := range items {
		if it.Severity >= f.MinSeverity && f.Wants(it.Check) {
			out = append(out, it)
		}
	}
	return out
}

// AtOrAbove reports whether any finding is at or above the level.
func AtOrAbove(items []Finding, level Severity) bool {
	for _, it := range items {
		if it.Severity >= level {
			return true
		}
	}
	return false
}
