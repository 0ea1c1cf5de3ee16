package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/apply"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
)

// PSAOptions are the flags of `kubectl harden psa` beyond the audit's.
type PSAOptions struct {
	*AuditOptions

	// ServerDryRun confirms each proposed enforce label with a server-side dry-run.
	ServerDryRun bool
}

var psaLong = templates.LongDesc(`
	Audit Pod Security Admission. For each namespace: its enforce, audit and warn
	labels, the strictest level every pod and workload template already satisfies,
	what blocks the next level (object, check, field), and a staged label change:
	warn and audit at restricted first, then enforce the strictest level already
	satisfied, versions pinned to the server's minor. Pods and templates are judged
	with the API server's own checks, at the version the namespace pins, else the
	server's (with -f: --server-version, else the newest the plugin knows).

	With --server-dry-run each proposed enforce label, and enforce=restricted, is
	sent to the API server as a dry-run patch of the namespace: nothing changes,
	and the PodSecurity admission answers with warnings naming the pods that would
	violate it, shown beside the plugin's prediction. It needs patch on namespaces.`)

var psaExample = templates.Examples(`
	# The Pod Security standing of every namespace
	kubectl harden psa

	# Ask the API server to confirm the proposed labels (changes nothing)
	kubectl harden psa --server-dry-run

	# Judge manifests offline as a v1.33 server would
	kubectl harden psa -f ./deploy --server-version v1.33

	# The label changes to apply, for kubectl apply --server-side
	kubectl harden psa -o patch`)

// configurePSA gives the psa audit command its own flags and Run.
func configurePSA(o *AuditOptions, cmd *cobra.Command) {
	p := &PSAOptions{AuditOptions: o}
	cmd.Long, cmd.Example = psaLong, psaExample
	cmd.Flags().BoolVar(&p.ServerDryRun, "server-dry-run", false,
		"Confirm each proposed enforce label with a server-side dry-run of the namespace and show the warnings the API server returns (needs patch on namespaces; changes nothing)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := p.Complete(); err != nil {
			return err
		}
		if err := p.Validate(); err != nil {
			return err
		}
		return p.Run(cmd)
	}
}

// Validate checks the psa flags.
func (p *PSAOptions) Validate() error {
	if err := p.AuditOptions.Validate(); err != nil {
		return err
	}
	if p.ServerDryRun && len(p.Filenames) > 0 {
		return fmt.Errorf("--server-dry-run asks the API server and cannot be used with -f")
	}
	return nil
}

// Run audits the psa domain, says on stderr what limits the analysis, and
// with --server-dry-run adds the server's answers to the report's psa summary
// before printing it.
func (p *PSAOptions) Run(cmd *cobra.Command) error {
	domains := []string{psa.Domain}
	if p.Fleet() {
		if p.ServerDryRun {
			return fmt.Errorf("--server-dry-run asks one API server and cannot be used with --contexts or --all-contexts")
		}
		return p.RunFleet(cmd, domains)
	}
	printer, err := p.Printer(domains)
	if err != nil {
		return err
	}
	report, inv, err := p.Audit(cmd.Context(), domains)
	if err != nil {
		return err
	}
	// The same analysis the report's coverage holds: dry-run answers land in the report.
	a := psa.Analyze(inv)
	for _, n := range a.Notes {
		fmt.Fprintf(p.ErrOut, "Warning: %s\n", n)
	}
	if p.ServerDryRun {
		if err := p.dryRun(cmd, a); err != nil {
			return err
		}
	}
	if err := printer.Print(report, p.Out); err != nil {
		return err
	}
	return exitFor(p.Gate().Judge(report.Summary), len(report.Summary.Skipped))
}

// dryRun asks the API server about each namespace's proposed labels; the
// comparison with the prediction is the psa domain's (Analysis.ConfirmWithServer).
func (p *PSAOptions) dryRun(cmd *cobra.Command, a *psa.Analysis) error {
	cfg, err := p.RESTConfig()
	if err != nil {
		return err
	}
	ask := func(namespace string, labels map[string]string) ([]string, error) {
		return apply.DryRunNamespaceLabels(cmd.Context(), cfg, namespace, labels)
	}
	for _, w := range a.ConfirmWithServer(ask, p.IncludeSystem) {
		fmt.Fprintf(p.ErrOut, "Warning: %s\n", w)
	}
	return nil
}
