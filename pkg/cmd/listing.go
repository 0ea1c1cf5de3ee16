package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// validateListOutput accepts the -o values of the commands that print a list
// of their own (checks, who-can, can-reach, narrow) rather than a Report:
// table and wide, and every kubectl list idiom through package output.
func validateListOutput(command, format string) error {
	_, err := output.NewListPrinter(command, format)
	return err
}

// printList prints l when the format is not table or wide, and reports
// whether it did; the caller prints its table otherwise.
func printList(w io.Writer, command, format string, l output.List) (bool, error) {
	p, err := output.NewListPrinter(command, format)
	if p == nil || err != nil {
		return err != nil, err
	}
	return true, p(l, w)
}

// subjectName is a subject as -o name prints it: KIND/NAME, or
// serviceaccount/NAMESPACE/NAME, like kubectl's names of objects.
func subjectName(s finding.Subject) string {
	n := strings.ToLower(s.Kind) + "/"
	if s.Namespace != "" {
		n += s.Namespace + "/"
	}
	return n + s.Name
}

// requireKinds fails when one of the kinds could not be read: commands that
// answer a question (who-can, can-reach) cannot answer it from part of the cluster.
func requireKinds(inv *inventory.Inventory, kinds []inventory.Kind, why string) error {
	reason := checks.MissingReason(inv, kinds)
	if reason == "" {
		return nil
	}
	hint := ""
	if inv.Offline {
		hint = " (give them with -f, or say the cluster has none with --assume-absent=KIND or --complete)"
	}
	return fmt.Errorf("%s%s: %s", reason, hint, why)
}
