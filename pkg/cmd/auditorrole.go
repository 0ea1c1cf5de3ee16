package cmd

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
)

// AuditorRole returns the smallest ClusterRole that lets every given check
// run: get/list on the kinds they read, nothing else, no Secret data
// (Secrets are listed as metadata, which list allows; the plugin never asks for data).
func AuditorRole(name string, cs []checks.Check) *rbacv1.ClusterRole {
	byGroup := map[string][]string{}
	for _, k := range checks.Needs(cs) {
		if !k.IsResource() {
			continue
		}
		byGroup[k.Group()] = append(byGroup[k.Group()], string(k))
	}
	var gs []string
	for g := range byGroup {
		gs = append(gs, g)
	}
	sort.Strings(gs)
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	for _, g := range gs {
		rs := byGroup[g]
		sort.Strings(rs)
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: rs, Verbs: []string{"get", "list"}})
	}
	return role
}

func newCmdAuditorRole(o *AuditOptions) *cobra.Command {
	name := "kubectl-harden-auditor"
	cmd := &cobra.Command{
		Use:   "auditor-role [DOMAIN...]",
		Short: "Print the minimal read-only ClusterRole an auditor needs to run the checks",
		Long: templates.LongDesc(`
			Print the smallest ClusterRole that lets 'kubectl harden' run every selected check:
			get and list on the kinds the checks read, nothing that writes, and no Secret data
			(Secrets are read as metadata only). Bind it to the people or CI identity that audit.`),
		Example: templates.Examples(`
			# The role for every check, created in the cluster
			kubectl harden auditor-role | kubectl apply -f -

			# Only what the RBAC and NetworkPolicy audits need
			kubectl harden auditor-role rbac netpol`),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := all.Registry()
			if err != nil {
				return err
			}
			filter, err := o.Filter()
			if err != nil {
				return err
			}
			selected, err := reg.Select(args, filter)
			if err != nil {
				return err
			}
			if len(selected) == 0 {
				return fmt.Errorf("no check selected")
			}
			b, err := yaml.Marshal(AuditorRole(name, append(selected, checks.Check{Needs: all.CoverageNeeds(args)})))
			if err != nil {
				return err
			}
			_, err = o.Out.Write(b)
			return err
		},
	}
	cmd.Flags().StringVar(&name, "name", name, "Name of the ClusterRole")
	return cmd
}
