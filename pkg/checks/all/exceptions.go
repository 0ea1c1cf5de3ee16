package all

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// exceptionsDomain is the domain of the findings about the exceptions themselves.
const exceptionsDomain = "exceptions"

// exceptionChecks declare the findings the audit engine reports about the
// exceptions (pkg/exceptions makes them), and those of rbac narrow, so that 'kubectl harden checks'
// lists them, SARIF describes them like every rule, and --skip-check takes
// their IDs. They are Reported: nothing runs over the inventory for them.
func exceptionChecks() []checks.Check {
	return []checks.Check{
		{
			ID: exceptions.CheckExpired, Domain: exceptionsDomain, Severity: finding.Low, Reported: true,
			Title:       "Exception expired",
			Description: "An exception past its expiry date accepts nothing any more: the findings it accepted count again, in the score and for --fail-on. This finding says which entry ran out, so its owner renews it on purpose or fixes what it accepted.",
			Remediation: "Fix the findings the exception accepted, or, when the reason still holds, give the entry a new expires date (within --max-exception-days).",
		},
		{
			ID: exceptions.CheckStale, Domain: exceptionsDomain, Severity: finding.Info, Reported: true,
			Title:       "Exception matches no finding",
			Description: "An exception that matches no finding of the checks that ran accepts nothing: what it was for is fixed or gone. Left in the file, it would silently accept the same finding when it comes back.",
			Remediation: "Remove the entry from the exceptions file (or the annotation from the object).",
		},
		{
			ID: exceptions.CheckInvalid, Domain: exceptionsDomain, Severity: finding.Low, Reported: true,
			Title:       "Malformed " + exceptions.Annotation + " annotation",
			Description: "A line of the " + exceptions.Annotation + " annotation that does not parse (missing reason, owner or expiry, a bad date, an unknown check) accepts nothing, although whoever wrote it meant it to.",
			Remediation: "Write each line as 'CHECK: reason; owner=...; expires=YYYY-MM-DD', or remove the annotation.",
		},
		{
			// Made by kubectl harden rbac narrow from audit logs, not by an audit.
			// As severe as the most dangerous grant left unused.
			ID: rbac.CheckNarrow, Domain: rbac.Domain, Severity: finding.Medium, Reported: true,
			Range:       [2]finding.Severity{finding.Info, finding.Critical},
			Title:       "Subject holds permissions it did not use",
			Description: "Over the audit-log window, the subject used only part of what its bindings grant. kubectl harden rbac narrow lists the unused grants, dangerous ones first, and generates roles that allow exactly the requests made.",
			Remediation: "Create the narrowed roles and bindings kubectl harden rbac narrow generates (or run it with --fix), then remove the subject from the broad bindings.",
		},
	}
}
