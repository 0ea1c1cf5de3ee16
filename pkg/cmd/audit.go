package cmd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
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
	ServerVersion string
	IncludeSystem bool
	QPS           float32
	Burst         int
	// Contexts and AllContexts audit several clusters at once (fleet.go).
	Contexts    []string
	AllContexts bool

	// Now is the clock for report timestamps; tests pin it.
	Now func() time.Time
}

// NewAuditOptions returns options with kubectl's defaults.
func NewAuditOptions(streams genericiooptions.IOStreams) *AuditOptions {
	return &AuditOptions{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   streams,
		Output:      "table",
		Color:       "auto",
		QPS:         50,
		Burst:       100,
		Now:         time.Now,
	}
}

// AddFlags registers the audit flags on cmd, persistent so every subcommand has them.
func (o *AuditOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	o.ConfigFlags.AddFlags(fs)
	fs.StringVarP(&o.Output, "output", "o", o.Output, "Output format: "+strings.Join(output.Formats(), ", "))
	fs.StringSliceVarP(&o.Filenames, "filename", "f", nil, "Audit manifests instead of a cluster: files, directories (recursive) or - for stdin. Repeatable")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Audit every namespace (the default unless -n is given)")
	fs.StringSliceVar(&o.Checks, "check", nil, "Run only these checks (IDs from 'kubectl harden checks', or a domain like rbac/). Repeatable")
	fs.StringSliceVar(&o.SkipChecks, "skip-check", nil, "Do not run these checks. Repeatable")
	fs.StringVar(&o.Severity, "severity", "info", "Show findings at or above this level: critical, high, medium, low, info")
	fs.StringVar(&o.FailOn, "fail-on", "", "Exit with status 2 when any finding is at or above this level")
	fs.StringVar(&o.Color, "color", o.Color, "Colour the table: auto, always or never (auto honours NO_COLOR and a non-terminal output)")
	fs.StringVar(&o.ServerVersion, "server-version", "", "With -f, the Kubernetes version to judge manifests at (e.g. v1.37); default the newest known")
	fs.BoolVar(&o.IncludeSystem, "include-system", false, "Also report built-in system: roles, bindings and namespaces left at their defaults")
	fs.Float32Var(&o.QPS, "qps", o.QPS, "Requests per second to the API server")
	fs.IntVar(&o.Burst, "burst", o.Burst, "Burst of requests to the API server")
	o.addFleetFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"table", "wide", "json", "yaml", "name", "sarif", "patch", "jsonpath=", "go-template="}, cobra.ShellCompDirectiveNoFileComp
	})
	for _, f := range []string{"severity", "fail-on"} {
		_ = cmd.RegisterFlagCompletionFunc(f, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"critical", "high", "medium", "low", "info"}, cobra.ShellCompDirectiveNoFileComp
		})
	}
}

// Filter is the --check/--skip-check/--severity selection.
func (o *AuditOptions) Filter() (finding.Filter, error) {
	f := finding.Filter{Checks: o.Checks, SkipChecks: o.SkipChecks}
	sev, err := finding.ParseSeverity(o.Severity)
	if err != nil {
		return f, fmt.Errorf("--severity: %w", err)
	}
	f.MinSeverity = sev
	return f, nil
}

// Validate checks flag values before anything is read.
func (o *AuditOptions) Validate() error {
	if _, err := o.Filter(); err != nil {
		return err
	}
	if o.FailOn != "" {
		if _, err := finding.ParseSeverity(o.FailOn); err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
	}
	switch o.Color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color must be auto, always or never, not %q", o.Color)
	}
	if o.ServerVersion != "" && len(o.Filenames) == 0 {
		return fmt.Errorf("--server-version applies to -f input only; a live audit reads the server's version")
	}
	if _, err := psa.PolicyVersion(o.ServerVersion); err != nil {
		return fmt.Errorf("--server-version: %w", err)
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

// LoadInventory reads the kinds from files (-f) or from the cluster.
func (o *AuditOptions) LoadInventory(ctx context.Context, kinds []inventory.Kind) (*inventory.Inventory, error) {
	if len(o.Filenames) > 0 {
		inv, err := inventory.FromFiles(o.Filenames, o.In)
		if err != nil {
			return nil, err
		}
		inv.ServerVersion = o.ServerVersion
		inv.Settings.IncludeSystem = o.IncludeSystem
		return inv, nil
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	ns := o.Namespace()
	done := o.progress(fmt.Sprintf("listing %d kinds from %s ...", len(kinds), cfg.Host))
	inv, err := inventory.FromCluster(ctx, cfg, inventory.LiveOptions{Kinds: kinds, Namespace: ns, Warnings: o.ErrOut})
	done()
	if err != nil {
		return nil, err
	}
	inv.Settings.IncludeSystem = o.IncludeSystem
	return inv, nil
}

// progress shows a status line on stderr when it is a terminal, and returns the function that clears it.
func (o *AuditOptions) progress(msg string) func() {
	f, ok := o.ErrOut.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	fmt.Fprint(f, msg)
	return func() { fmt.Fprint(f, "\r\033[K") }
}

// Audit selects the checks, loads what they need, runs them and builds the report.
func (o *AuditOptions) Audit(ctx context.Context, domains []string) (*finding.Report, *inventory.Inventory, error) {
	reg, err := all.Registry()
	if err != nil {
		return nil, nil, err
	}
	filter, err := o.Filter()
	if err != nil {
		return nil, nil, err
	}
	selected, err := reg.Select(domains, filter)
	if err != nil {
		return nil, nil, err
	}
	kinds := checks.Needs(selected)
	inv, err := o.LoadInventory(ctx, append(kinds, all.CoverageNeeds(domains)...))
	if err != nil {
		return nil, nil, err
	}
	res := checks.Run(inv, selected)
	items := filter.Apply(res.Findings)
	if ns := o.Namespace(); ns != "" {
		items = inNamespace(items, ns)
	}
	report := finding.NewReport(o.metadata(inv), res.Ran, res.Skipped, items)
	report.Extra = all.Coverage(inv, domains)
	return report, inv, nil
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

func (o *AuditOptions) metadata(inv *inventory.Inventory) finding.Metadata {
	m := finding.Metadata{GeneratedAt: o.Now().UTC().Truncate(time.Second)}
	if inv.Offline {
		m.Files = o.Filenames
		if inv.ServerVersion != "" {
			m.Server = &finding.ServerInfo{Version: inv.ServerVersion}
		}
		return m
	}
	if raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		m.Context = raw.CurrentContext
		if o.ConfigFlags.Context != nil && *o.ConfigFlags.Context != "" {
			m.Context = *o.ConfigFlags.Context
		}
	}
	m.Server = &finding.ServerInfo{Version: inv.ServerVersion}
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
	return output.New(o.Output, output.Options{Color: o.UseColor(), GroupBySubject: groupBySubject}, extraPrinters())
}

// RunAudit is the audit commands' Run: report, print, and map --fail-on to exit status 2.
func (o *AuditOptions) RunAudit(cmd *cobra.Command, domains []string) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Fleet() {
		return o.RunFleet(cmd, domains)
	}
	printer, err := o.Printer(domains)
	if err != nil {
		return err
	}
	report, _, err := o.Audit(cmd.Context(), domains)
	if err != nil {
		return err
	}
	if err := printer.Print(report, o.Out); err != nil {
		return err
	}
	if o.FailOn != "" {
		level, _ := finding.ParseSeverity(o.FailOn)
		if finding.AtOrAbove(report.Items, level) {
			return &ExitError{Code: 2}
		}
	}
	return nil
}
