// Package checks is the registry of every check: its stable ID, domain,
// severity, title, control mappings, the kinds it reads and its function.
// Domain packages (rbac, netpol, psa, workload) define the checks; package
// all assembles them. Checks are pure: they read the inventory and never call the API.
package checks

import (
	"fmt"
	"hash/maphash"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Check is one rule. Run returns the findings for the inventory; it may leave
// Check, Severity, Title and Controls empty, the registry fills them from the Check.
// A check declares no controls: the control catalogues (pkg/controls) map
// each check, and each of its Facets, to the controls of a benchmark version.
type Check struct {
	ID          string // "rbac/cluster-admin-binding": domain, slash, name
	Domain      string // "rbac", "netpol", "psa", "workload", "cluster"
	Severity    finding.Severity
	Title       string
	Description string // why it matters, in a sentence or two
	Remediation string // how to fix it, in general terms
	// Controls are filled by the registry's builder (package all) from the
	// control catalogues, at the newest CIS benchmark; never declared by hand.
	Controls []finding.Control
	// Facets name the parts of the check a finding can be about (the flags of
	// a flags check): findings carry them, and the catalogues map a check:facet
	// to a control of its own. Every facet a catalogue names is declared here.
	Facets []string
	// Unseen says why the check cannot see what it judges in this inventory
	// (a control plane the API does not show), or "" when it can. Such a check
	// does not run: it is unknown, neither a pass nor a failure.
	Unseen func(inv *inventory.Inventory) string
	// Needs lists every kind the check reads. Offline, the kinds that carry
	// pod specs count as one need: any one of them present is enough.
	Needs []inventory.Kind
	// Range is the lowest and highest severity the check's findings take when
	// they differ from Severity (zero: always Severity), so --fail-on is predictable.
	Range [2]finding.Severity
	// Cluster marks a check that judges the cluster as a whole (control plane,
	// admission): it runs only when the input is a cluster (inventory.IsCluster).
	Cluster bool
	// Reported marks a check whose findings the audit engine reports about
	// its own input (the exceptions: expired, stale, malformed), not Run over
	// the inventory. It has no Run and no Needs; it is listed, described in
	// SARIF and valid for --skip-check, but never selected to run and never
	// counted in the score.
	Reported bool
	Run      func(inv *inventory.Inventory) []finding.Finding
}

// Severities returns the lowest and highest severity the check reports.
func (c Check) Severities() (lo, hi finding.Severity) {
	if c.Range[0] == 0 {
		return c.Severity, c.Severity
	}
	return c.Range[0], c.Range[1]
}

// Registry holds checks in a stable order.
type Registry struct {
	checks []Check
	byID   map[string]int
}

// NewRegistry builds a registry; duplicate or malformed IDs are a programming error.
func NewRegistry(groups ...[]Check) (*Registry, error) {
	r := &Registry{byID: map[string]int{}}
	for _, g := range groups {
		for _, c := range g {
			if c.ID == "" || (c.Run == nil) != c.Reported || !strings.HasPrefix(c.ID, c.Domain+"/") {
				return nil, fmt.Errorf("check %q: ID must be %q followed by a name, and Run must be set unless the check is Reported (then not)", c.ID, c.Domain+"/")
			}
			if _, dup := r.byID[c.ID]; dup {
				return nil, fmt.Errorf("check %q registered twice", c.ID)
			}
			r.byID[c.ID] = len(r.checks)
			r.checks = append(r.checks, c)
		}
	}
	return r, nil
}

// All returns every check in registration order.
func (r *Registry) All() []Check { return append([]Check(nil), r.checks...) }

// Get returns a check by ID.
func (r *Registry) Get(id string) (Check, bool) {
	i, ok := r.byID[id]
	if !ok {
		return Check{}, false
	}
	return r.checks[i], true
}

// Domains returns the names of the domains whose checks run, sorted: those
// of Reported checks only (exceptions) are no domain to audit or fix.
func (r *Registry) Domains() []string {
	seen := map[string]bool{}
	for _, c := range r.checks {
		if !c.Reported {
			seen[c.Domain] = true
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Select returns the checks of the given domains (all when empty) that the filter wants.
// An ID in the filter that names no check is an error, so a typo does not silently pass;
// so is --check of a Reported check, which has nothing to run.
func (r *Registry) Select(domains []string, f finding.Filter) ([]Check, error) {
	for _, id := range f.Checks {
		d := strings.TrimSuffix(id, "/")
		if i, ok := r.byID[id]; (ok && r.checks[i].Reported) || (d != id && r.hasDomain(d) && !slices.Contains(r.Domains(), d)) {
			return nil, fmt.Errorf("--check %s: its findings are about the exceptions of the checks that run, and come with them; --skip-check %s leaves them out", id, id)
		}
	}
	for _, id := range append(append([]string(nil), f.Checks...), f.SkipChecks...) {
		if _, ok := r.byID[id]; ok {
			continue
		}
		if strings.HasSuffix(id, "/") && r.hasDomain(strings.TrimSuffix(id, "/")) {
			continue
		}
		return nil, fmt.Errorf("unknown check %q: see kubectl harden checks", id)
	}
	want := map[string]bool{}
	for _, d := range domains {
		want[d] = true
	}
	var out []Check
	for _, c := range r.checks {
		if !c.Reported && (len(want) == 0 || want[c.Domain]) && f.Wants(c.ID) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (r *Registry) hasDomain(d string) bool {
	for _, c := range r.checks {
		if c.Domain == d {
			return true
		}
	}
	return false
}

// Needs returns the union of the kinds the checks read.
func Needs(cs []Check) []inventory.Kind {
	seen := map[inventory.Kind]bool{}
	var out []inventory.Kind
	for _, c := range cs {
		for _, k := range c.Needs {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// Result is what running a set of checks produced.
type Result struct {
	Ran     []finding.RanCheck
	Skipped []finding.Skipped
	// NotApplicable are checks that judge a cluster as a whole, given input that is not one.
	NotApplicable []finding.Skipped
	// Unknown are checks that could not see what they judge (Check.Unseen).
	Unknown  []finding.Skipped
	Findings []finding.Finding
}

// Run runs the checks over the inventory, in parallel. A check whose needed
// kind could not be read is skipped with the reason; one that panics is
// reported as skipped rather than taking the run down.
func Run(inv *inventory.Inventory, cs []Check) Result { return RunByDomain(inv, cs, nil) }

// RunByDomain runs the checks one domain at a time, in the order the domains
// first appear in cs, the checks of a domain in parallel, and calls done with
// each domain's name once all its checks have returned: the caller can take
// what it wants of the domain's analysis then and let the inventory forget it
// (Inventory.Forget), so a big cluster's analyses are not all held at once.
// The result is the same as Run's, in the same order. A nil done runs every
// check at once.
func RunByDomain(inv *inventory.Inventory, cs []Check, done func(domain string)) Result {
	results := make([]checkOut, len(cs))
	var wg sync.WaitGroup
	domains := DomainsOf(cs)
	if done == nil {
		domains = []string{""} // every check in one step
	}
	evidence := evidenceTable{}
	for _, d := range domains {
		for i, c := range cs {
			if done == nil || c.Domain == d {
				start(inv, c, &results[i], &wg)
			}
		}
		wg.Wait()
		for i, c := range cs {
			if done == nil || c.Domain == d {
				evidence.share(results[i].findings)
			}
		}
		if done != nil {
			done(d)
		}
	}
	var res Result
	n := 0
	for i := range results {
		n += len(results[i].findings)
	}
	res.Findings = make([]finding.Finding, 0, n) // one allocation: a big cluster has ~80,000
	for i, c := range cs {
		if c.Reported {
			continue
		}
		if results[i].notApplicable {
			res.NotApplicable = append(res.NotApplicable, finding.Skipped{Check: c.ID, Reason: results[i].skipped})
			continue
		}
		if results[i].unknown {
			res.Unknown = append(res.Unknown, finding.Skipped{Check: c.ID, Reason: results[i].skipped})
			continue
		}
		if results[i].skipped != "" {
			res.Skipped = append(res.Skipped, finding.Skipped{Check: c.ID, Reason: results[i].skipped})
			continue
		}
		res.Ran = append(res.Ran, finding.RanCheck{ID: c.ID, Severity: c.Severity})
		res.Findings = append(res.Findings, results[i].findings...)
		results[i].findings = nil
	}
	return res
}

// evidenceTable keeps one copy of equal evidence. The workloads of one chart
// have the same container, field and violations; a big cluster's findings
// hold a few thousand distinct evidence maps tens of thousands of times, and
// a small map costs ~300 bytes whatever it holds. A finding's evidence is
// read-only once its check has returned, so findings with equal evidence
// (by reflect.DeepEqual: the same Go values, not only the same JSON) can hold
// one map. By the hash of the evidence (evidenceHash), its equal candidates.
type evidenceTable map[uint64][]map[string]any

var evidenceSeed = maphash.MakeSeed()

func (t evidenceTable) share(fs []finding.Finding) {
	for i := range fs {
		ev := fs[i].Evidence
		if len(ev) == 0 {
			continue
		}
		h := evidenceHash(ev)
		shared := false
		for _, c := range t[h] {
			if reflect.DeepEqual(c, ev) {
				fs[i].Evidence, shared = c, true
				break
			}
		}
		if !shared {
			t[h] = append(t[h], ev)
		}
	}
}

// DomainsOf returns the domains of the checks in the order they first
// appear in cs, which is the order RunByDomain runs them in.
func DomainsOf(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.Domain) {
			out = append(out, c.Domain)
		}
	}
	return out
}

// checkOut is what running one check gave.
type checkOut struct {
	findings      []finding.Finding
	skipped       string
	notApplicable bool
	unknown       bool
}

// start runs the check in a goroutine of wg, or says in out why it does not.
func start(inv *inventory.Inventory, c Check, out *checkOut, wg *sync.WaitGroup) {
	if c.Reported {
		return // the audit engine reports it; there is nothing to run
	}
	if c.Cluster && !inv.IsCluster() {
		*out = checkOut{skipped: NotACluster, notApplicable: true}
		return
	}
	if reason := OptedOutReason(inv, c.Needs); reason != "" {
		*out = checkOut{skipped: reason, unknown: true}
		return
	}
	if reason := MissingReason(inv, c.Needs); reason != "" {
		out.skipped = reason
		return
	}
	if c.Unseen != nil {
		if reason := c.Unseen(inv); reason != "" {
			*out = checkOut{skipped: reason, unknown: true}
			return
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			if p := recover(); p != nil {
				*out = checkOut{skipped: fmt.Sprintf("internal error: %v", p)}
			}
		}()
		out.findings = fill(c, inv, c.Run(inv))
	}()
}

// OptedOutReason says why a check cannot see what it judges when a kind it
// needs is read only on request (inventory.Kind.OptIn) and the audit was not
// asked to read it, or "" when none is: the check is unknown then, neither
// skipped (the user chose not to read it) nor passed.
func OptedOutReason(inv *inventory.Inventory, needs []inventory.Kind) string {
	for _, k := range needs {
		if inv.OptedOut[k] {
			return inventory.NotAskedFor(k)
		}
	}
	return ""
}

// NotACluster is why a check of the cluster as a whole does not apply to files.
const NotACluster = "the input is manifests, not a cluster (no kube-system namespace; --complete says a dump is the whole cluster)"

// MissingReason says why the kinds cannot all be read, or "" when they can.
// Offline, the kinds that carry pod specs count as one: any present is enough.
func MissingReason(inv *inventory.Inventory, needs []inventory.Kind) string {
	var reasons, absent []string
	byReason := map[string][]string{} // "forbidden" -> kinds, so one reason names them all
	var order []string
	podSpecs := podSpecKindPresent(inv)
	for _, k := range needs {
		if inv.Has(k) {
			continue
		}
		r, ok := inv.Missing[k]
		switch {
		case ok && r == inventory.AbsentFromInput:
			if podSpecs && isPodSpecKind(k) {
				continue // another kind of workload is in the input: these have none
			}
			absent = append(absent, k.ObjectKind())
		case ok && !k.IsResource() && r == "forbidden" && len(k.Lists()) > 0:
			// Read by listing another resource (the kubelets' configurations
			// through the nodes): say which list was refused.
			var lists []string
			for _, gr := range k.Lists() {
				lists = append(lists, gr.String())
			}
			reasons = append(reasons, fmt.Sprintf("cannot list %s (to read %s): forbidden", strings.Join(lists, ", "), k))
		case ok && !k.IsResource():
			reasons = append(reasons, fmt.Sprintf("%s %s", k, r))
		default:
			if !ok {
				r = "not loaded"
			}
			if _, seen := byReason[r]; !seen {
				order = append(order, r)
			}
			byReason[r] = append(byReason[r], string(k))
		}
	}
	for _, r := range order {
		reasons = append(reasons, fmt.Sprintf("cannot list %s: %s", strings.Join(byReason[r], ", "), r))
	}
	if len(absent) > 0 {
		reasons = append(reasons, AbsentReason(absent))
	}
	return strings.Join(reasons, "; ")
}

// AbsentReason says which object kinds an offline input lacks.
func AbsentReason(objectKinds []string) string {
	return fmt.Sprintf("no %s objects in the input", joinOr(objectKinds))
}

func joinOr(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func isPodSpecKind(k inventory.Kind) bool {
	for _, p := range inventory.PodSpecKinds() {
		if p == k {
			return true
		}
	}
	return false
}

func podSpecKindPresent(inv *inventory.Inventory) bool {
	for _, k := range inventory.PodSpecKinds() {
		if inv.Count(k) > 0 {
			return true
		}
	}
	return false
}

// fill completes the fields a check may leave to the registry.
func fill(c Check, inv *inventory.Inventory, fs []finding.Finding) []finding.Finding {
	for i := range fs {
		f := &fs[i]
		if f.Check == "" {
			f.Check = c.ID
		}
		if f.Severity == 0 && f.Check == c.ID {
			f.Severity = c.Severity
		}
		if f.Title == "" {
			f.Title = c.Title
		}
		if f.Controls == nil {
			f.Controls = c.Controls
		}
		if f.Source == nil && inv.Offline {
			if s, ok := inv.SourceOf(f.Resource.Kind, f.Resource.Namespace, f.Resource.Name); ok {
				f.Source = &finding.Source{File: s.File, Line: s.Line}
			}
		}
	}
	return fs
}
