package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-harden/kubectl-harden/pkg/controls"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// The flag bundles: each command takes only the flags that mean something to
// it, as kubectl's commands do. All bind to the one AuditOptions the command
// tree shares, so Complete and Validate read them in one place.

// addConnectionFlags puts kubectl's kubeconfig flags and the request rate on
// every command, as persistent flags of the root: any command may talk to a cluster.
func (o *AuditOptions) addConnectionFlags(root *cobra.Command) {
	fs := root.PersistentFlags()
	o.ConfigFlags.AddFlags(fs)
	fs.Float32Var(&o.QPS, "qps", o.QPS, "Requests per second to the API server")
	fs.IntVar(&o.Burst, "burst", o.Burst, "Burst of requests to the API server")
}

// addOutputFlag adds -o with the formats the command prints, completed from the same list.
func (o *AuditOptions) addOutputFlag(cmd *cobra.Command, formats []string) {
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: "+strings.Join(formats, ", "))
	offer := make([]string, len(formats))
	for i, f := range formats {
		offer[i] = strings.TrimSuffix(f, "...") // jsonpath=... is completed as jsonpath=
	}
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return offer, cobra.ShellCompDirectiveNoFileComp
	})
}

// addInputFlags adds -f and what the user says of the files.
func (o *AuditOptions) addInputFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVarP(&o.Filenames, "filename", "f", nil, "Read manifests instead of a cluster: files, directories (recursive, following links) or - for stdin. Repeatable")
	fs.BoolVar(&o.CompleteInput, "complete", false, "With -f, the files are the whole cluster: a kind with no object in them has none (default: such kinds are unseen and their checks skipped); Secrets excepted, which dumps leave out (--assume-absent secrets)")
	fs.StringSliceVar(&o.AssumeAbsent, "assume-absent", nil, "With -f, kinds the cluster has none of although the files hold none (e.g. networkpolicies): their checks run. Repeatable")
}

// addSelectFlags adds --check and --skip-check.
func (o *AuditOptions) addSelectFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&o.Checks, "check", nil, "Run only these checks (IDs from 'kubectl harden checks', or a domain like rbac/). Repeatable")
	fs.StringSliceVar(&o.SkipChecks, "skip-check", nil, "Do not run these checks. Repeatable")
	for _, flag := range []string{"check", "skip-check"} {
		_ = cmd.RegisterFlagCompletionFunc(flag, o.completeCheckIDs)
	}
}

// addSeverityFlag adds --severity (what is shown, never what counts).
func (o *AuditOptions) addSeverityFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Severity, "severity", "info", "Show findings at or above this level: "+strings.Join(severityNames(), ", ")+" (the rest still count in the score and --fail-on)")
	_ = cmd.RegisterFlagCompletionFunc("severity", completeSeverities)
}

// addColorFlag adds --color.
func (o *AuditOptions) addColorFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Color, "color", o.Color, "Colour the output: auto, always or never (auto honours NO_COLOR and a non-terminal output)")
}

// addAuditFlags is everything an audit (the root and each domain command) takes.
func (o *AuditOptions) addAuditFlags(cmd *cobra.Command) {
	o.addOutputFlag(cmd, output.Formats())
	o.addInputFlags(cmd)
	o.addSelectFlags(cmd)
	o.addSeverityFlag(cmd)
	o.addColorFlag(cmd)
	fs := cmd.Flags()
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Audit every namespace (the default unless -n is given)")
	fs.StringVar(&o.FailOn, "fail-on", "", "Exit with status 2 when any finding is at or above this level, and with status 3 when none is but a selected check was skipped")
	fs.BoolVar(&o.AllowSkipped, "allow-skipped", false, "With --fail-on, pass even when checks were skipped (forbidden, not served, or absent from -f input)")
	fs.StringVar(&o.ServerVersion, "server-version", "", "With -f, the Kubernetes version to judge manifests at (e.g. v1.37); default the newest known")
	fs.BoolVar(&o.ListAll, "all", false, "In the table, list every finding: by default a check with more than 10 findings shows 5 and how many more (-o wide and -o json list each)")
	fs.BoolVar(&o.IncludeSystem, "include-system", false, "Also report built-in system: roles, bindings and namespaces left at their defaults")
	fs.IntVar(&o.CertExpiryDays, "cert-expiry-days", o.CertExpiryDays, "Report certificates (the API server's, the kubeconfig's, cert-manager's) that expire within this many days")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", completeSeverities)
	o.addFleetFlags(cmd)
	o.addExceptionFlags(cmd)
	o.addReportFlags(cmd)
	o.addControlFlags(cmd)
}

// addKubeletFlag adds --kubelet, to the audits that run the cluster checks
// (the root and cluster): it reads what only those judge.
func (o *AuditOptions) addKubeletFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.Kubelet, "kubelet", false,
		"Also read each node's kubelet configuration (/configz, through the API server's node proxy) and judge it (CIS 4.2.x); needs get on nodes/proxy, which the auditor role leaves out. Without it those controls are unknown")
}

// addControlFlags adds --benchmark and --framework.
func (o *AuditOptions) addControlFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.Benchmark, "benchmark", "", "CIS Kubernetes Benchmark version whose IDs the controls use: "+strings.Join(benchmarkIDs(), ", ")+" (default: the one for the server's version, else the newest; the report names it)")
	fs.StringVar(&o.Framework, "framework", "", "Print the scorecard of one framework's controls (pass, fail, unknown, manual, per section): "+strings.Join(controls.Frameworks(), ", "))
	_ = cmd.RegisterFlagCompletionFunc("benchmark", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return benchmarkIDs(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("framework", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return controls.Frameworks(), cobra.ShellCompDirectiveNoFileComp
	})
}

// benchmarkIDs are the CIS benchmark versions the catalogues hold.
func benchmarkIDs() []string {
	lib, err := controls.Load()
	if err != nil {
		return nil
	}
	return lib.BenchmarkIDs()
}

func severityNames() []string {
	var out []string
	for _, s := range finding.Severities() {
		out = append(out, s.String())
	}
	return out
}

func completeSeverities(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return severityNames(), cobra.ShellCompDirectiveNoFileComp
}

// addRefusedFlags registers, hidden, flags a command does not take but that a
// user may carry over from an audit (-f, -o, --contexts), so that Validate can
// say what to do instead of cobra's bare "unknown flag".
func (o *AuditOptions) addRefusedFlags(cmd *cobra.Command, names ...string) {
	fs := cmd.Flags()
	for _, n := range names {
		switch n {
		case "filename":
			fs.StringSliceVarP(&o.Filenames, "filename", "f", nil, "not taken")
		case "output":
			fs.StringVarP(&o.Output, "output", "o", o.Output, "not taken")
		case "contexts":
			fs.StringSliceVar(&o.Contexts, "contexts", nil, "not taken")
			fs.BoolVar(&o.AllContexts, "all-contexts", false, "not taken")
			_ = fs.MarkHidden("all-contexts")
		}
		_ = fs.MarkHidden(n)
	}
}
