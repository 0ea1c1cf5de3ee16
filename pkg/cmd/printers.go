package cmd

import "github.com/kubectl-harden/kubectl-harden/pkg/output"

// extraPrinters are the -o formats made outside package output's core: one line each.
func (o *AuditOptions) extraPrinters(domains []string) map[string]output.Printer {
	return map[string]output.Printer{
		"patch":        output.Patch{},
		"sarif":        &output.SARIF{Version: Version(), Rules: o.sarifRules},
		"policyreport": output.PolicyReport{Name: policyReportName(domains), Rules: o.sarifRules},
		"html":         output.HTML{Version: Version()},
	}
}

// policyReportName names the report objects of an audit: a domain's audit
// has its own, so that applying it does not replace the results of the others.
func policyReportName(domains []string) string {
	if len(domains) == 1 {
		return output.PolicyReportName + "-" + domains[0]
	}
	return output.PolicyReportName
}
