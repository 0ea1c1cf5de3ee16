package e2e

// Every example in every command's --help runs, as written, against the
// sample cluster through the real kubectl and a real shell (so quotes and
// pipes behave as they do for a user). The few lines that cannot run as
// written say why below.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-harden/kubectl-harden/pkg/cmd"
)

// exampleAdjustment is how a written example is run when it cannot run as is.
type exampleAdjustment struct {
	// match selects the example lines (a regexp on the line as written).
	match *regexp.Regexp
	// why is the stated reason, printed with the test's log.
	why string
	// rewrite turns the line into the command that runs; nil means the line
	// is only checked to parse (its flags exist) by running it with --help.
	rewrite func(line string) string
}

func exampleAdjustments() []exampleAdjustment {
	return []exampleAdjustment{
		{
			match: regexp.MustCompile(`^kubectl harden fix\b`),
			why: "fix writes to the sample cluster every e2e test reads; the example runs with " +
				"--dry-run=server, which shows the same plan and the server's verdict and changes nothing " +
				"(fix_test.go applies fixes to objects of its own)",
			rewrite: func(line string) string {
				if strings.Contains(line, "--dry-run") {
					return line
				}
				return line + " --dry-run=server"
			},
		},
		{
			match: regexp.MustCompile(`^kubectl harden rbac narrow\b`),
			why:   "the example's audit logs are the test API server's own audit log (env.AuditLog)",
			rewrite: func(line string) string {
				return regexp.MustCompile(`--audit-log \S+`).ReplaceAllString(line, "--audit-log "+env.AuditLog)
			},
		},
		{
			match: regexp.MustCompile(`^kubectl harden rbac narrow\b.*--fix`),
			why: "--fix narrows the sample cluster every e2e test reads; narrow_test.go runs the session on objects of its own, " +
				"so here only its flags are checked",
		},
		{
			match: regexp.MustCompile(`^kubectl harden schedule\b`),
			why: "the test build has no release version, hence no default image, so --image is added where missing; " +
				"the manifests are printed, not applied, since they would add a namespace to the sample cluster every e2e " +
				"test reads (schedule_test.go applies them and runs the job's command with its token)",
			rewrite: func(line string) string {
				line = strings.TrimSpace(strings.TrimSuffix(line, "| kubectl apply -f -"))
				if !strings.Contains(line, "--image") {
					line += " --image registry.example.com/kubectl-harden:v0.0.0"
				}
				return line
			},
		},
		{
			match: regexp.MustCompile(`^kubectl harden undo\b`),
			why: "undo restores objects from the journal of an earlier fix session, and the sample cluster has none " +
				"(even undo --dry-run needs one); fix_test.go and faults_test.go run undo and undo --dry-run after fixes of their own, " +
				"so here only its flags are checked",
		},
	}
}

// exampleLines returns the command lines of a cobra Example text: comments
// and blank lines dropped, backslash continuations joined.
func exampleLines(example string) []string {
	var out []string
	pending := ""
	for _, l := range strings.Split(example, "\n") {
		l = strings.TrimSpace(l)
		if pending == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if strings.HasSuffix(l, `\`) {
			pending += strings.TrimSuffix(l, `\`) + " "
			continue
		}
		out = append(out, pending+l)
		pending = ""
	}
	return out
}

// visibleCommands lists the command and its visible subcommands, depth first.
func visibleCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if !sub.Hidden && sub.IsAvailableCommand() {
			out = append(out, visibleCommands(sub)...)
		}
	}
	return out
}

func TestHelpExamplesRunAsWritten(t *testing.T) {
	root := cmd.NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	// Examples that audit manifests name a directory like ./deploy; the working
	// directory has it, holding the sample cluster's manifests.
	work := t.TempDir()
	home := t.TempDir()
	demo := testdata("demo")
	relativeFiles := regexp.MustCompile(`(?:-f|--filename)[ =](\./[^ ]+|[a-zA-Z][^ :]*)`)
	type example struct{ command, line string }
	var examples []example
	for _, c := range visibleCommands(root) {
		lines := exampleLines(c.Example)
		if len(lines) == 0 {
			t.Errorf("%s --help has no examples", displayName(c))
		}
		for _, l := range lines {
			examples = append(examples, example{displayName(c), l})
			for _, m := range relativeFiles.FindAllStringSubmatch(l, -1) {
				copyDir(t, demo, filepath.Join(work, m[1]))
			}
		}
	}
	createdAuditorRole := !exists(t, "kubectl-harden-auditor")

	for _, ex := range examples {
		t.Run(ex.command+": "+ex.line, func(t *testing.T) {
			if !strings.Contains(ex.line, "kubectl harden") {
				t.Errorf("example of %s does not run `kubectl harden`: %s", ex.command, ex.line)
			}
			run, checkOnly := ex.line, false
			for _, adj := range exampleAdjustments() {
				if !adj.match.MatchString(ex.line) {
					continue
				}
				if adj.rewrite == nil {
					run, checkOnly = ex.line+" --help", true
				} else {
					run = adj.rewrite(ex.line)
				}
				if run != ex.line {
					t.Logf("run as %q, not as written: %s", run, adj.why)
				}
			}
			stdout, stderr, code := shell(t, work, home, run)
			switch {
			case code == 2 && strings.Contains(run, "--fail-on") && !strings.Contains(stderr, "error:"):
				// --fail-on exits 2 when the sample cluster has findings at that level: as documented.
			case code != 0:
				t.Fatalf("%s\nexit %d\nstdout:\n%s\nstderr:\n%s", run, code, stdout, stderr)
			}
			if strings.TrimSpace(stdout) == "" {
				t.Errorf("%s printed nothing\nstderr:\n%s", run, stderr)
			}
			if checkOnly && !strings.Contains(stdout, "Usage:") {
				t.Errorf("%s did not print the usage:\n%s", run, stdout)
			}
		})
	}

	// `kubectl harden auditor-role | kubectl apply -f -` creates a read-only
	// ClusterRole; remove it again unless it was there before.
	if createdAuditorRole && exists(t, "kubectl-harden-auditor") {
		if err := env.Client.RbacV1().ClusterRoles().Delete(context.Background(), "kubectl-harden-auditor", metav1.DeleteOptions{}); err != nil {
			t.Errorf("remove the auditor ClusterRole the example created: %v", err)
		}
	}
}

func displayName(c *cobra.Command) string {
	return strings.Replace(c.CommandPath(), "kubectl-harden", "kubectl harden", 1)
}

func exists(t *testing.T, clusterRole string) bool {
	t.Helper()
	_, err := env.Client.RbacV1().ClusterRoles().Get(context.Background(), clusterRole, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// shell runs a command line with bash (pipefail, so a failing kubectl harden
// before a pipe fails the line) the way a user's shell would, with the real
// kubectl and the plugin on PATH and the admin kubeconfig.
func shell(t *testing.T, dir, home, line string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", line)
	c.Dir = dir
	c.Env = append(os.Environ(),
		"KUBECONFIG="+env.Kubeconfig,
		"HOME="+home,
		"NO_COLOR=1",
		"PATH="+strings.Join([]string{env.PluginDir, env.BinDir, os.Getenv("PATH")}, string(os.PathListSeparator)),
	)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run %s: %v", line, err)
	}
	return out.String(), errb.String(), 0
}

// copyDir copies the YAML files of src into dst, once.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if _, err := os.Stat(dst); err == nil {
		return
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
