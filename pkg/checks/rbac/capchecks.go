package rbac

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// grantHit is what one grant gives of one check's capabilities, system rules left out as opts asks.
type grantHit struct {
	grant    *Grant
	held     []held
	severity finding.Severity
	becomes  []becoming
}

// hitsFor returns, for each grant, the capabilities of check id it gives.
func (a *Analysis) hitsFor(id string, opts options) []grantHit {
	var out []grantHit
	for _, g := range a.Grants {
		if id == IDClusterAdminEquivalent {
			if g.Subject == mastersSubject() || (g.Binding.RoleRef.Kind == kindClusterRole && g.Binding.RoleRef.Name == clusterAdmin) {
				// Reported by rbac/system-masters and rbac/cluster-admin-binding.
				continue
			}
		} else if a.leftToOtherChecks(g) {
			continue
		}
		rcs := a.caps.heldBy(g)
		h := grantHit{grant: g}
		for _, rc := range rcs {
			if rc.cap.check != id {
				continue
			}
			var hs []held
			for _, x := range rc.reportable() {
				if x.grantedBy(g) && (opts.IncludeSystem || !allSystem(g, x.rules)) {
					hs = append(hs, x)
				}
			}
			if len(hs) == 0 || (rc.cap.requiresAll && len(hs) < len(rc.held)) {
				continue
			}
			h.held = append(h.held, hs...)
			h.severity = max(h.severity, capSeverity(rc.cap, g, hs))
			h.becomes = append(h.becomes, rc.cap.becomes)
		}
		if len(h.held) > 0 {
			out = append(out, h)
		}
	}
	return out
}

// leftToOtherChecks reports whether what a grant gives is reported by other
// checks than the capability checks: grants to system:masters
// (rbac/system-masters), and grants of everything, reported once by the
// cluster-admin checks rather than once per capability.
func (a *Analysis) leftToOtherChecks(g *Grant) bool {
	return g.Subject == mastersSubject() ||
		slices.ContainsFunc(a.caps.heldBy(g), func(rc roleCapability) bool { return rc.cap.check == IDClusterAdminEquivalent })
}

func allSystem(g *Grant, rules []int) bool {
	for _, i := range rules {
		if !g.System(&g.Role.Rules[i]) {
			return false
		}
	}
	return true
}

// capSeverity is the severity of a capability as granted: lower in one namespace, and
// impersonating named groups is only critical when system:masters is among them.
func capSeverity(c *capability, g *Grant, hs []held) finding.Severity {
	sev := c.namespaceSeverity
	if g.Binding.ClusterWide() {
		sev = c.clusterSeverity
	}
	if c.becomes == becomesGroup {
		for _, h := range hs {
			if h.names != nil && !slices.Contains(h.names, mastersGroup) {
				return finding.High
			}
		}
	}
	return sev
}

// capabilityFindings reports every subject that a binding gives a capability of check id.
func capabilityFindings(inv *inventory.Inventory, opts options, id string) []finding.Finding {
	a := Analyze(inv)
	hits := a.hitsFor(id, opts)
	flagged := map[*Binding][]int{}
	for _, h := range hits {
		flagged[h.grant.Binding] = append(flagged[h.grant.Binding], h.grant.Index)
	}
	out := make([]finding.Finding, 0, len(hits))
	for _, h := range hits {
		out = append(out, a.capabilityFinding(h, flagged[h.grant.Binding]))
	}
	return out
}

func (a *Analysis) capabilityFinding(h grantHit, flagged []int) finding.Finding {
	g := h.grant
	labels := make([]string, len(h.held))
	var ruleIdx []int
	for i, x := range h.held {
		labels[i] = x.label()
		for _, r := range x.rules {
			if !slices.Contains(ruleIdx, r) {
				ruleIdx = append(ruleIdx, r)
			}
		}
	}
	slices.Sort(ruleIdx)
	subj := g.Subject
	f := finding.Finding{
		Severity: h.severity,
		Message:  fmt.Sprintf("%s can %s %s (%s -> %s)", subj, labelHeld(h.held), g.Scope(), g.Binding, g.Binding.RoleString()),
		Resource: g.Binding.Resource(),
		Subject:  &subj,
		Evidence: grantEvidence(g, ruleIdx),
	}
	f.Evidence["permissions"] = labels
	var reqs []Request
	for _, x := range h.held {
		reqs = append(reqs, x.requests(g)...)
	}
	f.Evidence["requests"] = reqs
	f.Remediation = a.bindingRemedy(g, flagged, h.held)
	a.judgeAuditorRole(&f, g)
	return f
}

// judgeAuditorRole is where a finding about what one grant gives learns that
// the grant is the kubectl-harden auditor role's. Recognised, the access is
// the one the audit asked for (with --with-secrets, Secret reads chosen
// knowingly): the finding stays, so the report still says what the role
// allows, but at info and with no change for fix or -o patch to make, since
// taking the auditor out of its own binding would blind the next audit. A
// role that only carries the label keeps its finding, which says why.
func (a *Analysis) judgeAuditorRole(f *finding.Finding, g *Grant) {
	if !g.Auditor {
		a.noteIgnoredAuditorLabel(f, g.Role)
		return
	}
	f.Severity = finding.Info
	f.Message += fmt.Sprintf(": expected, %s is the read-only kubectl-harden auditor role (label %s=true)", g.Role, AuditorRoleLabel)
	f.Evidence["auditorRole"] = g.Role.String()
	f.Remediation = &remedy.Remediation{
		Summary: fmt.Sprintf("Nothing to change for the audit: this is what %s gives the auditor %s. "+
			"If the auditor should not read Secret data, apply `kubectl harden auditor-role` again without --with-secrets; "+
			"the checks that read Secrets are then skipped.", g.Role, g.Subject),
	}
}

// noteIgnoredAuditorLabel says in a finding caused by role r that r carries
// the auditor label but is not trusted as the auditor role, and why.
func (a *Analysis) noteIgnoredAuditorLabel(f *finding.Finding, r *Role) {
	if why := a.auditorLabelIgnored(r); why != "" {
		f.Message += ": " + why
		f.Evidence["auditorRole"] = why
	}
}

// grantEvidence names the binding, the role, where it applies, and the rules that matter.
func grantEvidence(g *Grant, ruleIdx []int) map[string]any {
	ev := map[string]any{
		"binding": g.Binding.String(),
		"role":    g.Binding.RoleString(),
		"scope":   g.Scope(),
	}
	if g.Role == nil {
		return ev
	}
	var rules, from []string
	for _, i := range ruleIdx {
		r := &g.Role.Rules[i]
		if r.From != "" && !slices.Contains(from, r.From) {
			from = append(from, r.From)
		}
		rules = append(rules, ruleWhere(r)+": "+formatRule(r.PolicyRule))
	}
	ev["rules"] = rules
	if len(from) > 0 {
		ev["aggregatedFrom"] = from
	}
	return ev
}

// bindingRemedy takes the flagged subjects out of the binding. A service
// account given only namespaced powers by a ClusterRoleBinding keeps the role
// in its own namespace through a new RoleBinding, the usual intent.
func (a *Analysis) bindingRemedy(g *Grant, flagged []int, hs []held) *remedy.Remediation {
	b := g.Binding
	rem := &remedy.Remediation{}
	onlyNamespaced := true
	for _, x := range hs {
		if x.action.scope == clusterScoped {
			onlyNamespaced = false
		}
	}
	if b.ClusterWide() && g.Subject.Kind == kindServiceAccount && onlyNamespaced && b.RoleRef.Kind == kindClusterRole {
		rb := map[string]any{
			"apiVersion": rbacAPIVersion,
			"kind":       kindRoleBinding,
			"metadata":   map[string]any{"name": b.Name, "namespace": g.Subject.Namespace},
			"roleRef":    map[string]any{"apiGroup": rbacv1.GroupName, "kind": kindClusterRole, "name": b.RoleRef.Name},
			"subjects": []any{map[string]any{
				"kind": rbacv1.ServiceAccountKind, "name": g.Subject.Name, "namespace": g.Subject.Namespace,
			}},
		}
		rem.Summary = fmt.Sprintf("Grant %s to %s in its own namespace %s only: create a RoleBinding there, then take it out of %s.",
			b.RoleString(), g.Subject, g.Subject.Namespace, b)
		rem.Changes = append(rem.Changes, remedy.NewApply(
			fmt.Sprintf("bind %s to %s in namespace %s only", b.RoleString(), g.Subject, g.Subject.Namespace), rb))
	} else {
		rem.Summary = fmt.Sprintf("Take %s out of %s; if it needs some of the access, bind it to a narrower role.", g.Subject, b)
	}
	change := removeSubject(b, flagged)
	change.Breaks = []string{fmt.Sprintf("%s loses the permissions of %s %s", g.Subject, b.RoleString(), g.Scope())}
	rem.Changes = append(rem.Changes, change)
	if g.Role != nil {
		var from []string
		for _, x := range hs {
			for _, i := range x.rules {
				if f := g.Role.Rules[i].From; f != "" && !slices.Contains(from, f) {
					from = append(from, f)
				}
			}
		}
		if len(from) > 0 {
			rem.Summary += fmt.Sprintf(" The rules come from %s aggregated into %s: change those roles or their aggregation labels, never the aggregated role's rules.",
				"ClusterRole "+strings.Join(from, ", ClusterRole "), g.Role)
		}
	}
	return rem
}
