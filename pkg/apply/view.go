package apply

import (
	"fmt"
	"strings"

	"github.com/fatih/color"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// show prints what a person needs to decide: the finding and why it
// matters, the change and its diff, the dry-run result, what it may break.
func (s *Session) show(p painter, n, total int, it Item, st *step) {
	w := s.Out
	fmt.Fprintf(w, "\n%s %s %s\n", p.faint(fmt.Sprintf("[%d/%d]", n, total)), p.severity(it.Severity), p.bold(it.Check+": "+it.Title))
	for i, f := range it.Findings {
		if i == 3 && len(it.Findings) > 4 {
			fmt.Fprintf(w, "  ... and %d more findings ([d]etail lists them)\n", len(it.Findings)-3)
			break
		}
		fmt.Fprintf(w, "  %s\n", f.Message)
	}
	if it.Why != "" {
		fmt.Fprintf(w, "%s %s\n", p.bold("Why:"), it.Why)
	}
	if it.Revised > 0 {
		fmt.Fprintf(w, "%s\n", p.yellow(fmt.Sprintf("Revised after change %d: the checks ran again on the cluster as it is now.", it.Revised)))
	}
	ch := st.change
	fmt.Fprintf(w, "%s %s %s: %s\n", p.bold("Change:"), ch.Action, ch.Target, ch.Description)
	if it.Alternative > 0 {
		fmt.Fprintln(w, p.yellow("ALTERNATIVE: instead of these findings' own changes, which follow; once it is applied, those it makes needless are dropped. "+
			"Answer no to keep to them. [a]ll and --yes never choose it."))
		if it.Summary != "" {
			fmt.Fprintf(w, "%s %s\n", p.bold("Instead:"), it.Summary)
		}
	}
	if st.unchanged {
		return
	}
	if ch.Risky {
		fmt.Fprintln(w, p.yellow("RISKY: this changes a workload, not only policy; [a]ll and --yes apply it only with --include-risky."))
	}
	if st.err == nil || st.rejected {
		proposed := st.proposed
		if st.rejected && s.DryRun != DryRunClient {
			// The server answered nothing; show what the change asks for.
			proposed, _ = render.Preview(st.live, ch)
		}
		if proposed != nil || ch.Action == remedy.Delete {
			if _, err := render.Diff(w, st.live, proposed, render.DiffOptions{From: "live", To: "proposed", Color: s.Color}); err != nil {
				fmt.Fprintln(w, p.red(err.Error()))
			}
		}
	}
	switch {
	case st.err != nil && st.rejected:
		fmt.Fprintf(w, "%s %s\n", p.bold("Server dry-run:"), p.red("REJECTED: "+st.err.Error()))
	case st.err != nil:
		fmt.Fprintf(w, "%s %s\n", p.bold("Cannot apply:"), p.red(st.err.Error()))
	case s.DryRun == DryRunClient:
		fmt.Fprintf(w, "%s %s\n", p.bold("Client dry-run:"), "computed locally, not validated by the server")
	default:
		fmt.Fprintf(w, "%s %s\n", p.bold("Server dry-run:"), p.green("accepted"))
	}
	for _, warn := range st.warnings {
		fmt.Fprintf(w, "  %s %s\n", p.yellow("Warning:"), warn)
	}
	if len(st.takesOver) > 0 {
		fmt.Fprintf(w, "  %s\n", p.yellow("Takes over fields another field manager set (a tool that applies them again may set them back):"))
		for _, f := range st.takesOver {
			fmt.Fprintf(w, "    %s\n", f)
		}
	}
	switch {
	case len(ch.Breaks) > 0:
		what := "May break:"
		if st.edited {
			what = "May break (judged on your edit):"
		}
		fmt.Fprintln(w, p.bold(what))
		for _, b := range ch.Breaks {
			fmt.Fprintf(w, "  - %s\n", b)
		}
	case st.edited && st.impactKnown:
		fmt.Fprintf(w, "%s nothing the checks know of\n", p.bold("May break (judged on your edit):"))
	case st.edited:
		fmt.Fprintf(w, "%s %s\n", p.bold("May break:"), p.yellow("not known: no check judges what an edited "+ch.Target.Kind+" may break; read the diff"))
	default:
		fmt.Fprintf(w, "%s nothing the check knows of\n", p.bold("May break:"))
	}
}

// detail prints every finding with its evidence and controls, and the change as sent.
func (s *Session) detail(p painter, it Item, st *step) {
	w := s.Out
	for _, f := range it.Findings {
		fmt.Fprintf(w, "%s %s %s\n", p.severity(f.Severity), f.Resource, f.Message)
		if len(f.Controls) > 0 {
			ctl := make([]string, len(f.Controls))
			for i, c := range f.Controls {
				ctl[i] = string(c)
			}
			fmt.Fprintf(w, "  controls: %s\n", strings.Join(ctl, ", "))
		}
		if f.Remediation != nil && f.Remediation.Summary != "" {
			fmt.Fprintf(w, "  remediation: %s\n", f.Remediation.Summary)
		}
		if len(f.Evidence) > 0 {
			if b, err := yaml.Marshal(f.Evidence); err == nil {
				fmt.Fprintf(w, "  evidence:\n%s", indent(string(b), "    "))
			}
		}
	}
	body, err := render.YAML(st.change)
	if err != nil {
		fmt.Fprintln(w, p.red(err.Error()))
		return
	}
	fmt.Fprintf(w, "%s\n%s", p.bold(fmt.Sprintf("The change (%s %s):", st.change.Action, st.change.Target)), indent(string(body), "  "))
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

func (s *Session) printSummary(p painter, sum Summary) {
	w := s.Out
	fmt.Fprintln(w)
	if s.DryRun != DryRunNone {
		alternatives := ""
		if len(sum.Skipped) > 0 {
			// A dry run skips nothing but the alternatives, which a session offers as a choice.
			alternatives = fmt.Sprintf(", %d %s offered instead of some of them", len(sum.Skipped), plural(len(sum.Skipped), "alternative", "alternatives"))
		}
		fmt.Fprintf(w, "%s %d to apply, %d cannot be applied, %d already in place%s. Nothing was changed (--dry-run=%s).\n",
			p.bold("Plan:"), len(sum.Planned), len(sum.Failed), len(sum.Unchanged), alternatives, s.DryRun)
	} else {
		line := fmt.Sprintf("%d applied, %d skipped, %d failed, %d already in place", len(sum.Applied), len(sum.Skipped), len(sum.Failed), len(sum.Unchanged))
		if len(sum.Unknown) > 0 {
			line += fmt.Sprintf(", %d unknown", len(sum.Unknown))
		}
		if len(sum.Resolved) > 0 {
			line += fmt.Sprintf(", %d resolved by earlier changes", len(sum.Resolved))
		}
		if len(sum.Accepted) > 0 {
			line += fmt.Sprintf(", %d accepted", len(sum.Accepted))
		}
		if sum.NotReviewed > 0 {
			line += fmt.Sprintf(", %d not reviewed", sum.NotReviewed)
		}
		if sum.Interrupted {
			line += " (interrupted)"
		}
		fmt.Fprintf(w, "%s %s.\n", p.bold("Summary:"), line)
	}
	for _, o := range sum.Failed {
		what := fmt.Sprintf("%s %s", o.Change.Action, o.Change.Target)
		why := o.Reason
		if why == "" {
			why = strings.TrimPrefix(o.Err.Error(), what+": ")
		}
		fmt.Fprintf(w, "  %s %s: %s\n", p.red("failed"), what, why)
	}
	for _, o := range sum.Unknown {
		fmt.Fprintf(w, "  %s %s %s: %s\n", p.red("unknown"), o.Change.Action, o.Change.Target, o.Settled)
	}
	if sum.Exceptions != "" {
		fmt.Fprintf(w, "%s %s (review it, and keep it where the audit reads it)\n", p.bold("Exceptions written to:"), sum.Exceptions)
	}
	if sum.Journal != "" {
		fmt.Fprintf(w, "%s %s\nUndo with: kubectl harden undo --journal %s\n", p.bold("Journal:"), sum.Journal, sum.Journal)
	}
	if sum.LostContact != nil {
		fmt.Fprintf(w, "%s %v\n%s\n", p.bold("Cause:"), sum.LostContact, p.red(LostContactMessage(sum)))
	}
}

// LostContactMessage says that the session stopped for want of a server,
// what is left, and how to go on.
func LostContactMessage(sum Summary) string {
	journal := sum.Journal
	if journal == "" {
		journal = "none (nothing was changed)"
	}
	return fmt.Sprintf("lost contact with the API server; %d changes not reviewed; journal %s; run `kubectl harden fix` again to continue",
		sum.NotReviewed, journal)
}

// painter colours the session's text when Color is set.
type painter struct{ on bool }

func (s *Session) painter() painter { return painter{on: s.Color} }

func (p painter) paint(text string, attrs ...color.Attribute) string {
	return render.Palette{On: p.on}.Paint(text, attrs...)
}

func (p painter) bold(s string) string   { return p.paint(s, color.Bold) }
func (p painter) faint(s string) string  { return p.paint(s, color.Faint) }
func (p painter) red(s string) string    { return p.paint(s, color.FgRed) }
func (p painter) green(s string) string  { return p.paint(s, color.FgGreen) }
func (p painter) yellow(s string) string { return p.paint(s, color.FgYellow) }

func (p painter) severity(s finding.Severity) string {
	return render.Palette{On: p.on}.Severity(s, strings.ToUpper(s.String()))
}
