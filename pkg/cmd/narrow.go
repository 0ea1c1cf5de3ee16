package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/apply"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// NarrowOptions are the flags of `kubectl harden rbac narrow`.
type NarrowOptions struct {
	*AuditOptions

	AuditLogs    []string
	Since, Until string
	Users        bool
	Groups       bool
	AllowEmpty   bool
	Fix          bool
	Yes          bool
	JournalDir   string
	subjects     []finding.Subject
	since, until time.Time
}

// NarrowList is what -o json|yaml prints.
type NarrowList struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Window     struct {
		Since string `json:"since,omitempty"`
		Until string `json:"until,omitempty"`
		First string `json:"first,omitempty"`
		Last  string `json:"last,omitempty"`
	} `json:"window"`
	Files    []string              `json:"files"`
	Events   int                   `json:"events"`
	Requests int                   `json:"requests"`
	Skipped  []inventory.AuditLine `json:"skipped,omitempty"`
	Warnings []string              `json:"warnings,omitempty"`
	Items    []NarrowItem          `json:"items"`
}

// NarrowItem is one subject's narrowing with its generated objects.
type NarrowItem struct {
	rbac.Narrowing `json:",inline"`
	Generated      []runtime.Object `json:"generated,omitempty"`
}

var narrowExample = templates.Examples(`
	# Every ServiceAccount with a binding of its own, against the requests of an audit log
	kubectl harden rbac narrow --audit-log audit.log

	# One ServiceAccount, several logs (gzip too), a window
	kubectl harden rbac narrow ci/deployer --audit-log audit.log --audit-log audit-1.log.gz --since 2026-01-01T00:00:00Z

	# The narrowed roles and bindings as manifests for kubectl apply (the removals as kubectl delete comments)
	kubectl harden rbac narrow ci/deployer --audit-log audit.log -o patch

	# Review and apply the narrowing one change at a time (diff, dry-run, journal, undo)
	kubectl harden rbac narrow ci/deployer --audit-log audit.log --fix`)

func newCmdNarrow(o *AuditOptions) *cobra.Command {
	n := &NarrowOptions{AuditOptions: o, JournalDir: apply.DefaultJournalDir()}
	cmd := &cobra.Command{
		Use:   "narrow [SUBJECT...] --audit-log FILE...",
		Short: "Propose least-privilege roles from what subjects used in API server audit logs",
		Long: templates.LongDesc(`
			Read API server audit logs (audit.k8s.io/v1 Event JSON lines, plain or gzip,
			- for stdin) and, for each subject, compare the requests it made with what its
			bindings grant: the requests allowed (with the bindings that allowed them),
			those asked but denied, and the grants never used in the window, most dangerous
			first. For each subject it generates roles that allow exactly what its own
			bindings allowed it: a Role and RoleBinding per namespace it used, a ClusterRole
			and ClusterRoleBinding only for cluster-scoped resources, non-resource URLs and
			requests across all namespaces; resourceNames where every use named at most a
			few objects; no wildcards. The remedy creates them, then takes the subject out of
			its broad bindings (roleRef cannot change); --fix reviews it like 'kubectl harden
			fix', and -o patch prints it.

			SUBJECT is NAMESPACE/NAME or system:serviceaccount:NAMESPACE:NAME for a
			ServiceAccount, user:NAME or group:NAME. Without one, every ServiceAccount that a
			binding names outside the built-in policy (and with --users or --groups, those too).

			The window must cover the subject's whole cycle (a nightly job needs a night):
			what it did not do in the window is proposed for removal. A subject with no
			request in the window is reported and not narrowed unless --allow-empty.`),
		Example: narrowExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := n.Complete(args); err != nil {
				return err
			}
			if err := n.Validate(); err != nil {
				return err
			}
			return n.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&n.AuditLogs, "audit-log", nil, "API server audit log (JSON lines, plain or gzip; - for stdin). Repeatable")
	fs.StringVar(&n.Since, "since", "", "Only requests at or after this time (RFC 3339, or a duration such as 24h before now)")
	fs.StringVar(&n.Until, "until", "", "Only requests at or before this time (RFC 3339)")
	fs.BoolVar(&n.Users, "users", false, "Also narrow users that bindings name (not only ServiceAccounts)")
	fs.BoolVar(&n.Groups, "groups", false, "Also narrow groups that bindings name")
	fs.BoolVar(&n.AllowEmpty, "allow-empty", false, "Remove the grants of a subject that made no request in the window")
	fs.BoolVar(&n.Fix, "fix", false, "Review and apply the narrowing one change at a time, as 'kubectl harden fix' does")
	fs.BoolVar(&n.Yes, "yes", false, "With --fix, apply every change the server's dry-run accepts without asking")
	fs.StringVar(&n.JournalDir, "journal-dir", n.JournalDir, "With --fix, the directory of the fix journals")
	o.addOutputFlag(cmd, append(output.ListFormats(), "patch"))
	o.addInputFlags(cmd)
	o.addRefusedFlags(cmd, "contexts")
	return cmd
}

// Complete parses the subjects and the window.
func (n *NarrowOptions) Complete(args []string) error {
	for _, a := range args {
		s, err := parseSubject(a)
		if err != nil {
			return err
		}
		n.subjects = append(n.subjects, s)
	}
	var err error
	if n.since, err = parseTime(n.Since, n.Now()); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if n.until, err = parseTime(n.Until, n.Now()); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	return nil
}

func parseSubject(a string) (finding.Subject, error) {
	switch {
	case strings.HasPrefix(a, "user:"):
		return finding.Subject{Kind: rbacv1.UserKind, Name: strings.TrimPrefix(a, "user:")}, nil
	case strings.HasPrefix(a, "group:"):
		return finding.Subject{Kind: rbacv1.GroupKind, Name: strings.TrimPrefix(a, "group:")}, nil
	case strings.HasPrefix(a, "system:serviceaccount:"):
		parts := strings.Split(strings.TrimPrefix(a, "system:serviceaccount:"), ":")
		if len(parts) == 2 && parts[0] != "" && parts[1] != "" {
			return finding.Subject{Kind: "ServiceAccount", Namespace: parts[0], Name: parts[1]}, nil
		}
	default:
		if ns, name, ok := strings.Cut(a, "/"); ok && ns != "" && name != "" && !strings.Contains(name, "/") {
			return finding.Subject{Kind: "ServiceAccount", Namespace: ns, Name: name}, nil
		}
	}
	return finding.Subject{}, fmt.Errorf("subject %q: give NAMESPACE/NAME or system:serviceaccount:NAMESPACE:NAME for a ServiceAccount, user:NAME or group:NAME", a)
}

func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Parse(time.RFC3339, s)
}

// Validate refuses what narrow cannot do.
func (n *NarrowOptions) Validate() error {
	if len(n.AuditLogs) == 0 {
		return errors.New("rbac narrow needs --audit-log FILE: the API server's audit log says what each subject used")
	}
	if !n.since.IsZero() && !n.until.IsZero() && n.until.Before(n.since) {
		return errors.New("--until is before --since")
	}
	if n.Fix && len(n.Filenames) > 0 {
		return errors.New("--fix changes a live cluster; with -f, print the changes with -o patch")
	}
	if n.Fix && n.Output != "" && n.Output != "table" {
		return fmt.Errorf("--fix prints an interactive session, not -o %s", n.Output)
	}
	if n.Output == "patch" {
		return nil
	}
	return validateListOutput("rbac narrow", n.Output)
}

// Run reads the logs and the RBAC objects, and prints or applies the narrowing.
func (n *NarrowOptions) Run(ctx context.Context) error {
	var stdin = n.In
	if slices.Contains(n.Filenames, "-") {
		stdin = nil // -f - reads stdin; an audit log - then has none
	}
	log, err := inventory.ReadAuditLogs(n.AuditLogs, stdin, n.since, n.until)
	if err != nil {
		return err
	}
	for _, s := range log.Skipped {
		fmt.Fprintf(n.ErrOut, "Warning: %s: skipped\n", s)
	}
	warnings := auditLogWarnings(log)
	for _, w := range warnings {
		fmt.Fprintln(n.ErrOut, "Warning: "+w)
	}
	kinds := append(append([]inventory.Kind(nil), rbacKinds...), inventory.ServiceAccounts)
	inv, err := n.LoadInventory(ctx, kinds)
	if err != nil {
		return err
	}
	if err := requireKinds(inv, rbacKinds, "narrow needs to read every role and binding"); err != nil {
		return err
	}
	ns := rbac.Narrow(inv, log, rbac.NarrowOptions{Subjects: n.subjects, Users: n.Users, Groups: n.Groups,
		Namespace: n.AuditOptions.Namespace(), AllowEmpty: n.AllowEmpty})
	reg, err := n.Registry()
	if err != nil {
		return err
	}
	// The controls come from the catalogues, through the registry, like every check's.
	c, _ := reg.Get(rbac.CheckNarrow)
	var findings []finding.Finding
	for _, x := range ns {
		if x.Finding != nil {
			x.Finding.Controls = c.Controls
			findings = append(findings, *x.Finding)
		}
	}
	finding.Sort(findings)
	if n.Fix {
		return n.fix(ctx, findings)
	}
	if n.Output == "patch" {
		return output.Patch{}.Print(&finding.Report{Items: findings}, n.Out)
	}
	list := NarrowList{APIVersion: finding.ReportAPIVersion, Kind: "Narrowing", Files: log.Files, Events: log.Events,
		Requests: log.InWindow, Skipped: log.Skipped, Warnings: warnings, Items: []NarrowItem{}}
	list.Window.Since, list.Window.Until = stamp(log.Since), stamp(log.Until)
	list.Window.First, list.Window.Last = stamp(log.First), stamp(log.Last)
	names := make([]string, 0, len(ns))
	for _, x := range ns {
		item := NarrowItem{Narrowing: x}
		for i := range x.Roles {
			item.Generated = append(item.Generated, x.Roles[i], x.Bindings[i])
		}
		list.Items = append(list.Items, item)
		names = append(names, subjectName(x.Subject))
	}
	if done, err := printList(n.Out, "rbac narrow", n.Output, output.List{Document: list, Names: names}); done || err != nil {
		return err
	}
	return n.printTable(log, ns)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// auditLogWarnings say what the log cannot show.
func auditLogWarnings(log *inventory.AuditLog) []string {
	var out []string
	if log.Incomplete > 0 {
		out = append(out, fmt.Sprintf("%d requests were logged only when received: the audit policy omits their later stages (omitStages), so whether they were allowed is unknown and they are not counted", log.Incomplete))
	}
	if log.Undecided > 0 {
		out = append(out, fmt.Sprintf("%d requests carry no authorization decision annotation: their outcome is read from the response code", log.Undecided))
	}
	if log.InWindow == 0 {
		out = append(out, "no request in the window: nothing was seen, so nothing is proposed")
	}
	out = append(out, "requests of resources the audit policy logs at level None are not in the log: narrowing would remove them; check the policy covers every resource the subjects use")
	return out
}

func (n *NarrowOptions) printTable(log *inventory.AuditLog, ns []rbac.Narrowing) error {
	w := n.Out
	fmt.Fprintf(w, "WINDOW %s .. %s: %d requests from %d events in %s\n", orDash(stamp(log.First)), orDash(stamp(log.Last)),
		log.InWindow, log.Events, strings.Join(log.Files, ", "))
	for _, x := range ns {
		fmt.Fprintf(w, "\n%s\n", x.Subject)
		if x.Note != "" {
			fmt.Fprintf(w, "  %s\n", x.Note)
		}
		rows := [][]string{}
		for _, u := range x.Covered {
			rows = append(rows, []string{"used", u.Request.String(), fmt.Sprint(u.Count), strings.Join(u.By, ", ")})
		}
		for _, u := range x.Kept {
			rows = append(rows, []string{"kept", u.Request.String(), fmt.Sprint(u.Count), strings.Join(u.By, ", ")})
		}
		for _, u := range x.Denied {
			rows = append(rows, []string{"denied", u.Request.String(), fmt.Sprint(u.Count), "asked but not granted"})
		}
		if len(rows) > 0 {
			if err := output.Columns(w, []string{"  REQUEST", "", "COUNT", "ALLOWED BY"}, prefix(rows)); err != nil {
				return err
			}
		}
		if len(x.Unused) > 0 {
			urows := [][]string{}
			for _, u := range x.Unused {
				what := u.Resource
				if u.Group != "" {
					what += "." + u.Group
				}
				if u.Path != "" {
					what = u.Path
				}
				if len(u.ResourceNames) > 0 {
					what += " [" + strings.Join(u.ResourceNames, ", ") + "]"
				}
				urows = append(urows, []string{strings.ToUpper(u.Severity.String()), strings.Join(u.Verbs, ", ") + " " + what,
					u.Binding + " -> " + u.Role + " " + u.Rule, strings.Join(u.Dangerous, ", ")})
			}
			fmt.Fprintln(w, "  never used in the window, most dangerous first:")
			if err := output.Columns(w, []string{"  SEVERITY", "GRANT", "FROM", "CHECKS"}, prefix(urows)); err != nil {
				return err
			}
		}
		for _, r := range x.Roles {
			fmt.Fprintf(w, "  proposed: %s %s\n", r.GetObjectKind().GroupVersionKind().Kind, objectName(r))
		}
		if len(x.Replaces) > 0 {
			fmt.Fprintf(w, "  then remove it from: %s\n", strings.Join(x.Replaces, ", "))
		}
	}
	return nil
}

func prefix(rows [][]string) [][]string {
	for i := range rows {
		rows[i][0] = "  " + rows[i][0]
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func objectName(o runtime.Object) string {
	switch v := o.(type) {
	case *rbacv1.Role:
		return v.Namespace + "/" + v.Name
	case *rbacv1.ClusterRole:
		return v.Name
	}
	return ""
}

// fix walks the narrowing's changes in a fix session.
func (n *NarrowOptions) fix(ctx context.Context, findings []finding.Finding) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	items := apply.Items(findings, func(string) string {
		return "Each grant the subject did not use in the audit window is a permission an attacker who takes it over gets for free."
	})
	cfg, err := n.RESTConfig()
	if err != nil {
		return err
	}
	mapper, err := n.ConfigFlags.ToRESTMapper()
	if err != nil {
		return fmt.Errorf("read the API resources of %s: %w", cfg.Host, err)
	}
	client, err := apply.NewClient(cfg, mapper, n.ErrOut)
	if err != nil {
		return err
	}
	s := &apply.Session{Client: client, In: n.In, Out: n.Out, Color: n.UseColor(), Yes: n.Yes, DryRun: apply.DryRunNone,
		Edit: editChange, Timeout: cfg.Timeout}
	if len(items) > 0 {
		s.Journal = apply.NewJournal(n.JournalDir, n.metadata().Context, cfg.Host)
		if err := s.Journal.EnsureDir(); err != nil {
			return err
		}
		defer s.Journal.Close()
	}
	sum := s.Run(ctx, items)
	return fixResult(sum, len(items), apply.DryRunNone)
}
