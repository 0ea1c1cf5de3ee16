package rbac

import (
	"fmt"
	"slices"
	"testing"
)

func TestWhoCan(t *testing.T) {
	inv := load(t, "checks/cluster.yaml")
	tests := []struct {
		name                             string
		verb, resource, sub, objName, ns string
		want                             []string // "subject | binding | scope"
		wantErr                          bool
	}{
		{
			name: "create pods in ci", verb: "create", resource: "pods", ns: "ci",
			want: []string{
				"Group ops | ClusterRoleBinding ops-super | cluster-wide",
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
				"User dev | RoleBinding ci/dev-pods | in namespace ci",
			},
		},
		{
			name: "create pods anywhere adds other namespaces' RoleBindings", verb: "create", resource: "pods", ns: AnyNamespace,
			want: []string{
				"Group ops | ClusterRoleBinding ops-super | cluster-wide",
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
				"ServiceAccount shop/default | RoleBinding shop/default-edit | in namespace shop",
				"User dev | RoleBinding ci/dev-pods | in namespace ci",
			},
		},
		{
			name: "across all namespaces only cluster-wide bindings count", verb: "list", resource: "secrets", ns: "",
			want: []string{
				"Group ops | ClusterRoleBinding ops-super | cluster-wide",
				"ServiceAccount ci/builder | ClusterRoleBinding builder-powers | cluster-wide",
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
			},
		},
		{
			name: "exec subresource", verb: "create", resource: "pods/exec", objName: "web-0", ns: "shop",
			want: []string{
				"Group ops | ClusterRoleBinding ops-super | cluster-wide",
				"ServiceAccount ci/builder | ClusterRoleBinding builder-powers | cluster-wide",
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
				"ServiceAccount shop/default | RoleBinding shop/default-edit | in namespace shop",
			},
		},
		{
			name: "cluster-scoped resource: RoleBindings never count", verb: "get", resource: "nodes", sub: "proxy", objName: "n1", ns: AnyNamespace,
			want: []string{
				"Group ops | ClusterRoleBinding ops-super | cluster-wide",
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
				"User platform-bot | ClusterRoleBinding platform | cluster-wide",
			},
		},
		{
			name: "own namespace patch through a RoleBinding", verb: "patch", resource: "namespaces", objName: "shop", ns: "shop",
			want: []string{
				"Group ops | ClusterRoleBinding ops-super | cluster-wide",
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
				"User shop-owner | RoleBinding shop/labeller | in namespace shop",
			},
		},
		{
			name: "group given with the resource", verb: "patch", resource: "mutatingwebhookconfigurations.admissionregistration.k8s.io", ns: AnyNamespace, objName: "w",
			want: []string{
				"Group ops | ClusterRoleBinding ops-super | cluster-wide",
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
				"User platform-bot | ClusterRoleBinding platform | cluster-wide",
			},
		},
		{
			name: "non-resource URL", verb: "get", resource: "/metrics", ns: AnyNamespace,
			want: []string{
				"ServiceAccount ci/deployer | ClusterRoleBinding deployer-admin | cluster-wide",
			},
		},
		{name: "unknown bare resource", verb: "get", resource: "widgets", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc, err := WhoCan(inv, tt.verb, tt.resource, tt.sub, tt.objName, tt.ns)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			var got []string
			for _, a := range acc {
				got = append(got, fmt.Sprintf("%s | %s | %s", a.Subject, a.Binding, a.Scope))
				if len(a.Rules) == 0 || a.Role == "" {
					t.Errorf("access without role or rule: %+v", a)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("who can:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestBuiltinScopeKnowsPseudoResourcesAndNotTypos(t *testing.T) {
	for _, c := range []struct {
		group, resource   string
		namespaced, known bool
	}{
		{"", "pods/exec", true, true}, {"", "nodes", false, true}, {"", "users", false, true}, {"", "uids", false, true},
		{"", "serviceaccounts", true, true}, {"authentication.k8s.io", "userextras/scopes", false, true},
		{"certificates.k8s.io", "signers", false, true}, {"certificates.k8s.io", "podcertificaterequests", true, true},
		// Alpha in v1.37, and served by older versions only: the table holds them too.
		{"coordination.k8s.io", "leasecandidates", true, true}, {"resource.k8s.io", "resourcepoolstatusrequests", false, true},
		{"extensions", "ingresses", true, true}, {"resource.k8s.io", "resourceclasses", false, true}, {"networking.k8s.io", "clustercidrs", false, true},
		{"", "podz", false, false}, {"apps", "deploymentz", false, false},
	} {
		namespaced, known := BuiltinScope(c.group, c.resource)
		if namespaced != c.namespaced || known != c.known {
			t.Errorf("%s/%s: namespaced=%v known=%v, want %v %v", c.group, c.resource, namespaced, known, c.namespaced, c.known)
		}
	}
}
