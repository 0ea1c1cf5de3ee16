package cmd

import "github.com/kubectl-harden/kubectl-harden/pkg/output"

// extraPrinters are the -o formats made outside package output's core: one line each.
func (o *AuditOptions) extraPrinters() map[string]output.Printer {
	return map[string]output.Printer{
		"patch": output.Patch{},
		"sarif": &output.SARIF{Version: Version(), Rules: o.sarifRules},
	}
}
