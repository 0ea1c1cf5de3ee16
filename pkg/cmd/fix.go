package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/cmd/util/editor"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/apply"
	"github.com/kubectl-harden/kubectl-harden/pkg/audit"
	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
)

// FixOptions are the flags of `kubectl harden fix`; the audit flags
// (--check, -n, --severity, kubeconfig) select the findings to fix.
type FixOptions struct {
	*AuditOptions

	Yes          bool
	IncludeRisky bool
	JournalDir   string

	dryRunFlag string
	dryRun     apply.DryRunMode
	domains    []string
}

var fixLong = templates.LongDesc(`
	Review the remediation of every finding and apply it, one change at a time,
	most severe first. For each change the session shows the finding and why it
	matters, a diff of the live object against the server's dry-run result, the
	admission warnings (for example the pods a Pod Security level would reject)
	and what the change may break, then asks [y]es [n]o [a]ll of this check
	ac[c]ept [e]dit [d]etail [q]uit. All applies the rest of the check's changes
	without asking, except risky ones (they change workloads, not only policy)
	unless --include-risky.

	Some findings offer an alternative to their own changes (where the cluster
	serves ClusterNetworkPolicy, one Baseline-tier policy instead of
	NetworkPolicies in each namespace). It is asked about before the changes it
	replaces: a yes applies it and drops those it made needless, a no goes on
	with them. All and --yes never choose an alternative.

	Accept leaves the cluster alone and records the change's findings as
	accepted instead: it asks for the reason, the owner and the expiry date
	(90 days from today by default, never beyond --max-exception-days) and
	appends one entry per finding to the first --exceptions file, else to
	.kubectl-harden.yaml in the current directory (created when missing),
	which later audits read.

	Edit opens the change in $KUBE_EDITOR, $EDITOR or vi, like 'kubectl edit',
	and checks it again with a dry-run. A change the server's dry-run rejects is
	never applied. Nothing is written without a yes (or --yes).

	Before each change, the object as it was is written to a journal under
	~/.kube/harden, readable only by you; 'kubectl harden undo' restores it.
	Each change is sent with the resourceVersion it was shown at: if anyone
	changed the object in between, the change fails and the object is left alone.`)

var fixExample = templates.Examples(`
	# Review every fix, most severe first
	kubectl harden fix

	# Only the Pod Security and NetworkPolicy fixes of one namespace
	kubectl harden fix psa netpol -n shop

	# Only one check, applied without asking (risky changes stay out)
	kubectl harden fix --check rbac/cluster-admin-binding --yes

	# Print the plan, with the server's dry-run verdict on each change, and change nothing
	kubectl harden fix --dry-run=server`)

func newCmdFix(o *AuditOptions) *cobra.Command {
	f := &FixOptions{AuditOptions: o, JournalDir: apply.DefaultJournalDir()}
	cmd := &cobra.Command{
		Use:               "fix [DOMAIN...]",
		Short:             "Review and apply the fixes of the findings, one change at a time",
		Long:              fixLong,
		Example:           fixExample,
		ValidArgsFunction: o.completeDomains,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.Complete(cmd, args); err != nil {
				return err
			}
			if err := f.Validate(); err != nil {
				return err
			}
			return f.Run(cmd.Context())
		},
	}
	addDryRunFlag(cmd, &f.dryRunFlag, `Print the plan and change nothing: "server" asks the API server to dry-run each change, "client" (also a bare --dry-run) computes them locally, "none" runs the session`)
	o.addSelectFlags(cmd)
	o.addRefusedFlags(cmd, "filename", "output", "contexts")
	o.addSeverityFlag(cmd)
	o.addColorFlag(cmd)
	o.addExceptionFlags(cmd)
	cmd.Flags().BoolVar(&o.IncludeSystem, "include-system", false, "Also fix built-in system: roles, bindings and namespaces left at their defaults")
	cmd.Flags().BoolVar(&f.Yes, "yes", false, "Apply every change the server's dry-run accepts without asking (risky changes only with --include-risky)")
	cmd.Flags().BoolVar(&f.IncludeRisky, "include-risky", false, "With --yes or [a]ll, also apply changes marked risky (they alter workloads, not only policy)")
	cmd.Flags().StringVar(&f.JournalDir, "journal-dir", f.JournalDir, "Directory of the fix journals")
	return cmd
}

// Complete reads the domains and the --dry-run strategy.
func (f *FixOptions) Complete(_ *cobra.Command, args []string) error {
	mode, err := parseDryRun(f.dryRunFlag)
	if err != nil {
		return err
	}
	f.dryRun, f.domains = mode, args
	return nil
}

// Validate refuses what a fix session cannot do.
func (f *FixOptions) Validate() error {
	if err := f.AuditOptions.Validate(); err != nil {
		return err
	}
	if len(f.Filenames) > 0 {
		return fmt.Errorf("kubectl harden fix changes a live cluster; for manifests, print the changes with 'kubectl harden -f FILE -o patch'")
	}
	if f.Output != "" && f.Output != "table" {
		return fmt.Errorf("kubectl harden fix prints an interactive session, not -o %s; for scripts use 'kubectl harden -o patch'", f.Output)
	}
	reg, err := f.Registry()
	if err != nil {
		return err
	}
	for _, d := range f.domains {
		if !slices.Contains(reg.Domains(), d) {
			return fmt.Errorf("unknown domain %q: use one of %s", d, strings.Join(reg.Domains(), ", "))
		}
	}
	return nil
}

// Run audits, then walks the fixes. After each applied change the checks it
// can affect run again on the inventory as the change left it, so the items
// after it are what the cluster now needs. Ctrl-C abandons a change in
// flight after a second and exits 130; the first request the API server
// cannot be reached for stops the session (exit 1) with what is left. The
// exit status is 1 too when a change failed or its outcome stayed unknown.
func (f *FixOptions) Run(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, inv, err := f.Audit(ctx, f.domains)
	if err != nil {
		if ctx.Err() != nil {
			return &ExitError{Code: 130, Err: errors.New("interrupted before the session started; nothing was changed")}
		}
		return err
	}
	reg, err := f.Registry()
	if err != nil {
		return err
	}
	why := func(id string) string {
		c, _ := reg.Get(id)
		return c.Description
	}
	// What an exception accepts is not offered for fixing.
	items := apply.Items(withoutAccepted(report.Items), why)
	cfgAudit, err := f.AuditConfig(f.domains)
	if err != nil {
		return err
	}
	plan, err := audit.NewPlan(reg, inv, cfgAudit)
	if err != nil {
		return err
	}

	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	mapper, err := f.ConfigFlags.ToRESTMapper()
	if err != nil {
		return fmt.Errorf("read the API resources of %s: %w", cfg.Host, err)
	}
	client, err := apply.NewClient(cfg, mapper, f.ErrOut)
	if err != nil {
		return err
	}
	s := &apply.Session{
		Client: client, In: f.In, Out: f.Out, Color: f.UseColor(),
		Yes: f.Yes, IncludeRisky: f.IncludeRisky, DryRun: f.dryRun,
		Edit: editChange, Planner: plan,
		Accept: &apply.Acceptor{File: f.acceptFile(), Options: f.exceptionOptions()},
		// --request-timeout bounds each request of the session too.
		Timeout: cfg.Timeout,
	}
	if f.dryRun == apply.DryRunNone && len(items) > 0 {
		s.Journal = apply.NewJournal(f.JournalDir, report.Metadata.Context, cfg.Host)
		if err := s.Journal.EnsureDir(); err != nil {
			return err
		}
		defer s.Journal.Close()
	}
	sum := s.Run(ctx, items)
	return fixResult(sum, len(items), f.dryRun)
}

// acceptFile is where ac[c]ept writes: the first --exceptions file, else
// .kubectl-harden.yaml in the working directory (created when missing), so
// the next audit with the same flags reads what was accepted.
func (f *FixOptions) acceptFile() string {
	if len(f.ExceptionFiles) > 0 {
		return f.ExceptionFiles[0]
	}
	return filepath.Join(f.WorkDir, exceptions.DefaultFile)
}

// fixResult is the exit of a session: 130 when interrupted, 1 when the
// server was lost, a change failed, or an outcome stayed unknown.
func fixResult(sum apply.Summary, items int, mode apply.DryRunMode) error {
	unsettled := 0
	for _, o := range sum.Unknown {
		if o.Verdict != apply.Made && o.Verdict != apply.NotMade {
			unsettled++
		}
	}
	switch {
	case sum.LostContact != nil:
		return errors.New(apply.LostContactMessage(sum))
	case sum.Interrupted:
		msg := "interrupted"
		if unsettled > 0 {
			msg += fmt.Sprintf("; %d changes have an unknown outcome: 'kubectl harden undo --dry-run' says what the live objects show", unsettled)
		}
		return &ExitError{Code: 130, Err: errors.New(msg)}
	case mode != apply.DryRunNone:
		return nil
	case len(sum.Failed) > 0:
		return fmt.Errorf("%d of %d changes failed (listed above); the objects they name were left as they were", len(sum.Failed), items)
	case unsettled > 0:
		return fmt.Errorf("%d of %d changes have an unknown outcome (listed above): 'kubectl harden undo --dry-run' says what the live objects show", unsettled, items)
	}
	return nil
}

// editChange opens the user's editor on a change, as kubectl edit does.
func editChange(content []byte) ([]byte, error) {
	ed := editor.NewDefaultEditor([]string{"KUBE_EDITOR", "EDITOR"})
	out, path, err := ed.LaunchTempFile("kubectl-harden-edit-", ".yaml", bytes.NewReader(content))
	if path != "" {
		os.Remove(path)
	}
	return out, err
}
