package apply

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// Verdict is what the live object says of a change whose outcome the
// journal does not know.
type Verdict int

const (
	// NotMade: the object is as it was before the change.
	NotMade Verdict = iota + 1
	// Made: the object is as the change proposed.
	Made
	// Neither: someone else changed it since, or the server changed it on the way.
	Neither
)

func (v Verdict) String() string {
	switch v {
	case NotMade:
		return "not made: the object is as it was before"
	case Made:
		return "made: the object is as the change proposed"
	}
	return "neither: the object is neither as before nor as proposed"
}

// Reconcile compares the live object (nil when absent) with the journaled
// object before the change and the proposed one.
func Reconcile(e Entry, live *unstructured.Unstructured) Verdict {
	made := render.Equal(live, e.New)
	if e.Action == remedy.Delete {
		made = live == nil
	}
	switch {
	case made:
		return Made
	case render.Equal(live, e.Old):
		return NotMade
	}
	return Neither
}
