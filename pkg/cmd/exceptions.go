package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// addExceptionFlags adds what accepts findings: exceptions files, the
// annotation, and the longest lifetime an exception may have.
func (o *AuditOptions) addExceptionFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringArrayVar(&o.ExceptionFiles, "exceptions", nil, "Exceptions file (apiVersion "+exceptions.APIVersion+", kind "+exceptions.Kind+") whose entries accept findings: they leave the counts, the score and --fail-on but stay in the report. Repeatable; "+exceptions.DefaultFile+" in the current directory is read when present")
	fs.IntVar(&o.MaxExceptionDays, "max-exception-days", 0, "Reject exceptions that expire more than this many days from today (0: no limit)")
	fs.BoolVar(&o.AcceptAnnotations, "accept-annotations", false, "Honour the "+exceptions.Annotation+` annotation on objects ("CHECK: reason; owner=...; expires=YYYY-MM-DD") as exceptions for that object. Off by default: anyone who may edit an object may write it, and so accept its findings`)
}

// addReportFlags adds what shapes the report beside the findings: accepted findings listed, a baseline.
func (o *AuditOptions) addReportFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&o.ShowAccepted, "show-accepted", false, "List the findings exceptions accept in the table and -o name (json, yaml and sarif always carry them, marked)")
	fs.BoolVar(&o.WritePolicyReports, "write-policyreports", false, "With -o policyreport, server-side apply the reports to the audited cluster (and delete its earlier ones no longer produced) instead of printing them: needs no kubectl, as in 'kubectl harden schedule'")
	fs.StringVar(&o.Baseline, "baseline", "", "A previous report (-o json or yaml): show and gate on only the findings it does not have, and list those fixed since")
}

// exceptionOptions validate entries against the registry and --max-exception-days.
func (o *AuditOptions) exceptionOptions() exceptions.Options {
	opts := exceptions.Options{Now: o.Now(), MaxDays: o.MaxExceptionDays}
	if reg, err := o.Registry(); err == nil {
		// The findings about exceptions are reported after the entries are
		// matched: an entry cannot accept them.
		opts.KnownCheck = func(id string) bool { c, ok := reg.Get(id); return ok && !c.Reported }
		opts.KnownDomain = func(d string) bool { return slices.Contains(reg.Domains(), d) }
	}
	return opts
}

// exceptionFiles are the --exceptions files, then .kubectl-harden.yaml of the
// working directory when it exists and was not named already.
func (o *AuditOptions) exceptionFiles() []string {
	files := append([]string(nil), o.ExceptionFiles...)
	def := filepath.Join(o.WorkDir, exceptions.DefaultFile)
	if st, err := os.Stat(def); err != nil || st.IsDir() {
		return files
	}
	abs, _ := filepath.Abs(def)
	for _, f := range files {
		if a, _ := filepath.Abs(f); a == abs {
			return files
		}
	}
	return append(files, def)
}

// loadExceptions reads every exceptions file; any error stops the audit before anything is applied.
func (o *AuditOptions) loadExceptions() ([]exceptions.Entry, error) {
	if o.MaxExceptionDays < 0 {
		return nil, fmt.Errorf("--max-exception-days must be 0 (no limit) or more, not %d", o.MaxExceptionDays)
	}
	opts := o.exceptionOptions()
	var out []exceptions.Entry
	for _, f := range o.exceptionFiles() {
		es, err := exceptions.Load(f, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// readReport reads a report printed by -o json or -o yaml.
func readReport(file, flag string) (*finding.Report, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	var r finding.Report
	if err := yaml.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s %s: not a report printed by -o json or -o yaml: %v", flag, file, err)
	}
	switch {
	case r.Kind == "List":
		return nil, fmt.Errorf("%s %s is a List of reports (several contexts): give the report of one cluster", flag, file)
	case r.APIVersion != finding.ReportAPIVersion || r.Kind != finding.ReportKind:
		return nil, fmt.Errorf("%s %s: apiVersion %q, kind %q: want a %s %s printed by -o json or -o yaml",
			flag, file, r.APIVersion, r.Kind, finding.ReportAPIVersion, finding.ReportKind)
	}
	return &r, nil
}

// withoutAccepted returns the findings no exception accepts.
func withoutAccepted(items []finding.Finding) []finding.Finding {
	out := items[:0:0]
	for _, f := range items {
		if f.Accepted == nil {
			out = append(out, f)
		}
	}
	return out
}
