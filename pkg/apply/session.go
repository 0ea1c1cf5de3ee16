package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// DryRunMode is --dry-run: none asks and writes, client and server only print the plan.
type DryRunMode string

const (
	DryRunNone   DryRunMode = "none"
	DryRunClient DryRunMode = "client"
	DryRunServer DryRunMode = "server"
)

// Planner keeps the plan current while the session changes the cluster.
// pkg/audit implements it over the audit's inventory; nil leaves the items
// as they were given and says nothing of an edited change's impact.
type Planner interface {
	// Applied records a change as the server stored it (nil: the object is
	// gone) and re-runs the checks it can affect: it returns their IDs and
	// what they find now.
	Applied(target remedy.Target, stored *unstructured.Unstructured) (checks []string, found []finding.Finding, err error)
	// Impact says what a change may break, judged on the object as the
	// server would store it; false when no check judges its kind.
	Impact(target remedy.Target, proposed *unstructured.Unstructured) (breaks []string, ok bool)
}

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
	// Planner re-plans after each applied change; may be nil.
	Planner Planner
	// Accept writes an exception for an item's findings instead of changing
	// the cluster (ac[c]ept); nil does not offer it.
	Accept *Acceptor
	// Timeout bounds each request (reads, dry-runs, writes); 0 is DefaultTimeout.
	Timeout time.Duration
	// Grace is how long a write in flight may still finish after Ctrl-C
	// before it is abandoned; 0 is DefaultGrace.
	Grace time.Duration
	// Waiting is how long a write may take before the session says it is
	// waiting for the server; 0 is one second.
	Waiting time.Duration
}

const (
	// DefaultTimeout is long enough for admission webhooks (at most 30s each)
	// and short enough that a hung server does not hang the session.
	DefaultTimeout = 45 * time.Second
	// DefaultGrace: Ctrl-C abandons a write in flight within about a second.
	DefaultGrace = time.Second
)

// Outcome is what happened to one item.
type Outcome struct {
	// Number is the item's place in the session ([n/total]).
	Number int
	Item   Item
	Change remedy.Change // as applied: differs from Item.Change after an edit
	Reason string        // why it was skipped or failed
	Err    error
	// Seq is the change's journal sequence, 0 when it was not journaled.
	Seq int
	// Settled says what reconciling an unknown outcome found, and Verdict
	// what it decided (0 when the server could not be asked).
	Settled string
	Verdict Verdict
	// stored is the object as the server stored it (nil after a delete).
	stored *unstructured.Unstructured
}

// Summary is the result of a session.
type Summary struct {
	Applied, Skipped, Failed []Outcome
	// Unknown are changes sent without an answer: the server may have made them.
	Unknown []Outcome
	// Unchanged are items already in place when their turn came.
	Unchanged []Outcome
	// Resolved are items an earlier change made needless (Reason names it).
	Resolved []Outcome
	// Planned are the items a dry run would apply.
	Planned []Outcome
	// Accepted are the items whose findings were accepted as exceptions
	// (Reason says until when and where), and those an earlier acceptance
	// covered.
	Accepted []Outcome
	// Exceptions is the exceptions file ac[c]ept wrote to, "" when none.
	Exceptions string
	// NotReviewed counts the items left when the session ended early.
	NotReviewed int
	Interrupted bool
	// LostContact is the connection error that stopped the session, if one did.
	LostContact error
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
	// edited: the change is the person's edit; impactKnown says whether a
	// check judged what it may break (change.Breaks).
	edited, impactKnown bool
}

func (s *Session) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Session) prepare(ctx context.Context, ch remedy.Change, edited bool) *step {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	st := &step{change: ch, edited: edited}
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
		st.rejected = st.err != nil && !IsConflict(st.err) && !NoAnswer(st.err)
	}
	if st.err == nil && ch.Action != remedy.Delete && live != nil && render.Equal(live, st.proposed) {
		st.unchanged = true
	}
	if edited && st.err == nil && s.Planner != nil {
		st.change.Breaks, st.impactKnown = s.Planner.Impact(ch.Target, st.proposed)
	}
	return st
}

// Run reviews the items in order and prints a summary. It returns when every
// item was seen, on [q]uit, at the end of the input, at the first request
// the API server does not answer for want of a connection (Summary.LostContact),
// or when ctx is cancelled (Ctrl-C): a change in flight then has Grace to
// finish, is abandoned after, and its outcome is journaled either way.
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
	queue := append([]Item(nil), items...)
	why := map[string]string{}
	for _, it := range items {
		why[it.Check] = it.Why
	}
	// accepted: the findings ac[c]ept covered, by the number of their item.
	accepted := map[string]int{}
	// stop counts the items from queue[from] on as not reviewed.
	stop := func(from int) {
		for _, it := range queue[from:] {
			if !it.dropped() {
				sum.NotReviewed++
			}
		}
	}
items:
	for i := 0; i < len(queue); i++ {
		it := queue[i]
		n := i + 1
		if it.dropped() {
			continue
		}
		if len(accepted) > 0 {
			var by int
			it.Findings, by = notAccepted(it.Findings, accepted)
			if len(it.Findings) == 0 {
				reason := fmt.Sprintf("its findings were accepted with change %d", by)
				sum.Accepted = append(sum.Accepted, Outcome{Number: n, Item: queue[i], Change: it.Change, Reason: reason})
				fmt.Fprintf(s.Out, "%s %s\n", p.faint(fmt.Sprintf("[%d/%d]", n, len(queue))),
					p.green(fmt.Sprintf("%s: %s: %s", reason, it.Check, it.Change.Description)))
				continue
			}
			queue[i] = it
		}
		if ctx.Err() != nil {
			sum.Interrupted = true
			stop(i)
			break
		}
		st := s.prepare(ctx, it.Change, false)
		if ctx.Err() != nil {
			sum.Interrupted = true
			stop(i)
			break
		}
		if LostContact(st.err) {
			sum.LostContact = st.err
			stop(i)
			break
		}
		s.show(p, n, len(queue), it, st)
		if st.unchanged {
			fmt.Fprintln(s.Out, p.faint("Already in place: nothing to change."))
			sum.Unchanged = append(sum.Unchanged, Outcome{Number: n, Item: it, Change: it.Change})
			continue
		}
		if s.DryRun != DryRunNone {
			switch {
			case it.Alternative > 0:
				// Shown with its dry-run verdict, but the plan is the findings' own changes.
				sum.Skipped = append(sum.Skipped, Outcome{Number: n, Item: it, Change: it.Change, Err: st.err,
					Reason: "an alternative: made only when chosen in a session"})
			case st.err != nil:
				sum.Failed = append(sum.Failed, Outcome{Number: n, Item: it, Change: it.Change, Err: st.err})
			default:
				sum.Planned = append(sum.Planned, Outcome{Number: n, Item: it, Change: it.Change})
			}
			continue
		}
		for {
			if st.err != nil && !st.rejected {
				// Cannot be read, gone, or changed since the audit: nothing to ask.
				sum.Failed = append(sum.Failed, Outcome{Number: n, Item: it, Change: st.change, Err: st.err})
				continue items
			}
			var answer byte
			switch unasked(st.rejected, s.Yes, auto[it.Check], st.change.Risky, s.IncludeRisky, it.Alternative > 0) {
			case moveApply:
				answer = 'y'
			case moveRejected:
				// Nobody to ask: a rejected change fails.
				sum.Failed = append(sum.Failed, Outcome{Number: n, Item: it, Change: st.change, Err: st.err})
				fmt.Fprintln(s.Out, p.red("Not applied: the server's dry-run rejected it."))
				continue items
			case moveRiskyLeft:
				reason := "risky: --yes applies it only with --include-risky"
				sum.Skipped = append(sum.Skipped, Outcome{Number: n, Item: it, Change: st.change, Reason: reason})
				fmt.Fprintln(s.Out, p.yellow("Not applied: "+reason+"."))
				continue items
			case moveAlternativeLeft:
				reason := "an alternative: --yes makes the findings' own changes, and only a person chooses this one instead"
				sum.Skipped = append(sum.Skipped, Outcome{Number: n, Item: it, Change: st.change, Reason: reason})
				fmt.Fprintln(s.Out, p.yellow("Not applied: "+reason+"."))
				continue items
			default:
				a, err := s.ask(ctx, in, p, st)
				if err != nil {
					if errors.Is(err, context.Canceled) {
						sum.Interrupted = true
					}
					fmt.Fprintln(s.Out)
					stop(i)
					break items
				}
				answer = a
			}
			switch answer {
			case 'y', 'a':
				if answer == 'a' {
					auto[it.Check] = true
				}
				o := s.apply(ctx, p, it, st)
				o.Number = n
				switch StateOf(o.Err) {
				case Applied:
					sum.Applied = append(sum.Applied, o)
					queue = s.replan(p, &sum, queue, i, o, why)
				case Unknown:
					sum.Unknown = append(sum.Unknown, o)
				default:
					sum.Failed = append(sum.Failed, o)
				}
				if ctx.Err() != nil {
					sum.Interrupted = true
					stop(i + 1)
					break items
				}
				if LostContact(o.Err) {
					sum.LostContact = o.Err
					stop(i + 1)
					break items
				}
				continue items
			case 'n':
				sum.Skipped = append(sum.Skipped, Outcome{Number: n, Item: it, Change: st.change, Reason: "answered no"})
				continue items
			case 'c':
				acc, err := s.accept(ctx, in, p, it)
				if err != nil {
					if errors.Is(err, context.Canceled) {
						sum.Interrupted = true
					}
					fmt.Fprintln(s.Out)
					stop(i)
					break items
				}
				if len(acc.entries) > 0 {
					sum.Exceptions = s.Accept.File
				}
				if acc.err != nil {
					continue // asked again: the person may answer no
				}
				for _, f := range it.Findings {
					accepted[findingKey(f)] = n
				}
				reason := fmt.Sprintf("accepted until %s in %s", acc.entries[0].Expires, s.Accept.File)
				sum.Accepted = append(sum.Accepted, Outcome{Number: n, Item: it, Change: st.change, Reason: reason})
				continue items
			case 'q':
				sum.Skipped = append(sum.Skipped, Outcome{Number: n, Item: it, Change: st.change, Reason: "quit"})
				stop(i + 1)
				break items
			case 'd':
				s.detail(p, it, st)
			case 'e':
				edited, ok := s.edit(p, st.change)
				if !ok {
					continue
				}
				st = s.prepare(ctx, edited, true)
				if LostContact(st.err) {
					sum.LostContact = st.err
					stop(i)
					break items
				}
				s.show(p, n, len(queue), it, st)
				if st.unchanged {
					fmt.Fprintln(s.Out, p.faint("Already in place: nothing to change."))
					sum.Unchanged = append(sum.Unchanged, Outcome{Number: n, Item: it, Change: st.change})
					continue items
				}
			}
		}
	}
	if len(sum.Unknown) > 0 && s.Journal != nil {
		s.settle(ctx, p, &sum)
	}
	if s.Journal != nil {
		sum.Journal = s.Journal.Path()
	}
	s.printSummary(p, sum)
	return sum
}

// notAccepted returns the findings ac[c]ept has not covered, and the number
// of the item that accepted one of the others.
func notAccepted(fs []finding.Finding, accepted map[string]int) ([]finding.Finding, int) {
	var out []finding.Finding
	by := 0
	for _, f := range fs {
		if n, ok := accepted[findingKey(f)]; ok {
			by = n
			continue
		}
		out = append(out, f)
	}
	return out, by
}

// replan re-runs the checks the applied change can affect and revises the
// items after i: those it resolved are dropped, those it changed rewritten.
func (s *Session) replan(p painter, sum *Summary, queue []Item, i int, o Outcome, why map[string]string) []Item {
	if s.Planner == nil {
		return queue
	}
	checks, found, err := s.Planner.Applied(o.Change.Target, o.stored)
	if err != nil {
		fmt.Fprintln(s.Out, p.yellow("Warning: the plan could not be checked again after this change: "+err.Error()))
		return queue
	}
	rest, revised := replan(queue[i+1:], o.Number, o.Item, checks, found)
	out := append(queue[:i+1:i+1], rest...)
	for _, r := range revised {
		n := i + 2 + r.Index
		if r.Dropped {
			reason := fmt.Sprintf("resolved by change %d", o.Number)
			sum.Resolved = append(sum.Resolved, Outcome{Number: n, Item: r.Item, Change: r.Item.Change, Reason: reason})
			fmt.Fprintf(s.Out, "%s %s\n", p.faint(fmt.Sprintf("[%d/%d]", n, len(queue))),
				p.green(fmt.Sprintf("%s: %s: %s", reason, r.Item.Check, r.Item.Change.Description)))
			continue
		}
		if out[i+1+r.Index].Why == "" {
			out[i+1+r.Index].Why = why[r.Item.Check]
		}
		fmt.Fprintf(s.Out, "%s %s\n", p.faint(fmt.Sprintf("[%d/%d]", n, len(queue))),
			p.yellow(fmt.Sprintf("revised after change %d: %s: %s", o.Number, r.Item.Check, r.Item.Change.Description)))
	}
	return out
}

// apply journals the change and sends it. Ctrl-C while it is on the wire
// gives it Grace to finish, then abandons it; the journal records the
// outcome either way: applied, failed, or unknown when no answer came.
func (s *Session) apply(ctx context.Context, p painter, it Item, st *step) Outcome {
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
	o.Seq = seq
	resp, sendErr := s.send(ctx, p, st)
	for _, w := range resp.Warnings {
		fmt.Fprintln(s.Out, p.yellow("Warning: "+w))
	}
	state, err := s.Journal.Finish(seq, resp.Object, sendErr)
	if err != nil {
		// The old object is journaled (Begin): undo can work from it and the live object.
		fmt.Fprintln(s.Out, p.yellow("Warning: "+err.Error()))
	}
	o.Err, o.stored = sendErr, resp.Object
	switch state {
	case Applied:
		fmt.Fprintln(s.Out, p.green("Applied: "+string(st.change.Action)+" "+st.change.Target.String()))
	case Unknown:
		o.Reason = "no answer from the API server: it may or may not have made the change"
		fmt.Fprintln(s.Out, p.red("Unknown: "+st.change.Target.String()+": "+o.Reason+" ("+sendErr.Error()+")"))
	default:
		msg := sendErr.Error()
		if IsConflict(sendErr) {
			msg = "conflict: " + st.change.Target.String() + " changed since it was shown; it was left as it is now. Run the session again to review it."
			o.Reason = "conflict: it changed since it was shown, and was left as it is now"
		}
		fmt.Fprintln(s.Out, p.red("Failed: "+msg))
	}
	return o
}

// send makes the write, says so when the server is slow to answer, and on
// Ctrl-C abandons it after the grace period.
func (s *Session) send(ctx context.Context, p painter, st *step) (Response, error) {
	grace, waiting := s.Grace, s.Waiting
	if grace <= 0 {
		grace = DefaultGrace
	}
	if waiting <= 0 {
		waiting = time.Second
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout())
	defer cancel()
	type result struct {
		resp Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := s.Client.Send(wctx, st.change, st.live)
		done <- result{resp, err}
	}()
	slow := time.NewTimer(waiting)
	defer slow.Stop()
	interrupt := ctx.Done()
	var abandon <-chan time.Time
	for {
		select {
		case r := <-done:
			return r.resp, r.err
		case <-slow.C:
			fmt.Fprintf(s.Out, "%s\n", p.faint(fmt.Sprintf("Waiting for the API server to answer the %s of %s (up to %s; Ctrl-C abandons it)...",
				st.change.Action, st.change.Target, s.timeout())))
		case <-interrupt:
			interrupt = nil
			fmt.Fprintln(s.Out, p.yellow("Interrupted: the change is on its way to the API server; abandoning it if no answer comes within "+grace.String()+"."))
			abandon = time.After(grace)
		case <-abandon:
			cancel()
		}
	}
}

// settle reconciles the changes whose outcome is unknown against the live
// objects, says which way each went, and journals it. A server still out of
// reach leaves them unknown, for undo to settle.
func (s *Session) settle(ctx context.Context, p painter, sum *Summary) {
	// After Ctrl-C the person is waiting for the exit: a short look only.
	wait := min(s.timeout(), 5*time.Second)
	if ctx.Err() != nil {
		wait = min(wait, time.Second)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	for i := range sum.Unknown {
		o := &sum.Unknown[i]
		what := fmt.Sprintf("change %d (%s %s)", o.Number, o.Change.Action, o.Change.Target)
		if ctx.Err() != nil {
			o.Settled = "not reconciled: the API server did not answer; 'kubectl harden undo' compares the object when it can"
			fmt.Fprintf(s.Out, "%s %s\n", p.yellow("Unknown: "+what+":"), o.Settled)
			continue
		}
		live, err := s.Client.Get(ctx, o.Change.Target)
		if err != nil {
			o.Settled = "not reconciled: " + err.Error() + "; 'kubectl harden undo' compares the object when it can"
			fmt.Fprintf(s.Out, "%s %s\n", p.yellow("Unknown: "+what+":"), o.Settled)
			continue
		}
		e, ok := s.Journal.begun[o.Seq]
		if !ok {
			continue
		}
		v := Reconcile(e, live)
		o.Settled, o.Verdict = v.String(), v
		if err := s.Journal.Settle(e, v, live, "by the session's end: "+v.String()); err != nil {
			fmt.Fprintln(s.Out, p.yellow("Warning: "+err.Error()))
		}
		fmt.Fprintf(s.Out, "%s %s\n", p.bold("Reconciled "+what+":"), o.Settled)
	}
}
