package e2e

import (
	"html"
	"os/exec"
	"strings"
	"testing"
)

// TestDOTGraphsParseWithGraphviz draws the demo cluster's RBAC escalation
// paths and NetworkPolicy reachability with -o dot and renders both with
// Graphviz (`dot -Tsvg`): the demo's path from User dev@example.com to
// cluster-admin must come out as nodes, and the namespaces as well.
func TestDOTGraphsParseWithGraphviz(t *testing.T) {
	dot := debianTool(t, "dot", "graphviz")
	cases := []struct {
		args  []string
		nodes []string
	}{
		{[]string{"rbac", "-o", "dot"}, []string{"User dev@example.com", "create pods in namespace ci", "ServiceAccount ci/deployer", "cluster-admin"}},
		{[]string{"netpol", "-o", "dot"}, []string{"legacy", "shop", "analytics"}},
	}
	for _, tc := range cases {
		t.Run(tc.args[0], func(t *testing.T) {
			src := mustHarden(t, tc.args...).Stdout
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(src)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			svg, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("dot -Tsvg: %v\n%s\n%s", err, stderr.String(), src)
			}
			text := html.UnescapeString(string(svg)) // Graphviz writes - as &#45;
			for _, n := range tc.nodes {
				if !strings.Contains(text, ">"+n+"</text>") {
					t.Errorf("the SVG has no node %q:\n%s", n, src)
				}
			}
		})
	}
}
