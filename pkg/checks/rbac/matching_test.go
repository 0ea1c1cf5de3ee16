package rbac

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

func user(name string) finding.Subject { return finding.Subject{Kind: "User", Name: name} }
func sa(ns, name string) finding.Subject {
	return finding.Subject{Kind: "ServiceAccount", Namespace: ns, Name: name}
}

// TestMatching runs every rule-matching edge case of SEMANTICS.md through the engine.
func TestMatching(t *testing.T) {
	a := Analyze(load(t, "matching/rbac.yaml"))
	tests := []struct {
		name    string
		subject finding.Subject
		req     Request
		// bindings that must allow the request; none means denied.
		bindings []string
	}{
		{"core group is the empty string", user("core-user"), Request{Verb: "get", Resource: "pods", Namespace: "shop"}, []string{"ClusterRoleBinding core"}},
		{"core rule does not cover another group", user("core-user"), Request{Verb: "get", Group: "apps", Resource: "pods", Namespace: "shop"}, nil},
		{"apps secrets are not core secrets", user("core-user"), Request{Verb: "get", Resource: "secrets", Namespace: "shop"}, nil},
		{"verb must match", user("core-user"), Request{Verb: "list", Resource: "pods", Namespace: "shop"}, nil},
		{"pods does not cover pods/exec", user("creator"), Request{Verb: "create", Resource: "pods", Subresource: "exec", Name: "web-0", Namespace: "shop"}, nil},
		{"pods/* is not a wildcard", user("creator"), Request{Verb: "create", Resource: "pods", Subresource: "attach", Name: "web-0", Namespace: "shop"}, nil},
		{"pods covers pods", user("creator"), Request{Verb: "create", Resource: "pods", Namespace: "shop"}, []string{"ClusterRoleBinding pods-create"}},
		{"*/exec covers pods/exec", user("execer"), Request{Verb: "create", Resource: "pods", Subresource: "exec", Name: "web-0", Namespace: "shop"}, []string{"ClusterRoleBinding any-exec"}},
		{"*/exec does not cover pods", user("execer"), Request{Verb: "create", Resource: "pods", Namespace: "shop"}, nil},
		{"*/exec does not cover pods/attach", user("execer"), Request{Verb: "create", Resource: "pods", Subresource: "attach", Name: "web-0", Namespace: "shop"}, nil},
		{"resourceNames allow get of the name", user("namer"), Request{Verb: "get", Resource: "secrets", Name: "app-token", Namespace: "shop"}, []string{"ClusterRoleBinding named"}},
		{"resourceNames deny get of another name", user("namer"), Request{Verb: "get", Resource: "secrets", Name: "db", Namespace: "shop"}, nil},
		{"resourceNames never allow list", user("namer"), Request{Verb: "list", Resource: "secrets", Namespace: "shop"}, nil},
		{"resourceNames never allow watch", user("namer"), Request{Verb: "watch", Resource: "secrets", Namespace: "shop"}, nil},
		{"resourceNames restrict a subresource create to the parent", user("namer"), Request{Verb: "create", Resource: "pods", Subresource: "exec", Name: "web-0", Namespace: "shop"}, []string{"ClusterRoleBinding named"}},
		{"resourceNames deny a subresource create on another parent", user("namer"), Request{Verb: "create", Resource: "pods", Subresource: "exec", Name: "web-1", Namespace: "shop"}, nil},
		{"resourceNames never allow a create on the collection", user("namer"), Request{Verb: "create", Resource: "pods", Namespace: "shop"}, nil},
		{"RoleBinding to ClusterRole grants in its namespace", user("shopper"), Request{Verb: "list", Resource: "pods", Namespace: "shop"}, []string{"RoleBinding shop/mixed"}},
		{"RoleBinding to ClusterRole grants nothing in another namespace", user("shopper"), Request{Verb: "list", Resource: "pods", Namespace: "ci"}, nil},
		{"RoleBinding grants nothing across all namespaces", user("shopper"), Request{Verb: "list", Resource: "pods"}, nil},
		{"RoleBinding grants no cluster-scoped resource", user("shopper"), Request{Verb: "get", Resource: "nodes", Name: "n1"}, nil},
		{"RoleBinding grants no persistentvolume create", user("shopper"), Request{Verb: "create", Resource: "persistentvolumes"}, nil},
		{"RoleBinding grants no non-resource URL", user("shopper"), Request{Verb: "get", Path: "/metrics"}, nil},
		{"RoleBinding grants patch of its own namespace", user("shopper"), Request{Verb: "patch", Resource: "namespaces", Name: "shop", Namespace: "shop"}, []string{"RoleBinding shop/mixed"}},
		{"RoleBinding grants no patch of another namespace", user("shopper"), Request{Verb: "patch", Resource: "namespaces", Name: "ci", Namespace: "ci"}, nil},
		{"ServiceAccount without namespace is in the binding's namespace", sa("shop", "app"), Request{Verb: "get", Resource: "configmaps", Name: "x", Namespace: "shop"}, []string{"RoleBinding shop/cm-reader"}},
		{"ServiceAccount of that name elsewhere gets nothing", sa("ci", "app"), Request{Verb: "get", Resource: "configmaps", Name: "x", Namespace: "shop"}, nil},
		{"missing roleRef grants nothing", user("ghost-user"), Request{Verb: "get", Resource: "pods", Name: "x", Namespace: "shop"}, nil},
		{"Role reference is never a ClusterRole", user("role-user"), Request{Verb: "get", Resource: "pods", Name: "x", Namespace: "shop"}, nil},
		{"aggregated role holds the source rules", sa("monitoring", "prometheus"), Request{Verb: "list", Resource: "secrets", Namespace: "shop"}, []string{"ClusterRoleBinding monitoring"}},
		{"aggregated role holds every source", sa("monitoring", "prometheus"), Request{Verb: "list", Resource: "endpoints", Namespace: "shop"}, []string{"ClusterRoleBinding monitoring"}},
		{"aggregated role holds no more than its sources", sa("monitoring", "prometheus"), Request{Verb: "get", Resource: "secrets", Name: "x", Namespace: "shop"}, nil},
		{"aggregated role that selects no rules keeps its own", user("unselected-user"), Request{Verb: "list", Resource: "configmaps", Namespace: "shop"}, []string{"ClusterRoleBinding unselected-aggregate"}},
		{"group of a namespace's service accounts", sa("ci", "builder"), Request{Verb: "get", Resource: "pods", Name: "x", Namespace: "ci"}, []string{"RoleBinding ci/ci-sas"}},
		{"group of a namespace excludes other namespaces' service accounts", sa("shop", "app"), Request{Verb: "get", Resource: "pods", Name: "x", Namespace: "ci"}, nil},
		{"system:authenticated includes users", user("anyone"), Request{Verb: "list", Resource: "events", Namespace: "ci"}, []string{"ClusterRoleBinding authenticated-events"}},
		{"system:authenticated includes service accounts", sa("shop", "app"), Request{Verb: "list", Resource: "events", Namespace: "ci"}, []string{"ClusterRoleBinding authenticated-events"}},
		{"system:authenticated excludes anonymous", user("system:anonymous"), Request{Verb: "list", Resource: "events", Namespace: "ci"}, nil},
		{"non-resource URL by trailing *", user("anyone"), Request{Verb: "get", Path: "/healthz/etcd"}, []string{"ClusterRoleBinding authenticated-events"}},
		{"non-resource URL prefix needs the *", user("anyone"), Request{Verb: "get", Path: "/healthz"}, nil},
		{"system:unauthenticated includes anonymous", user("system:anonymous"), Request{Verb: "delete", Group: "example.com", Resource: "services", Name: "x", Namespace: "ci"}, []string{"ClusterRoleBinding anonymous-services"}},
		{"system:unauthenticated excludes users", user("anyone"), Request{Verb: "delete", Resource: "services", Name: "x", Namespace: "ci"}, nil},
		{"user named as a service account is the service account", sa("tools", "runner"), Request{Verb: "get", Resource: "pods", Name: "x", Namespace: "tools"}, []string{"RoleBinding tools/sa-by-user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range a.Allows(tt.subject, tt.req) {
				if b := p.Binding.String(); !slices.Contains(got, b) {
					got = append(got, b)
				}
			}
			if !slices.Equal(got, tt.bindings) {
				t.Errorf("%s %s: allowed by %q, want %q", tt.subject, tt.req, got, tt.bindings)
			}
		})
	}
}

// TestAggregatedRolesLive: listed from a server, an aggregated ClusterRole
// grants the rules the server stores, which the aggregation controller wrote
// (the e2e tests run it): the sources' rules are not added to a role it has
// not written, and rules it never replaced still grant.
func TestAggregatedRolesLive(t *testing.T) {
	inv := load(t, "matching/rbac.yaml")
	inv.Offline = false
	a := Analyze(inv)
	if p := a.Allows(sa("monitoring", "prometheus"), Request{Verb: "list", Resource: "secrets", Namespace: "shop"}); len(p) != 0 {
		t.Errorf("an aggregated role stored empty allows list secrets: %v", p)
	}
	if p := a.Allows(user("unselected-user"), Request{Verb: "list", Resource: "configmaps", Namespace: "shop"}); len(p) != 1 {
		t.Errorf("the stored rule of an aggregated role that selects no rules: %d permissions, want 1", len(p))
	}
}

// TestBuiltinAggregationOffline: files bind the built-in aggregated roles
// without defining them, and label their own ClusterRoles into them (seeds 2
// and 7 of the randomized e2e test found these rules missing offline).
func TestBuiltinAggregationOffline(t *testing.T) {
	a := Analyze(load(t, "matching/builtin-aggregation.yaml"))
	for _, tt := range []struct {
		name    string
		subject finding.Subject
		req     Request
		allowed bool
		from    string // the ClusterRole the allowing rule was copied from
	}{
		{"the files' role aggregated into edit", user("editor"), Request{Verb: "create", Group: "example.com", Resource: "widgets", Namespace: "shop"}, true, "widgets-edit"},
		{"and through edit into admin", user("shop-admin"), Request{Verb: "create", Group: "example.com", Resource: "widgets", Namespace: "shop"}, true, "widgets-edit"},
		{"edit keeps its built-in rules", user("editor"), Request{Verb: "create", Resource: "pods", Namespace: "shop"}, true, "system:aggregate-to-edit"},
		{"the files' role aggregated into view", user("viewer"), Request{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}, true, "node-proxy-view"},
		{"a role aggregated into view is not in edit", user("editor"), Request{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}, false, ""},
		{"the files' aggregated role selects a built-in source", user("dashboard-user"), Request{Verb: "get", Resource: "pods", Name: "x", Namespace: "shop"}, true, "system:aggregate-to-view"},
		{"and only those with every label selected", user("dashboard-user"), Request{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			perms := a.Allows(tt.subject, tt.req)
			if (len(perms) > 0) != tt.allowed {
				t.Fatalf("%s %s: %d permissions, want allowed %v", tt.subject, tt.req, len(perms), tt.allowed)
			}
			if tt.allowed && perms[0].Rule.From != tt.from {
				t.Errorf("rule copied from %q, want %q", perms[0].Rule.From, tt.from)
			}
		})
	}
	// The added rule is no default of view: it is reported, and remedied at its source.
	f := byMessage(t, run(t, load(t, "matching/builtin-aggregation.yaml"), "rbac/nodes-proxy", options{}),
		"User viewer can get nodes/proxy cluster-wide (ClusterRoleBinding viewers -> ClusterRole view)")
	if f.Remediation == nil || !strings.Contains(f.Remediation.Summary, "The rules come from ClusterRole node-proxy-view aggregated into ClusterRole view") {
		t.Errorf("remedy %+v, want it to name the source role", f.Remediation)
	}
}

func TestAggregatedRuleOrigin(t *testing.T) {
	a := Analyze(load(t, "matching/rbac.yaml"))
	perms := a.Allows(sa("monitoring", "prometheus"), Request{Verb: "list", Resource: "secrets", Namespace: "shop"})
	if len(perms) != 1 {
		t.Fatalf("want one rule, got %d", len(perms))
	}
	if r := perms[0].Rule; r.From != "monitoring-secrets" || r.Index != 1 {
		t.Errorf("rule traced to %q rules[%d], want monitoring-secrets rules[1]", r.From, r.Index)
	}
}

func TestPermissionsByScope(t *testing.T) {
	a := Analyze(load(t, "matching/rbac.yaml"))
	scopes := a.Permissions(sa("ci", "builder"))
	var got []string
	for _, s := range scopes {
		for _, p := range s.Permissions {
			got = append(got, s.Namespace+"|"+p.Binding.String()+"|"+p.Via+"|"+formatRule(p.Rule.PolicyRule))
		}
	}
	want := []string{
		`|ClusterRoleBinding authenticated-events|system:authenticated|apiGroups: [""], resources: [events], verbs: [list]`,
		`|ClusterRoleBinding authenticated-events|system:authenticated|nonResourceURLs: [/healthz/*], verbs: [get]`,
		`ci|RoleBinding ci/ci-sas|system:serviceaccounts:ci|apiGroups: [""], resources: [pods], verbs: [get]`,
		`ci|RoleBinding ci/ci-sas|system:serviceaccounts:ci|apiGroups: [apps], resources: [secrets], verbs: [get]`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("permissions:\n got %q\nwant %q", got, want)
	}
}

func TestParseResource(t *testing.T) {
	tests := []struct {
		in              string
		group, res, sub string
		wantErr         bool
	}{
		{in: "pods", res: "pods"},
		{in: "pods/exec", res: "pods", sub: "exec"},
		{in: "deployments", group: "apps", res: "deployments"},
		{in: "deployments.apps/scale", group: "apps", res: "deployments", sub: "scale"},
		{in: "widgets.example.com", group: "example.com", res: "widgets"},
		{in: "*", group: "*", res: "*"},
		{in: "widgets", wantErr: true},
		{in: "/exec", wantErr: true},
	}
	for _, tt := range tests {
		g, r, s, err := ParseResource(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseResource(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (g != tt.group || r != tt.res || s != tt.sub) {
			t.Errorf("ParseResource(%q) = %q %q %q, want %q %q %q", tt.in, g, r, s, tt.group, tt.res, tt.sub)
		}
	}
}
