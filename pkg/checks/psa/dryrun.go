package psa

import (
	"fmt"
	"slices"
)

// AskServer returns the warnings the API server answers a server-side
// dry-run of setting the namespace's labels (the caller makes the request,
// so that this package never reaches a server).
type AskServer func(namespace string, labels map[string]string) ([]string, error)

// ConfirmWithServer asks the server about each proposed enforce level: the
// proposal as it would be applied, and enforce at the target level, to show
// what it would break. Each answer is recorded on the namespace (DryRun) with
// the prediction and whether they agree. It returns a warning per failed
// request and per disagreement. System namespaces are left alone unless
// includeSystem.
func (a *Analysis) ConfirmWithServer(ask AskServer, includeSystem bool) []string {
	var warnings []string
	for i := range a.Namespaces {
		n := &a.Namespaces[i]
		if n.Proposal == nil || !n.Known || (n.System && !includeSystem) {
			continue
		}
		for _, labels := range dryRunLabels(n.Proposal) {
			sc := ServerCheck{Labels: labels, Predicted: a.PredictLabelChange(n.Name, labels)}
			server, err := ask(n.Name, labels)
			if err != nil {
				sc.Error = err.Error()
				warnings = append(warnings, err.Error())
			} else {
				sc.Server = server
				sc.Agree = slices.Equal(sc.Predicted, server)
				if !sc.Agree {
					warnings = append(warnings, fmt.Sprintf("namespace %s, enforce=%s: the API server's warnings differ from the prediction\n  predicted: %q\n  server:    %q",
						n.Name, labels[EnforceLabel], sc.Predicted, server))
				}
			}
			n.DryRun = append(n.DryRun, sc)
		}
	}
	return warnings
}

// dryRunLabels are the label sets to try: the proposal as it would be
// applied, and enforce at the target level, to show what it would break.
func dryRunLabels(p *Proposal) []map[string]string {
	var out []map[string]string
	if p.Enforce != "" {
		out = append(out, p.Labels)
	}
	if p.Enforce != p.Target {
		out = append(out, map[string]string{EnforceLabel: string(p.Target), EnforceVersionLabel: p.Version})
	}
	return out
}
