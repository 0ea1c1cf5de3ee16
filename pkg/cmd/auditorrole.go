package cmd

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// AuditorRoleOptions are the flags of `kubectl harden auditor-role`.
type AuditorRoleOptions struct {
	*AuditOptions

	Name        string
	WithSecrets bool

	// selected are the checks the role is for, set by Complete.
	selected []checks.Check
	// coverage are the kinds the domains' summary tables read, set by Complete.
	coverage []inventory.Kind
}

var auditorRoleLong = templates.LongDesc(`
	Print the smallest ClusterRole that lets 'kubectl harden' run the selected checks:
	get and list on the kinds the checks read, and nothing that writes. Bind it to the
	people or CI identity that audit. The role carries the label
	kubectl-harden.io/auditor-role=true, so the audit recognises it and reports what it
	grants at info, with nothing to fix.

	Secrets are left out by default: RBAC cannot limit list to metadata, so whoever may
	list Secrets may read every Secret's data, although the audit itself only ever asks
	for metadata. The checks that read Secrets (the command names them, on stderr and in
	a comment at the top of its output) are then skipped with "cannot list secrets:
	forbidden". --with-secrets adds get and list on secrets so that they run too: the
	trade-off is that the role's holder can read every Secret of the cluster.

	'kubectl harden --kubelet' also reads each node's kubelet configuration through the
	API server's node proxy, which needs get on nodes/proxy. The role leaves it out, with
	no flag to add it: get on nodes/proxy reaches the whole kubelet API as the API server
	(exec into any pod of the node, over a websocket GET), so a role holding it is not
	read-only, and the audit reports it (rbac/nodes-proxy) rather than recognise it. The
	role has list on nodes, so without nodes/proxy each node's kubelet settings are
	unknown, with the API server's refusal as the reason. Grant it apart, to the people
	who audit kubelets, for the time they do:
	kubectl create clusterrole kubectl-harden-kubelet --verb=get --resource=nodes/proxy`)

var auditorRoleExample = templates.Examples(`
	# The role for every check, created in the cluster (Secrets left out)
	kubectl harden auditor-role | kubectl apply -f -

	# Only what the RBAC and NetworkPolicy audits need
	kubectl harden auditor-role rbac netpol

	# With get and list on Secrets, so that the checks reading them run too
	kubectl harden auditor-role --with-secrets --name kubectl-harden-auditor-secrets`)

func newCmdAuditorRole(o *AuditOptions) *cobra.Command {
	r := &AuditorRoleOptions{AuditOptions: o, Name: "kubectl-harden-auditor"}
	cmd := &cobra.Command{
		Use:     "auditor-role [DOMAIN...]",
		Short:   "Print the minimal read-only ClusterRole an auditor needs to run the checks",
		Long:    auditorRoleLong,
		Example: auditorRoleExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := r.Complete(args); err != nil {
				return err
			}
			if err := r.Validate(); err != nil {
				return err
			}
			return r.Run()
		},
	}
	o.addSelectFlags(cmd)
	cmd.Flags().StringVar(&r.Name, "name", r.Name, "Name of the ClusterRole")
	cmd.Flags().BoolVar(&r.WithSecrets, "with-secrets", false,
		"Also grant get and list on secrets, so the checks that read Secrets run; list returns Secret data, so the role's holder can read every Secret")
	return cmd
}

// Complete selects the checks of the domains in args, as an audit of them would.
func (r *AuditorRoleOptions) Complete(args []string) error {
	var err error
	if r.selected, err = r.selectChecks(args); err != nil {
		return err
	}
	r.coverage = all.CoverageNeeds(args)
	return nil
}

// selectChecks returns the checks of the domains in args that --check and
// --skip-check select, as an audit of them would run.
func (o *AuditOptions) selectChecks(args []string) ([]checks.Check, error) {
	reg, err := o.Registry()
	if err != nil {
		return nil, err
	}
	filter, err := o.Filter()
	if err != nil {
		return nil, err
	}
	return reg.Select(args, filter)
}

// Validate checks the flags and the selection.
func (r *AuditorRoleOptions) Validate() error {
	if len(r.selected) == 0 {
		return fmt.Errorf("no check selected")
	}
	if r.Name == "" {
		return fmt.Errorf("--name must not be empty")
	}
	return nil
}

// Run prints the role. Without --with-secrets it says, on stderr and in a
// comment that `kubectl apply -f -` ignores, which checks the role will not
// run, so that an auditor does not mistake their skipping for a fault.
func (r *AuditorRoleOptions) Run() error {
	role := rbac.AuditorRole(r.Name, append(r.selected, checks.Check{Needs: r.coverage}), r.WithSecrets)
	b, err := yaml.Marshal(role)
	if err != nil {
		return fmt.Errorf("encode ClusterRole %s: %w", r.Name, err)
	}
	var out bytes.Buffer
	if need := rbac.SecretChecks(r.selected); len(need) > 0 && !r.WithSecrets {
		note := rbac.SecretsNote(need)
		fmt.Fprintln(r.ErrOut, strings.Join(note, " "))
		for _, l := range note {
			fmt.Fprintln(&out, "# "+l)
		}
	}
	out.Write(b)
	if _, err := r.Out.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write ClusterRole %s: %w", r.Name, err)
	}
	return nil
}
