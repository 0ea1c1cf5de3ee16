package apply

import (
	"strings"
	"testing"
)

// What the session does with a step before it asks anyone.
func TestUnasked(t *testing.T) {
	tests := []struct {
		name                                                 string
		rejected, yes, all, risky, includeRisky, alternative bool
		want                                                 move
	}{
		{name: "nothing said: ask", want: moveAsk},
		{name: "--yes applies", yes: true, want: moveApply},
		{name: "[a]ll applies", all: true, want: moveApply},
		{name: "--yes leaves a risky change", yes: true, risky: true, want: moveRiskyLeft},
		{name: "--yes --include-risky applies it", yes: true, risky: true, includeRisky: true, want: moveApply},
		{name: "[a]ll asks about a risky change", all: true, risky: true, want: moveAsk},
		{name: "[a]ll --include-risky applies it", all: true, risky: true, includeRisky: true, want: moveApply},
		{name: "--yes fails a rejected change", yes: true, rejected: true, want: moveRejected},
		{name: "--yes fails a rejected risky change", yes: true, rejected: true, risky: true, want: moveRejected},
		{name: "[a]ll asks about a rejected change", all: true, rejected: true, want: moveAsk},
		{name: "a rejected change is asked", rejected: true, want: moveAsk},
		// An alternative replaces the findings' own changes: only a person chooses it.
		{name: "an alternative is asked", alternative: true, want: moveAsk},
		{name: "[a]ll asks about an alternative", all: true, alternative: true, want: moveAsk},
		{name: "--yes leaves an alternative", yes: true, alternative: true, want: moveAlternativeLeft},
		{name: "--yes --include-risky leaves an alternative", yes: true, includeRisky: true, alternative: true, want: moveAlternativeLeft},
		{name: "--yes leaves a rejected alternative", yes: true, rejected: true, alternative: true, want: moveAlternativeLeft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unasked(tt.rejected, tt.yes, tt.all, tt.risky, tt.includeRisky, tt.alternative); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// What each reply means, for a step the server accepts or rejects, with or
// without [e]dit and ac[c]ept.
func TestChoose(t *testing.T) {
	tests := []struct {
		reply                        string
		rejected, canEdit, canAccept bool
		want                         byte
		say                          string // substring of what is said before asking again
	}{
		{reply: "y\n", want: 'y'},
		{reply: " YES \n", want: 'y'},
		{reply: "yep", say: "Please answer one of [y]es [n]o [a]ll of this check [d]etail [q]uit."},
		{reply: "n", want: 'n'},
		{reply: "no", want: 'n'},
		{reply: "a", want: 'a'},
		{reply: "all", want: 'a'},
		{reply: "d", want: 'd'},
		{reply: "detail", want: 'd'},
		{reply: "q", want: 'q'},
		{reply: "quit", want: 'q'},
		{reply: "", want: 0},
		{reply: "   \n", want: 0},
		{reply: "e", say: "Please answer one of"},
		{reply: "e", canEdit: true, want: 'e'},
		{reply: "edit", canEdit: true, want: 'e'},
		{reply: "maybe", canEdit: true, say: "[e]dit"},
		{reply: "y", rejected: true, say: "never applied as it is"},
		{reply: "all", rejected: true, say: "never applied as it is"},
		{reply: "n", rejected: true, want: 'n'},
		{reply: "e", rejected: true, canEdit: true, want: 'e'},
		{reply: "x", rejected: true, say: "Please answer one of [n]o [d]etail [q]uit."},
		// ac[c]ept writes an exception, never the cluster: offered also when the server rejects the change.
		{reply: "c", canAccept: true, want: 'c'},
		{reply: "accept", canAccept: true, want: 'c'},
		{reply: " Accept\n", canAccept: true, want: 'c'},
		{reply: "c", say: "Please answer one of [y]es [n]o [a]ll of this check [d]etail [q]uit."},
		{reply: "accept", say: "Please answer one of"},
		{reply: "acc", canAccept: true, say: "Please answer one of [y]es [n]o [a]ll of this check ac[c]ept [d]etail [q]uit."},
		{reply: "x", canAccept: true, canEdit: true, say: "[a]ll of this check ac[c]ept [e]dit [d]etail [q]uit."},
		{reply: "c", rejected: true, canAccept: true, want: 'c'},
		{reply: "accept", rejected: true, canAccept: true, want: 'c'},
		{reply: "a", rejected: true, canAccept: true, say: "never applied as it is"},
		{reply: "x", rejected: true, canAccept: true, say: "Please answer one of [n]o ac[c]ept [d]etail [q]uit."},
	}
	for _, tt := range tests {
		got, say := choose(tt.reply, question{rejected: tt.rejected, canEdit: tt.canEdit, canAccept: tt.canAccept})
		if got != tt.want || (tt.say == "") != (say == "") || !strings.Contains(say, tt.say) {
			t.Errorf("choose(%q, rejected=%v, edit=%v, accept=%v) = %q, %q; want %q, %q",
				tt.reply, tt.rejected, tt.canEdit, tt.canAccept, got, say, tt.want, tt.say)
		}
	}
}
