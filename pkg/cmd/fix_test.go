package cmd

import (
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
		{name: "fix with a bad --dry-run", args: []string{"fix", "--dry-run=maybe"}, code: 1, want: "Invalid dry-run value"},
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
