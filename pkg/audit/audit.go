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
	"sort"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
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
	// Metadata is the report's metadata as the command knows it (context, server, files, time).
	Metadata finding.Metadata
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
	inv, err := load.Load(ctx, kinds)
	if err != nil {
		return nil, nil, err
	}
	inv.Settings.IncludeSystem = cfg.IncludeSystem
	if cfg.Namespace != "" && inv.Offline && !hasNamespace(inv, cfg.Namespace) {
		return nil, nil, fmt.Errorf("namespace %q not found: no object in the input is in it or names it (check -n)", cfg.Namespace)
	}
	res := checks.Run(inv, selected)
	items := res.Findings
	if cfg.Namespace != "" {
		items = inNamespace(items, cfg.Namespace)
	}
	meta := cfg.Metadata
	meta.Input = describeInput(inv, kinds)
	if meta.Server != nil && inv.ServerVersion != "" {
		server := *meta.Server
		server.Version = inv.ServerVersion
		meta.Server = &server
	}
	report := finding.NewReport(meta, res.Ran, res.Skipped, items)
	report.Summary.NotApplicable = res.NotApplicable
	shown := finding.Shown(report.Items, cfg.MinSeverity)
	report.Summary.Hidden = len(report.Items) - len(shown)
	report.Items = shown
	report.Extra = all.Coverage(inv, cfg.Domains)
	return report, inv, nil
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
			// An optional kind (the cluster-scoped network policy tiers): files without any are read as none.
			ik.Status, ik.Reason = finding.InputNone, "none in the input: read as not installed"
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
	for _, k := range r.Metadata.Input.Kinds {
		switch k.Status {
		case finding.InputForbidden, finding.InputNotServed, finding.InputAbsent:
			byStatus[k.Status] = append(byStatus[k.Status], k.Kind)
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
	return out
}

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
// scope whatever --severity shows.
func (g Gate) Judge(s finding.Summary) Outcome {
	if g.FailOn == 0 {
		return Pass
	}
	for _, sev := range finding.Severities() {
		if sev >= g.FailOn && s.Count(sev) > 0 {
			return Failed
		}
	}
	if len(s.Skipped) > 0 && !g.AllowSkipped {
		return Incomplete
	}
	return Pass
}
