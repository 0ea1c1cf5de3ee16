package cmd

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	streams, in, out, errOut := genericiooptions.NewTestIOStreams()
	in.WriteString(stdin)
	code := Execute(streams, args)
	return code, out.String(), errOut.String()
}

const demo = "../../test/testdata/demo"

func TestOfflineAuditJSON(t *testing.T) {
	code, out, errOut := run(t, "", "-f", demo, "-o", "json", "--check", "workload/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Items) == 0 || r.Metadata.Files[0] != demo {
		t.Fatalf("report %+v", r.Metadata)
	}
	for _, f := range r.Items {
		if !strings.HasPrefix(f.Check, "workload/") || f.Source == nil {
			t.Errorf("finding %s outside --check or without source", f.Check)
		}
	}
}

func TestColorFlag(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	_, out, _ := run(t, "", "-f", demo, "--check", "workload/", "--color", "always")
	if !strings.Contains(out, "\x1b[") {
		t.Error("--color always printed no colour")
	}
	_, out, _ = run(t, "", "-f", demo, "--check", "workload/")
	if strings.Contains(out, "\x1b[") {
		t.Error("--color auto coloured a non-terminal")
	}
	code, _, errOut := run(t, "", "-f", demo, "--color", "sometimes")
	if code != 1 || !strings.Contains(errOut, "--color") {
		t.Errorf("bad --color: exit %d %q", code, errOut)
	}
}

func TestFailOnAndSeverity(t *testing.T) {
	if code, _, _ := run(t, "", "-f", demo, "--check", "workload/", "--fail-on", "low", "-o", "name"); code != 2 {
		t.Errorf("--fail-on low: exit %d", code)
	}
	code, out, _ := run(t, "", "-f", demo, "--check", "workload/", "--fail-on", "critical", "--severity", "medium", "-o", "name")
	if code != 0 || out != "" {
		t.Errorf("--fail-on critical --severity medium: exit %d out %q", code, out)
	}
}

func TestStdinAndErrors(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers: [{name: c, image: nginx}]\n"
	code, out, _ := run(t, pod, "-f", "-", "--check", "workload/image-not-pinned", "-o", "name")
	if code != 0 || out != "workload/image-not-pinned:pod/default/p\n" {
		t.Errorf("stdin: exit %d out %q", code, out)
	}
	code, out, errOut := run(t, "kind: [", "-f", "-")
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: <stdin>: document 1 (line 1)") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("malformed stdin: exit %d out %q err %q", code, out, errOut)
	}
	code, _, errOut = run(t, "", "-f", demo, "--server-version", "banana")
	if code != 1 || !strings.Contains(errOut, "--server-version") {
		t.Errorf("bad --server-version: exit %d %q", code, errOut)
	}
	code, _, errOut = run(t, "", "--server-version", "v1.30")
	if code != 1 || !strings.Contains(errOut, "-f input only") {
		t.Errorf("--server-version without -f: exit %d %q", code, errOut)
	}
}

func TestChecksCommand(t *testing.T) {
	code, out, _ := run(t, "", "checks", "workload", "-o", "json")
	var infos []CheckInfo
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	inDomain := 0
	for _, c := range reg.All() {
		if c.Domain == "workload" {
			inDomain++
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &infos) != nil || len(infos) != inDomain || infos[0].Domain != "workload" {
		t.Fatalf("checks workload -o json: exit %d %q", code, out)
	}
	if code, _, errOut := run(t, "", "checks", "nosuch"); code != 1 || !strings.Contains(errOut, "unknown domain") {
		t.Errorf("checks nosuch: %d %q", code, errOut)
	}
}

func TestAuditorRoleCoversNeeds(t *testing.T) {
	code, out, _ := run(t, "", "auditor-role", "workload")
	if code != 0 || !strings.Contains(out, "kind: ClusterRole") || !strings.Contains(out, "- deployments") || strings.Contains(out, "create") {
		t.Errorf("auditor-role workload: exit %d\n%s", code, out)
	}
}

func TestHelpSaysKubectlHarden(t *testing.T) {
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &out}
	if Execute(streams, []string{"--help"}) != 0 || !strings.Contains(out.String(), "kubectl harden [command]") {
		t.Errorf("help: %s", out.String())
	}
	for _, hidden := range []string{"--log_dir", "--alsologtostderr", "--vmodule"} {
		if strings.Contains(out.String(), hidden) {
			t.Errorf("klog flag %s is shown", hidden)
		}
	}
}

// Each command takes only the flags that mean something to it.
func TestFlagsOnlyWhereTheyMeanSomething(t *testing.T) {
	for _, args := range [][]string{
		{"version", "-o", "json"},
		{"version", "--fail-on", "critical"},
		{"rbac", "who-can", "get", "pods", "--severity", "bogus"},
		{"checks", "--fail-on", "high"},
		{"auditor-role", "--fail-on", "high"},
		{"netpol", "can-reach", "a/b", "c/d", "--check", "rbac/"},
		{"rbac", "--kubelet"},
		{"fix", "--kubelet"},
	} {
		code, _, errOut := run(t, "", args...)
		if code != 1 || !strings.Contains(errOut, "unknown") {
			t.Errorf("%v: exit %d %q, want an unknown-flag error", args, code, errOut)
		}
	}
	for cmd, want := range map[string][]string{
		"":        {"--fail-on", "--allow-skipped", "--complete", "--severity", "--context", "--kubelet"},
		"cluster": {"--kubelet", "nodes/proxy"},
		"rbac":    {"--fail-on", "--check"},
		"fix":     {"--check", "--yes", "--context"},
		"checks":  {"--output"},
		"version": {"--context"},
	} {
		_, out, _ := run(t, "", strings.Fields(cmd+" --help")...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("kubectl harden %s --help lacks %s", cmd, w)
			}
		}
		if cmd == "fix" || cmd == "checks" || cmd == "version" {
			for _, not := range []string{"--fail-on string", "--filename strings", "--contexts strings"} {
				if strings.Contains(out, not) {
					t.Errorf("kubectl harden %s --help shows %s", cmd, not)
				}
			}
		}
	}
}

// --kubelet reads the nodes' kubelets through the API server: manifests have none.
func TestKubeletRefusesFiles(t *testing.T) {
	for _, args := range [][]string{{"--kubelet", "-f", demo}, {"cluster", "--kubelet", "-f", demo}} {
		code, _, errOut := run(t, "", args...)
		if code != 1 || !strings.Contains(errOut, "--kubelet reads each node's kubelet through the API server and cannot be used with -f") {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
	// Without it, offline, the kubelet check is unknown and says how to read the kubelets.
	code, out, errOut := run(t, "", "cluster", "-f", demo, "--complete", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range r.Summary.Unknown {
		found = found || (u.Check == "cluster/kubelet-config" && strings.HasPrefix(u.Reason, "not read without --kubelet"))
	}
	if !found {
		t.Errorf("cluster/kubelet-config is not unknown offline: %+v", r.Summary.Unknown)
	}
}
