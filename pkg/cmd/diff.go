package cmd

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

var diffLong = templates.LongDesc(`
	Compare two reports printed by -o json or -o yaml, as --baseline does: the
	findings of NEW that OLD does not have are new, the others unchanged, and the
	findings of OLD that NEW no longer has are fixed. Findings are matched by a
	fingerprint of the check, the object, the subject and the evidence that
	defines the finding (a container, a flag), never by the message, whose
	numbers change with unrelated objects.

	A finding of OLD whose check NEW skipped is not called fixed: it was not
	looked at. With --fail-on, the exit status is 2 when a new finding (not
	accepted by an exception) is at or above the level.`)

var diffExample = templates.Examples(`
	# Save a report, then compare the cluster as it is now with it
	kubectl harden -o json > before.json && kubectl harden diff before.json <(kubectl harden -o json)

	# The comparison as JSON: items marked new or unchanged, and the fixed findings
	kubectl harden diff before.json <(kubectl harden -o json) -o json`)

func newCmdDiff(o *AuditOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "diff OLD NEW",
		Short:   "Compare two reports: the findings new in NEW, and those fixed since OLD",
		Long:    diffLong,
		Example: diffExample,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.RunDiff(args[0], args[1])
		},
	}
	// Every report printer reads only the report, so diff prints every format an audit does.
	o.addOutputFlag(cmd, output.Formats())
	o.addColorFlag(cmd)
	fs := cmd.Flags()
	fs.StringVar(&o.FailOn, "fail-on", "", "Exit with status 2 when a new finding is at or above this level")
	fs.BoolVar(&o.AllowSkipped, "allow-skipped", false, "With --fail-on, pass even when NEW skipped checks")
	fs.BoolVar(&o.ShowAccepted, "show-accepted", false, "List the findings exceptions accepted in the table and -o name")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", completeSeverities)
	return cmd
}

// RunDiff prints NEW compared with OLD, with the printers of an audit.
func (o *AuditOptions) RunDiff(oldFile, newFile string) error {
	old, err := readReport(oldFile, "OLD")
	if err != nil {
		return err
	}
	cur, err := readReport(newFile, "NEW")
	if err != nil {
		return err
	}
	unseen := map[string]bool{}
	for _, s := range append(cur.Summary.Skipped, cur.Summary.NotApplicable...) {
		unseen[s.Check] = true
	}
	finding.CompareWithBaseline(cur, old, oldFile, func(check string) bool { return !unseen[check] })
	printer, err := o.Printer(nil)
	if err != nil {
		return err
	}
	if err := printer.Print(cur, o.Out); err != nil {
		return err
	}
	return exitFor(o.Gate().Judge(cur.Summary), len(cur.Summary.Skipped))
}
