package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// DOT prints the report's graphs in Graphviz's language: the RBAC escalation
// paths (`kubectl harden rbac -o dot`) and the namespace-to-namespace
// reachability NetworkPolicy allows (`kubectl harden netpol -o dot`); an
// audit of every domain prints both, one digraph after the other.
type DOT struct{}

// Print writes the graphs the report has, and an error when it has neither.
func (DOT) Print(r *finding.Report, w io.Writer) error {
	ew := &errWriter{w: w}
	drawn := 0
	for _, f := range r.Items {
		if f.Check == EscalationCheck {
			writeEscalationDOT(ew, escalationGraph(r))
			drawn++
			break
		}
	}
	if drawn == 0 && ranCheck(r, EscalationCheck) {
		// No path found is an answer too: an empty graph, not an error.
		writeEscalationDOT(ew, &graph{})
		drawn++
	}
	if g, note, ok := reachabilityGraph(r); ok {
		writeReachabilityDOT(ew, g, note)
		drawn++
	}
	if drawn == 0 {
		return fmt.Errorf("-o dot draws the RBAC escalation paths (kubectl harden rbac -o dot) and the NetworkPolicy reachability between namespaces (kubectl harden netpol -o dot): this audit has neither")
	}
	return ew.err
}

func ranCheck(r *finding.Report, id string) bool {
	for _, c := range r.Ran {
		if c.ID == id {
			return true
		}
	}
	return false
}

// dotQuote quotes a string as a DOT ID.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// severityFill is the fill colour of a node on a path of that severity.
func severityFill(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "#f8b4b4"
	case finding.High:
		return "#fbd0a8"
	case finding.Medium:
		return "#fdf0a6"
	case finding.Low:
		return "#cde8f6"
	}
	return "#eeeeee"
}

func writeEscalationDOT(w io.Writer, g *graph) {
	fmt.Fprintln(w, "// RBAC escalation paths: subject -> what it can do -> whom it becomes -> ... -> what that one holds")
	fmt.Fprintln(w, `digraph escalation {`)
	fmt.Fprintln(w, `  graph [rankdir=LR, label="RBAC escalation paths (kubectl harden)", labelloc=t, fontname="Helvetica"];`)
	fmt.Fprintln(w, `  node [fontname="Helvetica", fontsize=11, style="filled"];`)
	fmt.Fprintln(w, `  edge [color="#555555"];`)
	for _, n := range g.Nodes {
		shape := "box"
		fill := "#ffffff"
		switch n.Kind {
		case nodeSubject:
			shape, fill = "box", "#dbe4ff"
		case nodeCapability:
			shape, fill = "ellipse", "#ffffff"
		case nodeIdentity:
			shape, fill = "box", "#e8e8e8"
		case nodeTarget:
			shape, fill = "doubleoctagon", severityFill(n.Severity)
		}
		fmt.Fprintf(w, "  %s [label=%s, shape=%s, fillcolor=%s, tooltip=%s];\n", n.ID, dotQuote(n.Label), shape, dotQuote(fill), dotQuote(n.Kind+": "+n.Label))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(w, "  %s -> %s;\n", g.Nodes[e.From].ID, g.Nodes[e.To].ID)
	}
	fmt.Fprintln(w, "}")
}

func writeReachabilityDOT(w io.Writer, g *graph, note string) {
	fmt.Fprintln(w, "// NetworkPolicy reachability between namespaces: an edge where workloads of one may connect to workloads of the other")
	fmt.Fprintln(w, "// solid: every pair of workloads; dashed: some pairs; dotted: unknown (cluster-scoped policies that disagree)")
	if note != "" {
		fmt.Fprintf(w, "// %s\n", note)
	}
	fmt.Fprintln(w, `digraph reachability {`)
	fmt.Fprintln(w, `  graph [rankdir=LR, label="NetworkPolicy reachability between namespaces (kubectl harden)", labelloc=t, fontname="Helvetica"];`)
	fmt.Fprintln(w, `  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=11];`)
	for _, n := range g.Nodes {
		fmt.Fprintf(w, "  %s [label=%s];\n", n.ID, dotQuote(n.Label))
	}
	for _, e := range g.Edges {
		style, color := "solid", "#c0392b"
		switch e.Style {
		case "some":
			style, color = "dashed", "#d68910"
		case "unknown":
			style, color = "dotted", "#7f8c8d"
		}
		fmt.Fprintf(w, "  %s -> %s [label=%s, style=%s, color=%s];\n", g.Nodes[e.From].ID, g.Nodes[e.To].ID, dotQuote(e.Style), style, dotQuote(color))
	}
	fmt.Fprintln(w, "}")
}
