package apply

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func TestReplan(t *testing.T) {
	binding := remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci-deployer-admin"}
	other := remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Namespace: "ci", Name: "dev-build-debugger"}
	deny := remedy.NewApply("deny", objects(t)["policy"].Object)
	delOther := remedy.NewDelete("delete ci/dev-build-debugger", other, "3")
	patchOther, err := remedy.NewMergePatch("drop pods/exec from ci/dev-build-debugger", other, "3", map[string]any{"rules": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	f := func(check, subject, msg string, ch remedy.Change) finding.Finding {
		return finding.Finding{Check: check, Severity: finding.High, Title: check, Message: msg,
			Resource:    finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: binding.Name},
			Subject:     &finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: subject},
			Remediation: &remedy.Remediation{Changes: []remedy.Change{ch}}}
	}
	escalation := f("rbac/escalation-path", "builder", "builder reaches cluster-admin through ci-deployer-admin", delOther)
	secondPath := f("rbac/escalation-path", "tester", "tester reaches cluster-admin", delOther)
	secondPath.Resource.Name = "other"
	netpol := finding.Finding{Check: "netpol/namespace-without-policy", Severity: finding.Medium, Message: "shop",
		Resource:    finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: "shop"},
		Remediation: &remedy.Remediation{Changes: []remedy.Change{deny}}}
	todo := Items([]finding.Finding{escalation, secondPath, netpol}, nil)
	if len(todo) != 2 {
		t.Fatalf("%d items", len(todo))
	}
	checks := []string{"rbac/escalation-path"}
	applied := Items([]finding.Finding{f("rbac/cluster-admin-binding", "builder", "builder is cluster-admin", remedy.NewDelete("delete", binding, "2"))}, nil)[0]

	t.Run("resolved: every finding of the item is gone", func(t *testing.T) {
		got, revised := replan(todo, 1, applied, checks, nil)
		if len(got) != 2 || !got[0].dropped() || got[1].Change.Key() != deny.Key() {
			t.Fatalf("got %+v", got)
		}
		if len(revised) != 1 || !revised[0].Dropped || revised[0].Index != 0 || revised[0].Item.Change.Key() != delOther.Key() {
			t.Errorf("revised %+v", revised)
		}
	})
	t.Run("one finding left: kept with it", func(t *testing.T) {
		got, revised := replan(todo, 1, applied, checks, []finding.Finding{secondPath})
		if len(got[0].Findings) != 1 || got[0].Findings[0].Subject.Name != "tester" || got[0].Revised != 1 {
			t.Fatalf("got %+v", got[0])
		}
		if len(revised) != 1 || revised[0].Dropped {
			t.Errorf("revised %+v", revised)
		}
	})
	t.Run("rewritten: the finding now proposes another change", func(t *testing.T) {
		now := escalation
		now.Message = "builder reaches cluster-admin through pods/exec in ci"
		now.Remediation = &remedy.Remediation{Changes: []remedy.Change{patchOther}}
		again := secondPath
		again.Remediation = &remedy.Remediation{Changes: []remedy.Change{patchOther}}
		got, revised := replan(todo, 2, applied, checks, []finding.Finding{now, again})
		if got[0].Change.Key() != patchOther.Key() || got[0].Findings[0].Message != now.Message || got[0].Revised != 2 {
			t.Fatalf("got %+v", got[0])
		}
		if len(revised) != 1 || revised[0].Item.Change.Key() != patchOther.Key() {
			t.Errorf("revised %+v", revised)
		}
	})
	t.Run("unchanged: nothing revised", func(t *testing.T) {
		got, revised := replan(todo, 1, applied, checks, []finding.Finding{escalation, secondPath})
		if len(revised) != 0 || got[0].Revised != 0 || len(got[0].Findings) != 2 {
			t.Errorf("got %+v, revised %+v", got, revised)
		}
	})
	t.Run("other checks' items stay", func(t *testing.T) {
		got, _ := replan(todo, 1, applied, []string{"netpol/namespace-without-policy"}, nil)
		if got[0].dropped() || !got[1].dropped() {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("the rest of the applied change's own remedy stays", func(t *testing.T) {
		dns := remedy.NewApply("allow DNS", map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": "allow-dns-egress", "namespace": "shop"}})
		both := netpol
		both.Remediation = &remedy.Remediation{Changes: []remedy.Change{dns, deny}}
		items := Items([]finding.Finding{both}, nil)
		// The DNS allow is a policy in the namespace: the finding is gone, the deny is still due.
		got, revised := replan(items[1:], 1, items[0], []string{"netpol/namespace-without-policy"}, nil)
		if len(got) != 1 || got[0].dropped() || len(revised) != 0 {
			t.Errorf("got %+v, revised %+v", got, revised)
		}
	})
	t.Run("another finding's remedy of two keeps its second change", func(t *testing.T) {
		policy := func(ns, name string) remedy.Change {
			return remedy.NewApply(name, map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
				"metadata": map[string]any{"name": name, "namespace": ns}})
		}
		of := func(ns string) finding.Finding {
			f := netpol
			f.Message, f.Resource.Name = ns, ns
			f.Remediation = &remedy.Remediation{Changes: []remedy.Change{policy(ns, "allow-dns-egress"), policy(ns, "default-deny")}}
			return f
		}
		items := Items([]finding.Finding{of("a"), of("b")}, nil)
		// a's DNS allow applied: a's finding is gone, b's two changes are both still due.
		got, revised := replan(items[1:], 1, items[0], []string{"netpol/namespace-without-policy"}, []finding.Finding{of("b")})
		if len(got) != 3 || got[0].dropped() || got[1].dropped() || got[2].dropped() || got[2].Change.Key() != items[3].Change.Key() || len(revised) != 0 {
			t.Errorf("got %+v, revised %+v", got, revised)
		}
	})
	t.Run("a change already proposed later is not proposed twice", func(t *testing.T) {
		now := escalation
		now.Remediation = &remedy.Remediation{Changes: []remedy.Change{deny}}
		netpolFirst := append([]Item{todo[1]}, todo[0])
		got, revised := replan(netpolFirst, 1, applied, checks, []finding.Finding{now})
		if got[0].dropped() || !got[1].dropped() || len(revised) != 1 || !revised[0].Dropped {
			t.Errorf("got %+v, revised %+v", got, revised)
		}
	})
}

// An alternative is reviewed once, before the changes it replaces, and
// applying it drops them when the checks find their findings fixed; applying
// one of those instead leaves the alternative to be judged again.
func TestAlternatives(t *testing.T) {
	np := func(ns, name string) remedy.Change {
		return remedy.NewApply(name+" in "+ns, map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": name, "namespace": ns}})
	}
	baseline := remedy.NewApply("baseline deny", map[string]any{"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
		"metadata": map[string]any{"name": "baseline-default-deny"}})
	const check = "netpol/namespace-without-policy"
	f := func(ns string, alternative bool) finding.Finding {
		r := &remedy.Remediation{Summary: "NetworkPolicies", Changes: []remedy.Change{np(ns, "allow-dns-egress"), np(ns, "default-deny")}}
		if alternative {
			r.Alternatives = []remedy.Remediation{{Summary: "one Baseline policy", Changes: []remedy.Change{baseline}}}
		}
		return finding.Finding{Check: check, Severity: finding.Medium, Title: check, Message: ns,
			Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: ns}, Remediation: r}
	}
	legacy, guest, shop := f("legacy", false), f("guest", true), f("shop", true)
	items := Items([]finding.Finding{legacy, guest, shop}, nil)
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%d %s %d", it.Alternative, it.Change.Description, len(it.Findings)))
	}
	want := []string{
		"0 allow-dns-egress in legacy 1", "0 default-deny in legacy 1",
		"1 baseline deny 2",
		"0 allow-dns-egress in guest 1", "0 default-deny in guest 1",
		"0 allow-dns-egress in shop 1", "0 default-deny in shop 1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("items\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if items[2].Summary != "one Baseline policy" || items[0].Summary != "" {
		t.Errorf("summaries %q %q", items[2].Summary, items[0].Summary)
	}
	if plan := finding.GroupChanges([]finding.Finding{legacy, guest, shop}); len(plan) != 6 {
		t.Errorf("the plan has %d changes, want the 6 NetworkPolicies without the alternative", len(plan))
	}

	t.Run("the alternative applied: what it replaces is dropped", func(t *testing.T) {
		got, revised := replan(items[3:], 3, items[2], []string{check}, []finding.Finding{legacy})
		for i, it := range got {
			if !it.dropped() {
				t.Errorf("item %d kept: %+v", i, it.Change.Description)
			}
		}
		if len(revised) != 4 {
			t.Errorf("revised %+v", revised)
		}
	})
	t.Run("a change of the findings' own applied: the alternative is judged again", func(t *testing.T) {
		// guest's DNS allow went first (its finding is gone: guest has a policy now);
		// the alternative is left for shop alone, and guest's deny is still due.
		todo := []Item{items[4], items[2], items[5], items[6]}
		got, revised := replan(todo, 4, items[3], []string{check}, []finding.Finding{legacy, shop})
		if got[0].dropped() || got[0].Change.Key() != items[4].Change.Key() {
			t.Errorf("guest's deny: %+v", got[0])
		}
		if got[1].dropped() || got[1].Alternative != 1 || len(got[1].Findings) != 1 || got[1].Findings[0].Message != "shop" || got[1].Summary != "one Baseline policy" {
			t.Errorf("the alternative: %+v", got[1])
		}
		if len(revised) != 1 || revised[0].Index != 1 {
			t.Errorf("revised %+v", revised)
		}
	})
}
