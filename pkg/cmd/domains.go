package cmd

import "github.com/spf13/cobra"

// addDomainCommands attaches each domain's own subcommands (who-can, can-reach, ...)
// to its audit command. One line per subcommand.
func addDomainCommands(o *AuditOptions, rbacCmd, netpolCmd, psaCmd *cobra.Command) {
	rbacCmd.AddCommand(newCmdWhoCan(o))
	rbacCmd.AddCommand(newCmdNarrow(o))
	netpolCmd.AddCommand(newCmdCanReach(o))
	configurePSA(o, psaCmd)
}
