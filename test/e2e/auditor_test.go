package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The ClusterRole `kubectl harden auditor-role` prints is applied with the
// real kubectl and bound to an RBAC-limited user: the audit runs as that
// user, the API server confirms what the role does not allow, and the
// admin's audit recognises the role. Objects are named auditor-*, and removed
// again, since every test shares the API server.

// applyAuditorRole prints the auditor role with args, applies it with
// kubectl, binds it to a new user and returns the user's kubeconfig and the
// printed command's stderr. Both objects are deleted after the test.
func applyAuditorRole(t *testing.T, name, user string, args ...string) (kubeconfig, note string) {
	t.Helper()
	printed := mustHarden(t, append([]string{"auditor-role", "--name", name}, args...)...)
	ctx := context.Background()
	client := env.Client.RbacV1()
	t.Cleanup(func() {
		_ = client.ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = client.ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
	})
	// As the help says: the output, comment and all, piped to kubectl apply.
	res, err := env.Kubectl(strings.NewReader(printed.Stdout), "apply", "-f", "-")
	if err != nil || res.Code != 0 {
		t.Fatalf("kubectl apply -f - of the printed role: %v exit %d\n%s\n%s", err, res.Code, res.Stderr, printed.Stdout)
	}
	role, err := client.ClusterRoles().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the applied role: %v", err)
	}
	if role.Labels[rbac.AuditorRoleLabel] != "true" {
		t.Errorf("applied role labels %v, want %s=true", role.Labels, rbac.AuditorRoleLabel)
	}
	kubeconfig, _, err = env.AddUser(user)
	if err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	if _, err := client.ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, printed.Stderr
}

// secretCheckIDs are the registered checks that read Secrets, sorted.
func secretCheckIDs(t *testing.T) []string {
	t.Helper()
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range reg.All() {
		if slices.Contains(c.Needs, inventory.Secrets) {
			out = append(out, c.ID)
		}
	}
	if len(out) == 0 {
		t.Fatal("no registered check reads Secrets")
	}
	slices.Sort(out)
	return out
}

// auditorBindingFindings returns the admin's rbac findings on the binding
// of the auditor role, or about its user, and fails on any above info or
// with a change for fix and -o patch to make.
func auditorBindingFindings(t *testing.T, binding, user string) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, f := range rbacReport(t).Items {
		onBinding := f.Resource.Kind == "ClusterRoleBinding" && f.Resource.Name == binding
		aboutUser := f.Subject != nil && f.Subject.Kind == "User" && f.Subject.Name == user
		if !onBinding && !aboutUser {
			continue
		}
		out = append(out, f)
		if f.Severity > finding.Info {
			t.Errorf("the auditor role's binding gives a %s finding: %s %s", f.Severity, f.Check, f.Message)
		}
		if f.Remediation != nil && len(f.Remediation.Changes) > 0 {
			t.Errorf("%s offers to change the auditor's access: %+v", f.Check, f.Remediation.Changes)
		}
	}
	return out
}

func TestAuditorRoleLeavesSecretsOut(t *testing.T) {
	const name, user = "auditor-default", "auditor-default-user"
	kubeconfig, note := applyAuditorRole(t, name, user)
	want := secretCheckIDs(t)
	for _, id := range want {
		if !strings.Contains(note, id) {
			t.Errorf("auditor-role does not say on stderr that %s will be skipped: %q", id, note)
		}
	}

	// The audit as the auditor runs (report fails unless it exits 0), and
	// skips exactly the checks that read Secrets, saying why.
	r, stderr := report(t, kubeconfig)
	var skipped []string
	for _, s := range r.Summary.Skipped {
		skipped = append(skipped, s.Check)
		if !strings.Contains(s.Reason, "cannot list secrets") || !strings.Contains(s.Reason, "forbidden") {
			t.Errorf("%s skipped for %q, want cannot list secrets: forbidden", s.Check, s.Reason)
		}
	}
	slices.Sort(skipped)
	if !slices.Equal(skipped, want) {
		t.Errorf("summary.skipped %v, want the checks that read Secrets %v (stderr %q)", skipped, want, stderr)
	}
	for _, id := range want {
		if len(findingsOf(r, id)) > 0 {
			t.Errorf("skipped check %s reported findings", id)
		}
	}

	// The API server agrees: the auditor may read neither Secret values nor the list.
	for _, verb := range []string{"get", "list", "watch"} {
		res, err := env.KubectlAs(kubeconfig, nil, "auth", "can-i", verb, "secrets", "--all-namespaces")
		if err != nil || res.Code != 1 || strings.TrimSpace(res.Stdout) != "no" {
			t.Errorf("kubectl auth can-i %s secrets -A as %s: %v exit %d %q, want no", verb, user, err, res.Code, res.Stdout)
		}
		if sarAllowed(t, sarClient(t), finding.Subject{Kind: "User", Name: user}, rbac.Request{Verb: verb, Resource: "secrets", Namespace: "default", Name: "any"}) {
			t.Errorf("SubjectAccessReview: %s may %s secrets", user, verb)
		}
	}
	if !sarAllowed(t, sarClient(t), finding.Subject{Kind: "User", Name: user}, rbac.Request{Verb: "list", Resource: "pods"}) {
		t.Errorf("SubjectAccessReview: %s may not list pods: the role is not bound", user)
	}

	// The admin's audit finds nothing to say about the binding.
	if fs := auditorBindingFindings(t, name, user); len(fs) > 0 {
		t.Errorf("the default auditor role gives findings: %s", fs[0].Message)
	}
}

func TestAuditorRoleWithSecretsIsRecognised(t *testing.T) {
	const name, user = "auditor-secrets", "auditor-secrets-user"
	kubeconfig, note := applyAuditorRole(t, name, user, "--with-secrets")
	if note != "" {
		t.Errorf("auditor-role --with-secrets warns: %q", note)
	}
	r, stderr := report(t, kubeconfig)
	if len(r.Summary.Skipped) > 0 {
		t.Errorf("with --with-secrets nothing should be skipped: %+v, stderr %q", r.Summary.Skipped, stderr)
	}
	if !sarAllowed(t, sarClient(t), finding.Subject{Kind: "User", Name: user}, rbac.Request{Verb: "list", Resource: "secrets"}) {
		t.Fatalf("SubjectAccessReview: %s may not list secrets", user)
	}
	// What the role really allows is still reported, at info, as the auditor role's.
	fs := auditorBindingFindings(t, name, user)
	i := slices.IndexFunc(fs, func(f finding.Finding) bool { return f.Check == "rbac/secrets-read" })
	if i < 0 {
		t.Fatalf("no rbac/secrets-read finding for the auditor role's Secret reads: %d findings", len(fs))
	}
	if !strings.Contains(fs[i].Message, "auditor role") {
		t.Errorf("message does not say it is the auditor role: %s", fs[i].Message)
	}
}
