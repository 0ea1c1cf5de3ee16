package e2e

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// A ServiceAccount bound to an edit-like role (testdata/rbac-narrow) makes a few requests through the real
// kubectl (--as); narrow reads the API server's audit log and proposes a Role
// with just those; the session applies it; SubjectAccessReview and real
// requests then allow what was used and forbid what was not (get secrets);
// undo restores the broad binding.
func TestNarrowFromTheAuditLog(t *testing.T) {
	apply(t, "rbac-narrow")
	const ns, sa = "narrow-shop", "narrow-app"
	as := "--as=system:serviceaccount:" + ns + ":" + sa
	start := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	job := `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"narrow-nightly"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`
	for _, args := range [][]string{
		{"get", "configmap", "narrow-settings", "-n", ns, as},
		{"get", "configmaps", "-n", ns, as},
		{"create", "-n", ns, as, "-f", "-"},
	} {
		var in io.Reader
		if args[0] == "create" {
			in = strings.NewReader(job)
		}
		res, err := env.Kubectl(in, args...)
		if err != nil || res.Code != 0 {
			t.Fatalf("kubectl %v: %v %s", args, err, res.Stderr)
		}
	}
	subject := finding.Subject{Kind: "ServiceAccount", Namespace: ns, Name: sa}
	used := []rbac.Request{
		{Verb: "get", Resource: "configmaps", Namespace: ns, Name: "narrow-settings"},
		{Verb: "list", Resource: "configmaps", Namespace: ns},
		{Verb: "create", Group: "batch", Resource: "jobs", Namespace: ns},
	}
	unused := []rbac.Request{
		{Verb: "get", Resource: "secrets", Namespace: ns, Name: "narrow-db"},
		{Verb: "get", Resource: "configmaps", Namespace: ns, Name: "other"},
		{Verb: "delete", Group: "batch", Resource: "jobs", Namespace: ns, Name: "narrow-nightly"},
		{Verb: "create", Resource: "pods", Namespace: ns},
	}
	c := sarClient(t)
	for _, r := range append(append([]rbac.Request(nil), used...), unused...) {
		if !sarAllowed(t, c, subject, r) {
			t.Fatalf("before narrowing, edit should allow %s", r)
		}
	}

	// The audit log is written as requests complete: wait for the Job's create.
	var list struct {
		Events int `json:"events"`
		Items  []struct {
			Subject finding.Subject `json:"subject"`
			Used    []rbac.Use      `json:"used"`
			Unused  []rbac.UnusedGrant
			Note    string `json:"note"`
		} `json:"items"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := mustHarden(t, "rbac", "narrow", ns+"/"+sa, "--audit-log", env.AuditLog, "--since", start, "-o", "json")
		if err := json.Unmarshal([]byte(res.Stdout), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 1 && len(list.Items[0].Used) == len(used) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(list.Items) != 1 || len(list.Items[0].Used) != len(used) {
		t.Fatalf("narrow saw %+v, want the %d used requests", list.Items, len(used))
	}
	for i, u := range list.Items[0].Used {
		if u.Request != used[i] {
			t.Errorf("used[%d] = %s, want %s", i, u.Request, used[i])
		}
	}
	if len(list.Items[0].Unused) == 0 || list.Items[0].Unused[0].Severity < finding.Medium {
		t.Errorf("unused grants not dangerous first: %+v", list.Items[0].Unused)
	}

	// The session applies the narrowing: the Role, its binding, then the delete of the broad binding.
	journals := filepath.Join(t.TempDir(), "journals")
	d := pipeDialogue(t, nil, "rbac", "narrow", ns+"/"+sa, "--audit-log", env.AuditLog, "--since", start, "--fix", "--journal-dir", journals)
	var changes []string
	for {
		seg, ok := d.prompt()
		if !ok {
			break
		}
		changes = append(changes, changeLine(seg))
		if !strings.Contains(seg, "Server dry-run: accepted") {
			t.Errorf("dry-run not accepted:\n%s", seg)
		}
		d.answer("y")
	}
	out, code := d.wait()
	if code != 0 || len(changes) != 3 || !strings.HasPrefix(changes[2], "Change: delete") {
		t.Fatalf("session: exit %d, changes %q\n%s\n%s", code, changes, out, d.stderr.String())
	}
	if objs := snapshot(t, roleBindingTarget(ns, "narrow-app-edit")); objs[0] != nil {
		t.Fatal("the broad binding is still there")
	}

	// SubjectAccessReview and real requests: what was used still works, what was not is forbidden.
	for _, r := range used {
		if !sarAllowed(t, c, subject, r) {
			t.Errorf("after narrowing, %s is denied", r)
		}
	}
	for _, r := range unused {
		if sarAllowed(t, c, subject, r) {
			t.Errorf("after narrowing, %s (never used) is still allowed", r)
		}
	}
	if res, _ := env.Kubectl(nil, "get", "configmap", "narrow-settings", "-n", ns, as); res.Code != 0 {
		t.Errorf("a used request fails as the ServiceAccount: %s", res.Stderr)
	}
	if res, _ := env.Kubectl(nil, "get", "secret", "narrow-db", "-n", ns, as); res.Code == 0 || !strings.Contains(res.Stderr, "forbidden") {
		t.Errorf("get secrets as the ServiceAccount: exit %d %s", res.Code, res.Stderr)
	}

	// undo restores the broad binding (and removes what the session created).
	if res := harden(t, "undo", "--journal-dir", journals); res.Code != 0 {
		t.Fatalf("undo: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if objs := snapshot(t, roleBindingTarget(ns, "narrow-app-edit"), remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Namespace: ns, Name: sa + "-narrowed"}); objs[0] == nil || objs[1] != nil {
		t.Errorf("after undo: broad binding %v, narrowed role %v", objs[0] != nil, objs[1] != nil)
	}
	if !sarAllowed(t, c, subject, unused[0]) {
		t.Error("after undo, edit's secret read is not back")
	}
}
