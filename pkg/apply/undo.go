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
}

// UndoResult is what undo did with one journaled change.
type UndoResult struct {
	Entry Entry
	// Restored is set when the old state is back (or already was).
	Restored bool
	Message  string
	Err      error
}

// Undoable returns the changes of a journal that can be undone, newest
// first: applied and not yet undone, and pending ones whose outcome the
// journal never recorded (the plugin died mid-change).
func Undoable(entries []Entry) []Entry {
	latest := Latest(entries)
	var out []Entry
	for i := len(latest) - 1; i >= 0; i-- {
		if e := latest[i]; e.State == Applied || e.State == Pending {
			out = append(out, e)
		}
	}
	return out
}

// Undo restores the old objects of the journaled changes, newest first, and
// records each restore in the journal so a second undo does not repeat it.
// An object that changed since the fix is left alone with a message saying
// how, unless opts.Force.
func Undo(ctx context.Context, c *Client, j *Journal, entries []Entry, opts UndoOptions) []UndoResult {
	todo := Undoable(entries)
	if opts.Last > 0 && opts.Last < len(todo) {
		todo = todo[:opts.Last]
	}
	out := make([]UndoResult, 0, len(todo))
	for _, e := range todo {
		r := undoOne(ctx, c, e, opts)
		if r.Restored && r.Err == nil && j != nil {
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
	if e.State == Pending {
		// The journal does not say whether the change was made: the live
		// object does. Neither old nor new means someone else changed it.
		after := render.Equal(live, e.New)
		if e.Action == remedy.Delete {
			after = live == nil
		}
		switch {
		case render.Equal(live, e.Old):
			r.Restored, r.Message = true, "was never applied: nothing to undo"
			return r
		case after:
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
		if _, err := c.Send(ctx, remedy.Change{Action: remedy.Delete, Target: e.Target}, live); err != nil {
			r.Err = err
			return r
		}
		r.Restored, r.Message = true, "deleted (the fix created it)"
	case live == nil:
		obj := render.Clean(e.Old)
		if _, err := c.create(ctx, obj, e.Target); err != nil {
			r.Err = err
			return r
		}
		r.Restored, r.Message = true, "created again from the journal"
	default:
		// Replace the whole object with the old one, conditional on the
		// version just read: a change made meanwhile makes this fail.
		obj := render.Clean(e.Old)
		obj.SetResourceVersion(live.GetResourceVersion())
		obj.SetUID(live.GetUID())
		if _, err := c.update(ctx, obj, e.Target); err != nil {
			r.Err = err
			return r
		}
		r.Restored, r.Message = true, "restored"
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
