package apply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// UndoOptions select what undo restores.
type UndoOptions struct {
	// Last restores only the N most recent changes; 0 restores all.
	Last int
	// Force restores even objects that changed since the fix, losing those changes.
	Force bool
	// DryRun says what undo would do and changes nothing (the journal
	// included); ServerDryRun also sends each restore with dryRun=All, so the
	// server says whether it would take it.
	DryRun, ServerDryRun bool
}

// UndoResult is what undo did (or, with DryRun, would do) with one journaled change.
type UndoResult struct {
	Entry Entry
	// Restored is set when the old state is back (or already was); with
	// DryRun, when it would be.
	Restored bool
	Message  string
	// Reconciled says, for a change whose outcome was unknown, what the live
	// object showed (empty for a change the journal knows was applied).
	Reconciled string
	// Verdict is that of the reconcile (0 when there was none).
	Verdict Verdict
	Err     error
}

// Undoable returns the changes of a journal that can be undone, newest
// first: applied and not yet undone, those whose outcome is unknown (no
// answer came), and pending ones whose outcome the journal never recorded
// (the plugin died mid-change).
func Undoable(entries []Entry) []Entry {
	latest := Latest(entries)
	var out []Entry
	for i := len(latest) - 1; i >= 0; i-- {
		if e := latest[i]; e.State == Applied || e.State == Pending || e.State == Unknown {
			out = append(out, e)
		}
	}
	return out
}

// Undo restores the old objects of the journaled changes, newest first, and
// records each restore in the journal so a second undo does not repeat it.
// A change whose outcome is unknown is first reconciled against the live
// object: not made means nothing to undo, made is undone like any other. An
// object that changed since the fix is left alone with a message saying
// how, unless opts.Force.
func Undo(ctx context.Context, c *Client, j *Journal, entries []Entry, opts UndoOptions) []UndoResult {
	todo := Undoable(entries)
	if opts.Last > 0 && opts.Last < len(todo) {
		todo = todo[:opts.Last]
	}
	out := make([]UndoResult, 0, len(todo))
	for _, e := range todo {
		r := undoOne(ctx, c, e, opts)
		switch {
		case j == nil || opts.DryRun || r.Err != nil || !r.Restored:
		case r.Verdict == NotMade:
			// Never made: the journal says so, and a second undo has nothing to do.
			if err := j.Settle(e, NotMade, nil, "by undo: "+NotMade.String()); err != nil {
				r.Err = fmt.Errorf("the journal could not record that the change was never made: %w", err)
			}
		default:
			restored, _ := c.Get(ctx, e.Target)
			if err := j.MarkUndone(e, restored); err != nil {
				r.Err = fmt.Errorf("restored, but the journal could not record it (a second undo would try again): %w", err)
			}
		}
		out = append(out, r)
	}
	return out
}

func undoOne(ctx context.Context, c *Client, e Entry, opts UndoOptions) UndoResult {
	r := UndoResult{Entry: e}
	live, err := c.Get(ctx, e.Target)
	if err != nil {
		r.Err = err
		return r
	}
	would := func(done, planned string) string {
		if opts.DryRun {
			return planned
		}
		return done
	}
	if e.State == Pending || e.State == Unknown {
		// The journal does not say whether the change was made: the live
		// object does. Neither old nor new means someone else changed it.
		v := Reconcile(e, live)
		r.Reconciled, r.Verdict = v.String(), v
		switch v {
		case NotMade:
			r.Restored, r.Message = true, "the change was never made (the object is as it was before): nothing to undo"
			return r
		case Made:
		default:
			if !opts.Force {
				r.Err = fmt.Errorf("%s: the journal has no outcome for this change and the object is neither as before nor as proposed; restore it by hand or pass --force", e.Target)
				return r
			}
		}
	} else if reason := changedSince(e, live); reason != "" && !opts.Force {
		r.Err = fmt.Errorf("%s %s since the fix; not restored (pass --force to restore it anyway and lose that change)", e.Target, reason)
		return r
	}
	switch {
	case e.Old == nil:
		// The fix created the object: undo deletes it, if it is still the one.
		if live == nil {
			r.Restored, r.Message = true, "already gone"
			return r
		}
		if !opts.DryRun || opts.ServerDryRun {
			if _, err := c.send(ctx, remedy.Change{Action: remedy.Delete, Target: e.Target}, live, opts.DryRun, false); err != nil {
				r.Err = err
				return r
			}
		}
		r.Restored, r.Message = true, would("deleted (the fix created it)", "would delete it (the fix created it)")
	case live == nil:
		if !opts.DryRun || opts.ServerDryRun {
			if _, err := c.create(ctx, render.Clean(e.Old), e.Target, opts.DryRun); err != nil {
				r.Err = err
				return r
			}
		}
		r.Restored, r.Message = true, would("created again from the journal", "would create it again from the journal")
	default:
		// Replace the whole object with the old one, conditional on the
		// version just read: a change made meanwhile makes this fail.
		obj := render.Clean(e.Old)
		obj.SetResourceVersion(live.GetResourceVersion())
		obj.SetUID(live.GetUID())
		if !opts.DryRun || opts.ServerDryRun {
			if _, err := c.update(ctx, obj, e.Target, opts.DryRun); err != nil {
				r.Err = err
				return r
			}
		}
		r.Restored, r.Message = true, would("restored", "would restore it as it was before the fix")
	}
	if r.Reconciled != "" {
		r.Message = "the change had been made (the object is as proposed); " + r.Message
	}
	return r
}

// changedSince says how the live object differs from what the fix left, or
// "" when it does not: same resourceVersion, or the same object once the
// server-set metadata and status are ignored (a controller updating status
// is not a change to undo over).
func changedSince(e Entry, live *unstructured.Unstructured) string {
	if e.Action == remedy.Delete {
		if live != nil {
			return fmt.Sprintf("was created again (resourceVersion %s)", live.GetResourceVersion())
		}
		return ""
	}
	if live == nil {
		return "was deleted"
	}
	if e.New == nil {
		return "" // the outcome line was not written; nothing to compare with
	}
	if live.GetResourceVersion() == e.New.GetResourceVersion() || render.Equal(live, e.New) {
		return ""
	}
	return fmt.Sprintf("changed (resourceVersion %s, the journal recorded %s after the fix)", live.GetResourceVersion(), e.New.GetResourceVersion())
}
