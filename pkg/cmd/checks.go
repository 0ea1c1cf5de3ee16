package cmd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/controls"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// CheckInfo is one check as `kubectl harden checks -o json|yaml` prints it.
type CheckInfo struct {
	ID       string `json:"id"`
	Domain   string `json:"domain"`
	Severity string `json:"severity"`
	// MinSeverity and MaxSeverity bound what its findings report (a check may
	// raise or lower a finding from its default, e.g. by what a path reaches).
	MinSeverity string   `json:"minSeverity"`
	MaxSeverity string   `json:"maxSeverity"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	Controls    []string `json:"controls"`
	Needs       []string `json:"needs"`
}

// ChecksOptions are the flags of `kubectl harden checks`.
type ChecksOptions struct {
	*AuditOptions

	args     []string
	registry *checks.Registry
}

func newCmdChecks(o *AuditOptions) *cobra.Command {
	c := &ChecksOptions{AuditOptions: o}
	cmd := &cobra.Command{
		Use:   "checks [DOMAIN]",
		Short: "List the checks: ID, domain, severity and CIS/NSA/NIST controls",
		Long: templates.LongDesc(`
			List every check with its stable ID (the value of --check and --skip-check),
			its domain, default severity and the controls it maps to.`),
		Example: templates.Examples(`
			# Every check
			kubectl harden checks

			# The RBAC checks, with what they read, as YAML
			kubectl harden checks rbac -o yaml

			# Every control of the CIS Kubernetes Benchmark v1.11 and the checks that evidence it
			kubectl harden checks --framework cis --benchmark cis-1.11`),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: o.completeDomains,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.Complete(args); err != nil {
				return err
			}
			if err := c.Validate(); err != nil {
				return err
			}
			return c.Run()
		},
	}
	o.addOutputFlag(cmd, output.ListFormats())
	cmd.Flags().StringVar(&o.Framework, "framework", "", "List the controls of a framework and the checks that evidence each: "+strings.Join(controls.Frameworks(), ", "))
	cmd.Flags().StringVar(&o.Benchmark, "benchmark", "", "With --framework cis, the benchmark version: "+strings.Join(benchmarkIDs(), ", ")+" (default the newest)")
	return cmd
}

// Complete takes the domain argument and the registry.
func (c *ChecksOptions) Complete(args []string) error {
	if err := c.AuditOptions.Complete(); err != nil {
		return err
	}
	c.args = args
	reg, err := c.Registry()
	c.registry = reg
	return err
}

// Validate checks the domain and -o.
func (c *ChecksOptions) Validate() error {
	if c.Framework == "" && c.Benchmark == "" {
		if err := validateListOutput("checks", c.Output); err != nil {
			return err
		}
	}
	if len(c.args) == 1 && !slices.Contains(c.registry.Domains(), c.args[0]) {
		return fmt.Errorf("unknown domain %q: use one of %s", c.args[0], strings.Join(c.registry.Domains(), ", "))
	}
	return nil
}

// Run prints the checks, or with --framework the control matrix.
func (c *ChecksOptions) Run() error {
	args, o := c.args, c.AuditOptions
	if o.Framework != "" || o.Benchmark != "" {
		return o.printControlMatrix(args)
	}
	reg := c.registry
	var infos []CheckInfo
	for _, c := range reg.All() {
		if len(args) == 1 && c.Domain != args[0] {
			continue
		}
		lo, hi := c.Severities()
		info := CheckInfo{ID: c.ID, Domain: c.Domain, Severity: c.Severity.String(), MinSeverity: lo.String(), MaxSeverity: hi.String(), Title: c.Title,
			Description: c.Description, Remediation: c.Remediation, Controls: []string{}, Needs: []string{}}
		for _, ctl := range c.Controls {
			info.Controls = append(info.Controls, string(ctl))
		}
		for _, k := range c.Needs {
			info.Needs = append(info.Needs, string(k))
		}
		infos = append(infos, info)
	}
	names := make([]string, len(infos))
	for i, c := range infos {
		names[i] = c.ID
	}
	if done, err := printList(o.Out, "checks", o.Output, output.List{Document: infos, Names: names}); done || err != nil {
		return err
	}
	headers := []string{"ID", "DOMAIN", "SEVERITY", "CONTROLS", "TITLE"}
	var rows [][]string
	for _, c := range infos {
		sev := c.Severity
		if c.MinSeverity != c.MaxSeverity {
			sev = c.MinSeverity + ".." + c.MaxSeverity
		}
		rows = append(rows, []string{c.ID, c.Domain, sev, strings.Join(c.Controls, ","), c.Title})
	}
	return output.Columns(o.Out, headers, rows)
}

// ControlInfo is one control as `kubectl harden checks --framework` prints it.
type ControlInfo struct {
	ID         string   `json:"id"`
	Section    string   `json:"section"`
	Title      string   `json:"title"`
	Assessment string   `json:"assessment"`
	Level      int      `json:"level,omitempty"`
	Checks     []string `json:"checks"`
	Unseen     string   `json:"unseen,omitempty"`
}

// printControlMatrix prints the framework's controls with the checks that evidence them.
func (o *AuditOptions) printControlMatrix(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("--framework lists controls, not the checks of a domain: drop %q", args[0])
	}
	if err := o.validateControls(); err != nil {
		return err
	}
	if err := validateListOutput("checks", o.Output); err != nil {
		return err
	}
	lib, err := controls.Load()
	if err != nil {
		return err
	}
	fw := o.Framework
	if fw == "" {
		fw = "cis"
	}
	_, cis, err := lib.ChooseBenchmark(o.Benchmark, "")
	if err != nil {
		return err
	}
	cat, err := lib.Framework(fw, cis)
	if err != nil {
		return err
	}
	infos := []ControlInfo{}
	for _, s := range cat.Sections {
		for _, c := range s.Controls {
			infos = append(infos, ControlInfo{ID: string(cat.Ref(c)), Section: s.ID, Title: c.Title, Assessment: c.Assessment, Level: c.Level,
				Checks: append([]string{}, c.Checks...), Unseen: c.Unseen})
		}
	}
	names := make([]string, len(infos))
	for i, c := range infos {
		names[i] = c.ID
	}
	if done, err := printList(o.Out, "checks", o.Output, output.List{Document: infos, Names: names}); done || err != nil {
		return err
	}
	if _, err := fmt.Fprintf(o.Out, "%s (%s)\n\n", cat.Title, cat.ID()); err != nil {
		return err
	}
	headers := []string{"CONTROL", "ASSESSMENT", "LEVEL", "EVIDENCE", "TITLE"}
	var rows [][]string
	for _, c := range infos {
		ev := strings.Join(c.Checks, ",")
		if ev == "" {
			ev = "-"
		}
		level := "-"
		if c.Level > 0 {
			level = fmt.Sprint(c.Level)
		}
		rows = append(rows, []string{c.ID, c.Assessment, level, ev, c.Title})
	}
	return output.Columns(o.Out, headers, rows)
}
