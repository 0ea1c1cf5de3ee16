package cmd

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// sarifRules describes every registered check for -o sarif, so code-scanning
// tools can show a check's help and controls even for checks without findings.
func (o *AuditOptions) sarifRules() ([]output.Rule, error) {
	reg, err := o.Registry()
	if err != nil {
		return nil, err
	}
	var rules []output.Rule
	for _, c := range reg.All() {
		rules = append(rules, output.Rule{
			ID: c.ID, Domain: c.Domain, Severity: c.Severity, Title: c.Title,
			Description: c.Description, Remediation: c.Remediation, Controls: c.Controls,
		})
	}
	return rules, nil
}
