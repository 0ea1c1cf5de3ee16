package rbac

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// systemNamespace holds the control plane's own pods; audited only with IncludeSystem.
var systemNamespace = inventory.IsSystemNamespace

// maxListed caps how many pod names a message or evidence lists.
const maxListed = 10

func listNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxListed)
}

// automountOff is the server-side apply object that stops a ServiceAccount's token being mounted by default.
func automountOff(ns, name string) map[string]any {
	return map[string]any{
		"apiVersion":                   "v1",
		"kind":                         "ServiceAccount",
		"metadata":                     map[string]any{"name": name, "namespace": ns},
		"automountServiceAccountToken": false,
	}
}

// defaultServiceAccounts reports namespaces whose pods run as the "default"
// ServiceAccount with its token mounted, and grants to a default
// ServiceAccount (CIS 5.1.5): every pod that names no ServiceAccount gets what
// the default one holds.
func defaultServiceAccounts(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	pods := map[string][]string{}    // namespace -> pods running as default
	mounted := map[string][]string{} // of those, the ones that get the token
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if podServiceAccount(p) != "default" || (systemNamespace(p.Namespace) && !opts.IncludeSystem) {
			continue
		}
		pods[p.Namespace] = append(pods[p.Namespace], p.Name)
		sa, _ := a.ServiceAccount(finding.Subject{Kind: kindServiceAccount, Namespace: p.Namespace, Name: "default"})
		if tokenMounted(p, sa) {
			mounted[p.Namespace] = append(mounted[p.Namespace], p.Name)
		}
	}
	var out []finding.Finding
	for ns, names := range pods {
		if len(mounted[ns]) == 0 {
			// No pod gets the default ServiceAccount's token: what CIS 5.1.5 asks
			// (automountServiceAccountToken: false on it) is done, and its remedy applied.
			continue
		}
		slices.Sort(names)
		slices.Sort(mounted[ns])
		subj := finding.Subject{Kind: kindServiceAccount, Namespace: ns, Name: "default"}
		f := finding.Finding{
			Message:  fmt.Sprintf("%d pod(s) in namespace %s run as ServiceAccount default: %s", len(names), ns, listNames(names)),
			Resource: finding.Resource{APIVersion: "v1", Kind: "ServiceAccount", Namespace: ns, Name: "default"},
			Subject:  &subj,
			Evidence: map[string]any{"pods": names, "tokenMounted": mounted[ns]},
			Remediation: &remedy.Remediation{
				Summary: fmt.Sprintf("Give the workloads in %s their own ServiceAccounts, and stop mounting the default one's token.", ns),
			},
		}
		if sa, ok := a.ServiceAccount(subj); !ok || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			c := remedy.NewApply("stop mounting the token of ServiceAccount "+ns+"/default by default", automountOff(ns, "default"))
			if len(mounted[ns]) > 0 {
				c.Breaks = []string{fmt.Sprintf("pods created from now on without their own ServiceAccount get no API token (now running with it: %s)", listNames(mounted[ns]))}
			}
			f.Remediation.Changes = []remedy.Change{c}
		}
		out = append(out, f)
	}
	// Bindings that give a default ServiceAccount anything.
	for _, g := range a.Grants {
		if g.Subject.Kind != kindServiceAccount || g.Subject.Name != "default" || g.Role == nil || len(g.Role.Rules) == 0 {
			continue
		}
		if (g.Default || systemNamespace(g.Subject.Namespace)) && !opts.IncludeSystem {
			continue
		}
		subj := g.Subject
		out = append(out, subjectFinding(g, fmt.Sprintf("%s is granted %s %s by %s: every pod in %s that names no ServiceAccount holds it",
			subj, g.Binding.RoleString(), g.Scope(), g.Binding, subj.Namespace), indexes(len(g.Role.Rules)),
			fmt.Sprintf("Bind the role to a dedicated ServiceAccount of the workload that needs it, and take %s out of %s.", subj, g.Binding)))
	}
	return out
}

// automountRiskyTokens reports ServiceAccounts whose token is mounted in pods
// while the account holds, directly or by becoming another, a dangerous
// permission (CIS 5.1.6): anyone who gets into such a pod holds it too.
func automountRiskyTokens(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	g := a.escalation
	type use struct{ pods, podForced []string }
	uses := map[finding.Subject]*use{}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if systemNamespace(p.Namespace) && !opts.IncludeSystem {
			continue
		}
		s := finding.Subject{Kind: kindServiceAccount, Namespace: p.Namespace, Name: podServiceAccount(p)}
		sa, _ := a.ServiceAccount(s)
		if !tokenMounted(p, sa) {
			continue
		}
		u := uses[s]
		if u == nil {
			u = &use{}
			uses[s] = u
		}
		u.pods = append(u.pods, p.Name)
		if p.Spec.AutomountServiceAccountToken != nil {
			u.podForced = append(u.podForced, p.Name)
		}
	}
	var out []finding.Finding
	for s, u := range uses {
		n, ok := g.byName[s]
		if !ok {
			continue
		}
		node := &g.nodes[n]
		if node.value < finding.Medium || (!opts.IncludeSystem && !a.holdsNonSystem(s)) {
			continue
		}
		slices.Sort(u.pods)
		what := node.ownLabel
		if node.next >= 0 {
			steps, last := g.path(n, node.edges[node.next])
			if steps[0].action != "" {
				what = renderPath(s, steps, last)
			} else {
				what = last
			}
		}
		subj := s
		f := finding.Finding{
			Severity: node.value,
			Message:  fmt.Sprintf("%s holds %s and its token is mounted in %d pod(s): %s", s, what, len(u.pods), listNames(u.pods)),
			Resource: finding.Resource{APIVersion: "v1", Kind: "ServiceAccount", Namespace: s.Namespace, Name: s.Name},
			Subject:  &subj,
			Evidence: map[string]any{"pods": u.pods, "danger": what},
			Remediation: &remedy.Remediation{
				Summary: fmt.Sprintf("Mount the token only in pods that call the API (automountServiceAccountToken: false on %s, true on those pods), and narrow what %s holds.", s, s),
			},
		}
		if len(u.podForced) < len(u.pods) {
			c := remedy.NewApply("stop mounting the token of "+s.String()+" by default", automountOff(s.Namespace, s.Name))
			c.Breaks = []string{fmt.Sprintf("pods restarted from now on lose the API token unless they set automountServiceAccountToken: true: %s", listNames(u.pods))}
			// The pods may need the token: this changes how workloads run, so it is never applied by default.
			c.Risky = true
			f.Remediation.Changes = []remedy.Change{c}
		}
		out = append(out, f)
	}
	return out
}

// holdsNonSystem reports whether a subject holds any rule, directly or through its groups, outside the built-in policy.
func (a *Analysis) holdsNonSystem(s finding.Subject) bool {
	for _, h := range a.GrantsOf(s) {
		if h.Role == nil {
			continue
		}
		for i := range h.Role.Rules {
			if !h.System(&h.Role.Rules[i]) {
				return true
			}
		}
	}
	return false
}
