package e2e

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// The API server is the oracle for every RBAC claim: these tests ask it,
// by SubjectAccessReview, whatever the plugin says a subject can do, and ask
// it every dangerous question about every subject of the fixture to make sure
// the plugin reported each allowed one.

var rbacNamespaces = []string{"rbac-app", "rbac-ci", "rbac-ops"}

// rbacFixture applies test/testdata/rbac (idempotent: server-side apply).
func rbacFixture(t *testing.T) {
	t.Helper()
	apply(t, "rbac")
}

// sarClient is a client without client-side rate limiting: the tests ask
// thousands of SubjectAccessReviews.
func sarClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = -1, 0
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sarAllowed asks the API server whether subject s may make the request.
func sarAllowed(t *testing.T, c kubernetes.Interface, s finding.Subject, r rbac.Request) bool {
	spec := authorizationv1.SubjectAccessReviewSpec{}
	switch s.Kind {
	case "ServiceAccount":
		spec.User = "system:serviceaccount:" + s.Namespace + ":" + s.Name
	case "User":
		spec.User = s.Name
	case "Group":
		// A member of the group and of nothing else.
		spec.User = "rbac-e2e-probe"
	default:
		t.Errorf("SubjectAccessReview for subject kind %q", s.Kind)
		return false
	}
	spec.Groups = rbac.GroupsOf(s)
	if s.Kind == "Group" {
		spec.Groups = []string{s.Name}
	}
	if r.Path != "" {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Verb: r.Verb, Path: r.Path}
	} else {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
			Verb: r.Verb, Group: r.Group, Resource: r.Resource, Subresource: r.Subresource, Name: r.Name, Namespace: r.Namespace,
		}
	}
	res, err := c.AuthorizationV1().SubjectAccessReviews().Create(context.Background(),
		&authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		// Errorf, not Fatalf: this runs on the tests' worker goroutines too.
		t.Errorf("SubjectAccessReview %s %s: %v", s, r, err)
		return false
	}
	return res.Status.Allowed
}

// rbacReport runs `kubectl harden rbac -o json` through kubectl and decodes it.
func rbacReport(t *testing.T, args ...string) *finding.Report {
	t.Helper()
	r, _ := report(t, env.Kubeconfig, append([]string{"rbac"}, args...)...)
	return r
}

// requestsOf decodes a finding's "requests" evidence.
func requestsOf(t *testing.T, v any) []rbac.Request {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []rbac.Request
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("evidence requests %s: %v", b, err)
	}
	return out
}

// TestRBACClaimsConfirmedBySubjectAccessReview: every "subject can X" the
// audit says, and every step of every escalation path, is allowed by the API server.
func TestRBACClaimsConfirmedBySubjectAccessReview(t *testing.T) {
	rbacFixture(t)
	c := sarClient(t)
	r := rbacReport(t)
	claims := 0
	for _, f := range r.Items {
		if f.Subject == nil {
			continue
		}
		for _, req := range requestsOf(t, f.Evidence["requests"]) {
			claims++
			if !sarAllowed(t, c, *f.Subject, req) {
				t.Errorf("%s: the API server denies %s %s, which the finding claims (%s)", f.Check, f.Subject, req, f.Message)
			}
		}
		if hops, ok := f.Evidence["hops"].([]any); ok {
			for _, h := range hops {
				hop := h.(map[string]any)
				var actor finding.Subject
				if b, err := json.Marshal(hop["subject"]); err != nil || json.Unmarshal(b, &actor) != nil {
					t.Fatalf("hop subject %v", hop["subject"])
				}
				// A step may take more than one request (mint a token Secret: create it, read it back).
				reqs := []any{hop["request"]}
				also, _ := hop["also"].([]any)
				for _, a := range also {
					reqs = append(reqs, a.(map[string]any)["request"])
				}
				for _, req := range requestsOf(t, reqs) {
					claims++
					if !sarAllowed(t, c, actor, req) {
						t.Errorf("%s: escalation step %q: the API server denies %s %s", f.Check, hop["action"], actor, req)
					}
				}
			}
		}
	}
	t.Logf("%d claims confirmed", claims)
	if claims < 40 {
		t.Fatalf("only %d claims checked; the fixture should give many more", claims)
	}
}

// rbacFixtureSubjects reads every subject the fixture binds and every
// ServiceAccount it creates. Group system:masters is left out: the API server
// allows it everything without RBAC, which the audit says in one note
// (TestRBACSystemMasters) rather than per capability.
func rbacFixtureSubjects(t *testing.T) []finding.Subject {
	t.Helper()
	var out []finding.Subject
	add := func(s finding.Subject) {
		if s == (finding.Subject{Kind: "Group", Name: "system:masters"}) {
			return
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, file := range []string{"00-namespaces.yaml", "30-bindings.yaml"} {
		f, err := os.Open(testdata("rbac", file))
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
		for {
			var obj struct {
				Kind     string            `json:"kind"`
				Metadata metav1.ObjectMeta `json:"metadata"`
				Subjects []rbacv1.Subject  `json:"subjects"`
			}
			if err := dec.Decode(&obj); err != nil {
				break
			}
			if obj.Kind == "ServiceAccount" {
				add(finding.Subject{Kind: "ServiceAccount", Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name})
			}
			for _, s := range obj.Subjects {
				switch {
				case s.Kind == "ServiceAccount":
					ns := s.Namespace
					if ns == "" {
						ns = obj.Metadata.Namespace
					}
					add(finding.Subject{Kind: "ServiceAccount", Namespace: ns, Name: s.Name})
				case strings.HasPrefix(s.Name, "system:serviceaccount:"):
					parts := strings.Split(s.Name, ":")
					add(finding.Subject{Kind: "ServiceAccount", Namespace: parts[2], Name: parts[3]})
				default:
					add(finding.Subject{Kind: s.Kind, Name: s.Name})
				}
			}
		}
		f.Close()
	}
	return out
}

// holders are the subjects whose findings speak for s: itself and its implicit groups.
func holders(s finding.Subject) []finding.Subject {
	out := []finding.Subject{s}
	for _, g := range rbac.GroupsOf(s) {
		out = append(out, finding.Subject{Kind: "Group", Name: g})
	}
	return out
}

// reported says whether the report has a finding of check (or one of the
// cluster-admin checks, which stand for every capability) for one of the
// holders, in a scope that covers namespace ns ("" for cluster-wide).
func reported(r *finding.Report, check string, hs []finding.Subject, ns string) bool {
	for _, f := range r.Items {
		if f.Subject == nil || !slices.Contains(hs, *f.Subject) {
			continue
		}
		if f.Check != check && f.Check != "rbac/cluster-admin-binding" && f.Check != "rbac/cluster-admin-equivalent" {
			continue
		}
		scope, _ := f.Evidence["scope"].(string)
		if scope == "cluster-wide" || (ns != "" && scope == "in namespace "+ns) {
			return true
		}
	}
	return false
}

// TestRBACEveryDangerousGrantReported asks the API server every dangerous
// question about every fixture subject, cluster-wide and in each fixture
// namespace, and checks that each one it allows is in the report.
func TestRBACEveryDangerousGrantReported(t *testing.T) {
	rbacFixture(t)
	c := sarClient(t)
	r := rbacReport(t)
	subjects := rbacFixtureSubjects(t)
	if len(subjects) < 30 {
		t.Fatalf("fixture subjects: %d", len(subjects))
	}
	type question struct {
		subject finding.Subject
		check   string
		ns      string
	}
	var (
		mu      sync.Mutex
		allowed []question
		wg      sync.WaitGroup
		sem     = make(chan struct{}, 8)
	)
	for _, s := range subjects {
		for _, d := range rbac.DangerousCapabilities() {
			scopes := append([]string{""}, rbacNamespaces...)
			if ns := d.Requests[0].Namespace; ns != "" {
				// A capability on one object (kube-system/aws-auth) is asked where that object is.
				scopes = []string{ns}
			}
			for _, ns := range scopes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					byAction := map[int]bool{}
					for _, dr := range d.Requests {
						req := dr.Request
						switch {
						case dr.ClusterScoped && ns != "":
							continue
						case dr.OwnNamespace && ns == "":
							continue
						case dr.OwnNamespace:
							req.Name, req.Namespace = ns, ns
						default:
							req.Namespace = ns
						}
						if !byAction[dr.Action] && sarAllowed(t, c, s, req) {
							byAction[dr.Action] = true
						}
					}
					actions := 0
					for _, dr := range d.Requests {
						actions = max(actions, dr.Action+1)
					}
					if len(byAction) == 0 || (d.RequiresAll && len(byAction) < actions) {
						return
					}
					mu.Lock()
					allowed = append(allowed, question{s, d.Check, ns})
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()
	t.Logf("%d dangerous capabilities allowed to fixture subjects", len(allowed))
	if len(allowed) < 20 {
		t.Fatalf("the API server allows only %d dangerous capabilities to fixture subjects; the fixture is broken", len(allowed))
	}
	for _, q := range allowed {
		if !reported(r, q.check, holders(q.subject), q.ns) {
			where := "cluster-wide"
			if q.ns != "" {
				where = "in namespace " + q.ns
			}
			t.Errorf("the API server allows %s a %s capability %s, and the audit does not report it", q.subject, q.check, where)
		}
	}
}

// TestRBACFixtureFindings: each check fires on its fixture case, and the
// cases that must stay quiet do.
func TestRBACFixtureFindings(t *testing.T) {
	rbacFixture(t)
	r := rbacReport(t)
	msgs := map[string][]string{}
	for _, f := range r.Items {
		msgs[f.Check] = append(msgs[f.Check], f.Message)
	}
	want := []struct{ check, prefix string }{
		{"rbac/cluster-admin-binding", "ServiceAccount rbac-ci/deployer is bound to cluster-admin by ClusterRoleBinding rbac-deployer-admin"},
		{"rbac/cluster-admin-equivalent", "Group rbac-ops can do everything (every verb on every resource) cluster-wide"},
		{"rbac/escalate-bind", "User rbac-role-escalator can escalate roles.rbac.authorization.k8s.io in namespace rbac-app"},
		{"rbac/impersonate", "User rbac-impersonator can impersonate groups, users cluster-wide"},
		{"rbac/csr-approval", "User rbac-csr can update certificatesigningrequests/approval.certificates.k8s.io; approve signers.certificates.k8s.io cluster-wide"},
		{"rbac/admission-write", "Group rbac-policy-admins can create, update, delete validatingadmissionpolicies.admissionregistration.k8s.io"},
		{"rbac/serviceaccount-token", "User rbac-minter can create serviceaccounts/token in namespace rbac-ci"},
		{"rbac/pod-create", "User rbac-rc can patch daemonsets.apps, statefulsets.apps, replicasets.apps; update replicationcontrollers cluster-wide"},
		{"rbac/secrets-read", "ServiceAccount rbac-ops/backup can get, list, watch secrets in namespace rbac-ops"},
		{"rbac/secrets-read", "User rbac-agg-user can list secrets cluster-wide (ClusterRoleBinding rbac-aggregated -> ClusterRole rbac-aggregated)"},
		{"rbac/secrets-write", "Group rbac-m-group can create, update secrets cluster-wide"},
		{"rbac/nodes-proxy", "ServiceAccount rbac-ops/monitor can get nodes/proxy cluster-wide"},
		{"rbac/persistentvolume-create", "User rbac-storage can create persistentvolumes cluster-wide"},
		{"rbac/pod-exec", "User rbac-named-exec can create pods/exec [web-0] in namespace rbac-app"},
		{"rbac/namespace-write", "User rbac-ns-owner can patch namespaces in namespace rbac-ops"},
		{"rbac/wildcard-rule", "ClusterRole rbac-wild-verbs has 1 wildcard rule(s)"},
		{"rbac/broad-group-grant", "Group system:unauthenticated (every unauthenticated request) is granted Role rbac-app/cm-reader in namespace rbac-app by RoleBinding rbac-app/rbac-unauthenticated"},
		{"rbac/binding-missing-role", "ClusterRoleBinding rbac-latent-cluster refers to ClusterRole rbac-not-yet, which does not exist"},
		{"rbac/binding-missing-serviceaccount", "ServiceAccount rbac-app/deleted-app bound by RoleBinding rbac-app/rbac-stale"},
		{"rbac/default-serviceaccount", "1 pod(s) in namespace rbac-app run as ServiceAccount default: web-0"},
		{"rbac/automount-token", "ServiceAccount rbac-ci/deployer holds cluster-admin and its token is mounted in 1 pod(s): deploy-job"},
		{"rbac/escalation-path", "User rbac-dev -> create pods in namespace rbac-ci -> ServiceAccount rbac-ci/deployer -> cluster-admin"},
		// Through Secrets: read an existing token Secret, or mint one (from one binding, or two).
		{"rbac/escalation-path", "ServiceAccount rbac-ops/backup -> get, list, watch secrets in namespace rbac-ops -> ServiceAccount rbac-ops/monitor -> get nodes/proxy cluster-wide"},
		{"rbac/escalation-path", "User rbac-secret-minter -> mint a token Secret (create, get secrets) in namespace rbac-ci -> ServiceAccount rbac-ci/deployer -> cluster-admin"},
		{"rbac/escalation-path", "User rbac-m1 -> mint a token Secret (create, get secrets) in namespace rbac-ci -> ServiceAccount rbac-ci/deployer -> cluster-admin"},
		{"rbac/token-secret-read", "ServiceAccount rbac-ops/backup can get, list, watch secrets in namespace rbac-ops, so it can read the legacy token Secrets of ServiceAccount rbac-ops/monitor"},
		{"rbac/aws-auth-write", "User rbac-aws-auth can update, patch configmaps [kube-system/aws-auth] in namespace kube-system"},
		{"rbac/aws-auth-write", "User rbac-cm-patcher can patch configmaps [kube-system/aws-auth] cluster-wide"},
		{"rbac/system-masters", "ClusterRoleBinding rbac-masters binds Group system:masters to ClusterRole view: redundant"},
		{"rbac/system-masters", "Group system:masters bypasses RBAC"},
	}
	for _, w := range want {
		if !slices.ContainsFunc(msgs[w.check], func(m string) bool { return strings.HasPrefix(m, w.prefix) }) {
			t.Errorf("%s: no finding starting %q in %q", w.check, w.prefix, msgs[w.check])
		}
	}
	for _, quiet := range []string{"rbac-csr-half", "rbac-fake-admin", "rbac-metrics", "rbac-ns-user", "rbac-builder-view", "ServiceAccount rbac-app/web can get secrets [web-tls]",
		"rbac-coredns"} {
		for _, f := range r.Items {
			if strings.Contains(f.Message, quiet) && f.Check != "rbac/escalation-path" {
				t.Errorf("%s should not be reported: %s: %s", quiet, f.Check, f.Message)
			}
		}
	}
	// A rule the aggregation controller copied is remedied where it comes from.
	for _, f := range r.Items {
		if f.Check == "rbac/secrets-read" && strings.HasPrefix(f.Message, "User rbac-agg-user ") && (f.Remediation == nil ||
			!strings.Contains(f.Remediation.Summary, "The rules come from ClusterRole rbac-aggregated-source aggregated into ClusterRole rbac-aggregated")) {
			t.Errorf("the remedy of %q does not point at the source role: %+v", f.Message, f.Remediation)
		}
	}
	// Creating Secrets without reading them back mints nothing.
	for _, m := range msgs["rbac/escalation-path"] {
		if strings.HasPrefix(m, "User rbac-ops-writer ") {
			t.Errorf("create without read is no path: %s", m)
		}
	}
}

// TestRBACSystemMasters: the audit says once that system:masters bypasses
// RBAC and that its members cannot be seen, names no member, and reports the
// fixture's binding of the group as redundant.
func TestRBACSystemMasters(t *testing.T) {
	rbacFixture(t)
	r := rbacReport(t)
	notes, bindings := 0, 0
	for _, f := range r.Items {
		if f.Check != "rbac/system-masters" {
			continue
		}
		switch {
		case f.Severity == finding.Info:
			notes++
			if f.Subject == nil || *f.Subject != (finding.Subject{Kind: "Group", Name: "system:masters"}) {
				t.Errorf("note about %v", f.Subject)
			}
		case f.Severity == finding.Low && strings.HasPrefix(f.Message, "ClusterRoleBinding rbac-masters "):
			bindings++
			if f.Remediation == nil || len(f.Remediation.Changes) != 1 || f.Remediation.Changes[0].Action != remedy.Delete {
				t.Errorf("remedy %+v, want the binding deleted (the group is its only subject)", f.Remediation)
			}
		}
	}
	if notes != 1 || bindings != 1 {
		t.Errorf("want one note and one redundant binding, got %d and %d", notes, bindings)
	}
}

// TestRBACWhoCan compares who-can with the API server both ways, through kubectl.
func TestRBACWhoCan(t *testing.T) {
	rbacFixture(t)
	c := sarClient(t)
	subjects := rbacFixtureSubjects(t)
	tests := []struct {
		args []string
		req  rbac.Request
	}{
		{[]string{"create", "pods", "-n", "rbac-ci"}, rbac.Request{Verb: "create", Resource: "pods", Namespace: "rbac-ci"}},
		{[]string{"get", "secrets", "db", "-n", "rbac-ops"}, rbac.Request{Verb: "get", Resource: "secrets", Name: "db", Namespace: "rbac-ops"}},
		{[]string{"create", "pods/exec", "web-0", "-n", "rbac-app"}, rbac.Request{Verb: "create", Resource: "pods", Subresource: "exec", Name: "web-0", Namespace: "rbac-app"}},
		{[]string{"impersonate", "serviceaccounts", "deployer", "-n", "rbac-ci"}, rbac.Request{Verb: "impersonate", Resource: "serviceaccounts", Name: "deployer", Namespace: "rbac-ci"}},
		{[]string{"get", "nodes/proxy", "n1"}, rbac.Request{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}},
		{[]string{"patch", "namespaces", "rbac-ops", "-n", "rbac-ops"}, rbac.Request{Verb: "patch", Resource: "namespaces", Name: "rbac-ops", Namespace: "rbac-ops"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var named []finding.Subject
			for _, a := range whoCan(t, tt.args...) {
				named = append(named, a.Subject)
				if !sarAllowed(t, c, a.Subject, tt.req) {
					t.Errorf("who-can lists %s through %s, but the API server denies it", a.Subject, a.Binding)
				}
			}
			found := 0
			for _, s := range subjects {
				if !sarAllowed(t, c, s, tt.req) {
					continue
				}
				found++
				if !slices.ContainsFunc(holders(s), func(h finding.Subject) bool { return slices.Contains(named, h) }) {
					t.Errorf("the API server allows %s, who-can does not list it or its groups", s)
				}
			}
			if found == 0 {
				t.Errorf("no fixture subject may %s: the fixture does not exercise it", tt.req)
			}
		})
	}
	// The table, through kubectl, names the binding.
	res := mustHarden(t, "rbac", "who-can", "create", "pods", "-n", "rbac-ci")
	for _, w := range []string{"SUBJECT", "User rbac-dev", "RoleBinding rbac-ci/rbac-dev-pods", "Role rbac-ci/pod-runner"} {
		if !strings.Contains(res.Stdout, w) {
			t.Errorf("who-can table lacks %q:\n%s", w, res.Stdout)
		}
	}
	if !strings.Contains(res.Stderr, "system:masters") {
		t.Errorf("who-can does not say system:masters bypasses RBAC: %q", res.Stderr)
	}
}

// whoCan runs `kubectl harden rbac who-can ARGS -o json` and returns its items.
func whoCan(t *testing.T, args ...string) []rbac.Access {
	t.Helper()
	res := mustHarden(t, append([]string{"rbac", "who-can", "-o", "json"}, args...)...)
	var list struct {
		Items []rbac.Access `json:"items"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &list); err != nil {
		t.Fatalf("who-can -o json: %v\n%s", err, res.Stdout)
	}
	return list.Items
}

// TestRBACTableGroupedBySubject: `kubectl harden rbac` prints findings under their subject, worst first.
func TestRBACTableGroupedBySubject(t *testing.T) {
	rbacFixture(t)
	res := mustHarden(t, "rbac")
	out := res.Stdout
	i := strings.Index(out, "User rbac-dev ")
	j := strings.Index(out, "User rbac-dev -> create pods in namespace rbac-ci -> ServiceAccount rbac-ci/deployer -> cluster-admin")
	if i < 0 || j < i {
		t.Errorf("no group for User rbac-dev with its escalation path:\n%s", out)
	}
}
