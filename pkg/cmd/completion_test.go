package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
)

// complete runs `kubectl-harden __complete ARGS` as the kubectl_complete-harden
// shim does, and returns the candidates (without descriptions) and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	if code := Execute(streams, append([]string{"__complete"}, args...)); code != 0 {
		t.Fatalf("__complete %q: exit %d", args, code)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	directive := lines[len(lines)-1]
	var got []string
	for _, l := range lines[:len(lines)-1] {
		got = append(got, strings.SplitN(l, "\t", 2)[0])
	}
	return got, directive
}

const noFileComp = ":4"

func TestCompleteCommandsAndFlags(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{""}, []string{"checks", "netpol", "psa", "rbac", "version", "workload"}},
		{[]string{"--sev"}, []string{"--severity"}},
		{[]string{"rbac", "--fail"}, []string{"--fail-on"}},
		{[]string{"--severity", ""}, []string{"critical", "high", "medium", "low", "info"}},
	}
	for _, tt := range tests {
		got, _ := complete(t, tt.args...)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("complete %q = %v, lacks %q", tt.args, got, w)
			}
		}
	}
}

func TestCompleteCheckIDs(t *testing.T) {
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range reg.All() {
		ids = append(ids, c.ID)
	}
	if len(ids) < 2 {
		t.Fatalf("need two checks to test completion, registry has %v", ids)
	}
	first, second := ids[0], ids[1]
	domain := strings.SplitN(first, "/", 2)[0] + "/"
	// The domain prefix itself is a valid value, offered first.
	inDomain := func(exclude ...string) []string {
		out := []string{domain}
		for _, id := range ids {
			if strings.HasPrefix(id, domain) && !slices.Contains(exclude, id) {
				out = append(out, id)
			}
		}
		return out
	}
	withPrefix := func(p string, list []string) []string {
		out := make([]string, len(list))
		for i, s := range list {
			out[i] = p + s
		}
		return out
	}
	var domains []string
	for _, d := range reg.Domains() {
		domains = append(domains, d+"/")
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"every check and domain", []string{"--check", ""}, append(domains, ids...)},
		{"one domain", []string{"--check", domain}, inDomain()},
		{"one ID", []string{"--skip-check", first}, []string{first}},
		{"after a comma, without the chosen one", []string{"--check", first + "," + domain}, withPrefix(first+",", inDomain(first))},
		{"chosen by an earlier flag", []string{"--check", first, "--skip-check", domain}, inDomain(first)},
		{"on a subcommand", []string{"rbac", "--skip-check", second}, []string{second}},
		{"no such check", []string{"--check", "nope/"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := complete(t, tt.args...)
			if directive != noFileComp {
				t.Errorf("directive %s, want %s", directive, noFileComp)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("complete %q\n got %v\nwant %v", tt.args, got, tt.want)
			}
		})
	}
}

const testKubeconfig = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: "https://127.0.0.1:1"}
- name: prod-cluster
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: alice
  user: {token: not-a-secret}
- name: bob
  user: {token: not-a-secret}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: alice}
- name: prod-eu
  context: {cluster: prod-cluster, user: bob}
- name: prod-us
  context: {cluster: prod-cluster, user: bob}
`

func TestCompleteFromKubeconfig(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--kubeconfig", kubeconfig, "--context", ""}, []string{"dev", "prod-eu", "prod-us"}},
		{[]string{"--kubeconfig", kubeconfig, "--context", "prod"}, []string{"prod-eu", "prod-us"}},
		{[]string{"psa", "--kubeconfig", kubeconfig, "--context", "d"}, []string{"dev"}},
		{[]string{"--kubeconfig", kubeconfig, "--cluster", ""}, []string{"dev-cluster", "prod-cluster"}},
		{[]string{"--kubeconfig", kubeconfig, "--user", "b"}, []string{"bob"}},
		{[]string{"--kubeconfig", filepath.Join(t.TempDir(), "missing"), "--context", ""}, nil},
	}
	for _, tt := range tests {
		got, directive := complete(t, tt.args...)
		if directive != noFileComp || strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("complete %q = %v %s, want %v %s", tt.args, got, directive, tt.want, noFileComp)
		}
	}
}

// Namespaces come from the cluster (test/e2e completes them against a real
// API server); here the server is unreachable and completion must give up
// quietly instead of failing or hanging the shell.
func TestCompleteNamespacesUnreachableServer(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, directive := complete(t, "--kubeconfig", kubeconfig, "-n", "")
	if len(got) != 0 || directive != noFileComp {
		t.Errorf("complete -n = %v %s, want nothing and %s", got, directive, noFileComp)
	}
	if d := time.Since(start); d > 2*completionTimeout {
		t.Errorf("namespace completion took %v", d)
	}
}

// who-can completes verbs, then resources: offline from the built-in table.
func TestWhoCanCompletesVerbsAndResources(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"rbac", "who-can", "imp"}, []string{"impersonate"}, "get"},
		{[]string{"rbac", "who-can", "get", "-f", "x.yaml", "deploy"}, []string{"deployments.apps"}, "pods"},
		{[]string{"rbac", "who-can", "impersonate", "-f", "x.yaml", "user"}, []string{"users", "userextras.authentication.k8s.io"}, "pods"},
	} {
		got, directive := complete(t, c.args...)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%v: %q not offered: %v", c.args, w, got)
			}
		}
		if slices.Contains(got, c.not) || directive != noFileComp {
			t.Errorf("%v: %q offered, or directive %s: %v", c.args, c.not, directive, got)
		}
	}
}
