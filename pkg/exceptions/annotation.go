package exceptions

import (
	"fmt"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// FromAnnotation reads the kubectl-harden.io/accept annotation of an object:
// one entry per non-empty line, each "<check-id>: <reason>; owner=<owner>;
// expires=<YYYY-MM-DD>", accepting that check's findings on this object only.
// A line that does not parse or validate is returned as an error and accepts nothing.
func FromAnnotation(obj finding.Resource, value string, src *finding.Source, opts Options) ([]Entry, []error) {
	var entries []Entry
	var errs []error
	for n, line := range strings.Split(value, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		e, err := parseAnnotationLine(obj, line, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s annotation of %s, line %d: %w", Annotation, obj, n+1, err))
			continue
		}
		e.Source = src
		entries = append(entries, e)
	}
	return entries, errs
}

func parseAnnotationLine(obj finding.Resource, line string, opts Options) (Entry, error) {
	e := Entry{annotation: true, object: obj, Resource: &ResourceMatch{Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name}}
	parts := strings.Split(line, ";")
	check, reason, ok := strings.Cut(parts[0], ":")
	if !ok {
		return e, fmt.Errorf(`want "<check-id>: <reason>; owner=<owner>; expires=<YYYY-MM-DD>"`)
	}
	e.Check, e.Reason = strings.TrimSpace(check), strings.TrimSpace(reason)
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok:
			return e, fmt.Errorf("%q: want key=value (owner=, expires=)", p)
		case k == "owner" && e.Owner == "":
			e.Owner = v
		case k == "expires" && e.Expires == "":
			e.Expires = v
		case k == "owner" || k == "expires":
			return e, fmt.Errorf("%s given twice", k)
		default:
			return e, fmt.Errorf("unknown key %q (want owner, expires)", k)
		}
	}
	if fe := e.validate(opts); fe != nil {
		return e, fe
	}
	return e, nil
}
