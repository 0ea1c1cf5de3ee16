package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-harden/kubectl-harden/pkg/apply"
)

// addSessionCommands attaches the commands that change the cluster: fix and undo.
func addSessionCommands(o *AuditOptions, root *cobra.Command) {
	root.AddCommand(newCmdFix(o), newCmdUndo(o))
}

// addDryRunFlag is kubectl's --dry-run (none, client or server), read
// without kubectl's helper: that one logs a klog deprecation line for a bare
// --dry-run, which here simply means client, as it does in kubectl.
func addDryRunFlag(cmd *cobra.Command, p *string, usage string) {
	cmd.Flags().StringVar(p, "dry-run", "none", usage)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
}

// parseDryRun reads a --dry-run value; the boolean forms kubectl still takes mean client and none.
func parseDryRun(v string) (apply.DryRunMode, error) {
	switch v {
	case "", "none", "false":
		return apply.DryRunNone, nil
	case "client", "true":
		return apply.DryRunClient, nil
	case "server":
		return apply.DryRunServer, nil
	}
	return apply.DryRunNone, fmt.Errorf(`invalid --dry-run value %q: use "none", "server" or "client"`, v)
}
