package output

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

//go:embed html.tmpl
var htmlTemplate string

// HTML prints a report as one self-contained page for people: the scorecard
// with a score per domain, the findings (sortable, filterable by severity,
// domain, namespace and check, searchable) with their evidence and
// remediation YAML, the RBAC escalation paths drawn as a graph, the
// NetworkPolicy coverage and the namespace reachability matrix, and the
// domains' other tables. Styles and script are inline and the page's
// Content-Security-Policy forbids every fetch, so it opens offline, attached
// to a ticket, and prints to PDF with every detail expanded.
type HTML struct {
	// Version is the plugin's version, shown in the footer.
	Version string
}

// Print writes the page of one report.
func (h HTML) Print(r *finding.Report, w io.Writer) error { return h.PrintAll([]*finding.Report{r}, w) }

// PrintAll writes one page with a section per report: the clusters of a fleet run.
func (h HTML) PrintAll(reports []*finding.Report, w io.Writer) error {
	t, err := template.New("report").Funcs(template.FuncMap{"lower": strings.ToLower}).Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("parse the html template: %w", err)
	}
	page := htmlPage{Version: h.Version, Severities: severityNames()}
	for i, r := range reports {
		c, err := newHTMLCluster(i, r)
		if err != nil {
			return err
		}
		page.Clusters = append(page.Clusters, c)
		if page.Generated == "" && !r.Metadata.GeneratedAt.IsZero() {
			page.Generated = r.Metadata.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		}
	}
	page.Title = "kubectl harden report"
	if len(page.Clusters) == 1 {
		page.Title += ": " + page.Clusters[0].Target
	} else {
		page.Title += fmt.Sprintf(": %d clusters", len(page.Clusters))
	}
	ew := &errWriter{w: w}
	if err := t.Execute(ew, page); err != nil {
		if ew.err != nil {
			return ew.err
		}
		return fmt.Errorf("render html: %w", err)
	}
	return ew.err
}

func severityNames() []string {
	var out []string
	for _, s := range finding.Severities() {
		out = append(out, s.String())
	}
	return out
}

type htmlPage struct {
	Title, Generated, Version string
	Severities                []string
	Clusters                  []htmlCluster
}

type htmlCluster struct {
	ID, Target    string
	Score         int
	ScoreClass    string
	Counts        []htmlCount
	Summary       finding.Summary
	Domains       []finding.DomainScore
	Skipped       []finding.Skipped
	NotApplicable []finding.Skipped
	Findings      []htmlFinding
	Graph         *htmlGraph
	Tables        []htmlTable
	Reach         *htmlMatrix
	ReachNote     string
	// ReachEmpty are the namespaces left out of the matrix: no running workload on the pod network.
	ReachEmpty     []string
	FilterDomains  []string
	FilterNS       []string
	FilterChecks   []string
	InputNotSeen   []string
	EscalationRuns bool
}

type htmlCount struct {
	Severity string
	Count    int
}

type htmlFinding struct {
	Severity, Check, Domain, Namespace, Resource, Subject, Title, Message string
	Rank                                                                  int
	Controls, Source, Evidence, Remediation                               string
	Changes                                                               []htmlChange
}

type htmlChange struct {
	Description, Action, YAML string
	Risky                     bool
	Breaks                    []string
}

type htmlTable struct {
	Title   string
	Headers []string
	Rows    [][]string
}

type htmlMatrix struct {
	Namespaces []string
	Rows       []htmlMatrixRow
}

type htmlMatrixRow struct {
	From  string
	Cells []htmlMatrixCell
}

type htmlMatrixCell struct {
	To, Verdict, Title string
}

// htmlGraph is a laid-out graph for inline SVG.
type htmlGraph struct {
	Width, Height int
	Nodes         []htmlGraphNode
	Edges         []htmlGraphEdge
}

type htmlGraphNode struct {
	X, Y, W, H      int
	Kind, Label     string
	Severity        string
	Lines           []htmlTextLine
	TextX, CornerRx int
}

type htmlTextLine struct {
	Y    int
	Text string
}

type htmlGraphEdge struct {
	D string
}

func newHTMLCluster(i int, r *finding.Report) (htmlCluster, error) {
	c := htmlCluster{ID: fmt.Sprintf("cluster-%d", i), Target: reportTarget(r), Score: r.Summary.Score, Summary: r.Summary,
		Domains: r.DomainScores(), Skipped: r.Summary.Skipped, NotApplicable: r.Summary.NotApplicable}
	switch {
	case c.Score < 50:
		c.ScoreClass = "bad"
	case c.Score < 80:
		c.ScoreClass = "fair"
	default:
		c.ScoreClass = "good"
	}
	for _, s := range finding.Severities() {
		c.Counts = append(c.Counts, htmlCount{Severity: s.String(), Count: r.Summary.Count(s)})
	}
	if in := r.Metadata.Input; in != nil {
		for _, k := range in.Kinds {
			switch k.Status {
			case finding.InputListed, finding.InputRead, finding.InputNone:
				continue
			}
			c.InputNotSeen = append(c.InputNotSeen, fmt.Sprintf("%s: %s", k.Kind, k.Status))
		}
	}
	domains, namespaces, checks := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range r.Items {
		hf, err := newHTMLFinding(f)
		if err != nil {
			return c, err
		}
		c.Findings = append(c.Findings, hf)
		domains[hf.Domain], namespaces[hf.Namespace], checks[hf.Check] = true, true, true
	}
	c.FilterDomains, c.FilterNS, c.FilterChecks = sortedKeys(domains), sortedKeys(namespaces), sortedKeys(checks)
	c.EscalationRuns = ranCheck(r, EscalationCheck)
	if g := escalationGraph(r); len(g.Nodes) > 0 {
		c.Graph = drawGraph(g)
	}
	for _, e := range r.Coverage {
		if tab, ok := e.Data.(Tabular); ok {
			title, headers, rows := tab.Table()
			c.Tables = append(c.Tables, htmlTable{Title: title, Headers: headers, Rows: rows})
		}
		if nr, ok := e.Data.(NamespaceReachability); ok {
			namespaces, cells, note := nr.NamespaceReach()
			c.ReachNote = note
			if cells != nil {
				c.Reach, c.ReachEmpty = reachMatrix(namespaces, cells)
			}
		}
	}
	return c, nil
}

// reachMatrix is the matrix without the namespaces that have no workload to
// judge (every cell of their row and column empty), which would only add blank lines.
func reachMatrix(namespaces []string, cells [][]string) (*htmlMatrix, []string) {
	var keep []int
	var empty []string
	for i, ns := range namespaces {
		used := false
		for j := range namespaces {
			used = used || cells[i][j] != "" || cells[j][i] != ""
		}
		if used {
			keep = append(keep, i)
		} else {
			empty = append(empty, ns)
		}
	}
	m := &htmlMatrix{}
	for _, i := range keep {
		m.Namespaces = append(m.Namespaces, namespaces[i])
		row := htmlMatrixRow{From: namespaces[i]}
		for _, j := range keep {
			v := cells[i][j]
			row.Cells = append(row.Cells, htmlMatrixCell{To: namespaces[j], Verdict: v, Title: reachTitle(namespaces[i], namespaces[j], v)})
		}
		m.Rows = append(m.Rows, row)
	}
	return m, empty
}

func reachTitle(from, to, v string) string {
	switch v {
	case "all":
		return "every workload of " + from + " may connect to every workload of " + to
	case "some":
		return "some workloads of " + from + " may connect to some of " + to
	case "none":
		return "no workload of " + from + " may connect to " + to
	case "unknown":
		return "unknown: cluster-scoped policies of equal priority disagree"
	}
	return "no running workload on one side"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// reportTarget names what a report audited, as the table's TARGET line does.
func reportTarget(r *finding.Report) string {
	m := r.Metadata
	if len(m.Files) > 0 {
		return strings.Join(m.Files, ", ")
	}
	t := m.Context
	if m.Server != nil && m.Server.Host != "" {
		if t != "" {
			t += " "
		}
		t += "(" + m.Server.Host + ")"
	}
	if t == "" {
		t = "cluster"
	}
	return t
}

func newHTMLFinding(f finding.Finding) (htmlFinding, error) {
	hf := htmlFinding{Severity: f.Severity.String(), Rank: int(f.Severity), Check: f.Check, Domain: domainOf(f.Check),
		Namespace: reportNamespace(f.Resource), Resource: f.Resource.String(), Title: f.Title, Message: f.Message}
	if hf.Namespace == "" {
		hf.Namespace = "(cluster)"
	}
	if f.Subject != nil {
		hf.Subject = f.Subject.String()
	}
	cs := make([]string, len(f.Controls))
	for i, ctl := range f.Controls {
		cs[i] = string(ctl)
	}
	hf.Controls = strings.Join(cs, ", ")
	if f.Source != nil {
		hf.Source = f.Source.File
		if f.Source.Line > 0 {
			hf.Source += fmt.Sprintf(":%d", f.Source.Line)
		}
	}
	if len(f.Evidence) > 0 {
		b, err := yaml.Marshal(f.Evidence)
		if err != nil {
			return hf, fmt.Errorf("render the evidence of %s: %w", f.Check, err)
		}
		hf.Evidence = string(b)
	}
	if rem := f.Remediation; rem != nil {
		hf.Remediation = rem.Summary
		for _, ch := range rem.Changes {
			b, err := render.YAML(ch)
			if err != nil {
				return hf, err
			}
			hf.Changes = append(hf.Changes, htmlChange{Description: ch.Description, Action: string(ch.Action), YAML: string(b), Risky: ch.Risky, Breaks: ch.Breaks})
		}
		for _, alt := range rem.Alternatives {
			for _, ch := range alt.Changes {
				b, err := render.YAML(ch)
				if err != nil {
					return hf, err
				}
				hf.Changes = append(hf.Changes, htmlChange{Description: "alternative, instead of the changes above: " + ch.Description,
					Action: string(ch.Action), YAML: string(b), Risky: ch.Risky, Breaks: ch.Breaks})
			}
		}
	}
	return hf, nil
}

// The geometry of the escalation graph drawing.
const (
	graphNodeW   = 200
	graphNodeH   = 46
	graphColGap  = 60
	graphRowGap  = 18
	graphMargin  = 10
	graphLineLen = 30
)

// drawGraph lays the graph out in columns (subject, capability, identity,
// ..., target) and computes the SVG shapes: boxes with wrapped labels, and
// curves from the right side of one box to the left side of the next.
func drawGraph(g *graph) *htmlGraph {
	col, row, rows := g.layout()
	cols := 0
	for _, c := range col {
		cols = max(cols, c+1)
	}
	d := &htmlGraph{Width: 2*graphMargin + cols*graphNodeW + (cols-1)*graphColGap, Height: 2*graphMargin + rows*graphNodeH + (rows-1)*graphRowGap}
	for i, n := range g.Nodes {
		x := graphMargin + col[i]*(graphNodeW+graphColGap)
		y := graphMargin + row[i]*(graphNodeH+graphRowGap)
		lines := wrap(n.Label, graphLineLen, 3)
		hn := htmlGraphNode{X: x, Y: y, W: graphNodeW, H: graphNodeH, Kind: n.Kind, Label: n.Label, TextX: x + graphNodeW/2}
		if n.Kind == nodeTarget {
			hn.Severity = n.Severity.String()
		}
		if n.Kind == nodeCapability {
			hn.CornerRx = graphNodeH / 2
		} else {
			hn.CornerRx = 6
		}
		top := y + graphNodeH/2 - (len(lines)-1)*13/2 + 4
		for li, l := range lines {
			hn.Lines = append(hn.Lines, htmlTextLine{Y: top + li*13, Text: l})
		}
		d.Nodes = append(d.Nodes, hn)
	}
	for _, e := range g.Edges {
		a, b := d.Nodes[e.From], d.Nodes[e.To]
		x1, y1 := a.X+a.W, a.Y+a.H/2
		x2, y2 := b.X-4, b.Y+b.H/2
		if b.X <= a.X {
			// A path back to an earlier column (a cycle of escalation) bends below.
			x1, x2 = a.X+a.W/2, b.X+b.W/2
			y1, y2 = a.Y+a.H, b.Y+b.H+4
			d.Edges = append(d.Edges, htmlGraphEdge{D: fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1, y1+40, x2, y2+40, x2, y2)})
			continue
		}
		mid := (x1 + x2) / 2
		d.Edges = append(d.Edges, htmlGraphEdge{D: fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, mid, y1, mid, y2, x2, y2)})
	}
	return d
}

// wrap breaks a label into at most n lines of about width characters, at spaces.
func wrap(s string, width, n int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > n {
		lines = append(lines[:n-1], strings.Join(lines[n-1:], " "))
		if last := lines[n-1]; len(last) > width {
			lines[n-1] = last[:width-1] + "…"
		}
	}
	return lines
}
