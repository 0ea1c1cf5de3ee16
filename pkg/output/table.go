package output

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/fatih/color"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// Tabular is implemented by a domain's coverage data (finding.Coverage.Data)
// that wants a table of its own under the findings, like the NetworkPolicy
// isolation per namespace.
type Tabular interface {
	Table() (title string, headers []string, rows [][]string)
}

// Table prints a one-screen scorecard, then the findings grouped by severity
// (or by RBAC subject), then any coverage tables.
type Table struct {
	Color          bool
	Wide           bool
	GroupBySubject bool
	// All lists every finding; otherwise a check with more than
	// maxRowsPerCheck findings shows its first few and how many more.
	All bool
	// ShowAccepted lists the accepted findings under the others; else one line counts them.
	ShowAccepted bool
}

// A check with more findings than maxRowsPerCheck shows summaryRows of them
// and a count, so the table of a big cluster stays a page per check rather
// than thousands of lines; -o wide, --all and -o json list each.
const (
	maxRowsPerCheck = 10
	summaryRows     = 5
)

func (t *Table) paint(attrs ...color.Attribute) func(string) string {
	return func(s string) string { return render.Palette{On: t.Color}.Paint(s, attrs...) }
}

func (t *Table) severityColor(s finding.Severity) func(string) string {
	return func(text string) string { return render.Palette{On: t.Color}.Severity(s, text) }
}

// Print writes the report.
func (t *Table) Print(r *finding.Report, w io.Writer) error {
	ew := &errWriter{w: w}
	t.scorecard(r, ew)
	if r.Controls != nil {
		t.controls(r.Controls, ew)
		return ew.err
	}
	items, accepted := shownItems(r)
	switch {
	case len(items) == 0 && r.Summary.Hidden > 0:
		fmt.Fprintf(ew, "\nNo findings shown: %d below --severity are hidden.\n", r.Summary.Hidden)
	case len(items) == 0 && r.Summary.Baseline != nil && len(r.Summary.Skipped) > 0:
		fmt.Fprintln(ew, "\nNo new findings since the baseline from the checks that ran; the skipped checks above are unknown, not passed.")
	case len(items) == 0 && r.Summary.Baseline != nil:
		fmt.Fprintln(ew, "\nNo new findings since the baseline.")
	case len(items) == 0 && len(r.Summary.Skipped) > 0:
		fmt.Fprintln(ew, "\nNo findings from the checks that ran; the skipped checks above are unknown, not passed.")
	case len(items) == 0:
		fmt.Fprintln(ew, "\nNo findings.")
	case t.GroupBySubject:
		t.bySubject(items, ew)
	default:
		t.bySeverity(items, ew)
	}
	if t.ShowAccepted && len(accepted) > 0 {
		t.accepted(accepted, ew)
	}
	if len(r.Fixed) > 0 {
		fmt.Fprintf(ew, "\n%s\n", t.paint(color.FgGreen, color.Bold)(fmt.Sprintf("FIXED SINCE THE BASELINE (%d)", len(r.Fixed))))
		var rows [][]string
		for _, f := range r.Fixed {
			rows = append(rows, []string{f.Severity.String(), f.Check, f.Resource.String(), f.Message})
		}
		t.columns(ew, []string{"SEVERITY", "CHECK", "RESOURCE", "MESSAGE"}, rows, nil)
	}
	if len(items) > 0 && r.Summary.Hidden > 0 {
		fmt.Fprintf(ew, "\n%d more findings below --severity are hidden (they count in the score and --fail-on).\n", r.Summary.Hidden)
	}
	for _, c := range r.Coverage {
		if tab, ok := c.Data.(Tabular); ok {
			title, headers, rows := tab.Table()
			fmt.Fprintf(ew, "\n%s\n", t.paint(color.Bold)(title))
			t.columns(ew, headers, rows, nil)
		}
	}
	return ew.err
}

func (t *Table) scorecard(r *finding.Report, w io.Writer) {
	bold := t.paint(color.Bold)
	m := r.Metadata
	target := m.Context
	if m.Server != nil {
		if target != "" {
			target += " "
		}
		target += "(" + strings.TrimSpace(m.Server.Host+" "+m.Server.Version) + ")"
	}
	if len(m.Files) > 0 {
		target = strings.Join(m.Files, ", ")
	}
	if target != "" {
		fmt.Fprintf(w, "%s %s\n", bold("TARGET "), target)
	}
	s := r.Summary
	score := strconv.Itoa(s.Score) + "/100"
	sc := t.paint(color.FgGreen, color.Bold)
	switch {
	case s.Score < 50:
		sc = t.paint(color.FgRed, color.Bold)
	case s.Score < 80:
		sc = t.paint(color.FgYellow, color.Bold)
	}
	var counts []string
	for _, sev := range finding.Severities() {
		counts = append(counts, t.severityColor(sev)(fmt.Sprintf("%s %d", sev, s.Count(sev))))
	}
	fmt.Fprintf(w, "%s %s   %s\n", bold("SCORE  "), sc(score), strings.Join(counts, "  "))
	fmt.Fprintf(w, "%s %d run, %d with findings, %d skipped\n", bold("CHECKS "), s.Checks, s.Failed, len(s.Skipped))
	if b := m.Benchmark; b != nil {
		fmt.Fprintf(w, "%s %s (%s): %s\n", bold("BENCHMARK"), b.Title, b.ID, b.Reason)
	}
	if in := m.Input; in != nil {
		t.input(in, w)
	}
	// A few skipped checks are named with their reasons; many (a user who may
	// list nothing) make one line by domain, the INPUT lines above saying why.
	yellow := t.paint(color.FgYellow)
	if groups := groupByReason(s.Skipped); len(groups) <= maxSkippedLines {
		for _, g := range groups {
			fmt.Fprintf(w, "%s %s: %s\n", yellow("SKIPPED"), strings.Join(g.checks, ", "), g.reason)
		}
	} else {
		fmt.Fprintf(w, "%s %d checks (%s) for the input above: unknown, not passed; -o json lists each with its reason in summary.skipped\n",
			yellow("SKIPPED"), len(s.Skipped), byDomain(s.Skipped))
	}
	for _, g := range groupByReason(s.NotApplicable) {
		fmt.Fprintf(w, "%s %s: %s\n", bold("N/A    "), strings.Join(g.checks, ", "), g.reason)
	}
	for _, g := range groupByReason(s.Unknown) {
		fmt.Fprintf(w, "%s %s: %s (not passed)\n", yellow("UNKNOWN"), strings.Join(g.checks, ", "), g.reason)
	}
	if s.Accepted > 0 {
		how := "--show-accepted lists them"
		if t.ShowAccepted {
			how = "listed below"
		}
		fmt.Fprintf(w, "%s %d %s accepted by exceptions: not counted above nor in --fail-on (%s)\n",
			bold("ACCEPTED"), s.Accepted, plural(s.Accepted, "finding", "findings"), how)
	}
	if b := s.Baseline; b != nil {
		fmt.Fprintf(w, "%s %s: %d new, %d unchanged (not shown), %d fixed since; --fail-on judges the new ones\n",
			bold("BASELINE"), b.Report, b.New.Total(), b.Unchanged, b.Fixed)
	}
}

// controls prints a framework's scorecard: per section its counts and
// score, per control its status, and the findings under each failing control.
func (t *Table) controls(sc *finding.Scorecard, w io.Writer) {
	bold := t.paint(color.Bold)
	status := map[string]func(string) string{
		finding.ControlPass: t.paint(color.FgGreen), finding.ControlFail: t.paint(color.FgRed, color.Bold),
		finding.ControlUnknown: t.paint(color.FgYellow), finding.ControlManual: t.paint(color.FgCyan),
	}
	counts := func(c finding.ControlCounts) string {
		score := "-"
		if c.Score >= 0 {
			score = strconv.Itoa(c.Score) + "%"
		}
		return fmt.Sprintf("%s  %d pass, %d fail, %d unknown, %d manual", score, c.Pass, c.Fail, c.Unknown, c.Manual)
	}
	fmt.Fprintf(w, "\n%s %s (%s): %s (unknown counts as not passed; manual needs a person)\n", bold("CONTROLS"), sc.Title, sc.Catalogue, counts(sc.Summary))
	for _, sec := range sc.Sections {
		fmt.Fprintf(w, "\n%s  %s\n", bold(sec.ID+" "+sec.Title), counts(sec.ControlCounts))
		var rows [][]string
		var detail [][]string
		for _, r := range sc.Results {
			if r.Section != sec.ID {
				continue
			}
			note := r.Reason
			if r.Status == finding.ControlFail {
				n := 0
				for _, e := range r.Evidence {
					n += len(e.Findings)
				}
				note = fmt.Sprintf("%d %s", n, plural(n, "finding", "findings"))
			}
			rows = append(rows, []string{string(r.ID), r.Status, r.Title, note})
			var d []string
			for _, e := range r.Evidence {
				for i, f := range e.Findings {
					if i == summaryRows && len(e.Findings) > maxRowsPerCheck && !t.All && !t.Wide {
						d = append(d, fmt.Sprintf("    ... %d more of %s (-o wide or --all lists each)", len(e.Findings)-i, e.Check))
						break
					}
					d = append(d, fmt.Sprintf("    %s %s %s: %s", t.severityColor(f.Severity)(f.Severity.String()), e.Check, f.Resource, f.Message))
				}
			}
			detail = append(detail, d)
		}
		// One control per line, its failing findings beneath it.
		widths := make([]int, 3)
		for _, row := range rows {
			for i := range widths {
				widths[i] = max(widths[i], len(row[i]))
			}
		}
		for i, row := range rows {
			line := fmt.Sprintf("  %-*s  %s  %-*s", widths[0], row[0], status[row[1]](fmt.Sprintf("%-*s", widths[1], row[1])), widths[2], row[2])
			if row[3] != "" {
				line += "  " + row[3]
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			for _, d := range detail[i] {
				fmt.Fprintln(w, d)
			}
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shownItems splits the report's findings into those the table lists (not
// accepted, and new when there is a baseline) and the accepted ones.
func shownItems(r *finding.Report) (shown, accepted []finding.Finding) {
	if r.Summary.Accepted == 0 && r.Summary.Baseline == nil {
		return r.Items, nil
	}
	for _, f := range r.Items {
		switch {
		case f.Accepted != nil:
			accepted = append(accepted, f)
		case f.BaselineState == finding.BaselineUnchanged:
		default:
			shown = append(shown, f)
		}
	}
	return shown, accepted
}

// accepted lists the accepted findings with the exception that accepts each.
func (t *Table) accepted(items []finding.Finding, w io.Writer) {
	fmt.Fprintf(w, "\n%s\n", t.paint(color.Bold)(fmt.Sprintf("ACCEPTED (%d)", len(items))))
	var rows [][]string
	for _, f := range items {
		a := f.Accepted
		rows = append(rows, []string{f.Severity.String(), f.Check, f.Resource.String(), a.Owner, a.Expires, a.By, a.Reason})
	}
	t.columns(w, []string{"SEVERITY", "CHECK", "RESOURCE", "OWNER", "EXPIRES", "BY", "REASON"}, rows, nil)
}

// input prints what the audit could not see, one line per status.
func (t *Table) input(in *finding.Input, w io.Writer) {
	byStatus := map[string][]string{}
	var order []string
	for _, k := range in.Kinds {
		switch k.Status {
		case finding.InputListed, finding.InputRead, finding.InputNone:
			continue
		}
		if _, ok := byStatus[k.Status]; !ok {
			order = append(order, k.Status)
		}
		byStatus[k.Status] = append(byStatus[k.Status], k.Kind)
	}
	slices.Sort(order)
	for _, st := range order {
		fmt.Fprintf(w, "%s %s: %s\n", t.paint(color.Bold)("INPUT  "), st, strings.Join(byStatus[st], ", "))
	}
	if len(in.Unmodelled) > 0 {
		var parts []string
		for _, u := range in.Unmodelled {
			parts = append(parts, fmt.Sprintf("%s %d", u.Kind, u.Count))
		}
		fmt.Fprintf(w, "%s not modelled (counted, not judged): %s\n", t.paint(color.Bold)("INPUT  "), strings.Join(parts, ", "))
	}
}

// maxSkippedLines is how many reasons the table lists one by one.
const maxSkippedLines = 5

// byDomain counts checks by domain: "rbac 21, netpol 10".
func byDomain(sk []finding.Skipped) string {
	counts := map[string]int{}
	var order []string
	for _, s := range sk {
		d, _, _ := strings.Cut(s.Check, "/")
		if counts[d] == 0 {
			order = append(order, d)
		}
		counts[d]++
	}
	parts := make([]string, len(order))
	for i, d := range order {
		parts[i] = fmt.Sprintf("%s %d", d, counts[d])
	}
	return strings.Join(parts, ", ")
}

type reasonGroup struct {
	reason string
	checks []string
}

func groupByReason(sk []finding.Skipped) []reasonGroup {
	var out []reasonGroup
	at := map[string]int{}
	for _, s := range sk {
		i, ok := at[s.Reason]
		if !ok {
			i = len(out)
			at[s.Reason] = i
			out = append(out, reasonGroup{reason: s.Reason})
		}
		out[i].checks = append(out[i].checks, s.Check)
	}
	return out
}

func (t *Table) headers() []string {
	h := []string{"CHECK", "RESOURCE", "MESSAGE"}
	if t.Wide {
		h = append(h, "CONTROLS", "REMEDIATION")
	}
	return h
}

func (t *Table) row(f finding.Finding) []string {
	row := []string{f.Check, f.Resource.String(), f.Message}
	if t.Wide {
		ctl := make([]string, len(f.Controls))
		for i, c := range f.Controls {
			ctl[i] = string(c)
		}
		rem := ""
		if f.Remediation != nil {
			rem = f.Remediation.Summary
		}
		row = append(row, strings.Join(ctl, ","), rem)
	}
	return row
}

func (t *Table) bySeverity(items []finding.Finding, w io.Writer) {
	perCheck := map[string]int{}
	for _, f := range items {
		perCheck[f.Check+"\x00"+f.Severity.String()]++
	}
	for _, sev := range finding.Severities() {
		var rows [][]string
		n, shown := 0, map[string]int{}
		for _, f := range items {
			if f.Severity != sev {
				continue
			}
			n++
			key := f.Check + "\x00" + sev.String()
			total := perCheck[key]
			if t.All || t.Wide || total <= maxRowsPerCheck {
				rows = append(rows, t.row(f))
				continue
			}
			switch shown[key]++; {
			case shown[key] <= summaryRows:
				rows = append(rows, t.row(f))
			case shown[key] == summaryRows+1:
				rows = append(rows, []string{f.Check, fmt.Sprintf("(%d more)", total-summaryRows), fmt.Sprintf("%d findings of this check in all; --all or -o wide lists each", total)})
			}
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", t.severityColor(sev)(fmt.Sprintf("%s (%d)", strings.ToUpper(sev.String()), n)))
		t.columns(w, t.headers(), rows, nil)
	}
}

// bySubject groups findings by the subject holding the permission, most dangerous subject first.
func (t *Table) bySubject(items []finding.Finding, w io.Writer) {
	type group struct {
		name  string
		worst finding.Severity
		items []finding.Finding
	}
	groups := map[string]*group{}
	for _, f := range items {
		name := "(no subject)"
		if f.Subject != nil {
			name = f.Subject.String()
		}
		g, ok := groups[name]
		if !ok {
			g = &group{name: name}
			groups[name] = g
		}
		g.items = append(g.items, f)
		g.worst = max(g.worst, f.Severity)
	}
	var list []*group
	for _, g := range groups {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.worst, a.worst), cmp.Compare(len(b.items), len(a.items)), cmp.Compare(a.name, b.name))
	})
	for _, g := range list {
		fmt.Fprintf(w, "\n%s  %s\n", t.paint(color.Bold)(g.name), t.severityColor(g.worst)(g.worst.String()))
		h := append([]string{"SEVERITY"}, t.headers()...)
		var rows [][]string
		var sevs []finding.Severity
		for _, f := range g.items {
			rows = append(rows, append([]string{f.Severity.String()}, t.row(f)...))
			sevs = append(sevs, f.Severity)
		}
		t.columns(w, h, rows, func(row, col int, s string) string {
			if col == 0 {
				return t.severityColor(sevs[row])(s)
			}
			return s
		})
	}
}

// columns pads by the visible width, so colour codes do not break alignment.
func (t *Table) columns(w io.Writer, headers []string, rows [][]string, paint func(row, col int, s string) string) {
	width := make([]int, len(headers))
	for i, h := range headers {
		width[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(width) && i < len(r)-1 {
				width[i] = max(width[i], len([]rune(c)))
			}
		}
	}
	line := func(cells []string, row int) {
		var b strings.Builder
		for i, c := range cells {
			pad := ""
			if i < len(cells)-1 {
				pad = strings.Repeat(" ", width[i]-len([]rune(c))+2)
			}
			if paint != nil && row >= 0 {
				c = paint(row, i, c)
			}
			b.WriteString(c + pad)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(headers, -1)
	for i, r := range rows {
		line(r, i)
	}
}

// Columns prints a plain aligned table, for listings outside a report.
func Columns(w io.Writer, headers []string, rows [][]string) error {
	ew := &errWriter{w: w}
	(&Table{}).columns(ew, headers, rows, nil)
	return ew.err
}

// errWriter keeps the first write error so printing code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("write output: %w", err)
	}
	return n, err
}
