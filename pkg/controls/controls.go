// Package controls holds the control catalogues (CIS Kubernetes Benchmark by
// version, the NSA/CISA Hardening Guide, NIST SP 800-53, 800-190 and 800-218)
// as data, maps checks to their controls through them, and judges a
// framework's controls from the checks' results. The catalogues are the one
// place that says which check evidences which control: checks declare none.
package controls

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

//go:embed catalogues/*.yaml
var files embed.FS

// Catalogue is one framework at one version, as in its file under catalogues/.
type Catalogue struct {
	Framework string `json:"framework"`
	Version   string `json:"version"`
	Title     string `json:"title"`
	// Prefix makes a control's finding.Control: CIS- and 1.2.1 is CIS-1.2.1.
	Prefix string `json:"prefix"`
	// Kubernetes lists the minor versions a CIS benchmark targets.
	Kubernetes []string  `json:"kubernetes,omitempty"`
	Sections   []Section `json:"sections"`
}

// Section groups controls (CIS 1.2 API server, NIST-800-53 AC).
type Section struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Controls []Control `json:"controls"`
}

// Control is one recommendation or control.
type Control struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Assessment string `json:"assessment"` // automated or manual, as the framework says
	Level      int    `json:"level,omitempty"`
	// Checks evidence the control: "check" or "check:facet".
	Checks []string `json:"checks,omitempty"`
	// Unseen says why no check evidences the control (not visible through the API, a person decides).
	Unseen string `json:"unseen,omitempty"`
}

// ID is the catalogue's name for --benchmark and reports: cis-1.12, nsa-1.2.
func (c *Catalogue) ID() string { return c.Framework + "-" + c.Version }

// Ref is the control as findings carry it.
func (c *Catalogue) Ref(ctl Control) finding.Control { return finding.Control(c.Prefix + ctl.ID) }

// Evidence is a parsed entry of Control.Checks.
type Evidence struct{ Check, Facet string }

// ParseEvidence reads "check" or "check:facet".
func ParseEvidence(s string) Evidence {
	c, f, _ := strings.Cut(s, ":")
	return Evidence{Check: c, Facet: f}
}

// Library is every catalogue.
type Library struct {
	catalogues []*Catalogue
}

// frameworks orders the frameworks in reports and findings' controls.
var frameworkOrder = []string{"cis", "nsa", "nist-800-53", "nist-800-190", "nist-800-218"}

// Frameworks returns the names --framework takes.
func Frameworks() []string { return slices.Clone(frameworkOrder) }

// Load parses the embedded catalogues.
func Load() (*Library, error) {
	entries, err := files.ReadDir("catalogues")
	if err != nil {
		return nil, err
	}
	var cs []*Catalogue
	for _, e := range entries {
		b, err := files.ReadFile(path.Join("catalogues", e.Name()))
		if err != nil {
			return nil, err
		}
		c, err := Parse(e.Name(), b)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return NewLibrary(cs...), nil
}

// Parse reads one catalogue file; its name must be ID.yaml (cis-1.12.yaml).
func Parse(name string, b []byte) (*Catalogue, error) {
	var c Catalogue
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("control catalogue %s: %w", name, err)
	}
	if want := c.ID() + ".yaml"; name != want {
		return nil, fmt.Errorf("control catalogue %s: framework and version say %s", name, want)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("control catalogue %s: %w", name, err)
	}
	return &c, nil
}

// NewLibrary orders catalogues: CIS oldest to newest, then the other frameworks.
func NewLibrary(cs ...*Catalogue) *Library {
	l := &Library{catalogues: cs}
	sort.SliceStable(l.catalogues, func(i, j int) bool {
		a, b := l.catalogues[i], l.catalogues[j]
		if a.Framework != b.Framework {
			return slices.Index(frameworkOrder, a.Framework) < slices.Index(frameworkOrder, b.Framework)
		}
		return versionLess(a.Version, b.Version)
	})
	return l
}

func (c *Catalogue) validate() error {
	if !slices.Contains(frameworkOrder, c.Framework) {
		return fmt.Errorf("unknown framework %q", c.Framework)
	}
	seen := map[string]bool{}
	for _, s := range c.Sections {
		for _, ctl := range s.Controls {
			if seen[ctl.ID] {
				return fmt.Errorf("control %s listed twice", ctl.ID)
			}
			seen[ctl.ID] = true
			if ctl.Assessment != "automated" && ctl.Assessment != "manual" {
				return fmt.Errorf("control %s: assessment must be automated or manual, not %q", ctl.ID, ctl.Assessment)
			}
			if ctl.Title == "" {
				return fmt.Errorf("control %s has no title", ctl.ID)
			}
		}
	}
	return nil
}

// versionLess orders "1.9" before "1.10" and "2.0".
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// All returns every catalogue: CIS oldest to newest, then the other frameworks.
func (l *Library) All() []*Catalogue { return slices.Clone(l.catalogues) }

// Get returns a catalogue by ID (cis-1.12).
func (l *Library) Get(id string) (*Catalogue, bool) {
	for _, c := range l.catalogues {
		if c.ID() == id {
			return c, true
		}
	}
	return nil, false
}

// Benchmarks returns the CIS catalogues, oldest first.
func (l *Library) Benchmarks() []*Catalogue {
	var out []*Catalogue
	for _, c := range l.catalogues {
		if c.Framework == "cis" {
			out = append(out, c)
		}
	}
	return out
}

// BenchmarkIDs returns the values --benchmark takes.
func (l *Library) BenchmarkIDs() []string {
	var out []string
	for _, c := range l.Benchmarks() {
		out = append(out, c.ID())
	}
	return out
}

// Newest returns the newest CIS benchmark.
func (l *Library) Newest() *Catalogue {
	bs := l.Benchmarks()
	return bs[len(bs)-1]
}

// ChooseBenchmark returns the benchmark asked for (--benchmark), else the one
// that targets the server's minor version, else the newest, and says why.
func (l *Library) ChooseBenchmark(requested, serverVersion string) (*finding.Benchmark, *Catalogue, error) {
	if requested != "" {
		c, ok := l.Get(requested)
		if !ok || c.Framework != "cis" {
			return nil, nil, fmt.Errorf("unknown benchmark %q: use one of %s", requested, strings.Join(l.BenchmarkIDs(), ", "))
		}
		return &finding.Benchmark{ID: c.ID(), Title: c.Title, Reason: "--benchmark"}, c, nil
	}
	minor := minorOf(serverVersion)
	for _, c := range l.Benchmarks() {
		if minor != "" && slices.Contains(c.Kubernetes, minor) {
			return &finding.Benchmark{ID: c.ID(), Title: c.Title, Reason: fmt.Sprintf("targets Kubernetes %s, the server's version", minor)}, c, nil
		}
	}
	c := l.Newest()
	reason := "the newest benchmark: the Kubernetes version is not known"
	if minor != "" {
		reason = fmt.Sprintf("the newest benchmark (it targets Kubernetes %s); no benchmark targets %s", strings.Join(c.Kubernetes, "-"), minor)
	}
	return &finding.Benchmark{ID: c.ID(), Title: c.Title, Reason: reason}, c, nil
}

// minorOf reads "v1.37.2" or "1.37" as "1.37".
func minorOf(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	if minor == "" {
		return ""
	}
	return parts[0] + "." + minor
}

// Framework returns the catalogue --framework names: for cis, the benchmark given.
func (l *Library) Framework(name string, benchmark *Catalogue) (*Catalogue, error) {
	if name == "cis" {
		return benchmark, nil
	}
	var found *Catalogue
	for _, c := range l.catalogues {
		if c.Framework == name {
			found = c // the newest version
		}
	}
	if found == nil {
		return nil, fmt.Errorf("unknown framework %q: use one of %s", name, strings.Join(frameworkOrder, ", "))
	}
	return found, nil
}

// Mapping maps checks to the controls of one CIS benchmark and of every other framework.
type Mapping struct {
	catalogues []*Catalogue
}

// Mapping returns the mapping that uses the benchmark's CIS IDs.
func (l *Library) Mapping(benchmark *Catalogue) *Mapping {
	m := &Mapping{}
	for _, c := range l.catalogues {
		if c.Framework == "cis" && c != benchmark {
			continue
		}
		if c.Framework != "cis" {
			if newest, _ := l.Framework(c.Framework, nil); newest != c {
				continue
			}
		}
		m.catalogues = append(m.catalogues, c)
	}
	return m
}

// Controls returns the controls a finding of the check with the facets evidences.
func (m *Mapping) Controls(check string, facets []string) []finding.Control {
	return m.controls(check, func(facet string) bool { return facet == "" || slices.Contains(facets, facet) })
}

// CheckControls returns every control the check evidences, whatever the facet.
func (m *Mapping) CheckControls(check string) []finding.Control {
	return m.controls(check, func(string) bool { return true })
}

func (m *Mapping) controls(check string, facetOK func(string) bool) []finding.Control {
	var out []finding.Control
	for _, c := range m.catalogues {
		for _, s := range c.Sections {
			for _, ctl := range s.Controls {
				for _, e := range ctl.Checks {
					ev := ParseEvidence(e)
					if ev.Check == check && facetOK(ev.Facet) {
						out = append(out, c.Ref(ctl))
						break
					}
				}
			}
		}
	}
	return out
}

// Assign sets each finding's controls from the mapping; findings of checks
// the catalogues do not know (the exceptions' own) keep theirs.
//
// Findings of one check with the same facets share one slice of controls
// (a big cluster has ~80,000 findings of ~100 checks): the slices are
// read, never changed.
func (m *Mapping) Assign(items []finding.Finding) {
	shared := map[string][]finding.Control{}
	for i := range items {
		key := items[i].Check
		for _, f := range items[i].Facets {
			key += "\x00" + f
		}
		cs, ok := shared[key]
		if !ok {
			cs = m.Controls(items[i].Check, items[i].Facets)
			shared[key] = cs
		}
		if len(cs) > 0 {
			items[i].Controls = cs
		}
	}
}
