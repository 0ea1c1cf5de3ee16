package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// The classes where who-can disagreed with the authorizer: cluster-scoped
// resources a hand table called namespaced (and the reverse), the namespaces
// resource, and resourceNames [""]. For each query, who-can's subjects and
// SubjectAccessReview agree both ways.
func TestWhoCanAgreesWithTheAuthorizer(t *testing.T) {
	apply(t, "rbac-authorizer")
	t.Cleanup(func() {
		// Other tests audit the whole cluster: leave it as it was.
		if res, err := env.Kubectl(nil, "delete", "--ignore-not-found", "--wait=false", "-f", testdata("rbac-authorizer", "10-rbac.yaml")); err != nil || res.Code != 0 {
			t.Errorf("delete the fixture: %v %s", err, res.Stderr)
		}
	})
	c := sarClient(t)
	subjects := []finding.Subject{
		{Kind: "User", Name: "authz-dave"}, {Kind: "User", Name: "authz-erin"},
		{Kind: "User", Name: "authz-eve"}, {Kind: "User", Name: "authz-frank"},
	}
	tests := []struct {
		args []string
		req  rbac.Request
		want int // how many of the subjects the server allows: the query must exercise the fixture
	}{
		{[]string{"list", "flowschemas.flowcontrol.apiserver.k8s.io", "-n", "authz-team"}, rbac.Request{Verb: "list", Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas"}, 0},
		{[]string{"list", "podcertificaterequests.certificates.k8s.io", "-n", "authz-team"}, rbac.Request{Verb: "list", Group: "certificates.k8s.io", Resource: "podcertificaterequests", Namespace: "authz-team"}, 2},
		{[]string{"list", "namespaces"}, rbac.Request{Verb: "list", Resource: "namespaces"}, 0},
		{[]string{"create", "namespaces"}, rbac.Request{Verb: "create", Resource: "namespaces"}, 0},
		{[]string{"get", "namespaces", "default"}, rbac.Request{Verb: "get", Resource: "namespaces", Name: "default", Namespace: "default"}, 0},
		{[]string{"patch", "namespaces", "authz-team"}, rbac.Request{Verb: "patch", Resource: "namespaces", Name: "authz-team", Namespace: "authz-team"}, 1},
		{[]string{"list", "secrets", "-n", "authz-team"}, rbac.Request{Verb: "list", Resource: "secrets", Namespace: "authz-team"}, 2},
		{[]string{"get", "secrets", "db", "-n", "authz-team"}, rbac.Request{Verb: "get", Resource: "secrets", Name: "db", Namespace: "authz-team"}, 1},
		{[]string{"create", "clusterroles.rbac.authorization.k8s.io"}, rbac.Request{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, 1},
		{[]string{"escalate", "clusterroles.rbac.authorization.k8s.io"}, rbac.Request{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var named []finding.Subject
			for _, a := range whoCan(t, tt.args...) {
				named = append(named, a.Subject)
			}
			allowed := 0
			for _, s := range subjects {
				server := sarAllowed(t, c, s, tt.req)
				if server {
					allowed++
				}
				if listed := slices.Contains(named, s); listed != server {
					t.Errorf("%s: who-can lists it %v, the API server allows it %v", s, listed, server)
				}
			}
			if allowed != tt.want {
				t.Errorf("the server allows %d of the fixture's subjects, want %d", allowed, tt.want)
			}
		})
	}
}

// Live, discovery says a custom resource is cluster-scoped: a RoleBinding to
// cluster-admin grants nothing on it, as the server decides.
func TestWhoCanScopeFromDiscovery(t *testing.T) {
	apply(t, "rbac-authorizer")
	crd := testdata("rbac-authorizer-crd")
	t.Cleanup(func() {
		_, _ = env.Kubectl(nil, "delete", "--ignore-not-found", "--wait=false", "-f", testdata("rbac-authorizer", "10-rbac.yaml"))
		_, _ = env.Kubectl(nil, "delete", "--ignore-not-found", "--wait=true", "-f", crd)
	})
	apply(t, "rbac-authorizer-crd")
	if res, err := env.Kubectl(nil, "wait", "--for=condition=Established", "--timeout=60s", "crd/gadgets.fuzz.example.com"); err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRD: %v %s", err, res.Stderr)
	}
	c := sarClient(t)
	dave := finding.Subject{Kind: "User", Name: "authz-dave"}
	req := rbac.Request{Verb: "list", Group: "fuzz.example.com", Resource: "gadgets"}
	if sarAllowed(t, c, dave, req) {
		t.Fatal("the server allows a RoleBinding to grant a cluster-scoped resource")
	}
	var named []finding.Subject
	for _, a := range whoCan(t, "list", "gadgets.fuzz.example.com", "-n", "authz-team") {
		named = append(named, a.Subject)
	}
	if slices.Contains(named, dave) {
		t.Errorf("who-can lists %s for a cluster-scoped custom resource", dave)
	}
	// Completion offers the server's resources, the custom one included.
	comp := mustHarden(t, "__complete", "rbac", "who-can", "list", "gadg")
	if !strings.Contains(comp.Stdout, "gadgets.fuzz.example.com\n") {
		t.Errorf("completion does not offer the served custom resource:\n%s\n%s", comp.Stdout, comp.Stderr)
	}
	// A resource the server does not serve: its scope is unknown, and said so.
	res := mustHarden(t, "rbac", "who-can", "list", "widgets.nowhere.example.com")
	if !strings.Contains(res.Stderr, "is namespaced is unknown") {
		t.Errorf("no warning about the unknown scope: %q", res.Stderr)
	}
}

// Live, who-can refuses a verb the resource does not serve, naming those it does.
func TestWhoCanRefusesUnservedVerb(t *testing.T) {
	res := harden(t, "rbac", "who-can", "exec", "pods")
	if res.Code != 1 || !strings.Contains(res.Stderr, `pods does not serve the verb "exec"`) || !strings.Contains(res.Stderr, "list") {
		t.Errorf("exit %d, stderr %q", res.Code, res.Stderr)
	}
	res = harden(t, "rbac", "who-can", "delete", "pods/exec", "web-0", "-n", "rbac-app")
	if res.Code != 1 || !strings.Contains(res.Stderr, "pods/exec does not serve") {
		t.Errorf("delete pods/exec: exit %d, stderr %q", res.Code, res.Stderr)
	}
	// Verbs RBAC checks without a resource serving them are asked as usual.
	for _, args := range [][]string{{"escalate", "clusterroles.rbac.authorization.k8s.io"}, {"create", "pods/exec", "-n", "rbac-app"}, {"impersonate", "users"}} {
		if res := harden(t, append([]string{"rbac", "who-can"}, args...)...); res.Code != 0 {
			t.Errorf("who-can %v: exit %d %s", args, res.Code, res.Stderr)
		}
	}
}

// The offline table of built-in resource scopes is the server's: every
// resource discovery lists in a group the table covers is in it, namespaced
// or not as the server says.
func TestBuiltinScopesMatchDiscovery(t *testing.T) {
	_, lists, err := env.Client.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]bool{}
	for _, g := range []string{"", "apps", "batch", "autoscaling", "policy", "rbac.authorization.k8s.io", "networking.k8s.io",
		"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "scheduling.k8s.io",
		"authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io", "storage.k8s.io", "resource.k8s.io",
		"flowcontrol.apiserver.k8s.io", "node.k8s.io", "storagemigration.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io"} {
		groups[g] = true
	}
	checked := 0
	for _, l := range lists {
		group, _, found := strings.Cut(l.GroupVersion, "/")
		if !found {
			group = ""
		}
		if !groups[group] {
			continue // a CRD's group, installed by another test
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			namespaced, known := rbac.BuiltinScope(group, r.Name)
			if !known {
				t.Errorf("%s in %q is served but not in the table", r.Name, group)
				continue
			}
			if namespaced != r.Namespaced {
				t.Errorf("%s in %q: table says namespaced=%v, the server %v", r.Name, group, namespaced, r.Namespaced)
			}
			checked++
		}
	}
	if checked < 60 {
		t.Errorf("only %d resources compared", checked)
	}
}
