package apply

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// move is what the session does with a prepared step before any question.
type move int

const (
	moveAsk move = iota
	// moveApply: applied without asking, by --yes or [a]ll of this check.
	moveApply
	// moveRejected: --yes, and the server's dry-run rejected the change: it fails.
	moveRejected
	// moveRiskyLeft: --yes, and the change is risky without --include-risky: it is skipped.
	moveRiskyLeft
	// moveAlternativeLeft: --yes, and the change is an alternative: a script
	// makes the findings' own changes, so it is skipped.
	moveAlternativeLeft
)

// unasked decides whether a step is settled without a question. all is
// [a]ll given earlier for the item's check. An alternative is a choice
// between remedies that only a person makes: never applied unasked.
func unasked(rejected, yes, all, risky, includeRisky, alternative bool) move {
	allowed := !risky || includeRisky
	switch {
	case alternative && yes:
		return moveAlternativeLeft
	case alternative:
		return moveAsk
	case !rejected && (yes || all) && allowed:
		return moveApply
	case yes && rejected:
		return moveRejected
	case yes:
		return moveRiskyLeft
	}
	return moveAsk
}

// question is what a step's question offers besides [n]o [d]etail [q]uit.
type question struct {
	// rejected: the server's dry-run refused the change, so no [y]es or [a]ll.
	rejected bool
	canEdit  bool
	// canAccept: the session can write an exception for the item's findings.
	canAccept bool
}

// options lists the answers a step takes, as the question shows them.
func options(q question) []string {
	var opts []string
	if !q.rejected {
		opts = append(opts, "[y]es", "[n]o", "[a]ll of this check")
	} else {
		opts = append(opts, "[n]o")
	}
	if q.canAccept {
		// [a] is taken by all; accepting changes a file, never the cluster,
		// so it stays offered when the server rejects the change.
		opts = append(opts, "ac[c]ept")
	}
	if q.canEdit {
		opts = append(opts, "[e]dit")
	}
	return append(opts, "[d]etail", "[q]uit")
}

// choose reads one reply to a step's question: the answer's letter, or 0
// and what to say before asking again ("" for an empty line).
func choose(reply string, q question) (byte, string) {
	a := strings.ToLower(strings.TrimSpace(reply))
	if a == "" {
		return 0, ""
	}
	if q.rejected && (a[0] == 'y' || (a[0] == 'a' && a != "accept")) {
		return 0, "The server's dry-run rejected this change: it is never applied as it is."
	}
	if a == "accept" {
		a = "c"
	}
	valid := map[byte]bool{'n': true, 'd': true, 'q': true, 'y': !q.rejected, 'a': !q.rejected, 'e': q.canEdit, 'c': q.canAccept}
	words := map[string]bool{"yes": true, "no": true, "all": true, "edit": true, "detail": true, "quit": true}
	if valid[a[0]] && (len(a) == 1 || words[a]) {
		return a[0], ""
	}
	return 0, fmt.Sprintf("Please answer one of %s.", strings.Join(options(q), " "))
}

// ask reads answers until one is valid for the step.
func (s *Session) ask(ctx context.Context, in *answers, p painter, st *step) (byte, error) {
	q := question{rejected: st.rejected, canEdit: s.Edit != nil && st.change.Action != remedy.Delete, canAccept: s.Accept != nil}
	opts := options(q)
	text := "Apply this change?"
	if st.rejected {
		text = "The server rejects this change."
	}
	for {
		fmt.Fprintf(s.Out, "%s %s: ", p.bold(text), strings.Join(opts, " "))
		line, err := in.next(ctx)
		if err != nil {
			return 0, err
		}
		a, say := choose(line, q)
		if a != 0 {
			return a, nil
		}
		if say != "" {
			if st.rejected && strings.HasPrefix(say, "The server's") {
				say = p.red(say)
			}
			fmt.Fprintln(s.Out, say)
		}
	}
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
