package rbac

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

func TestEscalationPaths(t *testing.T) {
	fs := run(t, load(t, "escalation/cluster.yaml"), "rbac/escalation-path", options{})
	want := []string{
		"Group system:serviceaccounts:web -> create pods in namespace ops -> ServiceAccount ops/admin-bot -> cluster-admin",
		"ServiceAccount apps/api -> create serviceaccounts/token in namespace ops -> ServiceAccount ops/admin-bot -> cluster-admin",
		"ServiceAccount web/frontend -> mint a token Secret (create, list secrets) in namespace deploy -> ServiceAccount deploy/releaser -> cluster-admin",
		"User execer -> create pods/exec in namespace apps -> ServiceAccount apps/api -> create serviceaccounts/token in namespace ops -> ServiceAccount ops/admin-bot -> cluster-admin",
		"User half-minter -> mint a token Secret (create, list secrets) in namespace deploy -> ServiceAccount deploy/releaser -> cluster-admin",
		"User imp -> impersonate users [boss] cluster-wide -> User boss -> cluster-admin",
		"User minter -> mint a token Secret (create, get secrets) in namespace deploy -> ServiceAccount deploy/releaser -> cluster-admin",
		"User named-reader -> get secrets [admin-bot-token] in namespace ops -> ServiceAccount ops/admin-bot -> cluster-admin",
		"User reader -> get secrets in namespace ops -> ServiceAccount ops/admin-bot -> cluster-admin",
	}
	if got := messages(fs); !slices.Equal(got, want) {
		t.Fatalf("paths:\n got %q\nwant %q", got, want)
	}
	// imp-masters can impersonate system:masters: already critical by rbac/impersonate, so not an escalation.
	if fs := run(t, load(t, "escalation/cluster.yaml"), "rbac/impersonate", options{}); !slices.Contains(messages(fs),
		"User imp-masters can impersonate groups [system:masters] cluster-wide (ClusterRoleBinding imp-masters -> ClusterRole impersonate-masters)") {
		t.Errorf("impersonating system:masters not reported: %q", messages(fs))
	} else if f := byMessage(t, fs, "User imp-masters can impersonate groups [system:masters] cluster-wide (ClusterRoleBinding imp-masters -> ClusterRole impersonate-masters)"); f.Severity != finding.Critical {
		t.Errorf("impersonating system:masters is %v, want critical", f.Severity)
	}
	f := byMessage(t, fs, want[3])
	hops, _ := f.Evidence["hops"].([]map[string]any)
	if len(hops) != 2 {
		t.Fatalf("hops %v", f.Evidence["hops"])
	}
	// The second request is made by the identity the first step became, not by execer.
	if hops[1]["subject"] != (finding.Subject{Kind: "ServiceAccount", Namespace: "apps", Name: "api"}) ||
		hops[1]["request"] != (Request{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: "ops"}) {
		t.Errorf("second hop %v", hops[1])
	}
	if f.Severity != finding.Critical {
		t.Errorf("severity %v", f.Severity)
	}
}

// TestFindingsAreStable: equally short paths exist (two cluster-admin
// ServiceAccounts in reach); every run must choose the same one, and report the same.
func TestFindingsAreStable(t *testing.T) {
	render := func() string {
		inv := load(t, "escalation/cluster.yaml", "checks/cluster.yaml")
		res := checks.Run(inv, Checks())
		finding.Sort(res.Findings)
		b, err := json.Marshal(res.Findings)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	first := render()
	for i := 0; i < 10; i++ {
		if render() != first {
			t.Fatalf("run %d differs from the first", i+2)
		}
	}
}
