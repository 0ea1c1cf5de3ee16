package exceptions

import (
	"fmt"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Env is what Apply needs to know of the audit.
type Env struct {
	// Now decides expiry; tests inject it.
	Now time.Time
	// Labels returns the labels of a finding's object, and whether the audit holds it.
	Labels func(finding.Resource) (map[string]string, bool)
	// Ran are the IDs of the checks that ran: an entry none of them is
	// covered by was not put to the test, so it is neither used nor stale.
	Ran []string
	// Looked says whether the audit looked where the entry points (-n narrows
	// an audit); nil means everywhere. An entry outside is never stale.
	Looked func(e *Entry) bool
}

// Apply marks each finding the first unexpired matching entry accepts, and
// returns the findings about the entries themselves: each expired entry (it
// hides nothing any more) and each one that matched no finding (stale).
func Apply(entries []Entry, items []finding.Finding, env Env) []finding.Finding {
	if len(entries) == 0 {
		return nil
	}
	matched := make([]int, len(entries))
	expired := make([]bool, len(entries))
	for i := range entries {
		expired[i] = entries[i].Expired(env.Now)
	}
	for fi := range items {
		f := &items[fi]
		var objLabels map[string]string
		found, looked := false, false
		for i := range entries {
			e := &entries[i]
			if !e.covers(f.Check) {
				continue
			}
			if e.Resource != nil && e.Resource.Selector != nil && !looked && env.Labels != nil {
				objLabels, found = env.Labels(f.Resource)
				looked = true
			}
			if !e.Matches(*f, objLabels, found) {
				continue
			}
			matched[i]++
			if !expired[i] && f.Accepted == nil {
				f.Accepted = e.acceptance()
			}
		}
	}
	var out []finding.Finding
	for i := range entries {
		e := &entries[i]
		if !coversAny(e, env.Ran) {
			continue
		}
		switch {
		case expired[i]:
			out = append(out, e.finding(CheckExpired, finding.Low, "Exception expired",
				fmt.Sprintf("exception %s (%s, owner %s) expired on %s: it no longer accepts its %d %s; fix them, or renew it with a new date",
					e.By(), e.describe(), e.Owner, e.Expires, matched[i], plural(matched[i], "finding", "findings")),
				map[string]any{"matched": matched[i]}))
		case matched[i] == 0 && (env.Looked == nil || env.Looked(e)):
			out = append(out, e.finding(CheckStale, finding.Info, "Exception matches no finding",
				fmt.Sprintf("exception %s (%s, owner %s) matches no finding: what it accepted is fixed or gone; remove it",
					e.By(), e.describe(), e.Owner),
				nil))
		}
	}
	return out
}

func coversAny(e *Entry, ran []string) bool {
	for _, id := range ran {
		if e.covers(id) {
			return true
		}
	}
	return false
}

// finding is a finding about the entry: on the object for an annotation, on
// the exceptions file (with its line) for an entry of a file.
func (e *Entry) finding(check string, sev finding.Severity, title, msg string, extra map[string]any) finding.Finding {
	ev := map[string]any{"exception": e.describe(), "by": e.By(), "owner": e.Owner, "expires": e.Expires, "reason": e.Reason}
	for k, v := range extra {
		ev[k] = v
	}
	f := finding.Finding{Check: check, Severity: sev, Title: title, Message: msg, Evidence: ev}
	if e.annotation {
		f.Resource = e.object
		f.Source = e.Source
	} else {
		f.Resource = FileResource(e.Source.File)
		f.Source = e.Source
	}
	return f
}

// FileResource is the resource of findings about an exceptions file.
func FileResource(file string) finding.Resource {
	return finding.Resource{APIVersion: APIVersion, Kind: Kind, Name: file}
}

// InvalidAnnotation is the finding of an annotation line that does not parse:
// it accepts nothing, and says so where the team will see it.
func InvalidAnnotation(obj finding.Resource, src *finding.Source, err error) finding.Finding {
	return finding.Finding{
		Check: CheckInvalid, Severity: finding.Low, Title: "Malformed " + Annotation + " annotation",
		Message:  err.Error() + ": it accepts nothing",
		Resource: obj, Source: src,
		Evidence: map[string]any{"exception": obj.String() + " " + Annotation},
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// InNamespace is Env.Looked for an audit narrowed to one namespace (-n): an
// entry is put to the test only when it names objects or subjects there.
func InNamespace(ns string) func(e *Entry) bool {
	return func(e *Entry) bool {
		return (e.Resource != nil && e.Resource.Namespace != "" && glob(e.Resource.Namespace, ns, false)) ||
			(e.Subject != nil && e.Subject.Namespace != "" && glob(e.Subject.Namespace, ns, false))
	}
}
