package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/apply"
)

// UndoOptions are the flags of `kubectl harden undo`.
type UndoOptions struct {
	*AuditOptions

	Journal    string
	JournalDir string
	Last       int
	Force      bool

	dryRunFlag string
	dryRun     apply.DryRunMode
}

var undoLong = templates.LongDesc(`
	Restore the objects a fix session changed, newest change first, from the
	session's journal (by default the newest one under ~/.kube/harden).

	An object that changed since the fix is left alone, with a message saying
	how; --force restores it anyway and loses that change. Each restore is
	recorded in the journal, so running undo twice does not repeat it.

	A change whose outcome the journal does not know (the API server never
	answered it) is first compared with the live object: as it was before
	means it was never made and there is nothing to undo; as proposed means
	it was made, and it is undone; neither means someone changed it since, and
	it is left alone unless --force. --dry-run says all this and changes nothing.`)

var undoExample = templates.Examples(`
	# Undo the last fix session
	kubectl harden undo

	# Say what undo would do, changing nothing
	kubectl harden undo --dry-run

	# Undo only its last two changes
	kubectl harden undo --last 2

	# Undo an older session
	kubectl harden undo --journal ~/.kube/harden/journal-20250601-120000.jsonl`)

func newCmdUndo(o *AuditOptions) *cobra.Command {
	u := &UndoOptions{AuditOptions: o, JournalDir: apply.DefaultJournalDir()}
	cmd := &cobra.Command{
		Use:     "undo",
		Short:   "Undo the changes of a fix session from its journal",
		Long:    undoLong,
		Example: undoExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := u.Complete(); err != nil {
				return err
			}
			if err := u.Validate(); err != nil {
				return err
			}
			return u.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&u.Journal, "journal", "", "The journal of the session to undo (default: the newest in --journal-dir)")
	cmd.Flags().StringVar(&u.JournalDir, "journal-dir", u.JournalDir, "Directory of the fix journals")
	cmd.Flags().IntVar(&u.Last, "last", 0, "Undo only the N most recent changes (default: all)")
	o.addRefusedFlags(cmd, "filename", "contexts")
	cmd.Flags().BoolVar(&u.Force, "force", false, "Restore objects even where they changed since the fix, losing those changes")
	addDryRunFlag(cmd, &u.dryRunFlag, `Say what undo would do and change nothing: "client" (also a bare --dry-run) compares the journal with the live objects, "server" also has the API server dry-run each restore`)
	return cmd
}

// Complete parses --dry-run.
func (u *UndoOptions) Complete() error {
	mode, err := parseDryRun(u.dryRunFlag)
	if err != nil {
		return err
	}
	u.dryRun = mode
	return nil
}

// Validate checks the flags.
func (u *UndoOptions) Validate() error {
	if u.Last < 0 {
		return fmt.Errorf("--last must be 0 (all) or more, not %d", u.Last)
	}
	if len(u.Filenames) > 0 {
		return fmt.Errorf("kubectl harden undo restores a live cluster; -f does not apply")
	}
	return nil
}

// Run restores, prints one line per change and a summary; the exit status
// is 1 when a change could not be undone.
func (u *UndoOptions) Run(ctx context.Context) error {
	path := u.Journal
	if path == "" {
		var err error
		if path, err = apply.LatestJournal(u.JournalDir); err != nil {
			return err
		}
	}
	j, entries, err := apply.OpenJournal(path)
	if err != nil {
		return err
	}
	defer j.Close()
	todo := apply.Undoable(entries)
	if len(todo) == 0 {
		fmt.Fprintf(u.Out, "Nothing to undo in %s: every change it records is undone or failed.\n", path)
		if u.Journal == "" {
			fmt.Fprintf(u.Out, "To undo an older session, name its journal in %s with --journal.\n", u.JournalDir)
		}
		return nil
	}
	cfg, err := u.RESTConfig()
	if err != nil {
		return err
	}
	for _, e := range todo {
		if e.Server != "" && strings.TrimSuffix(e.Server, "/") != strings.TrimSuffix(cfg.Host, "/") {
			return fmt.Errorf("the journal %s was written for the API server %s (context %q), but the current one is %s: choose it with --context or --kubeconfig",
				path, e.Server, e.Context, cfg.Host)
		}
	}
	mapper, err := u.ConfigFlags.ToRESTMapper()
	if err != nil {
		return fmt.Errorf("read the API resources of %s: %w", cfg.Host, err)
	}
	client, err := apply.NewClient(cfg, mapper, u.ErrOut)
	if err != nil {
		return err
	}
	opts := apply.UndoOptions{Last: u.Last, Force: u.Force, DryRun: u.dryRun != apply.DryRunNone, ServerDryRun: u.dryRun == apply.DryRunServer}
	results := apply.Undo(ctx, client, j, entries, opts)
	failed := 0
	for _, r := range results {
		what := fmt.Sprintf("%s %s", r.Entry.Action, r.Entry.Target)
		if r.Entry.State != apply.Applied {
			what += " (outcome " + string(r.Entry.State) + "; live object: " + orUnread(r.Reconciled) + ")"
		}
		switch {
		case r.Err != nil && opts.DryRun:
			failed++
			fmt.Fprintf(u.Out, "would not undo: %s: %v\n", what, r.Err)
		case r.Err != nil:
			failed++
			fmt.Fprintf(u.Out, "not undone: %s: %v\n", what, r.Err)
		case opts.DryRun:
			fmt.Fprintf(u.Out, "would undo: %s: %s\n", what, r.Message)
		default:
			fmt.Fprintf(u.Out, "undone: %s: %s\n", what, r.Message)
		}
	}
	if opts.DryRun {
		fmt.Fprintf(u.Out, "Undo (dry run): %d of %d changes would be undone (journal %s). Nothing was changed (--dry-run=%s).\n", len(results)-failed, len(results), path, u.dryRun)
		return nil
	}
	fmt.Fprintf(u.Out, "Undo: %d of %d changes undone (journal %s).\n", len(results)-failed, len(results), path)
	if failed > 0 {
		return fmt.Errorf("%d changes were not undone (listed above)", failed)
	}
	return nil
}

func orUnread(s string) string {
	if s == "" {
		return "not read"
	}
	return s
}
