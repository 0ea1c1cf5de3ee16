package checks

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

func sample() []Check {
	one := func(inv *inventory.Inventory) []finding.Finding {
		return []finding.Finding{{Message: "m", Resource: finding.Resource{Kind: "Pod", Namespace: "ns", Name: "p"}}}
	}
	return []Check{
		{ID: "rbac/one", Domain: "rbac", Severity: finding.High, Title: "One", Controls: []finding.Control{"CIS-5.1.1"}, Needs: []inventory.Kind{inventory.ClusterRoleBindings}, Run: one},
		{ID: "netpol/two", Domain: "netpol", Severity: finding.Low, Title: "Two", Needs: []inventory.Kind{inventory.Pods}, Run: one},
		{ID: "netpol/boom", Domain: "netpol", Severity: finding.Low, Title: "Boom", Run: func(*inventory.Inventory) []finding.Finding { panic("bad index") }},
	}
}

func TestRegistryRejectsBadChecks(t *testing.T) {
	if _, err := NewRegistry(sample(), sample()[:1]); err == nil {
		t.Error("duplicate ID accepted")
	}
	if _, err := NewRegistry([]Check{{ID: "two", Domain: "rbac", Run: sample()[0].Run}}); err == nil {
		t.Error("ID without its domain accepted")
	}
}

func TestSelect(t *testing.T) {
	r, err := NewRegistry(sample())
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Select([]string{"netpol"}, finding.Filter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("domain select: %v %v", got, err)
	}
	got, err = r.Select(nil, finding.Filter{Checks: []string{"rbac/"}})
	if err != nil || len(got) != 1 || got[0].ID != "rbac/one" {
		t.Fatalf("prefix select: %v %v", got, err)
	}
	if _, err := r.Select(nil, finding.Filter{Checks: []string{"rbac/nope"}}); err == nil || !strings.Contains(err.Error(), "rbac/nope") {
		t.Errorf("unknown check: %v", err)
	}
	if ks := Needs(r.All()); len(ks) != 2 {
		t.Errorf("needs %v", ks)
	}
}

func TestRunSkipsMissingKindsAndSurvivesPanics(t *testing.T) {
	inv := inventory.New()
	inv.Loaded[inventory.Pods] = true
	inv.Missing[inventory.ClusterRoleBindings] = "forbidden"
	res := Run(inv, sample())
	if len(res.Skipped) != 2 {
		t.Fatalf("skipped %+v", res.Skipped)
	}
	if res.Skipped[0].Check != "rbac/one" || !strings.Contains(res.Skipped[0].Reason, "cannot list clusterrolebindings: forbidden") {
		t.Errorf("skip reason %+v", res.Skipped[0])
	}
	if res.Skipped[1].Check != "netpol/boom" || !strings.Contains(res.Skipped[1].Reason, "internal error: bad index") {
		t.Errorf("panic not reported as skipped: %+v", res.Skipped[1])
	}
	if len(res.Ran) != 1 || len(res.Findings) != 1 {
		t.Fatalf("ran %+v findings %+v", res.Ran, res.Findings)
	}
	f := res.Findings[0]
	if f.Check != "netpol/two" || f.Severity != finding.Low || f.Title != "Two" {
		t.Errorf("registry did not fill the finding: %+v", f)
	}
}

// A kind read by listing another resource says which list was refused.
func TestMissingReasonNamesTheRefusedList(t *testing.T) {
	inv := inventory.New()
	inv.Missing[inventory.KubeletConfigs] = "forbidden"
	inv.Missing[inventory.Pods] = "forbidden"
	got := MissingReason(inv, []inventory.Kind{inventory.KubeletConfigs, inventory.Pods})
	want := "cannot list nodes (to read " + string(inventory.KubeletConfigs) + "): forbidden; cannot list pods: forbidden"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// RunByDomain runs one domain's checks to the end before the next domain's
// start, tells done each domain once, in the order of cs, and gives what Run gives.
func TestRunByDomain(t *testing.T) {
	inv := inventory.New()
	inv.Loaded[inventory.ClusterRoleBindings], inv.Loaded[inventory.Pods] = true, true
	var (
		mu     sync.Mutex
		events []string
	)
	record := func(id string) func(*inventory.Inventory) []finding.Finding {
		return func(*inventory.Inventory) []finding.Finding {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, id) // one domain's checks run together: only one runs per domain here
			return []finding.Finding{{Check: id, Message: id}}
		}
	}
	cs := []Check{
		{ID: "rbac/one", Domain: "rbac", Severity: finding.High, Needs: []inventory.Kind{inventory.ClusterRoleBindings}, Run: record("rbac/one")},
		{ID: "netpol/two", Domain: "netpol", Severity: finding.Low, Needs: []inventory.Kind{inventory.Pods}, Run: record("netpol/two")},
		{ID: "rbac/three", Domain: "rbac", Severity: finding.Low, Needs: []inventory.Kind{inventory.Roles}, Run: record("rbac/three")},
		{ID: "psa/four", Domain: "psa", Severity: finding.Low, Needs: []inventory.Kind{inventory.Pods}, Run: record("psa/four")},
	}
	res := RunByDomain(inv, cs, func(d string) { events = append(events, "done "+d) })
	want := []string{"rbac/one", "done rbac", "netpol/two", "done netpol", "psa/four", "done psa"}
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", events, want)
	}
	events = nil
	all := Run(inv, cs)
	if len(res.Findings) != 3 || len(all.Findings) != 3 {
		t.Fatalf("findings %v and %v", res.Findings, all.Findings)
	}
	for i := range res.Findings {
		if res.Findings[i].Check != all.Findings[i].Check || res.Findings[i].Check != cs[[]int{0, 1, 3}[i]].ID {
			t.Errorf("finding %d: %s, Run gives %s", i, res.Findings[i].Check, all.Findings[i].Check)
		}
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Check != "rbac/three" || len(res.Ran) != 3 {
		t.Errorf("ran %v, skipped %v", res.Ran, res.Skipped)
	}
}

// Findings with equal evidence hold one map once their checks have run,
// across checks and domains; evidence equal only as JSON (an int and a
// float64 of the same value) stays apart, and so does different evidence.
func TestRunSharesEqualEvidence(t *testing.T) {
	inv := inventory.New()
	inv.Loaded[inventory.Pods] = true
	emit := func(evidence ...map[string]any) func(*inventory.Inventory) []finding.Finding {
		return func(*inventory.Inventory) []finding.Finding {
			var out []finding.Finding
			for _, e := range evidence {
				out = append(out, finding.Finding{Message: "m", Evidence: e})
			}
			return out
		}
	}
	ev := func(pods any) map[string]any {
		return map[string]any{"container": "web", "fields": []string{"spec.containers[0]"}, "pods": pods}
	}
	cs := []Check{
		{ID: "psa/one", Domain: "psa", Needs: []inventory.Kind{inventory.Pods}, Run: emit(ev(3), ev(3), ev(4))},
		{ID: "workload/two", Domain: "workload", Needs: []inventory.Kind{inventory.Pods}, Run: emit(ev(3), ev(3.0), nil)},
	}
	for name, res := range map[string]Result{"by domain": RunByDomain(inv, cs, func(string) {}), "at once": Run(inv, cs)} {
		fs := res.Findings
		if len(fs) != 6 {
			t.Fatalf("%s: %d findings", name, len(fs))
		}
		same := func(i, j int) bool {
			return reflect.ValueOf(fs[i].Evidence).UnsafePointer() == reflect.ValueOf(fs[j].Evidence).UnsafePointer()
		}
		if !same(0, 1) || !same(0, 3) {
			t.Errorf("%s: equal evidence is not shared", name)
		}
		if same(0, 2) || same(0, 4) || fs[5].Evidence != nil {
			t.Errorf("%s: different evidence is shared", name)
		}
		for i, want := range []map[string]any{ev(3), ev(3), ev(4), ev(3), ev(3.0), nil} {
			if !reflect.DeepEqual(fs[i].Evidence, want) {
				t.Errorf("%s: finding %d evidence %v, want %v", name, i, fs[i].Evidence, want)
			}
		}
	}
}
