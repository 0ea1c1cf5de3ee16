package rbac

import (
	"fmt"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The classes of disagreement with SubjectAccessReview, each as who-can
// queries with the subjects the API server allows.
func TestWhoCanAsTheAuthorizer(t *testing.T) {
	inv := load(t, "matching/authorizer.yaml")
	tests := []struct {
		name                             string
		verb, resource, sub, objName, ns string
		want                             []string
	}{
		{name: "cluster-scoped flowschemas are not granted by a RoleBinding", verb: "list", resource: "flowschemas.flowcontrol.apiserver.k8s.io", ns: "team"},
		{name: "nor anywhere", verb: "list", resource: "flowschemas.flowcontrol.apiserver.k8s.io", ns: AnyNamespace},
		{name: "runtimeclasses", verb: "get", resource: "runtimeclasses.node.k8s.io", objName: "gvisor", ns: AnyNamespace},
		{name: "resourceslices", verb: "list", resource: "resourceslices.resource.k8s.io", ns: "team"},
		{name: "podcertificaterequests are namespaced", verb: "list", resource: "podcertificaterequests.certificates.k8s.io", ns: AnyNamespace,
			want: []string{"User dave | RoleBinding team/team-admin", "User erin | RoleBinding team/pcr-reader"}},
		{name: "certificatesigningrequests are not", verb: "list", resource: "certificatesigningrequests.certificates.k8s.io", ns: AnyNamespace},
		{name: "list namespaces is on the collection", verb: "list", resource: "namespaces", ns: AnyNamespace},
		{name: "create namespaces is on the collection", verb: "create", resource: "namespaces", ns: AnyNamespace},
		{name: "get another namespace", verb: "get", resource: "namespaces", objName: "default", ns: AnyNamespace},
		{name: "get its own namespace", verb: "get", resource: "namespaces", objName: "team", ns: AnyNamespace,
			want: []string{"User dave | RoleBinding team/team-admin"}},
		{name: "patch some namespace", verb: "patch", resource: "namespaces", ns: AnyNamespace,
			want: []string{"User dave | RoleBinding team/team-admin"}},
		{name: "resourceNames [\"\"] allows list", verb: "list", resource: "secrets", ns: "team",
			want: []string{"User dave | RoleBinding team/team-admin", "User eve | RoleBinding team/one-secret"}},
		{name: "but no named get", verb: "get", resource: "secrets", objName: "db", ns: "team",
			want: []string{"User dave | RoleBinding team/team-admin"}},
		{name: "a create with \"\" among the names", verb: "create", resource: "clusterroles", ns: AnyNamespace,
			want: []string{"User frank | ClusterRoleBinding named-escalator"}},
		{name: "escalate as checked on create", verb: "escalate", resource: "clusterroles", ns: AnyNamespace,
			want: []string{"User frank | ClusterRoleBinding named-escalator"}},
		{name: "a named escalate", verb: "escalate", resource: "clusterroles", objName: "only-this", ns: AnyNamespace,
			want: []string{"User frank | ClusterRoleBinding named-escalator"}},
		{name: "another name", verb: "escalate", resource: "clusterroles", objName: "admin", ns: AnyNamespace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc, err := WhoCan(inv, tt.verb, tt.resource, tt.sub, tt.objName, tt.ns)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range acc {
				got = append(got, fmt.Sprintf("%s | %s", a.Subject, a.Binding))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("who can %s %s %s:\n got %q\nwant %q", tt.verb, tt.resource, tt.objName, got, tt.want)
			}
		})
	}
}

func TestRuleAllowsNames(t *testing.T) {
	ok, names := ruleAllowsSomeName(ruleOf([]string{"list", "get"}, []string{"secrets"}, "", "a"), "list", "", "secrets")
	if !ok || names != nil {
		t.Errorf(`resourceNames ["", a] and list: %v %v, want allowed for every object`, ok, names)
	}
	ok, names = ruleAllowsSomeName(ruleOf([]string{"get"}, []string{"secrets"}, "", "a"), "get", "", "secrets")
	if !ok || !slices.Equal(names, []string{"a"}) {
		t.Errorf(`resourceNames ["", a] and get: %v %v, want a only`, ok, names)
	}
	if ok, _ := ruleAllowsSomeName(ruleOf([]string{"get"}, []string{"secrets"}, ""), "get", "", "secrets"); ok {
		t.Error(`resourceNames [""] allows a named get`)
	}
	if ok, _ := ruleAllowsSomeName(ruleOf([]string{"list"}, []string{"secrets"}, "a"), "list", "", "secrets"); ok {
		t.Error(`resourceNames [a] allows list`)
	}
	if ok, _ := ruleAllowsSomeName(ruleOf([]string{"get"}, []string{"pods/*"}), "get", "", "pods/log"); ok {
		t.Error("pods/* is taken as a wildcard")
	}
	if ok, _ := ruleAllowsSomeName(ruleOf([]string{"get"}, []string{"*/log"}), "get", "", "pods/log"); !ok {
		t.Error("*/log does not allow pods/log")
	}
}

func ruleOf(verbs, resources []string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{""}, Verbs: verbs, Resources: resources, ResourceNames: names}
}

// Offline, a CRD in the input says where its resource lives.
func TestWhoCanScopeFromCRDs(t *testing.T) {
	without := load(t, "matching/authorizer.yaml")
	with := load(t, "matching/authorizer.yaml", "../../../../test/testdata/rbac-authorizer-crd/gadgets.yaml")
	for _, tc := range []struct {
		inv   *inventory.Inventory
		dave  bool
		known bool
	}{{without, true, false}, {with, false, true}} {
		acc, err := WhoCan(tc.inv, "list", "gadgets.fuzz.example.com", "", "", AnyNamespace)
		if err != nil {
			t.Fatal(err)
		}
		listed := slices.ContainsFunc(acc, func(a Access) bool { return a.Subject.Name == "dave" })
		if listed != tc.dave || Analyze(tc.inv).ScopeKnown("fuzz.example.com", "gadgets") != tc.known {
			t.Errorf("CRD known %v: dave listed %v, scope known %v", tc.known, listed, !tc.known)
		}
	}
}
