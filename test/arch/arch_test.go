// Package arch holds the architecture test: DESIGN's table of which package
// may import what, as rules that `make test` checks on the real import graph.
package arch

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/kubectl-harden/kubectl-harden/"

// network is what reaches an API server: only pkg/inventory/live reads and
// pkg/apply writes (cmd wires them, fleet and completion read kubeconfigs).
var network = []string{"k8s.io/client-go/rest", "k8s.io/client-go/kubernetes", "k8s.io/client-go/dynamic",
	"k8s.io/client-go/metadata", "k8s.io/client-go/discovery"}

// rule forbids the packages matching From (a path under the module, "/..."
// for a subtree) to depend, directly or not, on any of Not.
type rule struct {
	From string
	Not  []string
	Why  string
}

func rules() []rule {
	own := func(ps ...string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = module + p
		}
		return out
	}
	return []rule{
		{From: "pkg/checks/...", Not: append(own("pkg/inventory/live", "pkg/apply", "pkg/output", "pkg/cmd", "pkg/audit"), network...),
			Why: "checks are pure functions of the inventory: no client, no printing, no writing"},
		{From: "pkg/finding", Not: append(own("pkg/remedy/render", "pkg/inventory", "pkg/checks", "pkg/output", "pkg/apply", "pkg/cmd"), append(network, "github.com/fatih/color", "k8s.io/client-go/kubernetes/scheme")...),
			Why: "the report model imports API types only"},
		{From: "pkg/remedy", Not: append(own("pkg/remedy/render", "pkg/finding", "pkg/inventory", "pkg/checks", "pkg/output", "pkg/apply", "pkg/cmd"), append(network, "github.com/fatih/color", "k8s.io/client-go/kubernetes/scheme")...),
			Why: "remediations are data: rendering lives in pkg/remedy/render"},
		{From: "pkg/inventory", Not: append(own("pkg/checks", "pkg/finding", "pkg/output", "pkg/apply", "pkg/cmd", "pkg/audit", "pkg/inventory/live"), network...),
			Why: "the snapshot is read by checks, which must stay client-free; the live loader is pkg/inventory/live"},
		{From: "pkg/inventory/live", Not: own("pkg/checks", "pkg/output", "pkg/apply", "pkg/cmd", "pkg/audit"),
			Why: "the live loader only reads"},
		// pkg/output links client-go through cli-runtime's printers (jsonpath, go-template), as DESIGN asks.
		{From: "pkg/output", Not: own("pkg/apply", "pkg/cmd", "pkg/audit", "pkg/inventory/live", "pkg/inventory", "pkg/checks"),
			Why: "printers print a report; they read nothing from a cluster"},
		{From: "pkg/apply", Not: own("pkg/checks", "pkg/inventory", "pkg/output", "pkg/cmd", "pkg/audit"),
			Why: "the fix session writes changes it is given; it does not audit"},
		{From: "pkg/exceptions", Not: append(own("pkg/inventory", "pkg/checks", "pkg/output", "pkg/apply", "pkg/cmd", "pkg/audit"), network...),
			Why: "exceptions match findings they are handed; the fix session appends to the file, so it must stay free of the audit"},
		{From: "pkg/controls", Not: append(own("pkg/inventory", "pkg/checks", "pkg/output", "pkg/apply", "pkg/cmd", "pkg/audit", "pkg/remedy/render"), append(network, "k8s.io/client-go/kubernetes/scheme")...),
			Why: "the control catalogues are data over findings: no inventory, no client"},
		{From: "pkg/audit", Not: append(own("pkg/cmd", "pkg/output", "pkg/apply"), "github.com/spf13/cobra"),
			Why: "the engine knows no command line and writes nothing"},
	}
}

// violations checks deps (package -> every package it depends on) against the rules.
func violations(rs []rule, deps map[string][]string) []string {
	var out []string
	for pkg, ds := range deps {
		for _, r := range rs {
			if !matches(r.From, strings.TrimPrefix(pkg, module)) {
				continue
			}
			for _, d := range ds {
				for _, not := range r.Not {
					if d == not {
						out = append(out, fmt.Sprintf("%s depends on %s: %s", pkg, d, r.Why))
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func matches(pattern, pkg string) bool {
	if strings.HasSuffix(pattern, "/...") {
		base := strings.TrimSuffix(pattern, "/...")
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// importGraph lists every package of the module with all it depends on (tests excluded).
func importGraph(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			deps[f[0]] = f[1:]
		}
	}
	return deps
}

func TestImportRules(t *testing.T) {
	deps := importGraph(t)
	if len(deps) < 10 {
		t.Fatalf("go list found %d packages", len(deps))
	}
	for _, v := range violations(rules(), deps) {
		t.Error(v)
	}
}

// The rules catch a forbidden edge: a check that imports client-go, the
// report model that imports the renderer, a printer that lists pods.
func TestImportRulesCatchForbiddenEdges(t *testing.T) {
	deps := map[string][]string{
		module + "pkg/checks/rbac": {module + "pkg/inventory", "k8s.io/client-go/kubernetes"},
		module + "pkg/finding":     {module + "pkg/remedy/render", "github.com/fatih/color"},
		module + "pkg/output":      {module + "pkg/inventory/live"},
		module + "pkg/inventory":   {module + "pkg/inventory/live"},
		module + "pkg/checks/psa":  {module + "pkg/inventory", module + "pkg/finding"},
	}
	got := strings.Join(violations(rules(), deps), "\n")
	for _, want := range []string{
		"pkg/checks/rbac depends on k8s.io/client-go/kubernetes",
		"pkg/finding depends on " + module + "pkg/remedy/render",
		"pkg/finding depends on github.com/fatih/color",
		"pkg/output depends on " + module + "pkg/inventory/live",
		"pkg/inventory depends on " + module + "pkg/inventory/live",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no violation %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "pkg/checks/psa") {
		t.Errorf("an allowed edge is reported:\n%s", got)
	}
}
