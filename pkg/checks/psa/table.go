package psa

import (
	"fmt"
	"strings"

	"k8s.io/pod-security-admission/api"
)

// ServerCheck is a proposed enforce level confirmed with a server-side
// dry-run of the namespace's labels: the warnings the plugin predicts and
// those the API server returned.
type ServerCheck struct {
	// Labels are the labels the dry-run set.
	Labels    map[string]string `json:"labels"`
	Predicted []string          `json:"predicted"`
	Server    []string          `json:"server"`
	Agree     bool              `json:"agree"`
	Error     string            `json:"error,omitempty"`
}

// PredictLabelChange returns the warnings the API server answers a change
// of the namespace's labels to labels with (see PredictedWarnings), following
// its rules: pods are judged only when the enforce level or version changes,
// never for privileged, and not when the level is lowered at the same version.
// Unlabelled modes are taken as the built-in default, privileged:latest.
func (a *Analysis) PredictLabelChange(namespace string, labels map[string]string) []string {
	a.mu.Lock()
	st, ok := a.byNS[namespaceOf(namespace)]
	a.mu.Unlock()
	if !ok {
		return nil
	}
	def := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	defaults := api.Policy{Enforce: def, Audit: def, Warn: def}
	old, _ := api.PolicyToEvaluate(st.labels, defaults)
	merged := map[string]string{}
	for k, v := range st.labels {
		merged[k] = v
	}
	for k, v := range labels {
		merged[k] = v
	}
	now, errs := api.PolicyToEvaluate(merged, defaults)
	switch {
	case len(errs) > 0, now.Enforce == old.Enforce, now.Enforce.Level == api.LevelPrivileged:
		return nil
	case now.Enforce.Version == old.Enforce.Version && api.CompareLevels(now.Enforce.Level, old.Enforce.Level) < 1:
		return nil
	}
	return a.PredictedWarnings(namespace, now.Enforce)
}

// Table is the per-namespace summary as the table printer shows it.
func (c *Coverage) Table() (string, []string, [][]string) {
	headers := []string{"NAMESPACE", "ENFORCE", "AUDIT", "WARN", "STRICTEST", "WORKLOADS", "PODS", "BLOCKING", "PROPOSED"}
	dry := false
	for _, n := range c.Namespaces {
		if len(n.DryRun) > 0 {
			dry = true
		}
	}
	if dry {
		headers = append(headers, "SERVER DRY-RUN")
	}
	var rows [][]string
	for _, n := range c.Namespaces {
		name := n.Name
		if n.System {
			name += " (system)"
		}
		enforce, audit, warn := "?", "?", "?"
		if n.Known {
			enforce, audit, warn = n.Effective.Enforce, n.Effective.Audit, n.Effective.Warn
		}
		blocking := "-"
		if n.Next != "" {
			objs := map[string]bool{}
			for _, b := range n.Blocking {
				objs[b.Object.String()] = true
			}
			blocking = fmt.Sprintf("%d for %s", len(objs), n.Next)
		}
		proposed := "-"
		if p := n.Proposal; p != nil {
			proposed = fmt.Sprintf("warn,audit=%s", p.Target)
			if p.Enforce != "" {
				proposed += fmt.Sprintf(" enforce=%s", p.Enforce)
			}
			proposed += " @" + p.Version
		}
		row := []string{name, enforce, audit, warn, string(n.Strictest), fmt.Sprint(n.Counts.Workloads), fmt.Sprint(n.Counts.Pods), blocking, proposed}
		if dry {
			var cells []string
			for _, d := range n.DryRun {
				level := d.Labels[EnforceLabel]
				switch {
				case d.Error != "":
					cells = append(cells, level+": error")
				case !d.Agree:
					cells = append(cells, level+": DIFFERS")
				case len(d.Server) == 0:
					cells = append(cells, level+": no warnings")
				default:
					cells = append(cells, fmt.Sprintf("%s: %d warnings, as predicted", level, len(d.Server)))
				}
			}
			if len(cells) == 0 {
				cells = []string{"-"}
			}
			row = append(row, strings.Join(cells, "; "))
		}
		rows = append(rows, row)
	}
	return "Pod Security per namespace", headers, rows
}
