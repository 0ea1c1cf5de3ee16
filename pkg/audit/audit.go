// Package audit runs one audit: it selects the checks, loads what they read
// through a Loader, runs them, and builds the report with what was seen. The
// root command, the domain commands, fix and every fleet context use it, so
// the rules about blindness (skipped checks, absent input, display filters
// that never change the score) live in one place.
package audit

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/controls"
	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory/live"
)

// Loader reads the kinds an audit needs.
type Loader interface {
	Load(ctx context.Context, kinds []inventory.Kind) (*inventory.Inventory, error)
}

// Files loads manifests (-f).
type Files struct {
	Paths []string
	Stdin io.Reader
	// ServerVersion is the Kubernetes version to judge the manifests at (--server-version).
	ServerVersion string
	Options       inventory.ReadOptions
}

// Load reads the files; every kind is read, whatever was asked.
func (f Files) Load(_ context.Context, _ []inventory.Kind) (*inventory.Inventory, error) {
	inv, err := inventory.Read(f.Paths, f.Stdin, f.Options)
	if err != nil {
		return nil, err
	}
	inv.ServerVersion = f.ServerVersion
	return inv, nil
}

// Cluster loads from a live API server.
type Cluster struct {
	Config    *rest.Config
	Namespace string
	// Progress is told as each kind is listed (see live.LiveOptions).
	Progress func(done, kinds, objects int)
}

// Load lists the kinds from the server.
func (c Cluster) Load(ctx context.Context, kinds []inventory.Kind) (*inventory.Inventory, error) {
	return live.FromCluster(ctx, c.Config, live.LiveOptions{Kinds: kinds, Namespace: c.Namespace, Progress: c.Progress})
}

// Config is what the command line decided about one audit.
type Config struct {
	// Domains narrows the checks to these domains; empty is every domain.
	Domains []string
	// Select is the --check/--skip-check selection (its MinSeverity is ignored: see MinSeverity).
	Select finding.Filter
	// MinSeverity is --severity: it hides findings from items, never from the score or the gate.
	MinSeverity finding.Severity
	// Namespace is -n: the audit reports about this namespace only; it must exist.
	Namespace     string
	IncludeSystem bool
	// CertExpiryDays is --cert-expiry-days: certificates expiring within it
	// are reported; 0 is inventory.DefaultCertExpiryDays.
	CertExpiryDays int
	// Metadata is the report's metadata as the command knows it (context, server, files, time).
	Metadata finding.Metadata

	// Exceptions are the entries of the exceptions files, validated.
	Exceptions []exceptions.Entry
	// AcceptAnnotations honours the kubectl-harden.io/accept annotations of
	// the objects read; ExceptionOptions validate them (--max-exception-days).
	AcceptAnnotations bool
	ExceptionOptions  exceptions.Options
	// Now decides which exceptions expired; zero is the time of the run.
	Now time.Time
	// Baseline is a previous report to compare with (--baseline), read from BaselineFile.
	Baseline     *finding.Report
	BaselineFile string
	// Benchmark is the CIS benchmark whose IDs the findings' controls use
	// (--benchmark, cis-1.12); empty chooses by the server's version, else the newest.
	Benchmark string
	// Framework, when set (--framework cis|nsa|nist-800-53|...), adds the
	// scorecard of its controls to the report.
	Framework string
	// Kubelet asks for each node's kubelet configuration (--kubelet; the
	// opt-in kind inventory.KubeletConfigs). Without it the checks that
	// judge the kubelets are unknown.
	Kubelet bool
	// NamespaceReach is set for the reports that draw the namespace
	// reachability matrix (html, dot); see inventory.Settings.
	NamespaceReach bool
	// Release lets the audit forget each domain's analysis once its checks
	// and coverage are done, so a big cluster's analyses are not all held at
	// once; the inventory Audit returns then keeps none (see all.Run). A
	// caller that reads an analysis of the returned inventory leaves it unset.
	Release bool
	// Loaded, when set, is called once the inventory is read, before the
	// checks run (the command line tightens the garbage collector there).
	Loaded func()
	// Released, when set with Release, is called each time a domain's
	// analyses are forgotten (the command line hands the memory they held
	// back to the system there).
	Released func(domain string)
}

// optedIn reports whether the audit was asked to read the opt-in kind k.
func (cfg Config) optedIn(k inventory.Kind) bool {
	switch k.OptIn() {
	case "":
		return true
	case inventory.KubeletConfigs.OptIn():
		return cfg.Kubelet
	}
	return false
}

// Run audits what the loader reads and returns the report and the inventory it was made from.
func Run(ctx context.Context, reg *checks.Registry, load Loader, cfg Config) (*finding.Report, *inventory.Inventory, error) {
	sel := cfg.Select
	sel.MinSeverity = 0
	selected, err := reg.Select(cfg.Domains, sel)
	if err != nil {
		return nil, nil, err
	}
	kinds := checks.Needs(selected)
	kinds = append(kinds, all.CoverageNeeds(cfg.Domains)...)
	if cfg.Namespace != "" {
		// The namespace is read even when no check needs it: an audit of a namespace that does not exist is an error.
		kinds = append(kinds, inventory.Namespaces)
	}
	// An opt-in kind is read only when asked for: its checks are unknown otherwise.
	var optedOut []inventory.Kind
	kinds = slices.DeleteFunc(kinds, func(k inventory.Kind) bool {
		if cfg.optedIn(k) {
			return false
		}
		optedOut = append(optedOut, k)
		return true
	})
	inv, err := load.Load(ctx, kinds)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range optedOut {
		inv.OptedOut[k] = true
	}
	inv.Settings.IncludeSystem = cfg.IncludeSystem
	inv.Settings.Namespace = cfg.Namespace
	inv.Settings.CertExpiryDays = cfg.CertExpiryDays
	inv.Settings.NamespaceReach = cfg.NamespaceReach
	if inv.Settings.Now = cfg.Now; inv.Settings.Now.IsZero() {
		inv.Settings.Now = time.Now()
	}
	if cfg.Namespace != "" && inv.Offline && !hasNamespace(inv, cfg.Namespace) {
		return nil, nil, fmt.Errorf("namespace %q not found: no object in the input is in it or names it (check -n)", cfg.Namespace)
	}
	if cfg.Loaded != nil {
		cfg.Loaded()
	}
	res, coverage := all.Run(inv, selected, cfg.Domains, cfg.Release, cfg.Released)
	lib, err := controls.Load()
	if err != nil {
		return nil, nil, err
	}
	benchmark, cis, err := lib.ChooseBenchmark(cfg.Benchmark, inv.ServerVersion)
	if err != nil {
		return nil, nil, err
	}
	lib.Mapping(cis).Assign(res.Findings)
	items := res.Findings
	// Exceptions are matched before -n narrows the findings, so an entry
	// about another namespace is not called stale for being out of sight.
	about := reported(reg, accept(inv, items, res.Ran, cfg), cfg.Select)
	if cfg.Namespace != "" {
		items = inNamespace(items, cfg.Namespace)
	}
	items = append(items, about...)
	meta := cfg.Metadata
	meta.Input = describeInput(inv, kinds)
	meta.Benchmark = benchmark
	if meta.Server != nil && inv.ServerVersion != "" {
		server := *meta.Server
		server.Version = inv.ServerVersion
		meta.Server = &server
	}
	report := finding.NewReport(meta, res.Ran, res.Skipped, items)
	report.Summary.NotApplicable = res.NotApplicable
	report.Summary.Unknown = res.Unknown
	if cfg.Baseline != nil {
		compareWithBaseline(report, cfg, res.Ran)
	}
	if cfg.Framework != "" {
		// Judged on every finding in scope: --severity only hides.
		fw, err := lib.Framework(cfg.Framework, cis)
		if err != nil {
			return nil, nil, err
		}
		report.Controls = controls.Score(fw, scoreResults(reg, res, report.Items))
	}
	shown := finding.Shown(report.Items, cfg.MinSeverity)
	report.Summary.Hidden = len(report.Items) - len(shown)
	report.Items = shown
	report.Coverage = coverage
	return report, inv, nil
}

// scoreResults is what the scorecard needs of a run: which checks ran and
// saw, and why each other check did not.
func scoreResults(reg *checks.Registry, res checks.Result, items []finding.Finding) controls.Results {
	out := controls.Results{Ran: map[string]bool{}, NotRun: map[string]string{}, Findings: items}
	for _, c := range reg.All() {
		out.NotRun[c.ID] = "not selected (--check, --skip-check or the command's domain)"
	}
	for _, c := range res.Ran {
		out.Ran[c.ID] = true
		delete(out.NotRun, c.ID)
	}
	for _, ss := range [][]finding.Skipped{res.Skipped, res.NotApplicable, res.Unknown} {
		for _, s := range ss {
			out.NotRun[s.Check] = s.Reason
		}
	}
	return out
}

// reported completes the findings about exceptions from their checks in the
// registry (controls) and drops those --skip-check names.
func reported(reg *checks.Registry, about []finding.Finding, sel finding.Filter) []finding.Finding {
	skip := finding.Filter{SkipChecks: sel.SkipChecks}
	out := about[:0]
	for _, f := range about {
		if !skip.Wants(f.Check) {
			continue
		}
		if c, ok := reg.Get(f.Check); ok && f.Controls == nil {
			f.Controls = c.Controls
		}
		out = append(out, f)
	}
	return out
}

// accept marks the findings the exceptions accept (files, then annotations
// when honoured) and returns the findings about the exceptions themselves:
// expired, stale, and annotations that do not parse.
func accept(inv *inventory.Inventory, items []finding.Finding, ran []finding.RanCheck, cfg Config) []finding.Finding {
	entries := append([]exceptions.Entry(nil), cfg.Exceptions...)
	var out []finding.Finding
	annotated := 0
	for m := range inv.Objects() {
		v, ok := m.Annotations[exceptions.Annotation]
		if !ok {
			continue
		}
		annotated++
		if !cfg.AcceptAnnotations {
			continue
		}
		obj := finding.Resource{Kind: m.Key.Kind, Namespace: m.Key.Namespace, Name: m.Key.Name}
		var src *finding.Source
		if s, ok := inv.Sources[m.Key]; ok {
			src = &finding.Source{File: s.File, Line: s.Line}
		}
		es, errs := exceptions.FromAnnotation(obj, v, src, cfg.ExceptionOptions)
		entries = append(entries, es...)
		for _, err := range errs {
			out = append(out, exceptions.InvalidAnnotation(obj, src, err))
		}
	}
	if annotated > 0 && !cfg.AcceptAnnotations {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("%d %s the %s annotation, not honoured: --accept-annotations honours it (anyone who may edit an object may write it)",
			annotated, plural(annotated, "object carries", "objects carry"), exceptions.Annotation))
	}
	if len(entries) == 0 {
		return out
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	ids := make([]string, len(ran))
	for i, c := range ran {
		ids[i] = c.ID
	}
	var byKey map[inventory.Key]map[string]string
	env := exceptions.Env{Now: now, Ran: ids,
		Labels: func(r finding.Resource) (map[string]string, bool) {
			if byKey == nil {
				byKey = map[inventory.Key]map[string]string{}
				for m := range inv.Objects() {
					byKey[m.Key] = m.Labels
				}
			}
			l, ok := byKey[inventory.Key{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}]
			return l, ok
		}}
	if cfg.Namespace != "" {
		env.Looked = exceptions.InNamespace(cfg.Namespace)
	}
	return append(out, exceptions.Apply(entries, items, env)...)
}

// compareWithBaseline marks the findings new or unchanged against the
// baseline and lists the baseline's findings that are fixed: only those of
// checks that ran (a skipped check fixed nothing) and, with -n, in the namespace.
func compareWithBaseline(report *finding.Report, cfg Config, ran []finding.RanCheck) {
	base := *cfg.Baseline
	if cfg.Namespace != "" {
		base.Items = inNamespace(base.Items, cfg.Namespace)
	}
	judged := map[string]bool{}
	for _, c := range ran {
		judged[c.ID] = true
	}
	finding.CompareWithBaseline(report, &base, cfg.BaselineFile, func(check string) bool {
		return judged[check] || strings.HasPrefix(check, "exceptions/")
	})
}

// hasNamespace reports whether offline input holds the namespace or anything in it.
func hasNamespace(inv *inventory.Inventory, ns string) bool {
	if _, ok := inv.Namespace(ns); ok {
		return true
	}
	for k := range inv.Sources {
		if k.Namespace == ns {
			return true
		}
	}
	return false
}

// inNamespace keeps the findings about a namespace: its objects, itself, and
// cluster-wide grants to its service accounts.
func inNamespace(items []finding.Finding, ns string) []finding.Finding {
	out := items[:0:0]
	for _, f := range items {
		if f.Resource.Namespace == ns || (f.Resource.Kind == "Namespace" && f.Resource.Name == ns) ||
			(f.Subject != nil && f.Subject.Namespace == ns) {
			out = append(out, f)
		}
	}
	return out
}

// describeInput records, for each kind the audit needed, how many objects it
// read and why a kind it did not read is missing.
func describeInput(inv *inventory.Inventory, kinds []inventory.Kind) *finding.Input {
	in := &finding.Input{Source: "cluster", Kinds: []finding.InputKind{}}
	if inv.Offline {
		in.Source, in.Complete = "files", inv.Complete
	}
	workloads := false
	for _, k := range inventory.PodSpecKinds() {
		workloads = workloads || inv.Count(k) > 0
	}
	podSpec := map[inventory.Kind]bool{}
	for _, k := range inventory.PodSpecKinds() {
		podSpec[k] = true
	}
	seen := map[inventory.Kind]bool{}
	for _, k := range kinds {
		if seen[k] {
			continue
		}
		seen[k] = true
		ik := finding.InputKind{Kind: string(k), Count: inv.Count(k)}
		reason, missing := inv.Missing[k]
		switch {
		case inv.Has(k) && inv.NotInstalled[k] && inv.Offline:
			// The files hold the cluster's CRDs, and none defines this kind.
			ik.Status, ik.Reason = finding.InputNotInstalled, "no CustomResourceDefinition in the input defines it: not installed, so none applies"
		case inv.Has(k) && inv.NotInManifests[k]:
			ik.Status, ik.Reason = finding.InputNone, NotInManifests
		case inv.Has(k) && inv.NotInstalled[k]:
			ik.Status, ik.Reason = finding.InputNotInstalled, "its CRD is not served: not installed, so none applies"
		case inv.Has(k) && inv.Offline && ik.Count == 0:
			ik.Status = finding.InputAssumedAbsent
		case inv.Has(k) && inv.Offline:
			ik.Status = finding.InputRead
		case inv.Has(k):
			ik.Status = finding.InputListed
		case reason == inventory.AbsentFromInput && workloads && podSpec[k]:
			// Manifests of Deployments hold no Pods: the checks read what workloads there are.
			ik.Status = finding.InputNone
		case reason == inventory.AbsentFromInput:
			ik.Status = finding.InputAbsent
		case reason == "forbidden":
			ik.Status = finding.InputForbidden
		case reason == inventory.NotServed:
			ik.Status = finding.InputNotServed
		case missing:
			ik.Status, ik.Reason = finding.InputUnavailable, reason
		default:
			ik.Status, ik.Reason = finding.InputUnavailable, "not loaded"
		}
		in.Kinds = append(in.Kinds, ik)
	}
	sort.Slice(in.Kinds, func(i, j int) bool { return in.Kinds[i].Kind < in.Kinds[j].Kind })
	for kind, n := range inv.Unmodelled {
		in.Unmodelled = append(in.Unmodelled, finding.KindCount{Kind: kind, Count: n})
	}
	sort.Slice(in.Unmodelled, func(i, j int) bool { return in.Unmodelled[i].Kind < in.Unmodelled[j].Kind })
	return in
}

// Blind returns one line per reason the audit could not see a kind
// (forbidden, not served, absent from the files), naming the kinds, for stderr.
func Blind(r *finding.Report) []string {
	if r.Metadata.Input == nil {
		return nil
	}
	byStatus := map[string][]string{}
	var addOns []string
	for _, k := range r.Metadata.Input.Kinds {
		switch {
		case k.Status == finding.InputForbidden, k.Status == finding.InputNotServed, k.Status == finding.InputAbsent:
			byStatus[k.Status] = append(byStatus[k.Status], k.Kind)
		case k.Status == finding.InputNone && k.Reason == NotInManifests:
			addOns = append(addOns, k.Kind)
		}
	}
	var out []string
	n := len(r.Summary.Skipped)
	skipped := fmt.Sprintf("%d %s skipped", n, plural(n, "check", "checks"))
	if ks := byStatus[finding.InputForbidden]; len(ks) > 0 {
		out = append(out, fmt.Sprintf("cannot list %s: forbidden (%s; see summary.skipped)", strings.Join(ks, ", "), skipped))
	}
	if ks := byStatus[finding.InputNotServed]; len(ks) > 0 {
		out = append(out, fmt.Sprintf("not served by this API server: %s", strings.Join(ks, ", ")))
	}
	if ks := byStatus[finding.InputAbsent]; len(ks) > 0 {
		out = append(out, fmt.Sprintf("no objects in the input of: %s (%s; give them, or --assume-absent=KIND when the cluster has none, or --complete for a whole-cluster dump)",
			strings.Join(ks, ", "), skipped))
	}
	if len(addOns) > 0 {
		out = append(out, fmt.Sprintf("the input is manifests, not a cluster: verdicts read their own objects only, none of the cluster's %s "+
			"(add the cluster's, or audit it live, before trusting network isolation)", strings.Join(addOns, ", ")))
	}
	return out
}

// NotInManifests is the input reason of an add-on kind that application
// manifests do not hold (inventory.Inventory.NotInManifests).
const NotInManifests = "manifests, not a cluster: the cluster's objects of this add-on were not seen; verdicts read the manifests' own"

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Outcome is what a report means for the exit status.
type Outcome int

const (
	// Pass: nothing at or above the gate, and every selected check ran (or skipping is allowed).
	Pass Outcome = iota
	// Failed: a finding is at or above the --fail-on level.
	Failed
	// Incomplete: no finding reached the level, but some selected check did not run.
	Incomplete
)

// Gate is --fail-on and --allow-skipped.
type Gate struct {
	// FailOn is the level at or above which a finding fails; zero is no gate.
	FailOn finding.Severity
	// AllowSkipped lets a gate pass when checks were skipped.
	AllowSkipped bool
}

// Judge decides the outcome from the summary, which counts every finding in
// scope whatever --severity shows, except those exceptions accept; with a
// baseline, only the new ones.
func (g Gate) Judge(s finding.Summary) Outcome {
	if g.FailOn == 0 {
		return Pass
	}
	count := s.Count
	if s.Baseline != nil {
		// Only what is new since the baseline fails.
		count = s.Baseline.New.Count
	}
	for _, sev := range finding.Severities() {
		if sev >= g.FailOn && count(sev) > 0 {
			return Failed
		}
	}
	if len(s.Skipped) > 0 && !g.AllowSkipped {
		return Incomplete
	}
	return Pass
}
