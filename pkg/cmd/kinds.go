package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// KindsOptions are the flags of `kubectl harden kinds`.
type KindsOptions struct {
	*AuditOptions

	WithSecrets bool

	// selected are the checks the dump is for, set by Complete.
	selected []checks.Check
	// kinds are what they and the domains' tables read, set by Complete.
	kinds []inventory.Kind
}

var kindsLong = templates.LongDesc(`
	Print, comma-separated for 'kubectl get', the resources that the selected checks
	read and that this API server serves, so that a dump of them audited with -f sees
	what a live audit would: the built-in kinds, the add-ons' kinds where their CRDs
	are installed (ClusterNetworkPolicy, AdminNetworkPolicy, Cilium and Calico
	policies, cert-manager Certificates, trivy-operator VulnerabilityReports, image
	policies, workloads such as Argo Rollouts), and the CustomResourceDefinitions,
	from which the audit learns which add-ons the cluster has and where custom
	resources live.

	Secrets are left out by default: their data would be in the dump. The audit of a
	dump then skips the checks that read Secrets, even with --complete (it names them
	on stderr). --with-secrets adds them; the file then holds every Secret's data.`)

var kindsExample = templates.Examples(`
	# Dump a cluster and audit the dump offline: it sees what a live audit would
	kubectl get -A -o yaml "$(kubectl harden kinds)" | kubectl harden -f - --complete --server-version v1.37

	# The resources, one a line
	kubectl harden kinds | tr , '\n'

	# Only what the NetworkPolicy audit reads
	kubectl harden kinds netpol`)

func newCmdKinds(o *AuditOptions) *cobra.Command {
	k := &KindsOptions{AuditOptions: o}
	cmd := &cobra.Command{
		Use:     "kinds [DOMAIN...]",
		Short:   "Print the resources to dump for an offline audit, as this server serves them",
		Long:    kindsLong,
		Example: kindsExample,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := k.Complete(args); err != nil {
				return err
			}
			if err := k.Validate(); err != nil {
				return err
			}
			return k.Run()
		},
	}
	o.addSelectFlags(cmd)
	cmd.Flags().BoolVar(&k.WithSecrets, "with-secrets", false, "Also list secrets, so the checks that read Secrets run on the dump; the dump then holds every Secret's data")
	return cmd
}

// Complete selects the checks of the domains in args, as an audit of them would.
func (k *KindsOptions) Complete(args []string) error {
	var err error
	if k.selected, err = k.selectChecks(args); err != nil {
		return err
	}
	k.kinds = checks.Needs(append(k.selected, checks.Check{Needs: all.CoverageNeeds(args)}))
	return nil
}

// Validate checks the selection.
func (k *KindsOptions) Validate() error {
	if len(k.selected) == 0 {
		return fmt.Errorf("no check selected")
	}
	if len(k.Filenames) > 0 {
		return fmt.Errorf("kinds asks the API server what it serves; -f does not apply")
	}
	return nil
}

// Run asks discovery what the server serves and prints the resources.
func (k *KindsOptions) Run() error {
	dc, err := k.ConfigFlags.ToDiscoveryClient()
	if err != nil {
		return err
	}
	dc.Invalidate()
	_, lists, err := dc.ServerGroupsAndResources()
	var partial *discovery.ErrGroupDiscoveryFailed
	if err != nil && !errors.As(err, &partial) {
		return fmt.Errorf("ask the API server which resources it serves: %w", err)
	}
	served := map[schema.GroupResource]bool{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") {
				served[schema.GroupResource{Group: gv.Group, Resource: r.Name}] = true
			}
		}
	}
	names := DumpResources(k.kinds, served, k.WithSecrets)
	if partial != nil {
		fmt.Fprintf(k.ErrOut, "Warning: some API groups could not be discovered, their resources are left out: %v\n", partial)
	}
	if need := rbac.SecretChecks(k.selected); len(need) > 0 && !k.WithSecrets {
		fmt.Fprintf(k.ErrOut, "Note: secrets are left out (their data would be in the dump); an audit of the dump skips %s. --with-secrets lists them.\n",
			strings.Join(need, ", "))
	}
	_, err = fmt.Fprintln(k.Out, strings.Join(names, ","))
	return err
}

// DumpResources returns, in the inventory's order, the resources to dump for
// the kinds: those the server serves, as kubectl get names them (resource or
// resource.group), then the CustomResourceDefinitions. A kind served in two
// groups (Calico's) is dumped from the first served, since both hold the
// same objects.
func DumpResources(kinds []inventory.Kind, served map[schema.GroupResource]bool, withSecrets bool) []string {
	var out []string
	for _, k := range kinds {
		if !k.IsResource() || (k == inventory.Secrets && !withSecrets) {
			continue
		}
		for _, gr := range k.APIResources() {
			if !served[gr] {
				continue
			}
			out = append(out, gr.String())
			if k.IsCNIPolicy() {
				break
			}
		}
	}
	if crd := (schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}); served[crd] {
		out = append(out, crd.String())
	}
	return out
}
