package cmd

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestWhoCanCommand(t *testing.T) {
	fixture := filepath.Join("..", "checks", "rbac", "testdata", "checks", "cluster.yaml")
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    []string
		stderr    []string
		notStdout []string
	}{
		{
			name:   "table names subject, scope, binding and role",
			args:   []string{"rbac", "who-can", "create", "pods", "-n", "ci", "-f", fixture},
			stdout: []string{"SUBJECT", "User dev", "in namespace ci", "RoleBinding ci/dev-pods", "Role ci/pod-runner", "ClusterRoleBinding deployer-admin"},
			stderr: []string{"system:masters"},
			// shop's RoleBinding does not apply in ci.
			notStdout: []string{"shop/default-edit"},
		},
		{
			name:   "without -n, any namespace",
			args:   []string{"rbac", "who-can", "create", "pods", "-f", fixture},
			stdout: []string{"RoleBinding shop/default-edit", "RoleBinding ci/dev-pods"},
		},
		{
			name:   "wide shows the rule",
			args:   []string{"rbac", "who-can", "get", "nodes/proxy", "n1", "-o", "wide", "-f", fixture},
			stdout: []string{"RULES", "User platform-bot", `rules[5]: apiGroups: [""], resources: [nodes/proxy], verbs: [get]`},
		},
		{
			name:   "nobody",
			args:   []string{"rbac", "who-can", "delete", "nodes", "-n", "shop", "--complete", "-f", filepath.Join("..", "checks", "rbac", "testdata", "checks", "clean.yaml")},
			stderr: []string{"No subject can delete nodes in namespace shop"},
		},
		{
			// Without ClusterRoleBindings in the files, "nobody" would be a guess.
			name:   "nobody is not said when bindings are absent",
			args:   []string{"rbac", "who-can", "delete", "nodes", "-n", "shop", "-f", filepath.Join("..", "checks", "rbac", "testdata", "checks", "clean.yaml")},
			code:   1,
			stderr: []string{"no ClusterRoleBinding objects in the input", "--assume-absent"},
		},
		{
			name:   "unknown resource without group",
			args:   []string{"rbac", "who-can", "get", "widgets", "-f", fixture},
			code:   1,
			stderr: []string{`resource "widgets"`, "RESOURCE.GROUP"},
		},
		{
			name: "too few arguments",
			args: []string{"rbac", "who-can", "get"},
			code: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, tt.args)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errOut.String())
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.notStdout {
				if strings.Contains(out.String(), w) {
					t.Errorf("stdout has %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
		})
	}
}

func TestWhoCanJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"rbac", "who-can", "impersonate", "serviceaccounts", "-n", "shop", "-o", "json",
		"-f", filepath.Join("..", "checks", "rbac", "testdata", "checks", "cluster.yaml")}
	if code := Execute(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var list WhoCanList
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatalf("not a WhoCanList: %v\n%s", err, out.String())
	}
	if list.Verb != "impersonate" || list.Resource != "serviceaccounts" || list.Namespace != "shop" {
		t.Errorf("request echoed as %+v", list)
	}
	var got []string
	for _, a := range list.Items {
		got = append(got, a.Subject.String()+" "+a.Binding)
	}
	want := "ServiceAccount shop/default RoleBinding shop/default-edit"
	if !strings.Contains(strings.Join(got, "|"), want) {
		t.Errorf("items %q lack %q", got, want)
	}
}
