// Package exceptions holds the findings a team accepts on purpose: the
// versioned Exceptions document (apiVersion kubectl-harden.io/v1alpha1, kind
// Exceptions) and the kubectl-harden.io/accept annotation, each entry naming
// a check, the objects and subject it covers, a reason, an owner and an
// expiry date. It parses and validates them (with the file and line of what is
// wrong), matches them to findings, reports those that expired or match
// nothing, and appends an entry to a file for the fix session.
//
// It knows nothing of the inventory or the checks: the audit engine hands it
// findings, the labels of their objects and the checks that ran.
package exceptions

import (
	"fmt"
	"path"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

const (
	// APIVersion and Kind identify an exceptions document.
	APIVersion = "kubectl-harden.io/v1alpha1"
	Kind       = "Exceptions"
	// Annotation accepts findings on the object that carries it:
	// "<check-id>: <reason>; owner=<owner>; expires=<YYYY-MM-DD>", one per line.
	Annotation = "kubectl-harden.io/accept"
	// DefaultFile is read from the current directory when present.
	DefaultFile = ".kubectl-harden.yaml"
	// ByAnnotation is the Acceptance.By of an entry written as an annotation.
	ByAnnotation = "annotation"
	// DateLayout is how expires is written.
	DateLayout = "2006-01-02"
)

// The checks of the findings this package makes about exceptions themselves.
const (
	CheckExpired = "exceptions/expired"
	CheckStale   = "exceptions/stale"
	CheckInvalid = "exceptions/invalid"
)

// Document is an exceptions file.
type Document struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Exceptions []Entry `json:"exceptions"`
}

// Entry accepts the findings of one check (or a domain, "rbac/") on the
// objects and subject it names, for a reason, on an owner's authority, until
// the end of the day it expires (UTC).
type Entry struct {
	// Check is a check ID, or a domain followed by a slash ("workload/").
	Check    string          `json:"check"`
	Resource *ResourceMatch  `json:"resource,omitempty"`
	Subject  *SubjectMatch   `json:"subject,omitempty"`
	Reason   string          `json:"reason"`
	Owner    string          `json:"owner"`
	Expires  string          `json:"expires"`
	Source   *finding.Source `json:"-"`
	// annotation is set for an entry read from an object's annotation.
	annotation bool
	object     finding.Resource
	until      time.Time
}

// ResourceMatch selects objects: kind, namespace and name are globs (path.Match:
// *, ?, [a-z]) and empty matches any; Selector matches the object's labels.
type ResourceMatch struct {
	Kind      string                `json:"kind,omitempty"`
	Namespace string                `json:"namespace,omitempty"`
	Name      string                `json:"name,omitempty"`
	Selector  *metav1.LabelSelector `json:"selector,omitempty"`
	selector  labels.Selector
}

// SubjectMatch selects the subject of a finding (the user, group or service
// account of an RBAC finding); fields are globs, empty matches any. An entry
// with a subject never matches a finding without one.
type SubjectMatch struct {
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// Options are what validation needs from outside.
type Options struct {
	// Now is today, for MaxDays; the zero time skips that check.
	Now time.Time
	// MaxDays rejects entries expiring more than this many days after Now (0: no limit).
	MaxDays int
	// KnownCheck says whether a check ID exists; nil accepts any well-formed ID.
	KnownCheck func(id string) bool
	// KnownDomain says whether a domain exists, for "domain/" entries; nil accepts any.
	KnownDomain func(domain string) bool
}

// By says where the entry is written: FILE:LINE, or "annotation".
func (e *Entry) By() string {
	if e.annotation {
		return ByAnnotation
	}
	if e.Source == nil {
		return ""
	}
	if e.Source.Line > 0 {
		return fmt.Sprintf("%s:%d", e.Source.File, e.Source.Line)
	}
	return e.Source.File
}

// fieldError is a problem with one field of an entry.
type fieldError struct {
	field string
	msg   string
}

func (f *fieldError) Error() string { return f.field + ": " + f.msg }

// Validate checks the entry and prepares it for matching; the error names the field.
func (e *Entry) Validate(opts Options) error {
	if err := e.validate(opts); err != nil {
		return err
	}
	return nil
}

func (e *Entry) validate(opts Options) *fieldError {
	switch {
	case e.Check == "":
		return &fieldError{"check", "required: a check ID (kubectl harden checks) or a domain such as workload/"}
	case strings.HasSuffix(e.Check, "/"):
		d := strings.TrimSuffix(e.Check, "/")
		if d == "" || strings.Contains(d, "/") || (opts.KnownDomain != nil && !opts.KnownDomain(d)) {
			return &fieldError{"check", fmt.Sprintf("unknown domain %q: see kubectl harden checks", e.Check)}
		}
	case !strings.Contains(e.Check, "/") || (opts.KnownCheck != nil && !opts.KnownCheck(e.Check)):
		return &fieldError{"check", fmt.Sprintf("unknown check %q: see kubectl harden checks", e.Check)}
	}
	if r := e.Resource; r != nil {
		for _, g := range []struct{ field, v string }{{"resource.kind", r.Kind}, {"resource.namespace", r.Namespace}, {"resource.name", r.Name}} {
			if _, err := path.Match(g.v, ""); err != nil {
				return &fieldError{g.field, fmt.Sprintf("bad glob %q: %v", g.v, err)}
			}
		}
		r.selector = nil
		if r.Selector != nil {
			sel, err := metav1.LabelSelectorAsSelector(r.Selector)
			if err != nil {
				return &fieldError{"resource.selector", err.Error()}
			}
			r.selector = sel
		}
	}
	if s := e.Subject; s != nil {
		for _, g := range []struct{ field, v string }{{"subject.kind", s.Kind}, {"subject.namespace", s.Namespace}, {"subject.name", s.Name}} {
			if _, err := path.Match(g.v, ""); err != nil {
				return &fieldError{g.field, fmt.Sprintf("bad glob %q: %v", g.v, err)}
			}
		}
	}
	if strings.TrimSpace(e.Reason) == "" {
		return &fieldError{"reason", "required: why the finding is accepted"}
	}
	if strings.TrimSpace(e.Owner) == "" {
		return &fieldError{"owner", "required: who answers for the exception"}
	}
	if e.Expires == "" {
		return &fieldError{"expires", "required: the last day the exception holds, as YYYY-MM-DD"}
	}
	day, err := time.Parse(DateLayout, e.Expires)
	if err != nil {
		return &fieldError{"expires", fmt.Sprintf("%q is not a date: write YYYY-MM-DD", e.Expires)}
	}
	e.until = day.AddDate(0, 0, 1) // it holds through the whole day it names, in UTC
	if opts.MaxDays > 0 && !opts.Now.IsZero() {
		today := opts.Now.UTC().Truncate(24 * time.Hour)
		if limit := today.AddDate(0, 0, opts.MaxDays); day.After(limit) {
			return &fieldError{"expires", fmt.Sprintf("%s is more than %d days away (--max-exception-days): the latest allowed is %s",
				e.Expires, opts.MaxDays, limit.Format(DateLayout))}
		}
	}
	return nil
}

// Expired reports whether the entry no longer holds at now.
func (e *Entry) Expired(now time.Time) bool {
	if e.until.IsZero() {
		if day, err := time.Parse(DateLayout, e.Expires); err == nil {
			e.until = day.AddDate(0, 0, 1)
		}
	}
	return !now.Before(e.until)
}

// covers reports whether the entry's check pattern names check id.
func (e *Entry) covers(id string) bool {
	if strings.HasSuffix(e.Check, "/") {
		return strings.HasPrefix(id, e.Check)
	}
	return id == e.Check
}

// Matches reports whether the entry accepts the finding, whatever its expiry.
// objLabels are the labels of the finding's object; found is false when the
// audit does not hold that object, and then no label selector matches.
func (e *Entry) Matches(f finding.Finding, objLabels map[string]string, found bool) bool {
	if !e.covers(f.Check) {
		return false
	}
	if r := e.Resource; r != nil {
		if !glob(r.Kind, f.Resource.Kind, true) || !glob(r.Namespace, f.Resource.Namespace, false) || !glob(r.Name, f.Resource.Name, false) {
			return false
		}
		if r.Selector != nil {
			if r.selector == nil {
				sel, err := metav1.LabelSelectorAsSelector(r.Selector)
				if err != nil {
					return false
				}
				r.selector = sel
			}
			if !found || !r.selector.Matches(labels.Set(objLabels)) {
				return false
			}
		}
	}
	if s := e.Subject; s != nil {
		if f.Subject == nil {
			return false
		}
		if !glob(s.Kind, f.Subject.Kind, true) || !glob(s.Namespace, f.Subject.Namespace, false) || !glob(s.Name, f.Subject.Name, false) {
			return false
		}
	}
	return true
}

// glob matches a pattern; empty matches anything. Kinds match whatever their case.
func glob(pattern, s string, foldCase bool) bool {
	if pattern == "" {
		return true
	}
	if foldCase {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// describe is the entry in a few words, for messages and fingerprints.
func (e *Entry) describe() string {
	var b strings.Builder
	b.WriteString(e.Check)
	if r := e.Resource; r != nil {
		if r.Kind == "" && r.Namespace == "" && r.Name == "" {
			b.WriteString(" on objects")
		} else {
			obj := []string{orAny(r.Kind)}
			if r.Namespace != "" {
				obj = append(obj, r.Namespace)
			}
			obj = append(obj, orAny(r.Name))
			b.WriteString(" on " + strings.Join(obj, "/"))
		}
		if r.Selector != nil {
			if sel, err := metav1.LabelSelectorAsSelector(r.Selector); err == nil {
				b.WriteString(" with labels " + sel.String())
			}
		}
	}
	if s := e.Subject; s != nil {
		subj := orAny(s.Kind) + " "
		if s.Namespace != "" {
			subj += s.Namespace + "/"
		}
		b.WriteString(" for " + subj + orAny(s.Name))
	}
	return b.String()
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// acceptance is what the finding records of the entry.
func (e *Entry) acceptance() *finding.Acceptance {
	return &finding.Acceptance{By: e.By(), Reason: e.Reason, Owner: e.Owner, Expires: e.Expires}
}
