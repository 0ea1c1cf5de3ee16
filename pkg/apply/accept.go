package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// DefaultAcceptDays is how long an exception written by ac[c]ept holds when
// the person takes the default: long enough for a planned fix, short enough
// that someone looks again.
const DefaultAcceptDays = 90

// Acceptor writes an exception for an item's findings instead of changing
// the cluster: the ac[c]ept answer of the session.
type Acceptor struct {
	// File is the exceptions file the entries are appended to; it is created
	// when missing.
	File string
	// Options validate each entry as the audit will (known checks,
	// --max-exception-days from Options.Now).
	Options exceptions.Options
	// Days is the default lifetime; 0 is DefaultAcceptDays. Options.MaxDays
	// bounds it.
	Days int
}

// defaultExpiry is the date offered when the person just presses enter.
func (a *Acceptor) defaultExpiry() string {
	days := a.Days
	if days <= 0 {
		days = DefaultAcceptDays
	}
	if a.Options.MaxDays > 0 && days > a.Options.MaxDays {
		days = a.Options.MaxDays
	}
	now := a.Options.Now
	if now.IsZero() {
		now = time.Now()
	}
	return now.UTC().AddDate(0, 0, days).Format(exceptions.DateLayout)
}

// Entries are the exceptions accepting an item's findings: one per distinct
// check, object and subject, naming them exactly (glob characters escaped),
// so that the next audit accepts those findings and nothing else.
func Entries(it Item, reason, owner, expires string) []exceptions.Entry {
	var out []exceptions.Entry
	seen := map[string]bool{}
	for _, f := range it.Findings {
		if k := findingKey(f); !seen[k] {
			seen[k] = true
			out = append(out, entryFor(f, reason, owner, expires))
		}
	}
	return out
}

func entryFor(f finding.Finding, reason, owner, expires string) exceptions.Entry {
	e := exceptions.Entry{Check: f.Check, Reason: reason, Owner: owner, Expires: expires}
	if r := f.Resource; r.Kind != "" || r.Namespace != "" || r.Name != "" {
		e.Resource = &exceptions.ResourceMatch{Kind: literal(r.Kind), Namespace: literal(r.Namespace), Name: literal(r.Name)}
	}
	if s := f.Subject; s != nil {
		e.Subject = &exceptions.SubjectMatch{Kind: literal(s.Kind), Namespace: literal(s.Namespace), Name: literal(s.Name)}
	}
	return e
}

// literal escapes the glob characters of a name (RBAC names may hold them).
func literal(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// acceptance is what ac[c]ept did: the entries written, or why none was.
type acceptance struct {
	entries []exceptions.Entry
	// err: the entries could not be written (said already); the question is asked again.
	err error
}

// accept asks for the reason, owner and expiry of an exception for the
// item's findings and appends it to the exceptions file. The error is the
// input's (end of input, Ctrl-C), which ends the session as at a question.
func (s *Session) accept(ctx context.Context, in *answers, p painter, it Item) (acceptance, error) {
	a := s.Accept
	n := len(Entries(it, "", "", ""))
	fmt.Fprintf(s.Out, "Accept %s of %s as an exception in %s; the cluster is not changed.\n",
		plural(n, "the finding", fmt.Sprintf("the %d findings", n)), it.Check, a.File)
	reason, err := s.line(ctx, in, p, "Reason (why it is accepted): ", "", "A reason is required: it is what a reviewer reads.")
	if err != nil {
		return acceptance{}, err
	}
	owner, err := s.line(ctx, in, p, "Owner (who answers for it): ", "", "An owner is required: who renews or fixes it when it expires.")
	if err != nil {
		return acceptance{}, err
	}
	def := a.defaultExpiry()
	limit := ""
	if a.Options.MaxDays > 0 {
		limit = fmt.Sprintf(", at most %d days away", a.Options.MaxDays)
	}
	for {
		expires, err := s.line(ctx, in, p, fmt.Sprintf("Expires (YYYY-MM-DD%s) [%s]: ", limit, def), def, "")
		if err != nil {
			return acceptance{}, err
		}
		entries := Entries(it, reason, owner, expires)
		var bad error
		for i := range entries {
			if err := entries[i].Validate(a.Options); err != nil {
				bad = err
				break
			}
		}
		if bad != nil {
			fmt.Fprintln(s.Out, p.red(bad.Error()))
			if strings.HasPrefix(bad.Error(), "expires:") {
				continue
			}
			return acceptance{err: bad}, nil
		}
		for i, e := range entries {
			if err := exceptions.Append(a.File, e); err != nil {
				err = fmt.Errorf("%d of %d exceptions written to %s: %w", i, len(entries), a.File, err)
				fmt.Fprintln(s.Out, p.red("Not accepted: "+err.Error()))
				return acceptance{entries: entries[:i], err: err}, nil
			}
		}
		fmt.Fprintln(s.Out, p.green(fmt.Sprintf("Accepted: %s in %s until %s (owner %s); nothing was changed in the cluster.",
			plural(len(entries), "1 exception", fmt.Sprintf("%d exceptions", len(entries))), a.File, expires, owner)))
		return acceptance{entries: entries}, nil
	}
}

// line asks for one line of text; an empty answer is def, or when def is
// empty, says required and asks again.
func (s *Session) line(ctx context.Context, in *answers, p painter, prompt, def, required string) (string, error) {
	for {
		fmt.Fprint(s.Out, p.bold(prompt))
		l, err := in.next(ctx)
		if err != nil {
			return "", err
		}
		if v := strings.TrimSpace(l); v != "" {
			return v, nil
		}
		if def != "" {
			return def, nil
		}
		if required == "" {
			return "", errors.New("an answer is required")
		}
		fmt.Fprintln(s.Out, required)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
