package cmd

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixAndUndoRefuseBadInvocations covers what fix and undo refuse before
// they touch a cluster; the sessions themselves run against a real API
// server in test/e2e/fix_test.go.
func TestFixAndUndoRefuseBadInvocations(t *testing.T) {
	empty := t.TempDir()
	other := t.TempDir()
	journal := filepath.Join(other, "journal-20250601-120000.000.jsonl")
	line := `{"seq":1,"state":"applied","server":"https://prod.example.com:6443","context":"prod","action":"delete",` +
		`"target":{"apiVersion":"v1","kind":"Namespace","name":"x"},"old":{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}}` + "\n"
	if err := os.WriteFile(journal, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "https://dev.example.com:6443"}}]
users: [{name: dev, user: {token: x}}]
contexts: [{name: dev, context: {cluster: dev, user: dev}}]
current-context: dev
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr, or stdout when code is 0
	}{
		{name: "fix on files", args: []string{"fix", "-f", demo}, code: 1, want: "-o patch"},
		{name: "fix with -o", args: []string{"fix", "-o", "json"}, code: 1, want: "not -o json"},
		{name: "fix of an unknown domain", args: []string{"fix", "dns"}, code: 1, want: `unknown domain "dns"`},
		{name: "fix with a bad --dry-run", args: []string{"fix", "--dry-run=maybe"}, code: 1, want: `invalid --dry-run value "maybe"`},
		{name: "undo with a bad --dry-run", args: []string{"undo", "--dry-run=later"}, code: 1, want: `invalid --dry-run value "later"`},
		{name: "undo with a negative --last", args: []string{"undo", "--last", "-1"}, code: 1, want: "--last must be"},
		{name: "undo without a journal", args: []string{"undo", "--journal-dir", empty}, code: 1, want: "nothing to undo"},
		{name: "undo against another cluster", args: []string{"undo", "--journal", journal, "--kubeconfig", kubeconfig}, code: 1,
			want: `written for the API server https://prod.example.com:6443 (context "prod"), but the current one is https://dev.example.com:6443`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			got := errOut
			if tt.code == 0 {
				got = out
			}
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Errorf("exit %d, want %d; output %q lacks %q", code, tt.code, got, tt.want)
			}
		})
	}
}

// A bare --dry-run means client, as in kubectl, without kubectl's klog
// deprecation line: no command writes library noise on stderr.
func TestBareDryRunIsQuiet(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: gone, user: {token: x}}]
contexts: [{name: gone, context: {cluster: gone, user: gone}}]
current-context: gone
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"fix", "--dry-run", "--kubeconfig", kubeconfig},
		{"undo", "--dry-run", "--journal-dir", t.TempDir(), "--kubeconfig", kubeconfig},
	} {
		// klog writes to the process's stderr, not to the command's streams: catch both.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stderr
		os.Stderr = w
		_, _, errOut := run(t, "", args...)
		os.Stderr = saved
		w.Close()
		raw, _ := io.ReadAll(r)
		errOut += string(raw)
		for _, noise := range []string{"deprecated", "W0", "E0", "I0"} {
			for _, l := range strings.Split(errOut, "\n") {
				if strings.HasPrefix(l, noise) || strings.Contains(l, "is deprecated") {
					t.Errorf("%v: stderr has library noise %q:\n%s", args, l, errOut)
				}
			}
		}
	}
}

func TestParseDryRun(t *testing.T) {
	for v, want := range map[string]string{"": "none", "none": "none", "false": "none", "client": "client", "true": "client", "server": "server"} {
		got, err := parseDryRun(v)
		if err != nil || string(got) != want {
			t.Errorf("parseDryRun(%q) = %s, %v; want %s", v, got, err, want)
		}
	}
	if _, err := parseDryRun("all"); err == nil {
		t.Error("parseDryRun(all) took it")
	}
}
