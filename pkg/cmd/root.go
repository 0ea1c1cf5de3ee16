// Package cmd holds the cobra commands of kubectl harden: flags, option
// structs with Complete/Validate/Run, and the wiring from inventory through
// checks to output. It does no analysis of its own.
package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // cloud auth providers in kubeconfigs
	"k8s.io/klog/v2"
	"k8s.io/kubectl/pkg/util/templates"
)

// ExitError carries an exit status other than 1; a nil Err means nothing more to say.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Execute runs the command line and returns the process exit status:
// 0 success, 1 error (one line on stderr, no usage dump), 2 findings at or above --fail-on.
func Execute(streams genericiooptions.IOStreams, args []string) int {
	root := NewCmdRoot(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(streams.ErrOut, "error: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
	return 1
}

var rootLong = templates.LongDesc(`
	Audit a Kubernetes cluster, or manifests, against the CIS Kubernetes Benchmark,
	the NSA/CISA Kubernetes Hardening Guide and NIST SP 800-53/800-190: risky RBAC grants
	and escalation paths, pods no NetworkPolicy isolates, namespaces without Pod Security
	Admission labels, and workload settings. Every finding says why it matters and how
	to fix it; 'kubectl harden fix' applies the fixes one at a time after asking.

	The audit is read-only. It needs list on the kinds its checks read; a kind it may
	not list skips the checks that need it, says so, and the run goes on. --kubelet also
	reads each node's kubelet configuration, which needs get on nodes/proxy.`)

var rootExample = templates.Examples(`
	# Audit the current cluster, every check, all namespaces
	kubectl harden

	# Only RBAC, only high and critical findings, as JSON
	kubectl harden rbac --severity high -o json

	# Audit manifests offline, failing a CI job on any critical finding
	kubectl harden -f ./deploy --fail-on critical

	# The messages of every critical finding
	kubectl harden -o jsonpath='{.items[?(@.severity=="critical")].message}'`)

// NewCmdRoot builds the kubectl-harden command tree.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewAuditOptions(streams)
	cmd := &cobra.Command{
		Use:          "kubectl-harden",
		Short:        "Audit a cluster's security hardening and fix what it finds",
		Long:         rootLong,
		Example:      rootExample,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		// Errors are printed once by Execute, with the exit status.
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl harden",
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.RunAudit(cmd, nil)
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help' for usage.", err, c.CommandPath())
	})
	o.addConnectionFlags(cmd)
	o.addAuditFlags(cmd)
	o.addKubeletFlag(cmd)
	cmd.PersistentPreRunE = o.rejectFleetOutsideAudits
	registerCompletions(cmd, o)
	addKlogVerbosity(cmd)

	rbacCmd := newCmdDomain(o, "rbac", "Audit RBAC: risky grants, escalation paths, stale and latent bindings")
	netpolCmd := newCmdDomain(o, "netpol", "Audit NetworkPolicy isolation and coverage")
	psaCmd := newCmdDomain(o, "psa", "Audit Pod Security Admission labels and what workloads would pass")
	workloadCmd := newCmdDomain(o, "workload", "Audit workload settings (privileges, host access, service account tokens)")
	workloadCmd.Aliases = []string{"workloads"}
	clusterCmd := newCmdDomain(o, "cluster", "Audit control-plane settings visible through the API, webhooks and legacy tokens")
	// Domain subcommands register here, one line each (e.g. rbacCmd.AddCommand(newCmdWhoCan(o))).
	addDomainCommands(o, rbacCmd, netpolCmd, psaCmd)
	configureCluster(o, clusterCmd)

	cmd.AddCommand(rbacCmd, netpolCmd, psaCmd, workloadCmd, clusterCmd)
	cmd.AddCommand(newCmdChecks(o), newCmdVersion(o), newCmdAuditorRole(o), newCmdKinds(o), newCmdSchedule(o), newCmdDiff(o))
	addSessionCommands(o, cmd)
	return cmd
}

// addKlogVerbosity exposes klog's -v and hides its other flags, as kubectl plugins do.
func addKlogVerbosity(cmd *cobra.Command) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if v := fs.Lookup("v"); v != nil {
		cmd.PersistentFlags().AddGoFlag(v)
		cmd.PersistentFlags().Lookup("v").Shorthand = "v"
	}
}

// newCmdDomain is an audit restricted to one domain's checks.
func newCmdDomain(o *AuditOptions, domain, short string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   domain,
		Short: short,
		Long: templates.LongDesc(short + `.

			Runs only the ` + domain + ` checks; every flag of 'kubectl harden' applies.`),
		Example: templates.Examples(strings.ReplaceAll(`
			# The DOMAIN checks on the current cluster
			kubectl harden DOMAIN

			# As JSON, for scripts
			kubectl harden DOMAIN -o json`, "DOMAIN", domain)),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.RunAudit(cmd, []string{domain})
		},
	}
	o.addAuditFlags(cmd)
	return cmd
}
