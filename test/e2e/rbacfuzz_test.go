package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory/live"
)

// rbacFuzzSeeds run in `make test`; HARDEN_RBAC_SEEDS=1,2,... (make fuzz-rbac
// SEEDS=...) runs others. Every seed that ever found a disagreement stays here:
// 7, 11, 17, 22 and 23 found a named verb on namespaces without a name at the
// cluster scope answered as "some namespace".
var rbacFuzzSeeds = []uint64{1, 2, 3, 7, 11, 17, 22, 23}

// The vocabulary of generated rules: the shapes tools get wrong.
var (
	fuzzVerbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "*"}
	fuzzResources = []struct{ group, resource string }{
		{"", "pods"}, {"", "pods/exec"}, {"", "pods/log"}, {"", "pods/*"}, {"", "*/exec"}, {"", "secrets"}, {"", "namespaces"},
		{"", "nodes"}, {"", "nodes/proxy"}, {"", "serviceaccounts"}, {"", "serviceaccounts/token"}, {"", "*"},
		{"apps", "deployments"}, {"apps", "*"}, {"rbac.authorization.k8s.io", "roles"}, {"rbac.authorization.k8s.io", "clusterroles"},
		{"flowcontrol.apiserver.k8s.io", "flowschemas"}, {"certificates.k8s.io", "podcertificaterequests"},
		{"certificates.k8s.io", "certificatesigningrequests"}, {"*", "*"}, {"*", "pods"},
	}
	fuzzNames = [][]string{nil, nil, nil, {"x"}, {"", "x"}, {""}, {"y"}}
	fuzzURLs  = []string{"/metrics", "/logs/*", "/healthz", "*"}
)

func fuzzRule(r *rand.Rand, nonResource bool) rbacv1.PolicyRule {
	pick := func(xs []string, n int) []string {
		out := []string{}
		for range n {
			if x := xs[r.IntN(len(xs))]; !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
	if nonResource {
		return rbacv1.PolicyRule{Verbs: pick([]string{"get", "post", "*"}, 1+r.IntN(2)), NonResourceURLs: pick(fuzzURLs, 1+r.IntN(2))}
	}
	var groups, resources []string
	for range 1 + r.IntN(2) {
		gr := fuzzResources[r.IntN(len(fuzzResources))]
		if !slices.Contains(groups, gr.group) {
			groups = append(groups, gr.group)
		}
		if !slices.Contains(resources, gr.resource) {
			resources = append(resources, gr.resource)
		}
	}
	return rbacv1.PolicyRule{Verbs: pick(fuzzVerbs, 1+r.IntN(3)), APIGroups: groups, Resources: resources,
		ResourceNames: fuzzNames[r.IntN(len(fuzzNames))]}
}

// fuzzCluster creates a seed's roles and bindings and returns its subjects and namespaces.
func fuzzCluster(t *testing.T, seed uint64) ([]finding.Subject, []string) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, seed*7919))
	p := "fz" + strconv.FormatUint(seed, 10)
	nss := []string{p + "-a", p + "-b"}
	c := env.Client
	for _, ns := range nss {
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	subjects := []finding.Subject{
		{Kind: "User", Name: p + "-u1"}, {Kind: "User", Name: p + "-u2"}, {Kind: "Group", Name: p + "-g1"},
		{Kind: "ServiceAccount", Namespace: nss[0], Name: "sa1"}, {Kind: "ServiceAccount", Namespace: nss[1], Name: "sa2"},
	}
	rbacSubject := func(s finding.Subject) rbacv1.Subject {
		if s.Kind == "ServiceAccount" {
			return rbacv1.Subject{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}
		}
		return rbacv1.Subject{Kind: s.Kind, APIGroup: rbacv1.GroupName, Name: s.Name}
	}
	// Subjects of bindings include implicit groups of the generated subjects.
	bindable := append(slices.Clone(subjects), finding.Subject{Kind: "Group", Name: "system:serviceaccounts:" + nss[1]})
	someSubjects := func() []rbacv1.Subject {
		var out []rbacv1.Subject
		for range 1 + r.IntN(2) {
			out = append(out, rbacSubject(bindable[r.IntN(len(bindable))]))
		}
		return out
	}
	rules := func(nonResourceOK bool) []rbacv1.PolicyRule {
		var out []rbacv1.PolicyRule
		for range 1 + r.IntN(3) {
			out = append(out, fuzzRule(r, nonResourceOK && r.IntN(5) == 0))
		}
		return out
	}
	var clusterRoles []string
	for i := range 4 {
		name := fmt.Sprintf("%s-cr%d", p, i)
		if _, err := c.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules(true)}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		clusterRoles = append(clusterRoles, name)
	}
	for i := range 2 {
		name := fmt.Sprintf("%s-crb%d", p, i)
		crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, Subjects: someSubjects(),
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRoles[r.IntN(len(clusterRoles))]}}
		if _, err := c.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range nss {
		for i := range 2 {
			role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%d", i), Namespace: ns}, Rules: rules(false)}
			if _, err := c.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fmt.Sprintf("r%d", r.IntN(2))}
			if r.IntN(2) == 0 {
				ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRoles[r.IntN(len(clusterRoles))]}
			}
			rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rb%d", i), Namespace: ns}, Subjects: someSubjects(), RoleRef: ref}
			if _, err := c.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		for i := range 2 {
			_ = c.RbacV1().ClusterRoleBindings().Delete(ctx, fmt.Sprintf("%s-crb%d", p, i), metav1.DeleteOptions{})
		}
		for _, name := range clusterRoles {
			_ = c.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
		}
		for _, ns := range nss {
			_ = c.RbacV1().RoleBindings(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
			_ = c.RbacV1().Roles(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		}
	})
	return subjects, nss
}

// fuzzQuery makes a request of a shape a real request has (RequestInfo): a
// cluster-scoped resource outside any namespace, the namespaces resource in
// the namespace it names, no name on a create or deletecollection of a
// collection. whoCanNS is the -n the question is asked with, which for a
// cluster-scoped resource must not matter.
func fuzzQuery(r *rand.Rand, nss []string, inv *inventory.Inventory) (req rbac.Request, whoCanNS string) {
	if r.IntN(8) == 0 {
		paths := []string{"/metrics", "/logs/kube", "/healthz", "/version"}
		return rbac.Request{Verb: []string{"get", "post"}[r.IntN(2)], Path: paths[r.IntN(len(paths))]}, ""
	}
	gr := fuzzResources[r.IntN(len(fuzzResources))]
	for strings.Contains(gr.resource, "*") || gr.group == "*" {
		gr = fuzzResources[r.IntN(len(fuzzResources))]
	}
	res, sub, _ := strings.Cut(gr.resource, "/")
	verbs := fuzzVerbs[:len(fuzzVerbs)-1]
	req = rbac.Request{Verb: verbs[r.IntN(len(verbs))], Group: gr.group, Resource: res, Subresource: sub}
	if r.IntN(3) > 0 && ((req.Verb != "create" && req.Verb != "deletecollection") || sub != "") {
		req.Name = []string{"x", "y"}[r.IntN(2)]
	}
	req.Namespace = nss[r.IntN(len(nss))]
	if r.IntN(4) == 0 {
		req.Namespace = "" // across all namespaces
	}
	whoCanNS = req.Namespace
	if namespaced, known := inv.Namespaced(req.Group, req.Resource); known && !namespaced {
		req.Namespace = ""
	}
	if req.Group == "" && req.Resource == "namespaces" {
		if req.Verb == "list" || req.Verb == "watch" {
			req.Name = "" // a list with a name selector is ambiguous for namespaces: leave it out
		}
		if req.Name != "" && r.IntN(2) == 0 {
			req.Name = nss[0]
		}
		req.Namespace = req.Name
	}
	return req, whoCanNS
}

// Generated RBAC, loaded into the real API server: for every query, the
// subjects who-can names agree with SubjectAccessReview, both ways.
func TestRBACRandomizedAgainstSubjectAccessReview(t *testing.T) {
	seeds := rbacFuzzSeeds
	if s := os.Getenv("HARDEN_RBAC_SEEDS"); s != "" {
		seeds = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("HARDEN_RBAC_SEEDS: %v", err)
			}
			seeds = append(seeds, n)
		}
	}
	queries := 150
	if s := os.Getenv("HARDEN_RBAC_QUERIES"); s != "" {
		queries, _ = strconv.Atoi(s)
	}
	c := sarClient(t)
	judged, allowed := 0, 0
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			subjects, nss := fuzzCluster(t, seed)
			inv, err := live.FromCluster(context.Background(), env.Config, live.LiveOptions{Kinds: []inventory.Kind{
				inventory.Roles, inventory.ClusterRoles, inventory.RoleBindings, inventory.ClusterRoleBindings}})
			if err != nil {
				t.Fatal(err)
			}
			a := rbac.Analyze(inv)
			r := rand.New(rand.NewPCG(seed, 1))
			disagreements := 0
			for range queries {
				req, ns := fuzzQuery(r, nss, inv)
				asked := req
				asked.Namespace = ns
				if req.Resource == "namespaces" && req.Group == "" {
					asked.Namespace = req.Namespace
				}
				var named []finding.Subject
				for _, acc := range a.WhoCan(asked) {
					named = append(named, acc.Subject)
				}
				for _, s := range subjects {
					server := sarAllowed(t, c, s, req)
					listed := slices.ContainsFunc(holders(s), func(h finding.Subject) bool { return slices.Contains(named, h) })
					judged++
					if server {
						allowed++
					}
					if server != listed && disagreements < 20 {
						disagreements++
						t.Errorf("seed %d: %s: who-can lists %s %v, the API server allows it %v", seed, req, s, listed, server)
					}
				}
			}
		})
	}
	t.Logf("%d seeds, %d queries each, %d subject-query pairs judged, %d allowed by the server", len(seeds), queries, judged, allowed)
}
