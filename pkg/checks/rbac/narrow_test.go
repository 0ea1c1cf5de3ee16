package rbac

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func readLogs(t *testing.T, since time.Time, files ...string) *inventory.AuditLog {
	t.Helper()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join("testdata", "narrow", f)
	}
	log, err := inventory.ReadAuditLogs(paths, nil, since, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return log
}

var (
	saApp      = finding.Subject{Kind: "ServiceAccount", Namespace: "shop", Name: "app"}
	saReporter = finding.Subject{Kind: "ServiceAccount", Namespace: "shop", Name: "reporter"}
	saIdle     = finding.Subject{Kind: "ServiceAccount", Namespace: "shop", Name: "idle"}
)

// The audit logs: plain and gzip, several files, malformed lines named and
// skipped, one request per audit ID, a window, impersonation.
func TestReadAuditLogs(t *testing.T) {
	log := readLogs(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "audit-app.jsonl", "audit-reporter.jsonl.gz")
	var skipped []string
	for _, s := range log.Skipped {
		skipped = append(skipped, s.String())
	}
	want := []string{"testdata/narrow/audit-app.jsonl:5: not JSON", "testdata/narrow/audit-app.jsonl:9: not an audit event"}
	if len(skipped) != 2 || !strings.HasPrefix(skipped[0], want[0]) || !strings.HasPrefix(skipped[1], want[1]) {
		t.Errorf("skipped %q, want prefixes %q", skipped, want)
	}
	// 8 requests of app in the window (the secret read of February is outside), 4 of the reporter.
	if log.InWindow != 11 || log.Events != 13 || log.Levels["Metadata"] != 11 {
		t.Errorf("in window %d, events %d, levels %v", log.InWindow, log.Events, log.Levels)
	}
	var impersonated *inventory.AuditRequest
	for i, r := range log.Requests {
		if r.Name == "flags" {
			impersonated = &log.Requests[i]
		}
	}
	if impersonated == nil || impersonated.User != "system:serviceaccount:shop:app" {
		t.Errorf("an impersonated request is the impersonated user's: %+v", impersonated)
	}
	if _, err := inventory.ReadAuditLogs([]string{filepath.Join("testdata", "narrow", "not-a-log.jsonl")}, nil, time.Time{}, time.Time{}); err == nil ||
		!strings.Contains(err.Error(), "not-a-log.jsonl is not an audit log") {
		t.Errorf("a file that is not an audit log: %v", err)
	}
	if _, err := inventory.ReadAuditLogs([]string{"-"}, strings.NewReader(""), time.Time{}, time.Time{}); err == nil {
		t.Error("an empty stdin is an audit log")
	}
}

func narrowOf(t *testing.T, ns []Narrowing, s finding.Subject) Narrowing {
	t.Helper()
	for _, n := range ns {
		if n.Subject == s {
			return n
		}
	}
	t.Fatalf("no narrowing of %s in %+v", s, ns)
	return Narrowing{}
}

func uses(us []Use) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Request.String())
	}
	return out
}

func TestNarrow(t *testing.T) {
	inv := load(t, "narrow/rbac.yaml")
	log := readLogs(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "audit-app.jsonl", "audit-reporter.jsonl.gz")
	ns := Narrow(inv, log, NarrowOptions{})
	if got := len(ns); got != 3 {
		t.Fatalf("%d subjects, want app, idle and reporter (alice is a user)", got)
	}

	app := narrowOf(t, ns, saApp)
	wantUsed := []string{"get configmaps flags in namespace shop", "get configmaps settings in namespace shop", "list configmaps in namespace shop", "create jobs.batch in namespace shop"}
	if got := uses(app.Covered); !slices.Equal(got, wantUsed) {
		t.Errorf("app used %q, want %q", got, wantUsed)
	}
	if got := uses(app.Denied); len(got) != 1 || got[0] != "create rolebindings.rbac.authorization.k8s.io in namespace shop" {
		t.Errorf("app denied %q", got)
	}
	if got := uses(app.Kept); len(got) != 1 || got[0] != "get /api" {
		t.Errorf("app kept %q", got)
	}
	if len(app.Unused) == 0 || app.Unused[0].Severity < finding.Medium || len(app.Unused[0].Dangerous) == 0 {
		t.Fatalf("app: unused grants are not dangerous first: %+v", app.Unused)
	}
	for i := 1; i < len(app.Unused); i++ {
		if app.Unused[i].Severity > app.Unused[i-1].Severity {
			t.Fatalf("unused grants not sorted by danger at %d: %+v", i, app.Unused[i])
		}
	}
	secrets := false
	for _, u := range app.Unused {
		secrets = secrets || (u.Resource == "secrets" && slices.Contains(u.Dangerous, IDSecretsRead) && u.Binding == "RoleBinding shop/app-edit")
	}
	if !secrets {
		t.Errorf("app: unused secret reads of edit not listed: %+v", app.Unused)
	}
	// One Role in shop: configmaps get by name (two names), list; jobs create (the Job's name is not part of a create).
	if len(app.Roles) != 1 {
		t.Fatalf("app: %d roles", len(app.Roles))
	}
	role := app.Roles[0].(*rbacv1.Role)
	got, _ := yaml.Marshal(role.Rules)
	want := `- apiGroups:
  - ""
  resources:
  - configmaps
  verbs:
  - list
- apiGroups:
  - ""
  resourceNames:
  - flags
  - settings
  resources:
  - configmaps
  verbs:
  - get
- apiGroups:
  - batch
  resources:
  - jobs
  verbs:
  - create
`
	if role.Namespace != "shop" || role.Name != "app-narrowed" || string(got) != want {
		t.Errorf("app role %s/%s rules:\n%s\nwant:\n%s", role.Namespace, role.Name, got, want)
	}
	rb := app.Bindings[0].(*rbacv1.RoleBinding)
	if rb.RoleRef.Name != "app-narrowed" || rb.Subjects[0].Name != "app" || rb.Annotations[NarrowedFromAnnotation] != "RoleBinding shop/app-edit" {
		t.Errorf("app binding %+v", rb)
	}
	// The remedy: create the role, then its binding, then delete the broad binding (app is its only subject).
	f := app.Finding
	if f == nil || f.Check != CheckNarrow || f.Remediation == nil {
		t.Fatalf("app finding %+v", f)
	}
	var acts []string
	for _, c := range f.Remediation.Changes {
		acts = append(acts, string(c.Action)+" "+c.Target.Kind+" "+c.Target.Name)
	}
	if !slices.Equal(acts, []string{"apply Role app-narrowed", "apply RoleBinding app-narrowed", "delete RoleBinding app-edit"}) {
		t.Errorf("changes %q", acts)
	}
	if c := f.Remediation.Changes[2]; c.ResourceVersion != "11" {
		t.Errorf("the delete has no resourceVersion precondition: %+v", c)
	}

	rep := narrowOf(t, ns, saReporter)
	kinds := map[string]string{}
	for _, r := range rep.Roles {
		b, _ := yaml.Marshal(r)
		kinds[r.GetObjectKind().GroupVersionKind().Kind] = string(b)
	}
	// All-namespace list and the node are cluster-wide; the pod read by name and the watch in shop are a Role there.
	if !strings.Contains(kinds["ClusterRole"], "name: shop-reporter-narrowed") || !strings.Contains(kinds["ClusterRole"], "- n1") ||
		!strings.Contains(kinds["Role"], "- web-0") || !strings.Contains(kinds["Role"], "- watch") {
		t.Errorf("reporter roles:\n%s\n%s", kinds["ClusterRole"], kinds["Role"])
	}
	if rep.Unused[0].Resource != "secrets" || rep.Unused[0].Severity != finding.High {
		t.Errorf("reporter: the unused cluster-wide secret read is not first: %+v", rep.Unused[0])
	}
	// alice stays in the ClusterRoleBinding: the reporter is taken out by a patch.
	if c := rep.Finding.Remediation.Changes[len(rep.Finding.Remediation.Changes)-1]; c.Action != remedy.Patch || !strings.Contains(string(c.Patch), "alice") || strings.Contains(string(c.Patch), "reporter") {
		t.Errorf("reporter: last change %s %s", c.Action, c.Patch)
	}

	idle := narrowOf(t, ns, saIdle)
	if idle.Finding != nil || !strings.Contains(idle.Note, "made no request in the window") {
		t.Errorf("idle was narrowed to nothing: %+v", idle)
	}
	idle = Narrow(inv, log, NarrowOptions{Subjects: []finding.Subject{saIdle}, AllowEmpty: true})[0]
	if idle.Finding == nil || len(idle.Roles) != 0 || idle.Finding.Remediation.Changes[0].Action != remedy.Delete {
		t.Errorf("--allow-empty: %+v", idle)
	}
	// Users on request.
	withUsers := Narrow(inv, log, NarrowOptions{Users: true})
	if len(withUsers) != 4 {
		t.Errorf("with users: %d subjects", len(withUsers))
	}
}

// The generated roles provably cover every used request and nothing outside
// the used verbs and resources: on random use of a subject bound to
// everything, the narrowed roles alone (read back as an inventory, judged by
// the same matcher as the authorizer) allow each used request, and every
// probe they allow has the verb, resource and scope of some used request.
func TestNarrowProperty(t *testing.T) {
	type res struct{ group, resource, sub string }
	resources := []res{{"", "pods", ""}, {"", "configmaps", ""}, {"", "secrets", ""}, {"apps", "deployments", ""}, {"", "nodes", ""},
		{"", "pods", "exec"}, {"", "pods", "log"}, {"", "namespaces", ""}, {"batch", "jobs", ""}}
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	spaces := []string{"a", "b", ""}
	names := []string{"x", "y", "z", "w", "v", "u", "t"}
	sa := finding.Subject{Kind: "ServiceAccount", Namespace: "a", Name: "app"}
	random := func(r *rand.Rand) Request {
		rs := resources[r.IntN(len(resources))]
		req := Request{Verb: verbs[r.IntN(len(verbs))], Group: rs.group, Resource: rs.resource, Subresource: rs.sub, Namespace: spaces[r.IntN(len(spaces))]}
		if requestHasName(req.Verb, req.resource()) {
			req.Name = names[r.IntN(len(names))]
		}
		if rs.resource == "nodes" {
			req.Namespace = ""
		}
		if rs.resource == "namespaces" {
			// As RequestInfo gives it: a namespace object is in itself; the collection is cluster-scoped.
			req.Namespace = req.Name
		}
		return req
	}
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		inv := load(t, "narrow/rbac.yaml")
		inv.ClusterRoles = append(inv.ClusterRoles, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "all"},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}})
		inv.ClusterRoleBindings = append(inv.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "app-all"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "all"}, Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "a", Name: "app"}}})
		log := &inventory.AuditLog{Levels: map[string]int{}}
		var used []Request
		for range 1 + r.IntN(12) {
			q := random(r)
			used = append(used, q)
			log.Requests = append(log.Requests, inventory.AuditRequest{User: "system:serviceaccount:a:app", Verb: q.Verb, Group: q.Group,
				Resource: q.Resource, Subresource: q.Subresource, Namespace: q.Namespace, Name: q.Name, Allowed: true})
		}
		n := Narrow(inv, log, NarrowOptions{Subjects: []finding.Subject{sa}})[0]
		if n.Finding == nil {
			t.Fatalf("seed %d: nothing proposed: %s", seed, n.Note)
		}
		after := narrowedInventory(t, n)
		a := Analyze(after)
		for _, q := range used {
			if len(a.Allows(sa, q)) == 0 {
				t.Fatalf("seed %d: the narrowed roles do not allow the used request %s\n%s", seed, q, dump(n))
			}
		}
		for range 300 {
			p := random(r)
			if len(a.Allows(sa, p)) == 0 {
				continue
			}
			ok := slices.ContainsFunc(used, func(u Request) bool {
				if u.Verb != p.Verb || u.Group != p.Group || u.Resource != p.Resource || u.Subresource != p.Subresource {
					return false
				}
				switch {
				case u.Resource == "namespaces" && requestHasName(u.Verb, "namespaces"):
					return u.Name == p.Name
				case u.Resource == "nodes" || u.Namespace == "":
					return true
				}
				return u.Namespace == p.Namespace
			})
			if !ok {
				t.Fatalf("seed %d: the narrowed roles allow %s, which no use asked for\nused: %v\n%s", seed, p, used, dump(n))
			}
		}
	}
}

// narrowedInventory is the RBAC state the narrowing leaves for the subject: the generated roles and bindings only.
func narrowedInventory(t *testing.T, n Narrowing) *inventory.Inventory {
	t.Helper()
	inv := inventory.New()
	for _, o := range append(append([]runtime.Object{}, n.Roles...), n.Bindings...) {
		switch v := o.(type) {
		case *rbacv1.Role:
			inv.Roles = append(inv.Roles, *v)
		case *rbacv1.ClusterRole:
			inv.ClusterRoles = append(inv.ClusterRoles, *v)
		case *rbacv1.RoleBinding:
			inv.RoleBindings = append(inv.RoleBindings, *v)
		case *rbacv1.ClusterRoleBinding:
			inv.ClusterRoleBindings = append(inv.ClusterRoleBindings, *v)
		}
	}
	return inv
}

func dump(n Narrowing) string {
	var b strings.Builder
	for _, o := range n.Roles {
		y, _ := yaml.Marshal(o)
		b.Write(y)
		b.WriteString("---\n")
	}
	return b.String()
}
