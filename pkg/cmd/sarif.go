package cmd

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/controls"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// sarifRules describes every registered check for -o sarif and the
// PolicyReports, so code-scanning tools can show a check's help and controls
// even for checks without findings; the controls are those of the CIS
// benchmark the report applied (the registry's are the newest benchmark's).
func (o *AuditOptions) sarifRules(r *finding.Report) ([]output.Rule, error) {
	reg, err := o.Registry()
	if err != nil {
		return nil, err
	}
	var mapping *controls.Mapping
	if r != nil && r.Metadata.Benchmark != nil {
		lib, err := controls.Load()
		if err != nil {
			return nil, err
		}
		if cat, ok := lib.Get(r.Metadata.Benchmark.ID); ok {
			mapping = lib.Mapping(cat)
		}
	}
	var rules []output.Rule
	for _, c := range reg.All() {
		ctl := c.Controls
		if mapping != nil {
			if m := mapping.CheckControls(c.ID); len(m) > 0 {
				ctl = m
			}
		}
		rules = append(rules, output.Rule{
			ID: c.ID, Domain: c.Domain, Severity: c.Severity, Title: c.Title,
			Description: c.Description, Remediation: c.Remediation, Controls: ctl,
		})
	}
	return rules, nil
}
