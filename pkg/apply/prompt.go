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
)

// unasked decides whether a step is settled without a question. all is
// [a]ll given earlier for the item's check.
func unasked(rejected, yes, all, risky, includeRisky bool) move {
	allowed := !risky || includeRisky
	switch {
	case !rejected && (yes || all) && allowed:
		return moveApply
	case yes && rejected:
		return moveRejected
	case yes:
		return moveRiskyLeft
	}
	return moveAsk
}

// options lists the answers a step takes, as the question shows them.
func options(rejected, canEdit bool) []string {
	var opts []string
	if !rejected {
		opts = append(opts, "[y]es", "[n]o", "[a]ll of this check")
	} else {
		opts = append(opts, "[n]o")
	}
	if canEdit {
		opts = append(opts, "[e]dit")
	}
	return append(opts, "[d]etail", "[q]uit")
}

// choose reads one reply to a step's question: the answer's letter, or 0
// and what to say before asking again ("" for an empty line).
func choose(reply string, rejected, canEdit bool) (byte, string) {
	a := strings.ToLower(strings.TrimSpace(reply))
	if a == "" {
		return 0, ""
	}
	if rejected && (a[0] == 'y' || a[0] == 'a') {
		return 0, "The server's dry-run rejected this change: it is never applied as it is."
	}
	valid := map[byte]bool{'n': true, 'd': true, 'q': true, 'y': !rejected, 'a': !rejected, 'e': canEdit}
	words := map[string]bool{"yes": true, "no": true, "all": true, "edit": true, "detail": true, "quit": true}
	if valid[a[0]] && (len(a) == 1 || words[a]) {
		return a[0], ""
	}
	return 0, fmt.Sprintf("Please answer one of %s.", strings.Join(options(rejected, canEdit), " "))
}

// ask reads answers until one is valid for the step.
func (s *Session) ask(ctx context.Context, in *answers, p painter, st *step) (byte, error) {
	canEdit := s.Edit != nil && st.change.Action != remedy.Delete
	opts := options(st.rejected, canEdit)
	q := "Apply this change?"
	if st.rejected {
		q = "The server rejects this change."
	}
	for {
		fmt.Fprintf(s.Out, "%s %s: ", p.bold(q), strings.Join(opts, " "))
		line, err := in.next(ctx)
		if err != nil {
			return 0, err
		}
		a, say := choose(line, st.rejected, canEdit)
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
