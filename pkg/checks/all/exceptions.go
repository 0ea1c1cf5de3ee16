package all

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// exceptionsDomain is the domain of the findings about the exceptions themselves.
const exceptionsDomain = "exceptions"

// exceptionChecks declare the findings the audit engine reports about the
// exceptions (pkg/exceptions makes them), so that 'kubectl harden checks'
// lists them, SARIF describes them like every rule, and --skip-check takes
// their IDs. They are Reported: nothing runs over the inventory for them.
func exceptionChecks() []checks.Check {
	// An accepted finding is a known weakness with a date to fix it by: a
	// plan of action and milestones, kept current by monitoring.
	controls := []finding.Control{"NIST-800-53-CA-5", "NIST-800-53-CA-7"}
	return []checks.Check{
		{
			ID: exceptions.CheckExpired, Domain: exceptionsDomain, Severity: finding.Low, Reported: true,
			Title:       "Exception expired",
			Description: "An exception past its expiry date accepts nothing any more: the findings it accepted count again, in the score and for --fail-on. This finding says which entry ran out, so its owner renews it on purpose or fixes what it accepted.",
			Remediation: "Fix the findings the exception accepted, or, when the reason still holds, give the entry a new expires date (within --max-exception-days).",
			Controls:    append(controls, "NIST-800-53-RA-7"),
		},
		{
			ID: exceptions.CheckStale, Domain: exceptionsDomain, Severity: finding.Info, Reported: true,
			Title:       "Exception matches no finding",
			Description: "An exception that matches no finding of the checks that ran accepts nothing: what it was for is fixed or gone. Left in the file, it would silently accept the same finding when it comes back.",
			Remediation: "Remove the entry from the exceptions file (or the annotation from the object).",
			Controls:    controls,
		},
		{
			ID: exceptions.CheckInvalid, Domain: exceptionsDomain, Severity: finding.Low, Reported: true,
			Title:       "Malformed " + exceptions.Annotation + " annotation",
			Description: "A line of the " + exceptions.Annotation + " annotation that does not parse (missing reason, owner or expiry, a bad date, an unknown check) accepts nothing, although whoever wrote it meant it to.",
			Remediation: "Write each line as 'CHECK: reason; owner=...; expires=YYYY-MM-DD', or remove the annotation.",
			Controls:    controls,
		},
	}
}
