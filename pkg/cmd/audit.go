package cmd

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/audit"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
	"github.com/kubectl-harden/kubectl-harden/pkg/controls"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// AuditOptions holds every flag an audit reads. Subcommands that need the
// cluster (who-can, can-reach, fix) share it and its loaders.
type AuditOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	Output        string
	Filenames     []string
	AllNamespaces bool
	Checks        []string
	SkipChecks    []string
	Severity      string
	FailOn        string
	Color         string
	ListAll       bool
	ServerVersion string
	IncludeSystem bool
	// CertExpiryDays is --cert-expiry-days.
	CertExpiryDays int
	// AllowSkipped lets --fail-on pass when checks were skipped.
	AllowSkipped bool
	// Complete and AssumeAbsent say what the -f input shows of the cluster.
	CompleteInput bool
	AssumeAbsent  []string
	QPS           float32
	Burst         int

	// Set by Complete: the typed values of the flags above.
	completed bool
	filter    finding.Filter
	failOn    finding.Severity
	absent    []inventory.Kind
	// Contexts and AllContexts audit several clusters at once (fleet.go).
	Contexts    []string
	AllContexts bool
	// ExceptionFiles, MaxExceptionDays and AcceptAnnotations say which
	// findings are accepted (exceptions.go); ShowAccepted lists them.
	ExceptionFiles    []string
	MaxExceptionDays  int
	AcceptAnnotations bool
	ShowAccepted      bool
	// WritePolicyReports applies the -o policyreport objects to the cluster instead of printing them.
	WritePolicyReports bool
	// Baseline is the previous report --baseline compares with.
	Baseline string
	// Benchmark is the CIS benchmark version (--benchmark cis-1.12); empty chooses by the server's version.
	Benchmark string
	// Framework prints the scorecard of one framework's controls (--framework cis).
	Framework string
	// WorkDir is where .kubectl-harden.yaml is looked for; "" is the current directory.
	WorkDir string
	// Kubelet reads each node's kubelet configuration (--kubelet, root and cluster only).
	Kubelet bool

	// Now is the clock for report timestamps; tests pin it.
	Now func() time.Time

	// registry is every check, built once for the command tree and handed down.
	registry    *checks.Registry
	registryErr error
}

// NewAuditOptions returns options with kubectl's defaults.
func NewAuditOptions(streams genericiooptions.IOStreams) *AuditOptions {
	reg, err := all.Registry()
	return &AuditOptions{
		registry:    reg,
		registryErr: err,
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   streams,
		Output:      "table",
		Color:       "auto",
		QPS:         50,
		Burst:       100,
		Now:         time.Now,

		CertExpiryDays: inventory.DefaultCertExpiryDays,
	}
}

// Registry returns the registry of every check (an error only for a malformed declaration).
func (o *AuditOptions) Registry() (*checks.Registry, error) { return o.registry, o.registryErr }

// Complete turns the flags with typed values into them, once: the
// --check/--skip-check/--severity filter, --fail-on and --assume-absent.
// Every command's RunE calls it first (it is idempotent).
func (o *AuditOptions) Complete() error {
	if o.completed {
		return nil
	}
	sev, err := finding.ParseSeverity(o.Severity)
	if err != nil {
		return fmt.Errorf("--severity: %w", err)
	}
	o.filter = finding.Filter{Checks: o.Checks, SkipChecks: o.SkipChecks, MinSeverity: sev}
	o.failOn = 0
	if o.FailOn != "" {
		if o.failOn, err = finding.ParseSeverity(o.FailOn); err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
	}
	if o.absent, err = o.parseAssumeAbsent(); err != nil {
		return err
	}
	o.completed = true
	return nil
}

// Filter is the --check/--skip-check/--severity selection.
func (o *AuditOptions) Filter() (finding.Filter, error) {
	if err := o.Complete(); err != nil {
		return finding.Filter{}, err
	}
	return o.filter, nil
}

// Validate checks flag values before anything is read.
func (o *AuditOptions) Validate() error {
	if err := o.Complete(); err != nil {
		return err
	}
	if o.CertExpiryDays < 1 {
		return fmt.Errorf("--cert-expiry-days must be 1 or more, not %d", o.CertExpiryDays)
	}
	switch o.Color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color must be auto, always or never, not %q", o.Color)
	}
	if (o.CompleteInput || len(o.AssumeAbsent) > 0) && len(o.Filenames) == 0 {
		return fmt.Errorf("--complete and --assume-absent apply to -f input only; a live audit lists what it needs")
	}
	if o.Kubelet && len(o.Filenames) > 0 {
		return fmt.Errorf("--kubelet reads each node's kubelet through the API server and cannot be used with -f: manifests hold no kubelet configuration")
	}
	if o.ServerVersion != "" && len(o.Filenames) == 0 {
		return fmt.Errorf("--server-version applies to -f input only; a live audit reads the server's version")
	}
	if _, err := psa.PolicyVersion(o.ServerVersion); err != nil {
		return fmt.Errorf("--server-version: %w", err)
	}
	if err := o.validateWritePolicyReports(); err != nil {
		return err
	}
	return o.validateControls()
}

// validateControls checks --benchmark and --framework against the catalogues.
func (o *AuditOptions) validateControls() error {
	lib, err := controls.Load()
	if err != nil {
		return err
	}
	if o.Benchmark != "" {
		if _, _, err := lib.ChooseBenchmark(o.Benchmark, ""); err != nil {
			return fmt.Errorf("--benchmark: %w", err)
		}
	}
	if o.Framework != "" && !slices.Contains(controls.Frameworks(), o.Framework) {
		return fmt.Errorf("--framework: unknown framework %q: use one of %s", o.Framework, strings.Join(controls.Frameworks(), ", "))
	}
	return nil
}

// Namespace returns the namespace -n narrows an audit to, or "" for all
// (the context's namespace does not narrow an audit: all namespaces is the default).
func (o *AuditOptions) Namespace() string {
	if o.AllNamespaces || o.ConfigFlags.Namespace == nil {
		return ""
	}
	return *o.ConfigFlags.Namespace
}

// DefaultNamespace is where a bare object name lives, as in kubectl: -n,
// else the kubeconfig context's namespace, else "default".
func (o *AuditOptions) DefaultNamespace() string {
	if ns := o.Namespace(); ns != "" {
		return ns
	}
	if ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err == nil && ns != "" {
		return ns
	}
	return "default"
}

// RESTConfig returns the client config with --qps and --burst applied.
func (o *AuditOptions) RESTConfig() (*rest.Config, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	return cfg, nil
}

func (o *AuditOptions) parseAssumeAbsent() ([]inventory.Kind, error) {
	if len(o.AssumeAbsent) == 0 {
		return nil, nil
	}
	ks, err := inventory.ParseKinds(strings.Join(o.AssumeAbsent, ","))
	if err != nil {
		return nil, fmt.Errorf("--assume-absent: %w (use the plural resource names of 'kubectl harden checks -o wide', e.g. networkpolicies)", err)
	}
	return ks, nil
}

// Loader returns what reads the audit's input: the -f files, else the cluster.
func (o *AuditOptions) Loader() (audit.Loader, error) {
	if len(o.Filenames) > 0 {
		if err := o.Complete(); err != nil {
			return nil, err
		}
		absent := o.absent
		return audit.Files{Paths: o.Filenames, Stdin: o.In, ServerVersion: o.ServerVersion,
			Options: inventory.ReadOptions{Complete: o.CompleteInput, AssumeAbsent: absent}}, nil
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	return progressLoader{o: o, cfg: cfg}, nil
}

// progressLoader shows what is being listed while a live load runs.
type progressLoader struct {
	o   *AuditOptions
	cfg *rest.Config
}

func (p progressLoader) Load(ctx context.Context, kinds []inventory.Kind) (*inventory.Inventory, error) {
	start := time.Now()
	update, done := p.o.progressLine()
	defer done()
	update(fmt.Sprintf("listing %d kinds from %s ...", len(kinds), p.cfg.Host))
	c := audit.Cluster{Config: p.cfg, Namespace: p.o.Namespace(), Progress: func(n, total, objects int) {
		update(fmt.Sprintf("listing from %s: %d of %d kinds, %d objects, %.1fs", p.cfg.Host, n, total, objects, time.Since(start).Seconds()))
	}}
	return c.Load(ctx, kinds)
}

// LoadInventory reads the kinds from files (-f) or from the cluster, for the
// commands that answer questions rather than audit (who-can, can-reach).
func (o *AuditOptions) LoadInventory(ctx context.Context, kinds []inventory.Kind) (*inventory.Inventory, error) {
	l, err := o.Loader()
	if err != nil {
		return nil, err
	}
	inv, err := l.Load(ctx, kinds)
	if err != nil {
		return nil, err
	}
	inv.Settings.IncludeSystem = o.IncludeSystem
	o.warn(inv.Warnings)
	return inv, nil
}

// warn prints the loader's and the audit's warnings on stderr.
func (o *AuditOptions) warn(lines []string) {
	for _, l := range lines {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", l)
	}
}

// progress shows a status line on stderr when it is a terminal, and returns the function that clears it.
func (o *AuditOptions) progress(msg string) func() {
	update, done := o.progressLine()
	update(msg)
	return done
}

// progressLine is a status line on stderr when it is a terminal: update
// rewrites it, done clears it. Elsewhere both do nothing.
func (o *AuditOptions) progressLine() (update func(string), done func()) {
	f, ok := o.ErrOut.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func(string) {}, func() {}
	}
	var mu sync.Mutex
	return func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprint(f, "\r\033[K"+msg)
		}, func() {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprint(f, "\r\033[K")
		}
}

// Audit runs the audit engine with the command line's choices and prints
// the loader's warnings and what the audit could not see on stderr. The
// inventory it returns keeps the domains' analyses for the caller to read.
func (o *AuditOptions) Audit(ctx context.Context, domains []string) (*finding.Report, *inventory.Inventory, error) {
	return o.audit(ctx, domains, false)
}

// Report is Audit for a caller that wants the report alone: each domain's
// analysis is dropped once its checks are done (audit.Config.Release).
func (o *AuditOptions) Report(ctx context.Context, domains []string) (*finding.Report, error) {
	report, _, err := o.audit(ctx, domains, true)
	return report, err
}

func (o *AuditOptions) audit(ctx context.Context, domains []string, release bool) (*finding.Report, *inventory.Inventory, error) {
	reg, err := o.Registry()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := o.AuditConfig(domains)
	if err != nil {
		return nil, nil, err
	}
	// A malformed exceptions file or baseline stops the audit before anything is read or applied.
	entries, err := o.loadExceptions()
	if err != nil {
		return nil, nil, err
	}
	var base *finding.Report
	if o.Baseline != "" {
		if base, err = readReport(o.Baseline, "--baseline"); err != nil {
			return nil, nil, err
		}
		if base.Summary.Hidden > 0 {
			o.warn([]string{fmt.Sprintf("--baseline %s left out %d findings below its --severity: they show as new here; make the baseline without --severity", o.Baseline, base.Summary.Hidden)})
		}
	}
	load, err := o.Loader()
	if err != nil {
		return nil, nil, err
	}
	cfg.Exceptions, cfg.AcceptAnnotations, cfg.ExceptionOptions, cfg.Now = entries, o.AcceptAnnotations, o.exceptionOptions(), o.Now()
	cfg.Baseline, cfg.BaselineFile = base, o.Baseline
	cfg.Release = release
	gcWhileLoading()
	report, inv, err := audit.Run(ctx, reg, load, cfg)
	if err != nil {
		return nil, nil, err
	}
	o.warn(inv.Warnings)
	o.warn(audit.Blind(report))
	return report, inv, nil
}

// AuditConfig is what the flags decide about an audit of the domains.
func (o *AuditOptions) AuditConfig(domains []string) (audit.Config, error) {
	filter, err := o.Filter()
	if err != nil {
		return audit.Config{}, err
	}
	return audit.Config{Domains: domains, Select: filter, MinSeverity: filter.MinSeverity, Namespace: o.Namespace(),
		IncludeSystem: o.IncludeSystem, CertExpiryDays: o.CertExpiryDays, Metadata: o.metadata(), Benchmark: o.Benchmark, Framework: o.Framework,
		Kubelet: o.Kubelet, NamespaceReach: o.Output == "html" || o.Output == "dot", Loaded: tightenGC, Released: returnFreed}, nil
}

// Gate is --fail-on and --allow-skipped.
func (o *AuditOptions) Gate() audit.Gate {
	_ = o.Complete() // an invalid --fail-on stopped the command in Validate
	return audit.Gate{FailOn: o.failOn, AllowSkipped: o.AllowSkipped}
}

// exitFor maps a gate outcome to the exit status (2 findings, 3 skipped checks).
func exitFor(out audit.Outcome, skipped int) error {
	switch out {
	case audit.Failed:
		return &ExitError{Code: 2}
	case audit.Incomplete:
		return &ExitError{Code: 3, Err: fmt.Errorf("%d selected %s skipped, so --fail-on cannot pass (see summary.skipped; --allow-skipped accepts it)",
			skipped, map[bool]string{true: "check was", false: "checks were"}[skipped == 1])}
	}
	return nil
}

// metadata is what the command line knows of the report's target; the
// engine adds the input and the server version it read.
func (o *AuditOptions) metadata() finding.Metadata {
	m := finding.Metadata{GeneratedAt: o.Now().UTC().Truncate(time.Second)}
	if len(o.Filenames) > 0 {
		m.Files = o.Filenames
		if o.ServerVersion != "" {
			m.Server = &finding.ServerInfo{Version: o.ServerVersion}
		}
		return m
	}
	if raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		m.Context = raw.CurrentContext
		if o.ConfigFlags.Context != nil && *o.ConfigFlags.Context != "" {
			m.Context = *o.ConfigFlags.Context
		}
	}
	m.Server = &finding.ServerInfo{}
	if cfg, err := o.ConfigFlags.ToRESTConfig(); err == nil {
		m.Server.Host = cfg.Host
	}
	return m
}

// UseColor decides --color auto from the output stream and NO_COLOR.
func (o *AuditOptions) UseColor() bool {
	switch o.Color {
	case "always":
		return true
	case "never":
		return false
	}
	if _, set := os.LookupEnv("NO_COLOR"); set || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := o.Out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Printer returns the printer for -o.
func (o *AuditOptions) Printer(domains []string) (output.Printer, error) {
	groupBySubject := len(domains) == 1 && domains[0] == "rbac"
	return output.New(o.Output, output.Options{Color: o.UseColor(), GroupBySubject: groupBySubject, All: o.ListAll, ShowAccepted: o.ShowAccepted}, o.extraPrinters(domains))
}

// RunAudit is the audit commands' Run: report, print, and map --fail-on to exit status 2.
func (o *AuditOptions) RunAudit(cmd *cobra.Command, domains []string) error {
	if o.Fleet() {
		return o.RunFleet(cmd, domains)
	}
	printer, err := o.Printer(domains)
	if err != nil {
		return err
	}
	report, err := o.Report(cmd.Context(), domains)
	if err != nil {
		return err
	}
	// The inventory and the analyses are garbage now (the report keeps none
	// of them, see inventory.Settings.NamespaceReach): collecting them before
	// printing sets the collector's next goal from the report's size, not
	// from the cluster's, which halves a big cluster's peak memory.
	runtime.GC()
	if pr, ok := printer.(output.PolicyReport); ok && o.WritePolicyReports {
		if err := o.writePolicyReports(cmd.Context(), pr, report); err != nil {
			return err
		}
	} else if err := printer.Print(report, o.Out); err != nil {
		return err
	}
	return exitFor(o.Gate().Judge(report.Summary), len(report.Summary.Skipped))
}
