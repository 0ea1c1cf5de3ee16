package apply

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// Item is one change to review, with the findings it fixes. Several findings
// often share one change (every subject of one cluster-admin binding, every
// pod of one namespace): it is shown and applied once.
type Item struct {
	Check    string
	Severity finding.Severity
	Title    string
	// Why is the check's description: why the finding matters.
	Why      string
	Findings []finding.Finding
	Change   remedy.Change
}

// Items turns findings into the changes to review, most severe first (the
// order of the findings), one Item per distinct change. why returns a check's
// description; it may be nil.
func Items(findings []finding.Finding, why func(check string) string) []Item {
	var out []Item
	index := map[string]int{}
	for _, f := range findings {
		if f.Remediation == nil {
			continue
		}
		for _, ch := range f.Remediation.Changes {
			k := ch.Key()
			if i, ok := index[k]; ok {
				out[i].Findings = append(out[i].Findings, f)
				continue
			}
			it := Item{Check: f.Check, Severity: f.Severity, Title: f.Title, Findings: []finding.Finding{f}, Change: ch}
			if why != nil {
				it.Why = why(f.Check)
			}
			index[k] = len(out)
			out = append(out, it)
		}
	}
	return out
}

// DryRunMode is --dry-run: none asks and writes, client and server only print the plan.
type DryRunMode string

const (
	DryRunNone   DryRunMode = "none"
	DryRunClient DryRunMode = "client"
	DryRunServer DryRunMode = "server"
)

// Session walks the items, asks for each, and applies what gets a yes.
type Session struct {
	Client *Client
	// Journal receives every change before it is sent; required unless DryRun.
	Journal *Journal
	In      io.Reader
	Out     io.Writer
	Color   bool
	// Yes applies every change the server's dry-run accepts without asking,
	// except risky ones unless IncludeRisky.
	Yes          bool
	IncludeRisky bool
	DryRun       DryRunMode
	// Edit opens an editor on content and returns what was saved; nil offers no [e]dit.
	Edit func(content []byte) ([]byte, error)
}

// Outcome is what happened to one item.
type Outcome struct {
	Item   Item
	Change remedy.Change // as applied: differs from Item.Change after an edit
	Reason string        // why it was skipped or failed
	Err    error
}

// Summary is the result of a session.
type Summary struct {
	Applied, Skipped, Failed []Outcome
	// Unchanged are items already in place when their turn came.
	Unchanged []Outcome
	// Planned are the items a dry run would apply.
	Planned []Outcome
	// NotReviewed counts the items left when the session ended early.
	NotReviewed int
	Interrupted bool
	Journal     string
}

// step is one change prepared for review: the live object, what the server
// (or the client, for --dry-run=client) says it becomes, and what stops it.
type step struct {
	change    remedy.Change
	live      *unstructured.Unstructured
	proposed  *unstructured.Unstructured
	warnings  []string
	takesOver []string
	unchanged bool
	err       error
	// rejected: the server's dry-run refused the change itself; an edit may fix it.
	rejected bool
}

func (s *Session) prepare(ctx context.Context, ch remedy.Change) *step {
	st := &step{change: ch}
	live, err := s.Client.Get(ctx, ch.Target)
	if err != nil {
		st.err = err
		return st
	}
	st.live = live
	if ch.ResourceVersion != "" && live != nil && live.GetResourceVersion() != ch.ResourceVersion {
		st.err = fmt.Errorf("%s changed since the audit read it (resourceVersion %s, now %s): run the audit again to review it as it is",
			ch.Target, ch.ResourceVersion, live.GetResourceVersion())
		return st
	}
	if live == nil && ch.Action == remedy.Delete {
		st.unchanged = true // already gone: what the change wants
		return st
	}
	if live == nil && ch.Action == remedy.Patch {
		st.err = fmt.Errorf("%s does not exist (any more)", ch.Target)
		return st
	}
	if s.DryRun == DryRunClient {
		st.proposed, st.err = render.Preview(live, ch)
	} else {
		var resp Response
		resp, st.err = s.Client.DryRun(ctx, ch, live)
		st.proposed, st.warnings, st.takesOver = resp.Object, resp.Warnings, resp.TakesOver
		st.rejected = st.err != nil && !IsConflict(st.err)
	}
	if st.err == nil && ch.Action != remedy.Delete && live != nil && render.Equal(live, st.proposed) {
		st.unchanged = true
	}
	return st
}

// Run reviews the items in order and prints a summary. It returns when every
// item was seen, on [q]uit, at the end of the input, or when ctx is cancelled
// (Ctrl-C); a change being sent then is completed and journaled first.
func (s *Session) Run(ctx context.Context, items []Item) Summary {
	var sum Summary
	p := s.painter()
	in := newAnswers(s.In)
	auto := map[string]bool{}
	if s.DryRun == "" {
		s.DryRun = DryRunNone
	}
	if len(items) == 0 {
		fmt.Fprintln(s.Out, "No remediation changes for the selected findings.")
		return sum
	}
items:
	for i, it := range items {
		if ctx.Err() != nil {
			sum.Interrupted = true
			sum.NotReviewed = len(items) - i
			break
		}
		ch := it.Change
		st := s.prepare(ctx, ch)
		s.show(p, i+1, len(items), it, st)
		if st.unchanged {
			fmt.Fprintln(s.Out, p.faint("Already in place: nothing to change."))
			sum.Unchanged = append(sum.Unchanged, Outcome{Item: it, Change: ch})
			continue
		}
		if s.DryRun != DryRunNone {
			if st.err != nil {
				sum.Failed = append(sum.Failed, Outcome{Item: it, Change: ch, Err: st.err})
			} else {
				sum.Planned = append(sum.Planned, Outcome{Item: it, Change: ch})
			}
			continue
		}
		for {
			if st.err != nil && !st.rejected {
				// Cannot be read, gone, or changed since the audit: nothing to ask.
				sum.Failed = append(sum.Failed, Outcome{Item: it, Change: st.change, Err: st.err})
				continue items
			}
			var answer byte
			switch {
			case st.err == nil && s.Yes && (!ch.Risky || s.IncludeRisky):
				answer = 'y'
			case st.err == nil && auto[it.Check] && (!ch.Risky || s.IncludeRisky):
				answer = 'y'
			case s.Yes:
				// Nobody to ask: a rejected change fails, a risky one waits for a person.
				if st.err != nil {
					sum.Failed = append(sum.Failed, Outcome{Item: it, Change: st.change, Err: st.err})
					fmt.Fprintln(s.Out, p.red("Not applied: the server's dry-run rejected it."))
				} else {
					reason := "risky: --yes applies it only with --include-risky"
					sum.Skipped = append(sum.Skipped, Outcome{Item: it, Change: st.change, Reason: reason})
					fmt.Fprintln(s.Out, p.yellow("Not applied: "+reason+"."))
				}
				continue items
			default:
				a, err := s.ask(ctx, in, p, st)
				if err != nil {
					if errors.Is(err, context.Canceled) {
						sum.Interrupted = true
					}
					fmt.Fprintln(s.Out)
					sum.NotReviewed = len(items) - i
					break items
				}
				answer = a
			}
			switch answer {
			case 'y', 'a':
				if st.err != nil {
					fmt.Fprintln(s.Out, p.red("The server's dry-run rejected this change: it cannot be applied as it is. Edit it or skip it."))
					continue
				}
				if answer == 'a' {
					auto[it.Check] = true
				}
				o := s.apply(ctx, p, it, st)
				if o.Err != nil {
					sum.Failed = append(sum.Failed, o)
				} else {
					sum.Applied = append(sum.Applied, o)
				}
				continue items
			case 'n':
				sum.Skipped = append(sum.Skipped, Outcome{Item: it, Change: st.change, Reason: "answered no"})
				continue items
			case 'q':
				sum.Skipped = append(sum.Skipped, Outcome{Item: it, Change: st.change, Reason: "quit"})
				sum.NotReviewed = len(items) - i - 1
				break items
			case 'd':
				s.detail(p, it, st)
			case 'e':
				edited, ok := s.edit(p, st.change)
				if !ok {
					continue
				}
				st = s.prepare(ctx, edited)
				s.show(p, i+1, len(items), it, st)
				if st.unchanged {
					fmt.Fprintln(s.Out, p.faint("Already in place: nothing to change."))
					sum.Unchanged = append(sum.Unchanged, Outcome{Item: it, Change: st.change})
					continue items
				}
			}
		}
	}
	if s.Journal != nil {
		sum.Journal = s.Journal.Path()
	}
	s.printSummary(p, sum)
	return sum
}

// apply journals the change and sends it. The send and the journal lines
// run to the end even when ctx is cancelled (Ctrl-C while it is on the
// wire), so the journal always says what was done.
func (s *Session) apply(ctx context.Context, p painter, it Item, st *step) Outcome {
	ctx = context.WithoutCancel(ctx)
	o := Outcome{Item: it, Change: st.change}
	if s.Journal == nil {
		o.Err = errors.New("no journal: refusing to change the cluster without one")
		fmt.Fprintln(s.Out, p.red("Failed: "+o.Err.Error()))
		return o
	}
	seq, err := s.Journal.Begin(it.Check, st.change, st.live, st.proposed)
	if err != nil {
		o.Err = fmt.Errorf("not applied, the journal could not be written: %w", err)
		fmt.Fprintln(s.Out, p.red("Failed: "+o.Err.Error()))
		return o
	}
	resp, sendErr := s.Client.Send(ctx, st.change, st.live)
	for _, w := range resp.Warnings {
		fmt.Fprintln(s.Out, p.yellow("Warning: "+w))
	}
	if err := s.Journal.Finish(seq, resp.Object, sendErr); err != nil && sendErr == nil {
		// The change is made and the old object is journaled (Begin); only the
		// new resourceVersion is missing, which undo can do without (it compares objects).
		fmt.Fprintln(s.Out, p.yellow("Warning: "+err.Error()))
	}
	if sendErr != nil {
		o.Err = sendErr
		msg := sendErr.Error()
		if IsConflict(sendErr) {
			msg = "conflict: " + st.change.Target.String() + " changed since it was shown; it was left as it is now. Run the session again to review it."
			o.Reason = "conflict: it changed since it was shown, and was left as it is now"
		}
		fmt.Fprintln(s.Out, p.red("Failed: "+msg))
		return o
	}
	fmt.Fprintln(s.Out, p.green("Applied: "+string(st.change.Action)+" "+st.change.Target.String()))
	return o
}

// ask reads answers until one is valid for the step.
func (s *Session) ask(ctx context.Context, in *answers, p painter, st *step) (byte, error) {
	var opts []string
	valid := map[byte]bool{'n': true, 'd': true, 'q': true}
	if st.err == nil {
		opts = append(opts, "[y]es", "[n]o", "[a]ll of this check")
		valid['y'], valid['a'] = true, true
	} else {
		opts = append(opts, "[n]o")
	}
	if s.Edit != nil && st.change.Action != remedy.Delete {
		opts = append(opts, "[e]dit")
		valid['e'] = true
	}
	opts = append(opts, "[d]etail", "[q]uit")
	q := "Apply this change?"
	if st.err != nil {
		q = "The server rejects this change."
	}
	for {
		fmt.Fprintf(s.Out, "%s %s: ", p.bold(q), strings.Join(opts, " "))
		line, err := in.next(ctx)
		if err != nil {
			return 0, err
		}
		a := strings.ToLower(strings.TrimSpace(line))
		if a == "" {
			continue
		}
		if st.err != nil && (a[0] == 'y' || a[0] == 'a') {
			fmt.Fprintln(s.Out, p.red("The server's dry-run rejected this change: it is never applied as it is."))
			continue
		}
		if valid[a[0]] && (len(a) == 1 || a == "yes" || a == "no" || a == "all" || a == "edit" || a == "detail" || a == "quit") {
			return a[0], nil
		}
		fmt.Fprintf(s.Out, "Please answer one of %s.\n", strings.Join(opts, " "))
	}
}

// edit opens the editor on the change and returns the edited change; false
// when the edit was cancelled or did not parse (the reason is printed).
func (s *Session) edit(p painter, ch remedy.Change) (remedy.Change, bool) {
	body, err := render.YAML(ch)
	if err != nil {
		fmt.Fprintln(s.Out, p.red(err.Error()))
		return ch, false
	}
	what := "the object sent by server-side apply"
	if ch.Action == remedy.Patch {
		what = "the " + string(ch.PatchType) + " patch body"
	}
	header := fmt.Sprintf("# Edit %s for %s.\n# Lines starting with '#' are ignored; an empty file cancels the edit.\n# The edited change is checked again by a server-side dry-run before you are asked.\n#\n", what, ch.Target)
	out, err := s.Edit(append([]byte(header), body...))
	if err != nil {
		fmt.Fprintln(s.Out, p.red("Edit failed: "+err.Error()))
		return ch, false
	}
	var kept []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			kept = append(kept, l)
		}
	}
	text := strings.TrimSpace(strings.Join(kept, "\n"))
	if text == "" {
		fmt.Fprintln(s.Out, "Edit cancelled, no changes made.")
		return ch, false
	}
	if text == strings.TrimSpace(string(body)) {
		fmt.Fprintln(s.Out, "Edit made no changes.")
		return ch, false
	}
	edited, err := parseEdit(ch, []byte(text))
	if err != nil {
		fmt.Fprintln(s.Out, p.red("Edit not used: "+err.Error()))
		return ch, false
	}
	return edited, true
}

// parseEdit reads an edited change back. The target may not change: the
// change was reviewed, and is journaled, as a change to that object.
func parseEdit(ch remedy.Change, text []byte) (remedy.Change, error) {
	js, err := yaml.YAMLToJSON(text)
	if err != nil {
		return ch, fmt.Errorf("the edited YAML does not parse: %w", err)
	}
	edited := ch
	edited.Description = strings.TrimSuffix(ch.Description, " (edited)") + " (edited)"
	switch ch.Action {
	case remedy.Apply:
		m := map[string]any{}
		if err := json.Unmarshal(js, &m); err != nil {
			return ch, fmt.Errorf("the edited object must be a YAML mapping: %w", err)
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetNamespace() == "" && ch.Target.Namespace != "" {
			obj.SetNamespace(ch.Target.Namespace)
		}
		got := remedy.Target{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
		if got != ch.Target {
			return ch, fmt.Errorf("the edit changed the object from %s to %s; only its content may change", ch.Target, got)
		}
		edited.Object = obj
	case remedy.Patch:
		if ch.PatchType == types.JSONPatchType {
			var ops []any
			if err := json.Unmarshal(js, &ops); err != nil {
				return ch, fmt.Errorf("a JSON patch is a list of operations: %w", err)
			}
		} else {
			m := map[string]any{}
			if err := json.Unmarshal(js, &m); err != nil {
				return ch, fmt.Errorf("a merge patch is a mapping: %w", err)
			}
		}
		edited.Patch = js
	default:
		return ch, fmt.Errorf("a %s cannot be edited", ch.Action)
	}
	return edited, nil
}

// show prints what a person needs to decide: the finding and why it
// matters, the change and its diff, the dry-run result, what it may break.
func (s *Session) show(p painter, n, total int, it Item, st *step) {
	w := s.Out
	fmt.Fprintf(w, "\n%s %s %s\n", p.faint(fmt.Sprintf("[%d/%d]", n, total)), p.severity(it.Severity), p.bold(it.Check+": "+it.Title))
	for i, f := range it.Findings {
		if i == 3 && len(it.Findings) > 4 {
			fmt.Fprintf(w, "  ... and %d more findings ([d]etail lists them)\n", len(it.Findings)-3)
			break
		}
		fmt.Fprintf(w, "  %s\n", f.Message)
	}
	if it.Why != "" {
		fmt.Fprintf(w, "%s %s\n", p.bold("Why:"), it.Why)
	}
	ch := st.change
	fmt.Fprintf(w, "%s %s %s: %s\n", p.bold("Change:"), ch.Action, ch.Target, ch.Description)
	if st.unchanged {
		return
	}
	if ch.Risky {
		fmt.Fprintln(w, p.yellow("RISKY: this changes a workload, not only policy; [a]ll and --yes apply it only with --include-risky."))
	}
	if st.err == nil || st.rejected {
		proposed := st.proposed
		if st.rejected && s.DryRun != DryRunClient {
			// The server answered nothing; show what the change asks for.
			proposed, _ = render.Preview(st.live, ch)
		}
		if proposed != nil || ch.Action == remedy.Delete {
			if _, err := render.Diff(w, st.live, proposed, render.DiffOptions{From: "live", To: "proposed", Color: s.Color}); err != nil {
				fmt.Fprintln(w, p.red(err.Error()))
			}
		}
	}
	switch {
	case st.err != nil && st.rejected:
		fmt.Fprintf(w, "%s %s\n", p.bold("Server dry-run:"), p.red("REJECTED: "+st.err.Error()))
	case st.err != nil:
		fmt.Fprintf(w, "%s %s\n", p.bold("Cannot apply:"), p.red(st.err.Error()))
	case s.DryRun == DryRunClient:
		fmt.Fprintf(w, "%s %s\n", p.bold("Client dry-run:"), "computed locally, not validated by the server")
	default:
		fmt.Fprintf(w, "%s %s\n", p.bold("Server dry-run:"), p.green("accepted"))
	}
	for _, warn := range st.warnings {
		fmt.Fprintf(w, "  %s %s\n", p.yellow("Warning:"), warn)
	}
	if len(st.takesOver) > 0 {
		fmt.Fprintf(w, "  %s\n", p.yellow("Takes over fields another field manager set (a tool that applies them again may set them back):"))
		for _, f := range st.takesOver {
			fmt.Fprintf(w, "    %s\n", f)
		}
	}
	if len(ch.Breaks) > 0 {
		fmt.Fprintln(w, p.bold("May break:"))
		for _, b := range ch.Breaks {
			fmt.Fprintf(w, "  - %s\n", b)
		}
	} else {
		fmt.Fprintf(w, "%s nothing the check knows of\n", p.bold("May break:"))
	}
}

// detail prints every finding with its evidence and controls, and the change as sent.
func (s *Session) detail(p painter, it Item, st *step) {
	w := s.Out
	for _, f := range it.Findings {
		fmt.Fprintf(w, "%s %s %s\n", p.severity(f.Severity), f.Resource, f.Message)
		if len(f.Controls) > 0 {
			ctl := make([]string, len(f.Controls))
			for i, c := range f.Controls {
				ctl[i] = string(c)
			}
			fmt.Fprintf(w, "  controls: %s\n", strings.Join(ctl, ", "))
		}
		if f.Remediation != nil && f.Remediation.Summary != "" {
			fmt.Fprintf(w, "  remediation: %s\n", f.Remediation.Summary)
		}
		if len(f.Evidence) > 0 {
			if b, err := yaml.Marshal(f.Evidence); err == nil {
				fmt.Fprintf(w, "  evidence:\n%s", indent(string(b), "    "))
			}
		}
	}
	body, err := render.YAML(st.change)
	if err != nil {
		fmt.Fprintln(w, p.red(err.Error()))
		return
	}
	fmt.Fprintf(w, "%s\n%s", p.bold(fmt.Sprintf("The change (%s %s):", st.change.Action, st.change.Target)), indent(string(body), "  "))
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

func (s *Session) printSummary(p painter, sum Summary) {
	w := s.Out
	fmt.Fprintln(w)
	if s.DryRun != DryRunNone {
		fmt.Fprintf(w, "%s %d to apply, %d cannot be applied, %d already in place. Nothing was changed (--dry-run=%s).\n",
			p.bold("Plan:"), len(sum.Planned), len(sum.Failed), len(sum.Unchanged), s.DryRun)
	} else {
		line := fmt.Sprintf("%d applied, %d skipped, %d failed, %d already in place", len(sum.Applied), len(sum.Skipped), len(sum.Failed), len(sum.Unchanged))
		if sum.NotReviewed > 0 {
			line += fmt.Sprintf(", %d not reviewed", sum.NotReviewed)
		}
		if sum.Interrupted {
			line += " (interrupted)"
		}
		fmt.Fprintf(w, "%s %s.\n", p.bold("Summary:"), line)
	}
	for _, o := range sum.Failed {
		what := fmt.Sprintf("%s %s", o.Change.Action, o.Change.Target)
		why := o.Reason
		if why == "" {
			why = strings.TrimPrefix(o.Err.Error(), what+": ")
		}
		fmt.Fprintf(w, "  %s %s: %s\n", p.red("failed"), what, why)
	}
	if sum.Journal != "" {
		fmt.Fprintf(w, "%s %s\nUndo with: kubectl harden undo --journal %s\n", p.bold("Journal:"), sum.Journal, sum.Journal)
	}
}

// painter colours the session's text when Color is set.
type painter struct{ on bool }

func (s *Session) painter() painter { return painter{on: s.Color} }

func (p painter) paint(text string, attrs ...color.Attribute) string {
	c := color.New(attrs...)
	if p.on {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c.Sprint(text)
}

func (p painter) bold(s string) string   { return p.paint(s, color.Bold) }
func (p painter) faint(s string) string  { return p.paint(s, color.Faint) }
func (p painter) red(s string) string    { return p.paint(s, color.FgRed) }
func (p painter) green(s string) string  { return p.paint(s, color.FgGreen) }
func (p painter) yellow(s string) string { return p.paint(s, color.FgYellow) }

func (p painter) severity(s finding.Severity) string {
	label := strings.ToUpper(s.String())
	switch s {
	case finding.Critical:
		return p.paint(label, color.FgHiRed, color.Bold)
	case finding.High:
		return p.paint(label, color.FgRed)
	case finding.Medium:
		return p.paint(label, color.FgYellow)
	case finding.Low:
		return p.paint(label, color.FgCyan)
	}
	return p.paint(label, color.Faint)
}

// answers reads one line per question. The read runs in a goroutine so a
// cancelled context (Ctrl-C) ends the wait, and only while a question is
// open, so an editor started between questions has the terminal to itself.
type answers struct {
	r   *bufio.Reader
	req chan struct{}
	res chan answer
	eof bool
	// pending: a read was requested and its answer not yet taken.
	pending bool
}

type answer struct {
	line string
	err  error
}

func newAnswers(r io.Reader) *answers {
	if r == nil {
		r = strings.NewReader("")
	}
	return &answers{r: bufio.NewReader(r)}
}

func (a *answers) next(ctx context.Context) (string, error) {
	if a.eof {
		return "", io.EOF
	}
	if a.req == nil {
		a.req, a.res = make(chan struct{}), make(chan answer, 1)
		go func() {
			for range a.req {
				line, err := a.r.ReadString('\n')
				a.res <- answer{line, err}
				if err != nil {
					return
				}
			}
		}()
	}
	if !a.pending {
		a.req <- struct{}{}
		a.pending = true
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case ans := <-a.res:
		a.pending = false
		if ans.err != nil {
			a.eof = true
			if ans.line != "" {
				// The last answer of a script without a final newline still counts.
				return ans.line, nil
			}
			return "", ans.err
		}
		return ans.line, nil
	}
}
