// Package psa audits Pod Security Admission: each namespace's
// pod-security.kubernetes.io labels, and every pod and workload template
// judged with the upstream k8s.io/pod-security-admission checks at baseline
// and restricted, at the version the namespace's enforce label pins, else the
// server's minor version, else the newest the library knows. It works out the
// strictest level each namespace already satisfies, what blocks the next one,
// and a staged label change that rejects nothing running today.
//
// Pods owned by a controller in the inventory are counted under it once (a
// Deployment, its ReplicaSets and their Pods are one workload). Findings in
// kube-system, kube-public and kube-node-lease are reported only with
// --include-system: their pods need host access by design and clusters
// usually exempt those namespaces in the admission configuration.
package psa

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Domain is the checks' domain.
const Domain = "psa"

// Checks returns the psa checks.

// The IDs of the psa checks.
const (
	IDAuditWarnViolation   = "psa/audit-warn-violation"
	IDAuditWarnWeaker      = "psa/audit-warn-weaker"
	IDCapabilities         = "psa/capabilities"
	IDEnforceMissing       = "psa/enforce-missing"
	IDFreeWin              = "psa/free-win"
	IDHostNamespaces       = "psa/host-namespaces"
	IDHostPath             = "psa/host-path"
	IDHostPorts            = "psa/host-ports"
	IDInvalidLabel         = "psa/invalid-label"
	IDPrivilegeEscalation  = "psa/privilege-escalation"
	IDPrivileged           = "psa/privileged"
	IDPrivilegedProduction = "psa/privileged-production"
	IDRestrictedBlocker    = "psa/restricted-blocker"
	IDRestrictedVolumes    = "psa/restricted-volumes"
	IDRolloutRejected      = "psa/rollout-rejected"
	IDRunAsRoot            = "psa/run-as-root"
	IDSeccomp              = "psa/seccomp"
	IDUnsafeOptions        = "psa/unsafe-options"
)

func Checks() []checks.Check {
	labels := []inventory.Kind{inventory.Namespaces}
	all := Needs()
	cs := []checks.Check{
		{
			ID: IDEnforceMissing, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Medium, finding.High},
			Title:       "Namespace has no Pod Security enforce label",
			Description: "Without pod-security.kubernetes.io/enforce the namespace falls back to the cluster default, privileged unless the admission configuration says otherwise: any pod, privileged or with host access, is admitted.",
			Remediation: "Label the namespace in stages: warn and audit at restricted first, then enforce the strictest level its workloads already satisfy, versions pinned to the server's minor.",
			Needs:       labels,
			Run:         run(IDEnforceMissing),
		},
		{
			ID: IDInvalidLabel, Domain: Domain, Severity: finding.Medium,
			Title:       "Namespace has an invalid Pod Security label",
			Description: "An invalid enforce level or version fails closed (pods are judged restricted:latest) and an invalid audit or warn level fails open (nothing is audited or warned).",
			Remediation: "Set each pod-security.kubernetes.io label to privileged, baseline or restricted, and each -version label to v1.N or latest.",
			Needs:       labels,
			Run:         run(IDInvalidLabel),
		},
		{
			ID: IDPrivilegedProduction, Domain: Domain, Severity: finding.High,
			Title:       "Production namespace enforces the privileged level",
			Description: "enforce=privileged admits privileged containers, host namespaces and hostPath volumes in a namespace that looks like production by its name or environment label.",
			Remediation: "Enforce baseline or restricted; exempt the few workloads that need host access by moving them to a namespace of their own.",
			Needs:       labels,
			Run:         run(IDPrivilegedProduction),
		},
		{
			ID: IDAuditWarnWeaker, Domain: Domain, Severity: finding.Low,
			Title:       "Audit or warn level is weaker than enforce",
			Description: "An audit or warn level below enforce reports nothing enforce does not already reject, so it cannot show what the next level would break.",
			Remediation: "Set audit and warn to restricted (at least the enforce level), pinned to the server's minor version.",
			Needs:       labels,
			Run:         run(IDAuditWarnWeaker),
		},
		{
			ID: IDFreeWin, Domain: Domain, Severity: finding.Medium,
			Title:       "Enforce level is weaker than what every workload already satisfies",
			Description: "Every pod and template in the namespace already passes a stricter level than the one enforced: raising enforce costs nothing today and stops weaker pods from being admitted later.",
			Remediation: "Raise enforce to the strictest level already satisfied, pinned to the server's minor version.",
			Needs:       all,
			Run:         run(IDFreeWin),
		},
		{
			ID: IDAuditWarnViolation, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Low, finding.Medium},
			Title:       "Workload violates the namespace's own audit or warn level",
			Description: "The namespace asks to be warned about or to audit pods below a level, and this workload is below it. Low when the namespace is staged (warn and audit above a level the workload passes enforcing, as the Pod Security label remedy's first stage leaves it): then the finding is what the stage is for, the list of what to change before enforcing more.",
			Remediation: "Change the fields the finding names so the workload passes the level, or lower the label if the workload really needs it.",
			Needs:       all,
			Run:         run(IDAuditWarnViolation),
		},
		{
			ID: IDRolloutRejected, Domain: Domain, Severity: finding.High,
			Title:       "Workload template would be rejected by the enforce level",
			Description: "Enforce leaves running pods alone but rejects new ones: the next rollout, scale-up, node drain or job run of this workload creates no pods.",
			Remediation: "Change the template's fields the finding names before the next rollout, or move the workload to a namespace whose level it satisfies.",
			Needs:       all,
			Run:         run(IDRolloutRejected),
		},
		{
			ID: IDRestrictedBlocker, Domain: Domain, Severity: finding.Low,
			Title:       "Workload keeps its namespace from the restricted level",
			Description: "The workload does not pass the restricted Pod Security level, so its namespace cannot enforce restricted.",
			Remediation: "Set runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation=false and drop ALL capabilities, after checking the image runs that way.",
			Needs:       all,
			Run:         run(IDRestrictedBlocker),
		},
	}
	return append(cs, violationChecks(all)...)
}

// run returns a check's findings from the shared analysis, which computes
// every psa finding at once (Analysis.take).
func run(id string) func(*inventory.Inventory) []finding.Finding {
	return func(inv *inventory.Inventory) []finding.Finding {
		return Analyze(inv).take(id)
	}
}
