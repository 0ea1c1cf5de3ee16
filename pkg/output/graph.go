package output

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// EscalationCheck is the check whose findings carry an escalation path in
// their evidence: "path" (the steps joined by " -> ") and "hops" (each step's
// action and the identity it becomes).
const EscalationCheck = "rbac/escalation-path"

// NamespaceReachability is implemented by a domain's coverage data that can
// say which namespaces' workloads may connect to which (the NetworkPolicy
// coverage). cells[i][j] is the verdict from namespaces[i] to namespaces[j]:
// "all", "some", "none", "unknown", or "" when a side has no running
// workload; note says why there is no matrix when there is none.
type NamespaceReachability interface {
	NamespaceReach() (namespaces []string, cells [][]string, note string)
}

// The kinds of node of the escalation graph.
const (
	nodeSubject    = "subject"    // who holds the first permission
	nodeCapability = "capability" // what a subject does to become another: "create pods in namespace ci"
	nodeIdentity   = "identity"   // whom it becomes: "ServiceAccount ci/deployer"
	nodeTarget     = "target"     // what the last identity holds: "cluster-admin"
)

// graph is a directed graph with labelled nodes, built from a report so that
// the DOT and HTML printers draw the same thing.
type graph struct {
	Nodes []graphNode
	Edges []graphEdge
	index map[string]int
}

type graphNode struct {
	ID, Label, Kind string
	// Severity is the worst finding the node is on.
	Severity finding.Severity
	// Layer is the node's column in a layered drawing: its first position on any path.
	Layer int
}

type graphEdge struct {
	From, To int
	Label    string
	// Style is "all", "some" or "unknown" for reachability edges.
	Style string
}

func (g *graph) node(kind, label string, sev finding.Severity, layer int) int {
	key := kind + "\x00" + label
	if kind == nodeIdentity || kind == nodeSubject {
		// A subject of one path may be an identity another path becomes: one node.
		key = "who\x00" + label
	}
	if i, ok := g.index[key]; ok {
		n := &g.Nodes[i]
		n.Severity = max(n.Severity, sev)
		n.Layer = min(n.Layer, layer)
		if kind == nodeSubject {
			n.Kind = nodeSubject
		}
		return i
	}
	g.Nodes = append(g.Nodes, graphNode{Label: label, Kind: kind, Severity: sev, Layer: layer})
	i := len(g.Nodes) - 1
	g.Nodes[i].ID = "n" + strconv.Itoa(i)
	g.index[key] = i
	return i
}

func (g *graph) edge(from, to int, label, style string) {
	for _, e := range g.Edges {
		if e.From == from && e.To == to && e.Label == label {
			return
		}
	}
	g.Edges = append(g.Edges, graphEdge{From: from, To: to, Label: label, Style: style})
}

// escalationPath is the part of an escalation finding's evidence the graph reads.
type escalationPath struct {
	Path string `json:"path"`
	Hops []struct {
		Action  string `json:"action"`
		Becomes string `json:"becomes"`
	} `json:"hops"`
	OtherPaths []string `json:"otherPaths"`
}

// pathOf reads the escalation path of a finding, or false when it has none.
func pathOf(f finding.Finding) (escalationPath, bool) {
	var p escalationPath
	if f.Check != EscalationCheck || f.Evidence == nil {
		return p, false
	}
	// The evidence is check-specific data; a round trip through JSON reads it
	// the same whether it was made in this process or decoded from a report.
	b, err := json.Marshal(f.Evidence)
	if err != nil || json.Unmarshal(b, &p) != nil || p.Path == "" {
		return p, false
	}
	return p, true
}

// escalationGraph joins the escalation paths of the report's findings into one
// graph: subject -> capability -> identity -> ... -> what the last one holds.
// Paths through the same identity meet at one node.
func escalationGraph(r *finding.Report) *graph {
	g := &graph{index: map[string]int{}}
	for _, f := range r.Items {
		p, ok := pathOf(f)
		if !ok {
			continue
		}
		steps := strings.Split(p.Path, " -> ")
		if len(steps) < 2 {
			continue
		}
		actions := map[string]bool{}
		for _, h := range p.Hops {
			actions[h.Action] = true
		}
		prev := g.node(nodeSubject, steps[0], f.Severity, 0)
		for i, s := range steps[1:] {
			kind := nodeIdentity
			switch {
			case i == len(steps)-2:
				kind = nodeTarget
			case actions[s]:
				kind = nodeCapability
			}
			n := g.node(kind, s, f.Severity, i+1)
			g.edge(prev, n, "", "")
			prev = n
		}
	}
	return g
}

// reachabilityGraph is the namespace-to-namespace graph of the report's
// NetworkPolicy coverage: an edge where some connection is allowed (or unknown).
func reachabilityGraph(r *finding.Report) (g *graph, note string, ok bool) {
	for _, c := range r.Coverage {
		nr, is := c.Data.(NamespaceReachability)
		if !is {
			continue
		}
		namespaces, cells, note := nr.NamespaceReach()
		g := &graph{index: map[string]int{}}
		for _, ns := range namespaces {
			g.node("namespace", ns, 0, 0)
		}
		for i := range cells {
			for j, v := range cells[i] {
				switch v {
				case "all", "some", "unknown":
					g.edge(i, j, v, v)
				}
			}
		}
		return g, note, true
	}
	return nil, "", false
}

// layout places a graph's nodes in columns by layer and orders each column by
// the mean row of the nodes pointing at it, which keeps paths mostly straight.
// It returns each node's column and row, and the number of rows of the tallest column.
func (g *graph) layout() (col, row []int, rows int) {
	col, row = make([]int, len(g.Nodes)), make([]int, len(g.Nodes))
	layers := map[int][]int{}
	var order []int
	for i, n := range g.Nodes {
		col[i] = n.Layer
		if _, ok := layers[n.Layer]; !ok {
			order = append(order, n.Layer)
		}
		layers[n.Layer] = append(layers[n.Layer], i)
	}
	slices.Sort(order)
	preds := make([][]int, len(g.Nodes))
	for _, e := range g.Edges {
		preds[e.To] = append(preds[e.To], e.From)
	}
	for ci, l := range order {
		nodes := layers[l]
		for _, n := range nodes {
			col[n] = ci
		}
		if ci > 0 {
			bary := func(n int) float64 {
				sum, k := 0.0, 0
				for _, p := range preds[n] {
					if col[p] < ci {
						sum += float64(row[p])
						k++
					}
				}
				if k == 0 {
					return float64(len(nodes))
				}
				return sum / float64(k)
			}
			slices.SortStableFunc(nodes, func(a, b int) int { return cmp.Compare(bary(a), bary(b)) })
		}
		for ri, n := range nodes {
			row[n] = ri
		}
		rows = max(rows, len(nodes))
	}
	return col, row, rows
}
