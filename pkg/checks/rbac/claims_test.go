package rbac

import (
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestClaimsAreAllowed asks the engine's own matcher (validation.Covers, as
// the API server's authorizer) every request a finding claims a subject may
// make, and every request of every escalation step, on every fixture. The
// e2e test asks the real API server the same questions.
func TestClaimsAreAllowed(t *testing.T) {
	for _, fixture := range []string{"checks/cluster.yaml", "escalation/cluster.yaml", "aws-auth/cluster.yaml", "masters/cluster.yaml", "matching/mixed-names.yaml"} {
		t.Run(fixture, func(t *testing.T) {
			inv := load(t, fixture)
			a := Analyze(inv)
			claims := 0
			check := func(f finding.Finding, s finding.Subject, r Request) {
				claims++
				if len(a.Allows(s, r)) == 0 {
					t.Errorf("%s: %s may not %s, which the finding claims: %s", f.Check, s, r, f.Message)
				}
			}
			inv.Settings.IncludeSystem = true
			for _, f := range checks.Run(inv, Checks()).Findings {
				if reqs, ok := f.Evidence["requests"].([]Request); ok {
					for _, r := range reqs {
						check(f, *f.Subject, r)
					}
				}
				hops, _ := f.Evidence["hops"].([]map[string]any)
				for _, h := range hops {
					actor := h["subject"].(finding.Subject)
					check(f, actor, h["request"].(Request))
					also, _ := h["also"].([]map[string]any)
					for _, p := range also {
						check(f, actor, p["request"].(Request))
					}
				}
			}
			if claims == 0 {
				t.Fatal("no claim checked")
			}
		})
	}
}

// TestMixedNames: a verb allowed on some objects next to a verb allowed on
// all is left out of what is claimed, each verb allowed on named objects only
// is claimed on an object it is allowed on, and a RoleBinding's write on
// named namespaces counts only for its own namespace.
func TestMixedNames(t *testing.T) {
	inv := load(t, "matching/mixed-names.yaml")
	tests := []struct {
		check, msg string
		requests   []Request
	}{
		{"rbac/secrets-read", "User mixed-reader can list secrets in namespace shop (RoleBinding shop/mixed-reader -> Role shop/mixed-read)",
			[]Request{{Verb: "list", Resource: "secrets", Namespace: "shop"}}},
		{"rbac/secrets-write", "User two-names can update, patch secrets [tls-a, tls-b] in namespace shop (RoleBinding shop/two-names -> Role shop/two-names)",
			[]Request{{Verb: "update", Resource: "secrets", Name: "tls-a", Namespace: "shop"}, {Verb: "patch", Resource: "secrets", Name: "tls-b", Namespace: "shop"}}},
		{"rbac/namespace-write", "User own-labeller can patch namespaces [ci, shop] in namespace shop (RoleBinding shop/own-labeller -> ClusterRole named-namespace-labeller)",
			[]Request{{Verb: "patch", Resource: "namespaces", Name: "shop", Namespace: "shop"}}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			fs := run(t, inv, tt.check, options{})
			if len(fs) != 1 {
				t.Errorf("findings %q, want only %q", messages(fs), tt.msg)
			}
			f := byMessage(t, fs, tt.msg)
			got, _ := f.Evidence["requests"].([]Request)
			if len(got) != len(tt.requests) {
				t.Fatalf("requests %v, want %v", got, tt.requests)
			}
			for i := range got {
				if got[i] != tt.requests[i] {
					t.Errorf("request %d: %v, want %v", i, got[i], tt.requests[i])
				}
			}
		})
	}
}
