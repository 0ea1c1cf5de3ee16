package cmd

import "github.com/spf13/cobra"

// addSessionCommands attaches the commands that change the cluster: fix and undo.
func addSessionCommands(o *AuditOptions, root *cobra.Command) {
	root.AddCommand(newCmdFix(o), newCmdUndo(o))
}
