package e2e

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	fixsession "github.com/kubectl-harden/kubectl-harden/pkg/apply"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// The checks whose remedies the fix tests drive: a RoleBinding deletion, the
// default-deny NetworkPolicies, and the Pod Security labels of a namespace.
var fixChecks = []string{"--check", "rbac/cluster-admin-binding", "--check", "netpol/namespace-without-policy", "--check", "psa/enforce-missing"}

func namespaceTarget(name string) remedy.Target {
	return remedy.Target{APIVersion: "v1", Kind: "Namespace", Name: name}
}

func roleBindingTarget(ns, name string) remedy.Target {
	return remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Namespace: ns, Name: name}
}

func networkPolicyTarget(ns, name string) remedy.Target {
	return remedy.Target{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: ns, Name: name}
}

// snapshot reads the targets (nil for an absent object) through the plugin's own client.
func snapshot(t *testing.T, targets ...remedy.Target) []*unstructured.Unstructured {
	t.Helper()
	c, err := fixsession.NewClientForConfig(env.Config, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*unstructured.Unstructured, len(targets))
	for i, tg := range targets {
		if out[i], err = c.Get(context.Background(), tg); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameObjects fails the test where two snapshots differ beyond server-set metadata.
func sameObjects(t *testing.T, what string, targets []remedy.Target, want, got []*unstructured.Unstructured) {
	t.Helper()
	for i, tg := range targets {
		if !render.Equal(want[i], got[i]) {
			a, _ := render.ToYAML(want[i])
			b, _ := render.ToYAML(got[i])
			t.Errorf("%s: %s differs\nwant:\n%s\ngot:\n%s", what, tg, a, b)
		}
	}
}

// dialogue runs `kubectl harden ARGS` and lets a test read each question
// before it answers, as a person at the terminal does.
type dialogue struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.Writer
	chunks chan []byte
	text   strings.Builder
	mark   int
	stderr strings.Builder
	ptmx   *os.File
}

// fixCommand is the real kubectl with the plugin on PATH, like env.Kubectl,
// with the caller's extra environment.
func fixCommand(extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(env.BinDir, "kubectl"), append([]string{"harden"}, args...)...)
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "NO_COLOR", "KUBECONFIG", "HOME", "PATH", "KUBE_EDITOR", "EDITOR", "TERM":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "KUBECONFIG="+env.Kubeconfig, "HOME="+env.Dir,
		"PATH="+env.PluginDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

// pipeDialogue talks to the session through pipes (no terminal: no colour).
func pipeDialogue(t *testing.T, extraEnv []string, args ...string) *dialogue {
	t.Helper()
	return pipeDialogueIn(t, "", extraEnv, args...)
}

// pipeDialogueIn is pipeDialogue in a working directory ("" is the test's).
func pipeDialogueIn(t *testing.T, dir string, extraEnv []string, args ...string) *dialogue {
	t.Helper()
	d := &dialogue{t: t, cmd: fixCommand(append(extraEnv, "NO_COLOR=1"), args...)}
	d.cmd.Dir = dir
	in, err := d.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = &d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.in = in
	d.read(out)
	return d
}

// ptyDialogue talks to the session through a real terminal.
func ptyDialogue(t *testing.T, args ...string) *dialogue {
	t.Helper()
	return ptyDialogueEnv(t, nil, args...)
}

// ptyDialogueEnv is ptyDialogue with extra environment (an editor).
func ptyDialogueEnv(t *testing.T, extraEnv []string, args ...string) *dialogue {
	t.Helper()
	d := &dialogue{t: t, cmd: fixCommand(append([]string{"TERM=xterm-256color"}, extraEnv...), args...)}
	ptmx, err := pty.StartWithSize(d.cmd, &pty.Winsize{Rows: 60, Cols: 220})
	if err != nil {
		t.Fatal(err)
	}
	d.ptmx, d.in = ptmx, ptmx
	d.read(ptmx)
	return d
}

func (d *dialogue) read(r io.Reader) {
	d.chunks = make(chan []byte, 64)
	go func() {
		defer close(d.chunks)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				d.chunks <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				return // EOF on a pipe, EIO on a terminal whose process ended
			}
		}
	}()
}

const promptEnd = "[q]uit: "

// prompt waits for the next question and returns the output since the
// previous one; false when the session ended without another question.
func (d *dialogue) prompt() (string, bool) {
	d.t.Helper()
	return d.until(promptEnd)
}

// until waits for text that ends a question (promptEnd, or a line asked
// for after an answer) and returns the output up to it.
func (d *dialogue) until(text string) (string, bool) {
	d.t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		all := d.text.String()
		if i := strings.Index(all[d.mark:], text); i >= 0 {
			end := d.mark + i + len(text)
			seg := all[d.mark:end]
			d.mark = end
			return seg, true
		}
		select {
		case b, ok := <-d.chunks:
			if !ok {
				// The rest stays unread: wait returns it.
				return all[d.mark:], false
			}
			d.text.Write(b)
		case <-deadline:
			d.t.Fatalf("no question within 90s; output so far:\n%s\nstderr:\n%s", d.text.String(), d.stderr.String())
		}
	}
}

func (d *dialogue) answer(s string) {
	d.t.Helper()
	if _, err := io.WriteString(d.in, s+"\n"); err != nil {
		d.t.Fatalf("answer %q: %v", s, err)
	}
}

// wait reads the rest of the output and returns it with the exit status.
func (d *dialogue) wait() (string, int) {
	d.t.Helper()
	for {
		seg, ok := d.prompt()
		if !ok {
			break
		}
		// More questions than the test expected: show them in the failure.
		d.t.Errorf("unexpected question:\n%s", seg)
		d.answer("q")
	}
	if c, ok := d.in.(io.Closer); ok && d.ptmx == nil {
		c.Close()
	}
	err := d.cmd.Wait()
	if d.ptmx != nil {
		d.ptmx.Close()
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatal(err)
	}
	return d.text.String()[d.mark:], code
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// changeLine returns the last "Change: ..." line of a stretch of session
// output, without colours: the change the question is about.
func changeLine(seg string) string {
	last := ""
	for _, l := range strings.Split(ansi.ReplaceAllString(seg, ""), "\n") {
		if strings.HasPrefix(l, "Change: ") {
			last = strings.TrimSpace(l)
		}
	}
	return last
}

var journalLine = regexp.MustCompile(`(?m)^Journal: (\S+)`)

func TestFixSessionAppliesAndUndoRestores(t *testing.T) {
	apply(t, "fix", "session.yaml")
	const ns = "fix-session"
	targets := []remedy.Target{
		namespaceTarget(ns),
		roleBindingTarget(ns, "fix-deployer-admin"),
		networkPolicyTarget(ns, "default-deny"),
		networkPolicyTarget(ns, "allow-dns-egress"),
	}
	before := snapshot(t, targets...)
	if before[1] == nil || before[2] != nil {
		t.Fatalf("seed: binding %v, default-deny %v", before[1], before[2])
	}

	d := pipeDialogue(t, nil, append([]string{"fix", "-n", ns}, fixChecks...)...)
	var cur string
	asked := map[string]int{}
	for {
		seg, ok := d.prompt()
		if !ok {
			break
		}
		if c := changeLine(seg); c != "" {
			cur = c
		}
		asked[cur]++
		switch n := asked[cur]; {
		case strings.HasPrefix(cur, "Change: delete rolebinding.rbac.authorization.k8s.io/fix-deployer-admin -n fix-session") && n == 1:
			d.answer("d")
		case strings.HasPrefix(cur, "Change: delete rolebinding") && n == 2:
			if !strings.Contains(seg, "controls: CIS-5.1.1") || !strings.Contains(seg, "The change (delete") {
				t.Errorf("[d]etail does not show the controls and the change:\n%s", seg)
			}
			d.answer("y")
		case strings.Contains(cur, "networkpolicy.networking.k8s.io/allow-dns-egress") && n == 1:
			d.answer("maybe")
		case strings.Contains(cur, "networkpolicy.networking.k8s.io/allow-dns-egress"):
			if !strings.Contains(seg, "Please answer one of") {
				t.Errorf("an unknown answer was not asked again:\n%s", seg)
			}
			d.answer("n")
		case strings.Contains(cur, "networkpolicy.networking.k8s.io/default-deny -n fix-session"):
			for _, want := range []string{"+  podSelector: {}", "Server dry-run: accepted", "May break:", "pod fix-session/api loses all ingress"} {
				if !strings.Contains(seg, want) {
					t.Errorf("default-deny question lacks %q:\n%s", want, seg)
				}
			}
			d.answer("y")
		case strings.HasPrefix(cur, "Change: apply namespace/fix-session"):
			if !strings.Contains(seg, "+    pod-security.kubernetes.io/") {
				t.Errorf("the label change shows no diff:\n%s", seg)
			}
			d.answer("yes")
		default:
			t.Errorf("unexpected question (answered no):\n%s", seg)
			d.answer("n")
		}
	}
	out, code := d.wait()
	if code != 0 {
		t.Fatalf("fix exit %d\n%s\nstderr: %s", code, d.text.String(), d.stderr.String())
	}
	if !strings.Contains(out, "Summary: 4 applied, 1 skipped, 0 failed") {
		t.Fatalf("summary:\n%s", d.text.String())
	}

	after := snapshot(t, targets...)
	if after[1] != nil {
		t.Error("the cluster-admin RoleBinding was not deleted")
	}
	if after[3] != nil {
		t.Error("allow-dns-egress was applied after a no")
	}
	if after[2] == nil {
		t.Fatal("default-deny was not created")
	}
	if types, _, _ := unstructured.NestedStringSlice(after[2].Object, "spec", "policyTypes"); strings.Join(types, ",") != "Ingress,Egress" {
		t.Errorf("default-deny policyTypes = %v", types)
	}
	labels := after[0].GetLabels()
	for k, v := range map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted",
		"pod-security.kubernetes.io/audit": "restricted", "team": "payments"} {
		if labels[k] != v {
			t.Errorf("namespace label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
		}
	}
	if m := after[2].GetManagedFields(); len(m) == 0 || m[0].Manager != remedy.FieldManager {
		t.Errorf("default-deny is not managed by %s: %+v", remedy.FieldManager, m)
	}

	// The journal: under ~/.kube/harden, only the user may read it, the old
	// RoleBinding copied in full before it was deleted.
	m := journalLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no journal named:\n%s", out)
	}
	path := m[1]
	if filepath.Dir(path) != filepath.Join(env.Dir, ".kube", "harden") {
		t.Errorf("journal %s is not under the kube config dir %s", path, filepath.Join(env.Dir, ".kube"))
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (err %v), want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	entries, err := fixsession.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, e := range entries {
		states = append(states, string(e.State))
		if e.Action == remedy.Delete && e.State == fixsession.Pending && !render.Equal(e.Old, before[1]) {
			t.Errorf("journaled RoleBinding is not the one deleted: %v", e.Old)
		}
		if e.Context == "" || strings.TrimSuffix(e.Server, "/") != strings.TrimSuffix(env.Config.Host, "/") {
			t.Errorf("journal entry without the context or the server %s: %+v", env.Config.Host, e)
		}
	}
	if got := strings.Join(states, ","); got != "pending,applied,pending,applied,pending,applied,pending,applied" {
		t.Errorf("journal states %s: each change must be journaled before its outcome", got)
	}

	res := mustHarden(t, "undo", "--journal", path)
	if !strings.Contains(res.Stdout, "Undo: 4 of 4 changes undone") {
		t.Errorf("undo:\n%s", res.Stdout)
	}
	sameObjects(t, "after undo", targets, before, snapshot(t, targets...))

	res = mustHarden(t, "undo", "--journal", path)
	if !strings.Contains(res.Stdout, "Nothing to undo") {
		t.Errorf("a second undo:\n%s", res.Stdout)
	}
}

func TestFixConflictLeavesObjectAlone(t *testing.T) {
	apply(t, "fix", "conflict.yaml")
	const ns = "fix-conflict"
	ctx := context.Background()
	journals := filepath.Join(t.TempDir(), "journals")
	d := pipeDialogue(t, nil, "fix", "-n", ns, "--journal-dir", journals,
		"--check", "rbac/cluster-admin-binding", "--check", "psa/enforce-missing")
	touch := func(obj metav1.Object) {
		l := obj.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		// A new value each time, so the write is a change even when the test runs again.
		l["touched-by"] = "someone-else-" + strconv.FormatInt(time.Now().UnixNano(), 10)
		obj.SetLabels(l)
	}
	var cur string
	for {
		seg, ok := d.prompt()
		if !ok {
			break
		}
		if c := changeLine(seg); c != "" {
			cur = c
		}
		switch {
		case strings.HasPrefix(cur, "Change: delete rolebinding.rbac.authorization.k8s.io/fix-conflict-admin -n"):
			// Someone deletes the second binding, and changes this one after
			// the session read it and before the yes.
			if err := env.Client.RbacV1().RoleBindings(ns).Delete(ctx, "fix-conflict-admin-2", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			rb, err := env.Client.RbacV1().RoleBindings(ns).Get(ctx, "fix-conflict-admin", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			touch(rb)
			if _, err := env.Client.RbacV1().RoleBindings(ns).Update(ctx, rb, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			d.answer("y")
		case strings.Contains(cur, "Warn and audit"):
			if !strings.Contains(seg, "Failed: conflict: rolebinding.rbac.authorization.k8s.io/fix-conflict-admin -n fix-conflict changed since it was shown") {
				t.Errorf("the conflict on the binding is not reported:\n%s", seg)
			}
			if !strings.Contains(seg, "fix-conflict-admin-2 -n fix-conflict: delete") || !strings.Contains(seg, "Already in place") {
				t.Errorf("the deletion someone else made is not taken as in place:\n%s", seg)
			}
			n, err := env.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			touch(n)
			if _, err := env.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			d.answer("y")
		default:
			// The session went on after two conflicts.
			if !strings.Contains(seg, "Failed: conflict: namespace/fix-conflict changed since it was shown") {
				t.Errorf("the conflict on the namespace is not reported:\n%s", seg)
			}
			d.answer("n")
		}
	}
	out, code := d.wait()
	if code != 1 || !strings.Contains(out, "Summary: 0 applied, 1 skipped, 2 failed, 1 already in place") || !strings.Contains(d.stderr.String(), "2 of 4 changes failed") {
		t.Fatalf("exit %d, want 1 with two failures\n%s\nstderr: %s", code, d.text.String(), d.stderr.String())
	}

	rb, err := env.Client.RbacV1().RoleBindings(ns).Get(ctx, "fix-conflict-admin", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the binding is gone after a conflict: %v", err)
	}
	if !strings.HasPrefix(rb.Labels["touched-by"], "someone-else-") || len(rb.Subjects) != 1 {
		t.Errorf("the other writer's change to the binding was lost: %+v", rb)
	}
	n, err := env.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(n.Labels["touched-by"], "someone-else-") || n.Labels["pod-security.kubernetes.io/warn"] != "" {
		t.Errorf("namespace labels after the conflict: %v", n.Labels)
	}
	path, err := fixsession.LatestJournal(journals)
	if err != nil {
		t.Fatal(err)
	}
	latest := fixsession.Latest(mustJournal(t, path))
	if len(latest) != 2 || latest[0].State != fixsession.Failed || latest[1].State != fixsession.Failed {
		t.Errorf("journal: %+v", latest)
	}
	if res := mustHarden(t, "undo", "--journal-dir", journals); !strings.Contains(res.Stdout, "Nothing to undo") {
		t.Errorf("undo after failed changes:\n%s", res.Stdout)
	}
}

func mustJournal(t *testing.T, path string) []fixsession.Entry {
	t.Helper()
	e, err := fixsession.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFixEditRevalidates(t *testing.T) {
	apply(t, "fix", "edit.yaml")
	const ns = "fix-edit"
	// The editor raises the proposed enforce level and breaks the NetworkPolicy's policyTypes.
	script := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsed -i -e 's/enforce: baseline/enforce: restricted/' -e 's/- Ingress/- Sideways/' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	journals := filepath.Join(t.TempDir(), "journals")
	d := pipeDialogue(t, []string{"KUBE_EDITOR=" + script}, "fix", "-n", ns, "--journal-dir", journals,
		"--check", "netpol/namespace-without-policy", "--check", "psa/enforce-missing")
	var cur string
	asked := map[string]int{}
	for {
		seg, ok := d.prompt()
		if !ok {
			break
		}
		// The edited change is the same item: its description is now "edited by you".
		if c := changeLine(seg); c != "" && !strings.Contains(c, fixsession.EditedDescription) {
			cur = c
		}
		asked[cur]++
		n := asked[cur]
		switch {
		case strings.Contains(cur, "/default-deny") && n == 1:
			d.answer("e")
		case strings.Contains(cur, "/default-deny") && n == 2:
			for _, want := range []string{fixsession.EditedDescription, "Server dry-run: REJECTED", "Sideways", "The server rejects this change."} {
				if !strings.Contains(seg, want) {
					t.Errorf("the edited policy's question lacks %q:\n%s", want, seg)
				}
			}
			if strings.Contains(seg[strings.LastIndex(seg, "\n")+1:], "[y]es") {
				t.Errorf("a rejected change is offered a yes:\n%s", seg)
			}
			d.answer("y")
		case strings.Contains(cur, "/default-deny") && n == 3:
			if !strings.Contains(seg, "never applied as it is") {
				t.Errorf("a yes to a rejected change was not refused:\n%s", seg)
			}
			d.answer("n")
		case strings.Contains(cur, "Enforce baseline") && n == 1:
			if !strings.Contains(seg, "Takes over fields another field manager set") || !strings.Contains(seg, `.metadata.labels.pod-security.kubernetes.io/warn, owned by "kubectl"`) {
				t.Errorf("taking over the seeded warn label is not said:\n%s", seg)
			}
			d.answer("e")
		case strings.Contains(cur, "Enforce baseline") && n == 2:
			// The dry-run of the edited label names the pod restricted would reject.
			for _, want := range []string{fixsession.EditedDescription, "+    pod-security.kubernetes.io/enforce: restricted", "Warning:", "legacy-app",
				"May break (judged on your edit):", "new pods of"} {
				if !strings.Contains(seg, want) {
					t.Errorf("the edited label change's question lacks %q:\n%s", want, seg)
				}
			}
			d.answer("y")
		default:
			d.answer("n")
		}
	}
	out, code := d.wait()
	if code != 0 || !strings.Contains(out, "Summary: 1 applied, 3 skipped, 0 failed") {
		t.Fatalf("exit %d\n%s\nstderr: %s", code, d.text.String(), d.stderr.String())
	}
	objs := snapshot(t, namespaceTarget(ns), networkPolicyTarget(ns, "default-deny"))
	if got := objs[0].GetLabels()["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("enforce = %q: the edited change was not the one applied", got)
	}
	if objs[1] != nil {
		t.Error("the rejected NetworkPolicy exists")
	}
	mustHarden(t, "undo", "--journal-dir", journals)
	if got := snapshot(t, namespaceTarget(ns))[0].GetLabels()["pod-security.kubernetes.io/enforce"]; got != "" {
		t.Errorf("after undo enforce = %q", got)
	}
}

func TestFixDryRunYesAndPartialUndo(t *testing.T) {
	apply(t, "fix", "dryrun.yaml")
	const ns = "fix-dryrun"
	targets := []remedy.Target{namespaceTarget(ns), networkPolicyTarget(ns, "default-deny"), networkPolicyTarget(ns, "allow-dns-egress")}
	before := snapshot(t, targets...)
	journals := filepath.Join(t.TempDir(), "journals")
	args := append([]string{"fix", "-n", ns, "--journal-dir", journals}, fixChecks...)

	for _, mode := range []struct{ flag, says string }{
		{"--dry-run=server", "Server dry-run: accepted"},
		{"--dry-run=client", "Client dry-run: computed locally"},
	} {
		res := mustHarden(t, append(args, mode.flag)...)
		for _, want := range []string{mode.says, "Plan: 4 to apply, 0 cannot be applied", "Nothing was changed", "+kind: NetworkPolicy"} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("%s output lacks %q:\n%s", mode.flag, want, res.Stdout)
			}
		}
		if strings.Contains(res.Stdout, promptEnd) {
			t.Errorf("%s asked a question:\n%s", mode.flag, res.Stdout)
		}
		sameObjects(t, mode.flag, targets, before, snapshot(t, targets...))
	}
	if _, err := os.Stat(filepath.Join(journals)); err == nil {
		if files, _ := os.ReadDir(journals); len(files) != 0 {
			t.Errorf("a dry run wrote a journal: %v", files)
		}
	}

	// End of input: the session stops cleanly with the summary, changing nothing.
	res := hardenAs(t, env.Kubeconfig, strings.NewReader("n\n"), args...)
	if res.Code != 0 || !strings.Contains(res.Stdout, "0 applied, 1 skipped, 0 failed, 0 already in place, 3 not reviewed") {
		t.Errorf("end of input: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	sameObjects(t, "after end of input", targets, before, snapshot(t, targets...))

	res = mustHarden(t, append(args, "--yes")...)
	if !strings.Contains(res.Stdout, "Summary: 4 applied, 0 skipped, 0 failed") {
		t.Fatalf("--yes:\n%s", res.Stdout)
	}
	applied := snapshot(t, targets...)
	if applied[1] == nil || applied[2] == nil || applied[0].GetLabels()["pod-security.kubernetes.io/enforce"] != "baseline" {
		t.Fatalf("--yes did not apply every change: %v", applied)
	}
	// A second run finds nothing left to fix.
	if res := mustHarden(t, append(args, "--yes")...); !strings.Contains(res.Stdout, "No remediation changes") {
		t.Errorf("second --yes run:\n%s", res.Stdout)
	}

	// --last 1 undoes only the newest change: the enforce label.
	res = mustHarden(t, "undo", "--journal-dir", journals, "--last", "1")
	if !strings.Contains(res.Stdout, "Undo: 1 of 1 changes undone") {
		t.Errorf("undo --last 1:\n%s", res.Stdout)
	}
	partial := snapshot(t, targets...)
	if l := partial[0].GetLabels(); l["pod-security.kubernetes.io/enforce"] != "" || l["pod-security.kubernetes.io/warn"] != "restricted" {
		t.Errorf("after undo --last 1 the labels are %v", l)
	}
	mustHarden(t, "undo", "--journal-dir", journals)
	sameObjects(t, "after undo", targets, before, snapshot(t, targets...))
}

func TestFixUndoRefusesChangedObject(t *testing.T) {
	apply(t, "fix", "undo.yaml")
	const ns = "fix-undo"
	journals := filepath.Join(t.TempDir(), "journals")
	res := mustHarden(t, "fix", "-n", ns, "--journal-dir", journals, "--check", "netpol/namespace-without-policy", "--yes")
	if !strings.Contains(res.Stdout, "2 applied") {
		t.Fatalf("fix --yes:\n%s", res.Stdout)
	}
	ctx := context.Background()
	np, err := env.Client.NetworkingV1().NetworkPolicies(ns).Get(ctx, "default-deny", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	np.Annotations = map[string]string{"reviewed-by": "alice"}
	if _, err := env.Client.NetworkingV1().NetworkPolicies(ns).Update(ctx, np, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res = harden(t, "undo", "--journal-dir", journals)
	if res.Code != 1 || !strings.Contains(res.Stdout, "networkpolicy.networking.k8s.io/default-deny -n fix-undo changed (resourceVersion") ||
		!strings.Contains(res.Stdout, "pass --force") || !strings.Contains(res.Stdout, "Undo: 1 of 2 changes undone") {
		t.Fatalf("undo over a changed object: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if _, err := env.Client.NetworkingV1().NetworkPolicies(ns).Get(ctx, "default-deny", metav1.GetOptions{}); err != nil {
		t.Fatalf("undo deleted a policy someone changed since: %v", err)
	}
	res = mustHarden(t, "undo", "--journal-dir", journals, "--force")
	if !strings.Contains(res.Stdout, "Undo: 1 of 1 changes undone") {
		t.Errorf("undo --force:\n%s", res.Stdout)
	}
	if objs := snapshot(t, networkPolicyTarget(ns, "default-deny")); objs[0] != nil {
		t.Error("undo --force left the policy")
	}
}

func TestPatchOutputAppliesWithKubectl(t *testing.T) {
	apply(t, "fix", "patch.yaml")
	namespaces := []string{"fix-patch-a", "fix-patch-b"}
	// Put the namespaces back as seeded, so the test can run again on the same cluster.
	t.Cleanup(func() {
		ctx := context.Background()
		unlabel := []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":null,"pod-security.kubernetes.io/enforce-version":null,` +
			`"pod-security.kubernetes.io/warn":null,"pod-security.kubernetes.io/warn-version":null,` +
			`"pod-security.kubernetes.io/audit":null,"pod-security.kubernetes.io/audit-version":null}}}`)
		for _, ns := range namespaces {
			if _, err := env.Client.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, unlabel, metav1.PatchOptions{}); err != nil {
				t.Error(err)
			}
			if err := env.Client.NetworkingV1().NetworkPolicies(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
				t.Error(err)
			}
		}
	})
	fixed := map[string]bool{}
	var stream strings.Builder
	for _, ns := range namespaces {
		r, _ := report(t, env.Kubeconfig, "-n", ns)
		for _, f := range r.Items {
			if f.Remediation != nil && len(f.Remediation.Changes) > 0 {
				fixed[key(f)] = true
			}
		}
		stream.WriteString(mustHarden(t, "-n", ns, "-o", "patch").Stdout)
	}
	if len(fixed) < 5 {
		t.Fatalf("the seeded namespaces have only %d findings with changes: %v", len(fixed), fixed)
	}
	res, err := env.Kubectl(strings.NewReader(stream.String()), "apply", "--server-side", "-f", "-")
	if err != nil || res.Code != 0 {
		t.Fatalf("kubectl apply --server-side -f - : %v exit %d\n%s\nstream:\n%s", err, res.Code, res.Stderr, stream.String())
	}
	// Deletions are commented kubectl commands: run them as printed.
	deletes := regexp.MustCompile(`(?m)^#   kubectl (delete .*)$`).FindAllStringSubmatch(stream.String(), -1)
	if len(deletes) != 1 {
		t.Fatalf("want the one RoleBinding deletion as a command, got %v", deletes)
	}
	for _, m := range deletes {
		res, err := env.Kubectl(nil, strings.Fields(m[1])...)
		if err != nil || res.Code != 0 {
			t.Fatalf("kubectl %s: %v %s", m[1], err, res.Stderr)
		}
	}
	for _, ns := range namespaces {
		r, _ := report(t, env.Kubeconfig, "-n", ns)
		for _, f := range r.Items {
			if fixed[key(f)] {
				t.Errorf("still reported after its change was applied: %s", key(f))
			}
		}
		if len(findingsOf(r, "psa/enforce-missing"))+len(findingsOf(r, "netpol/namespace-without-policy")) != 0 {
			t.Errorf("%s: namespace fixes not in effect", ns)
		}
	}
	objs := snapshot(t, namespaceTarget("fix-patch-a"), namespaceTarget("fix-patch-b"))
	for i, want := range []string{"restricted", "baseline"} {
		if got := objs[i].GetLabels()["pod-security.kubernetes.io/enforce"]; got != want {
			t.Errorf("%s enforce = %q, want %q", namespaces[i], got, want)
		}
	}
}

func TestFixSessionInATerminal(t *testing.T) {
	apply(t, "fix", "tty.yaml")
	const ns = "fix-tty"
	d := ptyDialogue(t, "fix", "-n", ns, "--check", "netpol/namespace-without-policy", "--check", "psa/enforce-missing", "--journal-dir", filepath.Join(t.TempDir(), "journals"))
	seg, ok := d.prompt()
	if !ok {
		t.Fatalf("no question in the terminal:\n%q", seg)
	}
	// --color auto on a terminal: bold question, green additions, cyan hunk, yellow severity.
	for _, want := range []string{
		"\x1b[1mApply this change?\x1b[22m [y]es [n]o [a]ll of this check ac[c]ept [e]dit [d]etail [q]uit: ",
		"\x1b[32m+kind: NetworkPolicy\x1b[0m",
		"\x1b[36m@@ -0,0 +1,",
		"\x1b[33mMEDIUM\x1b[0m",
		"\x1b[32maccepted\x1b[0m",
	} {
		if !strings.Contains(seg, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, seg)
		}
	}
	d.answer("n")
	if _, ok := d.prompt(); !ok {
		t.Fatal("no second question")
	}
	// Ctrl-C at a question ends the session with its summary, not a crash, and exit status 130.
	if _, err := d.in.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	out, code := d.wait()
	plain := ansi.ReplaceAllString(out, "")
	if code != 130 || !strings.Contains(plain, "Summary: 0 applied, 1 skipped, 0 failed") || !strings.Contains(plain, "(interrupted)") {
		t.Fatalf("after Ctrl-C: exit %d\n%q", code, out)
	}
	if objs := snapshot(t, networkPolicyTarget(ns, "allow-dns-egress"), networkPolicyTarget(ns, "default-deny")); objs[0] != nil || objs[1] != nil {
		t.Error("an interrupted session changed the cluster")
	}
}

func TestFixYesLeavesRiskyChanges(t *testing.T) {
	apply(t, "fix", "risky.yaml")
	const ns = "fix-risky"
	deployment := remedy.Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "api"}
	targets := []remedy.Target{namespaceTarget(ns), deployment, networkPolicyTarget(ns, "default-deny")}
	before := snapshot(t, targets...)
	journals := filepath.Join(t.TempDir(), "journals")

	if res := mustHarden(t, "-n", ns, "-o", "patch"); !strings.Contains(res.Stdout, "# LEFT OUT: risky") || !strings.Contains(res.Stdout, "# kind: Deployment\n") {
		t.Errorf("-o patch does not leave the risky change out in a comment:\n%s", res.Stdout)
	}

	res := mustHarden(t, "fix", "-n", ns, "--yes", "--journal-dir", journals)
	for _, want := range []string{"RISKY: this changes a workload", "Not applied: risky: --yes applies it only with --include-risky", "1 skipped, 0 failed"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("fix --yes lacks %q:\n%s", want, res.Stdout)
		}
	}
	first := journalLine.FindStringSubmatch(res.Stdout)
	sameObjects(t, "--yes without --include-risky", targets[1:2], before[1:2], snapshot(t, deployment))

	res = mustHarden(t, "fix", "-n", ns, "--yes", "--include-risky", "--journal-dir", journals)
	if !strings.Contains(res.Stdout, "Applied: apply deployment.apps/api -n fix-risky") {
		t.Fatalf("--include-risky did not apply the Deployment change:\n%s", res.Stdout)
	}
	second := journalLine.FindStringSubmatch(res.Stdout)
	d := snapshot(t, deployment)[0]
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if ape, _, _ := unstructured.NestedBool(containers[0].(map[string]any), "securityContext", "allowPrivilegeEscalation"); ape || len(containers) != 1 {
		t.Errorf("Deployment containers after the risky fix: %v", containers)
	}
	if first == nil || second == nil {
		t.Fatalf("journals not named:\n%s", res.Stdout)
	}
	// Undo the sessions newest first; the default journal is the newest.
	mustHarden(t, "undo", "--journal-dir", journals)
	sameObjects(t, "after undoing the risky session", targets[1:2], before[1:2], snapshot(t, deployment))
	if res := mustHarden(t, "undo", "--journal-dir", journals); !strings.Contains(res.Stdout, "Nothing to undo") || !strings.Contains(res.Stdout, "--journal") {
		t.Errorf("second undo of the newest journal:\n%s", res.Stdout)
	}
	mustHarden(t, "undo", "--journal", first[1])
	sameObjects(t, "after undoing both sessions", targets, before, snapshot(t, targets...))
}

// TestSessionWithConstructedChanges drives the session in-process with
// changes of every kind the domains may propose, built here: a merge patch
// and a JSON patch (both with their resourceVersion precondition), an apply,
// and a risky apply that [a]ll does not take. Undo then restores each object.
func TestSessionWithConstructedChanges(t *testing.T) {
	apply(t, "fix", "construct.yaml")
	const ns = "fix-construct"
	binding := roleBindingTarget(ns, "fix-editors")
	sa := remedy.Target{APIVersion: "v1", Kind: "ServiceAccount", Namespace: ns, Name: "builder"}
	deployment := remedy.Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "worker"}
	cm := remedy.Target{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "fix-note"}
	targets := []remedy.Target{binding, sa, deployment, cm}
	before := snapshot(t, targets...)

	dropMallory, err := remedy.NewMergePatch("remove User mallory from RoleBinding "+ns+"/fix-editors", binding, before[0].GetResourceVersion(),
		map[string]any{"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "builder", "namespace": ns}}})
	if err != nil {
		t.Fatal(err)
	}
	noToken := remedy.Change{Action: remedy.Patch, Description: "stop mounting the token of builder", Target: sa,
		PatchType: "application/json-patch+json", Patch: []byte(`[{"op":"add","path":"/automountServiceAccountToken","value":false}]`)}
	note := remedy.NewApply("record the review", map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "fix-note", "namespace": ns}, "data": map[string]any{"reviewed": "yes"}})
	harden := remedy.NewApply("drop privilege escalation in worker", map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "worker", "namespace": ns},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "worker", "securityContext": map[string]any{"allowPrivilegeEscalation": false}}}}}}})
	harden.Risky = true
	// Computed from a version of the binding older than the live one: refused unasked.
	stale, err := remedy.NewMergePatch("label the binding", binding, "1", map[string]any{"metadata": map[string]any{"labels": map[string]any{"x": "y"}}})
	if err != nil {
		t.Fatal(err)
	}
	f := func(check, msg string, changes ...remedy.Change) finding.Finding {
		return finding.Finding{Check: check, Severity: finding.High, Title: check, Message: msg,
			Remediation: &remedy.Remediation{Changes: changes}}
	}
	items := fixsession.Items([]finding.Finding{
		f("test/bindings", "mallory can edit "+ns, dropMallory),
		f("test/tokens", "builder mounts its token", noToken),
		f("test/workloads", "review note missing", note),
		f("test/workloads", "worker may escalate", harden),
		f("test/stale", "read long ago", stale),
	}, nil)

	client, err := fixsession.NewClientForConfig(env.Config, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	journal := fixsession.NewJournal(filepath.Join(t.TempDir(), "journals"), "envtest", env.Config.Host)
	s := &fixsession.Session{Client: client, Journal: journal, Out: &out,
		// yes, yes, all of test/workloads (the note), then the risky change is still asked: no.
		In: strings.NewReader("y\nyes\na\nn\n")}
	sum := s.Run(context.Background(), items)
	journal.Close()
	if len(sum.Applied) != 3 || len(sum.Skipped) != 1 || len(sum.Failed) != 1 || sum.Skipped[0].Change.Target != deployment ||
		!strings.Contains(sum.Failed[0].Err.Error(), "changed since the audit read it (resourceVersion 1, now") {
		t.Fatalf("applied %d skipped %d failed %d\n%s", len(sum.Applied), len(sum.Skipped), len(sum.Failed), out.String())
	}
	if n := strings.Count(out.String(), "[q]uit: "); n != 4 {
		t.Errorf("%d questions, want 4 (the risky change is asked even after [a]ll):\n%s", n, out.String())
	}
	after := snapshot(t, targets...)
	if subj, _, _ := unstructured.NestedSlice(after[0].Object, "subjects"); len(subj) != 1 {
		t.Errorf("subjects after the merge patch: %v", subj)
	}
	if v, _, _ := unstructured.NestedBool(after[1].Object, "automountServiceAccountToken"); v || after[1].Object["automountServiceAccountToken"] == nil {
		t.Errorf("JSON patch not applied: %v", after[1].Object)
	}
	if after[3] == nil {
		t.Error("the ConfigMap was not created")
	}
	sameObjects(t, "risky change answered no", targets[2:3], before[2:3], after[2:3])

	j, entries, err := fixsession.OpenJournal(journal.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, r := range fixsession.Undo(context.Background(), client, j, entries, fixsession.UndoOptions{}) {
		if r.Err != nil || !r.Restored {
			t.Errorf("undo %s: %v", r.Entry.Target, r.Err)
		}
	}
	sameObjects(t, "after undo", targets, before, snapshot(t, targets...))
}

// TestFixEditRecomputesImpactInATerminal edits, in a real terminal, an
// ingress-only default deny into one that denies egress too: the question
// about the edited change says what the edit breaks (all egress of etl),
// judged on the edited object, and says the change was edited by you.
func TestFixEditRecomputesImpactInATerminal(t *testing.T) {
	apply(t, "fix", "tty-edit.yaml")
	const ns = "fix-tty-edit"
	script := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsed -i -e 's/^- Ingress$/- Ingress\\n- Egress/' -e 's/^  - Ingress$/  - Ingress\\n  - Egress/' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := ptyDialogueEnv(t, []string{"KUBE_EDITOR=" + script}, "fix", "-n", ns, "--check", "netpol/namespace-without-default-deny-ingress",
		"--journal-dir", filepath.Join(t.TempDir(), "journals"))
	seg, ok := d.prompt()
	plain := ansi.ReplaceAllString(seg, "")
	if !ok || !strings.Contains(plain, "networkpolicy.networking.k8s.io/default-deny-ingress -n "+ns) {
		t.Fatalf("first question:\n%s", plain)
	}
	if !strings.Contains(plain, "pod "+ns+"/etl loses all ingress") || strings.Contains(plain, "loses all egress") {
		t.Errorf("the proposed change's impact:\n%s", plain)
	}
	d.answer("e")
	seg, ok = d.prompt()
	plain = ansi.ReplaceAllString(seg, "")
	if !ok {
		t.Fatalf("no question after the edit:\n%s", plain)
	}
	for _, want := range []string{"+  - Egress", "edited by you", "May break (judged on your edit):", "pod " + ns + "/etl loses all ingress", "pod " + ns + "/etl loses all egress"} {
		if !strings.Contains(plain, want) {
			t.Errorf("the edited change's question lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(changeLine(seg), "deny all ingress") {
		t.Errorf("the edited change repeats the original description: %s", changeLine(seg))
	}
	d.answer("n")
	if out, code := d.wait(); code != 0 || !strings.Contains(ansi.ReplaceAllString(out, ""), "0 applied, 1 skipped") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if objs := snapshot(t, networkPolicyTarget(ns, "default-deny-ingress")); objs[0] != nil {
		t.Error("a change answered no exists")
	}
}
