package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestListOutputIdioms runs every list command with every kubectl -o idiom:
// they share one printer, so each must take them all and print the same document.
func TestListOutputIdioms(t *testing.T) {
	rbacFixture := filepath.Join("..", "checks", "rbac", "testdata", "checks", "cluster.yaml")
	narrowDir := filepath.Join("..", "checks", "rbac", "testdata", "narrow")
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	commands := []struct {
		name string
		args []string
		// names is what -o name prints, in order.
		names []string
		// path is a jsonpath over the document, and want what it prints.
		path, want string
		// template is the same as a go-template.
		template string
	}{
		{name: "checks", args: []string{"checks", "psa"},
			names: []string{"psa/enforce-missing", "psa/invalid-label"},
			path:  "{.items[0].id} {.items[0].domain}", want: "psa/enforce-missing psa",
			template: "{{(index .items 0).id}} {{(index .items 0).domain}}"},
		{name: "checks --framework", args: []string{"checks", "--framework", "cis", "--benchmark", "cis-1.11"},
			names: []string{"CIS-1.1.1", "CIS-1.1.2"},
			path:  "{.items[0].id}", want: "CIS-1.1.1",
			template: "{{(index .items 0).id}}"},
		{name: "rbac who-can", args: []string{"rbac", "who-can", "create", "pods", "-n", "ci", "-f", rbacFixture},
			names: []string{"group/ops", "serviceaccount/ci/deployer", "user/dev"},
			path:  "{.verb} {.resource} {.namespace} {.items[*].subject.name}", want: "create pods ci ops deployer dev",
			template: "{{.verb}} {{.resource}} {{.namespace}}{{range .items}} {{.subject.name}}{{end}}"},
		{name: "netpol can-reach", args: []string{"netpol", "can-reach", "-f", netpolFixture, "netpol-shop/*", "netpol-shop/api"},
			names: []string{"netpol-shop/host-agent netpol-shop/api", "netpol-shop/web netpol-shop/api"},
			path:  "{.source} {.items[*].source}", want: "netpol-shop/* netpol-shop/host-agent netpol-shop/web",
			template: "{{.source}}{{range .items}} {{.source}}{{end}}"},
		{name: "rbac narrow", args: []string{"rbac", "narrow", "--complete", "-f", filepath.Join(narrowDir, "rbac.yaml"),
			"--audit-log", filepath.Join(narrowDir, "audit-app.jsonl"), "--audit-log", filepath.Join(narrowDir, "audit-reporter.jsonl.gz")},
			names: []string{"serviceaccount/shop/app", "serviceaccount/shop/idle", "serviceaccount/shop/reporter"},
			path:  "{.kind} {.items[*].subject.name}", want: "Narrowing app idle reporter",
			template: "{{.kind}}{{range .items}} {{.subject.name}}{{end}}"},
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			do := func(output ...string) string {
				t.Helper()
				code, out, errOut := run(t, "", append(append([]string(nil), c.args...), output...)...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", output, code, errOut)
				}
				return out
			}
			jsonOut := do("-o", "json")
			var fromJSON any
			if err := json.Unmarshal([]byte(jsonOut), &fromJSON); err != nil {
				t.Fatalf("-o json: %v\n%s", err, jsonOut)
			}
			var fromYAML any
			if err := yaml.Unmarshal([]byte(do("-o", "yaml")), &fromYAML); err != nil {
				t.Fatalf("-o yaml: %v", err)
			}
			a, _ := json.Marshal(fromJSON)
			b, _ := json.Marshal(fromYAML)
			if string(a) != string(b) {
				t.Errorf("-o yaml is not the document -o json prints:\n%s\n%s", a, b)
			}

			names := strings.Split(strings.TrimSuffix(do("-o", "name"), "\n"), "\n")
			if c.name == "checks" || c.name == "checks --framework" {
				// The lists grow with the checks and controls: their head is asserted.
				if len(names) < len(c.names) || !slices.Equal(names[:len(c.names)], c.names) {
					t.Errorf("-o name starts %q, want %q", names, c.names)
				}
			} else if !slices.Equal(names, c.names) {
				t.Errorf("-o name = %q, want %q", names, c.names)
			}

			for _, o := range []string{"jsonpath=" + c.path, "jsonpath-file=" + file(strings.ReplaceAll(c.name, " ", "-")+".jsonpath", c.path),
				"go-template=" + c.template, "go-template-file=" + file(strings.ReplaceAll(c.name, " ", "-")+".tmpl", c.template)} {
				if got := do("-o", o); got != c.want {
					t.Errorf("-o %s = %q, want %q", o, got, c.want)
				}
			}

			// A template that does not parse is refused before anything is read.
			code, out, errOut := run(t, "", append(append([]string(nil), c.args...), "-o", "jsonpath={.items")...)
			if code != 1 || out != "" || !strings.Contains(errOut, "-o jsonpath={.items: error parsing jsonpath {.items, unclosed action") {
				t.Errorf("bad jsonpath: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			code, out, errOut = run(t, "", append(append([]string(nil), c.args...), "-o", "html")...)
			if code != 1 || out != "" || !strings.Contains(errOut, "prints table, wide, json, yaml, name, jsonpath=..., jsonpath-file=..., go-template=..., go-template-file=..., ") ||
				!strings.Contains(errOut, `not "html"`) {
				t.Errorf("-o html: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
		})
	}
}

// TestCompleteListOutput: -o of a list command offers what it takes, from the same list.
func TestCompleteListOutput(t *testing.T) {
	want := []string{"table", "wide", "json", "yaml", "name", "jsonpath=", "jsonpath-file=", "go-template=", "go-template-file="}
	for _, args := range [][]string{{"checks"}, {"rbac", "who-can", "get", "pods"}, {"netpol", "can-reach", "a/b", "c/d"}} {
		got, directive := complete(t, append(args, "-o", "")...)
		if !slices.Equal(got, want) || directive != noFileComp {
			t.Errorf("complete %q -o = %q %s, want %q %s", args, got, directive, want, noFileComp)
		}
	}
	got, _ := complete(t, "rbac", "narrow", "-o", "")
	if !slices.Equal(got, append(want, "patch")) {
		t.Errorf("complete rbac narrow -o = %q", got)
	}
}
