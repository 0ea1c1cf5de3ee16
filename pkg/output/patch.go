package output

import (
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// Patch prints every remediation change of a report as a multi-document YAML
// stream that `kubectl apply --server-side -f -` accepts. Each document says
// in comments which findings it fixes and what it may break. What apply
// cannot do is never silently dropped: deletions, and patches server-side
// apply cannot express, become comment blocks with the exact kubectl command;
// risky changes (they alter workloads) are printed commented out, to be
// uncommented by a person who wants them. So are the alternatives
// (remedy.Remediation.Alternatives), after the plan: a person who prefers
// one uncomments it and leaves out the changes it replaces.
type Patch struct{}

// Print writes the stream.
func (Patch) Print(r *finding.Report, w io.Writer) error {
	var groups, alternatives []finding.ChangeGroup
	for _, g := range finding.GroupChoices(r.Items) {
		if g.Alternative > 0 {
			alternatives = append(alternatives, g)
		} else {
			groups = append(groups, g)
		}
	}
	ew := &errWriter{w: w}
	patchHeader(ew, r, groups, alternatives)
	for _, g := range groups {
		fmt.Fprintln(ew, "---")
		if err := patchDocument(ew, g); err != nil {
			return err
		}
	}
	for _, g := range alternatives {
		fmt.Fprintln(ew, "---")
		if err := patchAlternative(ew, g); err != nil {
			return err
		}
	}
	return ew.err
}

// patchAlternative writes an alternative change as a comment block: it
// replaces changes of the plan above, so applying both is never the default.
func patchAlternative(w io.Writer, g finding.ChangeGroup) error {
	ch := g.Change
	for _, f := range g.Findings {
		fmt.Fprintf(w, "# [%s] %s: %s\n", f.Severity, f.Check, oneLine(f.Message))
	}
	fmt.Fprintln(w, "# ALTERNATIVE to these findings' changes above: "+oneLine(g.Summary))
	if ch.Description != "" {
		fmt.Fprintf(w, "# %s\n", oneLine(ch.Description))
	}
	for _, b := range ch.Breaks {
		fmt.Fprintf(w, "# May break: %s\n", oneLine(b))
	}
	obj, ok := render.ApplyObject(ch)
	if !ok {
		// The checks offer alternatives as objects to apply; say so rather than print nothing.
		fmt.Fprintf(w, "# (a %s of %s: review it with 'kubectl harden fix')\n", ch.Action, ch.Target)
		return nil
	}
	b, err := yaml.Marshal(obj.Object)
	if err != nil {
		return fmt.Errorf("render the change to %s as YAML: %w", ch.Target, err)
	}
	fmt.Fprintln(w, "# To use it, leave out the changes of these findings above and remove the leading '# ' from the lines below.")
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			fmt.Fprint(w, "# "+l)
		}
	}
	return nil
}

func patchHeader(w io.Writer, r *finding.Report, groups, alternatives []finding.ChangeGroup) {
	m := r.Metadata
	fmt.Fprintln(w, "# kubectl-harden remediation plan")
	var where []string
	if m.Context != "" {
		where = append(where, "context "+m.Context)
	}
	if m.Server != nil && m.Server.Host != "" {
		where = append(where, "server "+m.Server.Host)
	}
	if len(m.Files) > 0 {
		where = append(where, "files "+strings.Join(m.Files, ", "))
	}
	if !m.GeneratedAt.IsZero() {
		where = append(where, "generated "+m.GeneratedAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	if len(where) > 0 {
		fmt.Fprintf(w, "# %s\n", strings.Join(where, ", "))
	}
	if len(groups) == 0 {
		fmt.Fprintln(w, "# No remediation changes for the findings of this report.")
		return
	}
	fmt.Fprint(w, `# Review it, then apply it with:
#   kubectl apply --server-side --field-manager=`+remedy.FieldManager+` -f FILE
# A field another manager owns makes apply stop with a conflict; add
# --force-conflicts once you have decided to take it over.
# Deletions, patches that server-side apply cannot express and risky changes
# are in comments below: run or uncomment them yourself.
`)
	if len(alternatives) > 0 {
		fmt.Fprint(w, `# The alternatives at the end replace some of the changes: to use one,
# uncomment it and leave out the changes it names.
`)
	}
}

// patchDocument writes one change as a YAML document, or as a comment block.
func patchDocument(w io.Writer, g finding.ChangeGroup) error {
	ch := g.Change
	for _, f := range g.Findings {
		fmt.Fprintf(w, "# [%s] %s: %s\n", f.Severity, f.Check, oneLine(f.Message))
	}
	if ch.Description != "" {
		fmt.Fprintf(w, "# %s\n", oneLine(ch.Description))
	}
	for _, b := range ch.Breaks {
		fmt.Fprintf(w, "# May break: %s\n", oneLine(b))
	}
	if ch.Action == remedy.Delete {
		fmt.Fprintf(w, "# kubectl apply does not delete. To delete it, run:\n#   %s\n", render.KubectlDelete(ch.Target))
		return nil
	}
	obj, ok := render.ApplyObject(ch)
	if !ok {
		cmd, err := render.KubectlPatch(ch)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "# Server-side apply cannot express this patch. To apply it, run:\n#   %s\n", cmd)
		return nil
	}
	b, err := yaml.Marshal(obj.Object)
	if err != nil {
		return fmt.Errorf("render the change to %s as YAML: %w", ch.Target, err)
	}
	if ch.Risky {
		fmt.Fprintln(w, "# LEFT OUT: risky, it changes a workload and not only policy. To include it,")
		fmt.Fprintln(w, "# remove the leading '# ' from the lines below.")
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if l != "" {
				fmt.Fprint(w, "# "+l)
			}
		}
		return nil
	}
	_, err = w.Write(b)
	return err
}

// oneLine keeps a message on its comment line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
