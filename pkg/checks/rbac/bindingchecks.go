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

// broadGroup says who a built-in group stands for, and how bad a grant to it is.
func broadGroup(s finding.Subject) (who string, sev finding.Severity, ok bool) {
	switch {
	case s.Kind == rbacv1.UserKind && s.Name == UserAnonymous:
		return "every unauthenticated request", finding.Critical, true
	case s.Kind != rbacv1.GroupKind:
		return "", 0, false
	case s.Name == GroupUnauthenticated:
		return "every unauthenticated request", finding.Critical, true
	case s.Name == GroupAuthenticated:
		return "every authenticated user and service account", finding.High, true
	case s.Name == GroupServiceAccounts:
		return "every service account in the cluster", finding.High, true
	case strings.HasPrefix(s.Name, GroupServiceAccountsPrefix):
		return "every service account in namespace " + strings.TrimPrefix(s.Name, GroupServiceAccountsPrefix), finding.Medium, true
	}
	return "", 0, false
}

// broadGroupGrants reports grants to anonymous, all authenticated users and
// all service accounts beyond the built-in ones (which give discovery and
// public info only). A built-in binding counts when it gained a subject, and a
// built-in role when it gained a rule.
func broadGroupGrants(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	var out []finding.Finding
	for _, g := range a.Grants {
		who, sev, ok := broadGroup(g.Subject)
		if !ok || g.Role == nil || len(g.Role.Rules) == 0 {
			continue
		}
		var extra []int
		for i := range g.Role.Rules {
			if opts.IncludeSystem || !g.System(&g.Role.Rules[i]) {
				extra = append(extra, i)
			}
		}
		if len(extra) == 0 {
			continue
		}
		subj := g.Subject
		f := subjectFinding(g, fmt.Sprintf("%s (%s) is granted %s %s by %s", subj, who, g.Binding.RoleString(), g.Scope(), g.Binding), extra,
			fmt.Sprintf("Take %s out of %s; bind the users or service accounts that need the role instead.", subj, g.Binding))
		f.Severity = sev
		if g.Default && !opts.IncludeSystem {
			// The binding is built in; rules added to the built-in role are what is wrong.
			f.Message = fmt.Sprintf("%s (%s) is granted rules added to the built-in %s by %s", subj, who, g.Role, g.Binding)
			f.Remediation = restoreDefaultRules(g.Role)
		}
		out = append(out, f)
	}
	return out
}

// restoreDefaultRules is the patch that puts a built-in role back to its built-in rules.
func restoreDefaultRules(r *Role) *remedy.Remediation {
	var keep []any
	for _, rule := range r.Rules {
		if rule.Default && rule.From == "" {
			keep = append(keep, ruleObject(rule.PolicyRule))
		}
	}
	t := remedy.Target{APIVersion: rbacAPIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
	rem := &remedy.Remediation{Summary: fmt.Sprintf("Remove the rules added to the built-in %s; the API server keeps added rules when it reconciles.", r)}
	if r.Aggregation != nil {
		rem.Summary = fmt.Sprintf("The added rules of %s come from roles its aggregation selects: remove their aggregation labels.", r)
		return rem
	}
	c, err := remedy.NewMergePatch("restore the built-in rules of "+r.String(), t, r.Meta.ResourceVersion, map[string]any{"rules": keep})
	if err == nil {
		rem.Changes = []remedy.Change{c}
	}
	return rem
}

func ruleObject(r rbacv1.PolicyRule) map[string]any {
	m := map[string]any{"verbs": toAny(r.Verbs)}
	if len(r.NonResourceURLs) > 0 {
		m["nonResourceURLs"] = toAny(r.NonResourceURLs)
		return m
	}
	m["apiGroups"], m["resources"] = toAny(r.APIGroups), toAny(r.Resources)
	if len(r.ResourceNames) > 0 {
		m["resourceNames"] = toAny(r.ResourceNames)
	}
	return m
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// missingRoles reports bindings whose role does not exist: harmless today,
// but whoever creates a role of that name decides what the subjects get.
func missingRoles(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	var out []finding.Finding
	for _, b := range a.Bindings {
		if a.Role(b) != nil || len(b.Subjects) == 0 {
			continue
		}
		if !opts.IncludeSystem && a.defaults.bindings[roleKey{b.Kind, b.Namespace, b.Name}] != nil {
			continue
		}
		subjects := make([]string, len(b.Subjects))
		for i, s := range b.Subjects {
			subjects[i] = subjectOf(b, s).String()
		}
		msg := fmt.Sprintf("%s refers to %s, which does not exist: it grants nothing now, and whatever the role holds once someone creates it", b, b.RoleString())
		if a.Offline {
			msg = fmt.Sprintf("%s refers to %s, which is not in the input: it grants nothing until the role exists", b, b.RoleString())
		}
		out = append(out, finding.Finding{
			Message:  msg,
			Resource: b.Resource(),
			Evidence: map[string]any{"binding": b.String(), "roleRef": b.RoleString(), "subjects": subjects},
			Remediation: &remedy.Remediation{
				Summary: fmt.Sprintf("Delete %s, or create %s with the rules the subjects need.", b, b.RoleString()),
				Changes: []remedy.Change{deleteBinding(b)},
			},
		})
	}
	return out
}

// missingServiceAccounts reports bindings to ServiceAccounts that do not
// exist: anyone who can create a ServiceAccount of that name inherits the grant.
// A namespace whose ServiceAccounts were not listed (no "default" seen) is skipped as unknown.
func missingServiceAccounts(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	nsKnown := inv.Has(inventory.Namespaces) && len(inv.Namespaces) > 0
	nsExists := map[string]bool{}
	for _, ns := range inv.Namespaces {
		nsExists[ns.Name] = true
	}
	var out []finding.Finding
	for _, g := range a.Grants {
		s := g.Subject
		if s.Kind != kindServiceAccount || (g.Default && !opts.IncludeSystem) {
			continue
		}
		if _, ok := a.ServiceAccount(s); ok {
			continue
		}
		var why string
		switch {
		case s.Namespace == "":
			why = "has no namespace, so it matches no ServiceAccount"
		case nsKnown && !nsExists[s.Namespace]:
			why = fmt.Sprintf("does not exist: nor does namespace %s; whoever creates them inherits the grant", s.Namespace)
		case a.listed[s.Namespace]:
			why = "does not exist: whoever creates a ServiceAccount of that name inherits the grant"
		default:
			continue
		}
		out = append(out, subjectFinding(g, fmt.Sprintf("%s bound by %s to %s %s", s, g.Binding, g.Binding.RoleString(), why), nil,
			fmt.Sprintf("Take the stale %s out of %s.", s, g.Binding)))
	}
	return out
}

// wildcardRules reports roles with * in verbs, resources or apiGroups (CIS
// 5.1.3). Aggregated rules are reported on the role they come from.
func wildcardRules(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	bound := map[*Role][]string{}
	for _, g := range a.Grants {
		if g.Role != nil && !slices.Contains(bound[g.Role], g.Binding.String()) {
			bound[g.Role] = append(bound[g.Role], g.Binding.String())
		}
	}
	var out []finding.Finding
	for _, r := range a.roles {
		var rules []string
		for _, rule := range r.Rules {
			if rule.From != "" || (rule.Default && !opts.IncludeSystem) {
				continue
			}
			if slices.Contains(rule.Verbs, rbacv1.VerbAll) || slices.Contains(rule.Resources, rbacv1.ResourceAll) ||
				slices.Contains(rule.APIGroups, rbacv1.APIGroupAll) || slices.Contains(rule.NonResourceURLs, rbacv1.NonResourceAll) {
				rules = append(rules, fmt.Sprintf("rules[%d]: %s", rule.Index, formatRule(rule.PolicyRule)))
			}
		}
		if len(rules) == 0 {
			continue
		}
		bindings := bound[r]
		slices.Sort(bindings)
		sev, usedBy := finding.Medium, fmt.Sprintf("bound by %d binding(s)", len(bindings))
		if len(bindings) == 0 {
			sev, usedBy = finding.Low, "not bound yet"
		}
		f := finding.Finding{
			Severity: sev,
			Message:  fmt.Sprintf("%s has %d wildcard rule(s), %s: it will also grant resources and verbs added later", r, len(rules), usedBy),
			Resource: finding.Resource{APIVersion: rbacAPIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name},
			Evidence: map[string]any{"role": r.String(), "rules": rules, "bindings": bindings},
			Remediation: &remedy.Remediation{
				Summary: fmt.Sprintf("List the verbs, API groups and resources %s needs instead of *.", r),
			},
		}
		// A wildcard keeps a role from being recognised as the auditor role, whatever its label: say so.
		a.noteIgnoredAuditorLabel(&f, r)
		out = append(out, f)
	}
	return out
}
