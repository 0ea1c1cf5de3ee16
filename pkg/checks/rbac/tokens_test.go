package rbac

import (
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// TestTokenMintPaths: a subject that can create Secrets and read them back in
// a namespace becomes any ServiceAccount there, by a token Secret it creates.
func TestTokenMintPaths(t *testing.T) {
	fs := run(t, load(t, "escalation/cluster.yaml"), "rbac/escalation-path", options{})
	tests := []struct {
		path string
		// hop is the first step: its binding and request, and the other requests it takes.
		binding string
		request Request
		also    []Request
		// cut is the binding the remedy takes the subject out of.
		cut string
	}{
		{
			path:    "User minter -> mint a token Secret (create, get secrets) in namespace deploy -> ServiceAccount deploy/releaser -> cluster-admin",
			binding: "RoleBinding deploy/minter",
			request: Request{Verb: "create", Resource: "secrets", Namespace: "deploy"},
			also:    []Request{{Verb: "get", Resource: "secrets", Namespace: "deploy"}},
			cut:     "minter",
		},
		{
			// The create is granted cluster-wide, the list in deploy only: the mint is in deploy.
			path:    "User half-minter -> mint a token Secret (create, list secrets) in namespace deploy -> ServiceAccount deploy/releaser -> cluster-admin",
			binding: "ClusterRoleBinding half-minter-create",
			request: Request{Verb: "create", Resource: "secrets", Namespace: "deploy"},
			also:    []Request{{Verb: "list", Resource: "secrets", Namespace: "deploy"}},
			cut:     "half-minter-create",
		},
		{
			// The read comes through the group of web's ServiceAccounts; the remedy cuts the subject's own create.
			path:    "ServiceAccount web/frontend -> mint a token Secret (create, list secrets) in namespace deploy -> ServiceAccount deploy/releaser -> cluster-admin",
			binding: "RoleBinding deploy/frontend-create",
			request: Request{Verb: "create", Resource: "secrets", Namespace: "deploy"},
			also:    []Request{{Verb: "list", Resource: "secrets", Namespace: "deploy"}},
			cut:     "frontend-create",
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f := byMessage(t, fs, tt.path)
			if f.Severity != finding.Critical {
				t.Errorf("severity %v, want critical", f.Severity)
			}
			hops, _ := f.Evidence["hops"].([]map[string]any)
			if len(hops) != 1 {
				t.Fatalf("hops %v", f.Evidence["hops"])
			}
			if hops[0]["binding"] != tt.binding || hops[0]["request"] != tt.request || hops[0]["becomes"] != "ServiceAccount deploy/releaser" {
				t.Errorf("hop %v", hops[0])
			}
			also, _ := hops[0]["also"].([]map[string]any)
			var got []Request
			for _, a := range also {
				got = append(got, a["request"].(Request))
			}
			if !slices.Equal(got, tt.also) {
				t.Errorf("also %v, want %v", got, tt.also)
			}
			if c := f.Remediation.Changes[0]; c.Target.Name != tt.cut {
				t.Errorf("remedy changes %s, want %s", c.Target.Name, tt.cut)
			}
		})
	}
	// No mint: create alone, create with a get of named Secrets, a read in another namespace.
	for _, f := range fs {
		switch f.Subject.Name {
		case "create-only", "named-minter", "split", "dead-token-reader":
			t.Errorf("%s should have no path: %s", f.Subject, f.Message)
		}
	}
}

// TestTokenSecretReaders: reading an existing legacy token Secret of another
// ServiceAccount is reported with the Secrets; invalidated tokens, tokens of
// ServiceAccounts that do not exist, and other Secrets are not.
func TestTokenSecretReaders(t *testing.T) {
	fs := run(t, load(t, "escalation/cluster.yaml"), "rbac/token-secret-read", options{})
	want := []string{
		"User named-reader can get secrets [admin-bot-token] in namespace ops, so it can read the legacy token Secrets of ServiceAccount ops/admin-bot (RoleBinding ops/named-reader -> Role ops/token-reader)",
		"User reader can get secrets in namespace ops, so it can read the legacy token Secrets of ServiceAccount ops/admin-bot (RoleBinding ops/reader -> Role ops/secret-reader)",
	}
	if got := messages(fs); !slices.Equal(got, want) {
		t.Fatalf("findings:\n got %q\nwant %q", got, want)
	}
	f := byMessage(t, fs, want[1])
	if f.Severity != finding.Medium {
		t.Errorf("severity %v", f.Severity)
	}
	if got := f.Evidence["requests"]; !slices.Equal(got.([]Request), []Request{{Verb: "get", Resource: "secrets", Name: "admin-bot-token", Namespace: "ops"}}) {
		t.Errorf("requests %v", got)
	}
	if got := f.Evidence["tokenSecrets"]; !slices.Equal(got.([]string), []string{"ops/admin-bot-token"}) {
		t.Errorf("tokenSecrets %v", got)
	}
	if c := f.Remediation.Changes[0]; c.Action != remedy.Delete || c.Target.Name != "reader" {
		t.Errorf("change %+v", c)
	}

	// Cluster-wide, and listing rather than getting: one request per namespace.
	fs = run(t, load(t, "checks/cluster.yaml"), "rbac/token-secret-read", options{})
	f = byMessage(t, fs, "ServiceAccount ci/builder can get, list secrets cluster-wide, so it can read the legacy token Secrets of ServiceAccount ci/deployer (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)")
	if f.Severity != finding.High {
		t.Errorf("cluster-wide severity %v", f.Severity)
	}
}

// TestSecretsForbidden: when Secrets may not be listed, only
// rbac/token-secret-read is skipped; the escalation paths through existing
// token Secrets are left out, and the mints, which need no Secret, stay.
func TestSecretsForbidden(t *testing.T) {
	inv := load(t, "escalation/cluster.yaml")
	// Still offline, so that the built-in cluster-admin the files bind is known.
	inv.Secrets = nil
	delete(inv.Loaded, inventory.Secrets)
	inv.Missing[inventory.Secrets] = "forbidden"
	res := checks.Run(inv, Checks())
	if len(res.Skipped) != 1 || res.Skipped[0].Check != "rbac/token-secret-read" {
		t.Fatalf("skipped %+v, want rbac/token-secret-read only", res.Skipped)
	}
	var paths []string
	for _, f := range res.Findings {
		if f.Check == "rbac/escalation-path" {
			paths = append(paths, f.Message)
		}
	}
	for _, gone := range []string{
		"User reader -> get secrets in namespace ops -> ServiceAccount ops/admin-bot -> cluster-admin",
		"User named-reader -> get secrets [admin-bot-token] in namespace ops -> ServiceAccount ops/admin-bot -> cluster-admin",
	} {
		if slices.Contains(paths, gone) {
			t.Errorf("path through a Secret not listed: %s", gone)
		}
	}
	if !slices.Contains(paths, "User minter -> mint a token Secret (create, get secrets) in namespace deploy -> ServiceAccount deploy/releaser -> cluster-admin") {
		t.Errorf("mint path missing: %q", paths)
	}
}
