package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// scheduleDocs runs `kubectl harden schedule ARGS` and splits its output into documents.
func scheduleDocs(t *testing.T, args ...string) (string, map[string]string) {
	t.Helper()
	code, out, errOut := run(t, "", append([]string{"schedule", "--image", "registry.example.com/kubectl-harden:v1.2.3"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	docs := map[string]string{} // kind/name -> document
	for _, d := range strings.Split(out, "\n---\n") {
		var meta struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := yaml.Unmarshal([]byte(d), &meta); err != nil || meta.Kind == "" {
			t.Fatalf("not an object (%v):\n%s", err, d)
		}
		docs[meta.Kind+"/"+meta.Metadata.Name] = d
	}
	return out, docs
}

func TestScheduleManifests(t *testing.T) {
	_, docs := scheduleDocs(t, "-n", "security", "--schedule", "0 */6 * * *", "--policy-reports")
	var kinds []string
	for k := range docs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	want := []string{
		"ClusterRole/kubectl-harden-auditor", "ClusterRole/kubectl-harden-policyreport-writer",
		"ClusterRoleBinding/kubectl-harden-auditor-security-kubectl-harden", "ClusterRoleBinding/kubectl-harden-policyreport-writer-security-kubectl-harden",
		"CronJob/kubectl-harden", "Namespace/security", "NetworkPolicy/kubectl-harden", "ServiceAccount/kubectl-harden",
	}
	if !slices.Equal(kinds, want) {
		t.Fatalf("objects %v, want %v", kinds, want)
	}
	var cj batchv1.CronJob
	if err := yaml.UnmarshalStrict([]byte(docs["CronJob/kubectl-harden"]), &cj); err != nil {
		t.Fatal(err)
	}
	if cj.Namespace != "security" || cj.Spec.Schedule != "0 */6 * * *" {
		t.Errorf("CronJob %s/%s schedule %q", cj.Namespace, cj.Name, cj.Spec.Schedule)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	c := pod.Containers[0]
	if pod.ServiceAccountName != "kubectl-harden" || c.Image != "registry.example.com/kubectl-harden:v1.2.3" {
		t.Errorf("service account %q image %q", pod.ServiceAccountName, c.Image)
	}
	if got := strings.Join(c.Args, " "); got != "-o policyreport --write-policyreports" {
		t.Errorf("args %q", got)
	}
	sc := c.SecurityContext
	if !*pod.SecurityContext.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" ||
		c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("pod spec not hardened: %+v %+v %+v", pod.SecurityContext, sc, c.Resources)
	}

	// The job's arguments are a valid command line of this plugin.
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	if err := NewCmdRoot(streams).ParseFlags(c.Args); err != nil {
		t.Errorf("the job's args do not parse: %v", err)
	}

	// Without --policy-reports: JSON to the log, and no write access.
	_, plain := scheduleDocs(t)
	if _, ok := plain["ClusterRole/kubectl-harden-policyreport-writer"]; ok {
		t.Error("the writer role is printed without --policy-reports")
	}
	if !strings.Contains(plain["CronJob/kubectl-harden"], "- json\n") || !strings.Contains(plain["Namespace/kubectl-harden"], "name: kubectl-harden") {
		t.Errorf("default namespace or args wrong:\n%s", plain["CronJob/kubectl-harden"])
	}
}

// The manifests pass the plugin's own checks: an offline audit of them, as
// the whole cluster, finds nothing about them; without --apiserver-cidr only
// the netpol finding of egress to any address on the API server's ports.
func TestScheduleManifestsPassTheAudit(t *testing.T) {
	t.Run("with the API server's address", func(t *testing.T) {
		auditSchedule(t, nil, "--policy-reports", "--apiserver-cidr", "10.0.0.1/32")
	})
	t.Run("without", func(t *testing.T) {
		auditSchedule(t, map[string]bool{"netpol/policy-allows-all": true}, "--policy-reports")
	})
}

func auditSchedule(t *testing.T, allowed map[string]bool, args ...string) {
	out, docs := scheduleDocs(t, args...)
	file := filepath.Join(t.TempDir(), "schedule.yaml")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	code, js, errOut := run(t, "", "-f", file, "--complete", "--assume-absent", "secrets", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Items {
		if _, ours := docs[f.Resource.Kind+"/"+f.Resource.Name]; !ours && f.Resource.Namespace != DefaultScheduleNamespace {
			continue // cluster-wide facts (no CNI visible, no image signing), not about these objects
		}
		if allowed[f.Check] {
			continue
		}
		t.Errorf("finding on the schedule's own objects: %s %s %s/%s: %s", f.Check, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, f.Message)
	}
	for _, s := range r.Summary.Skipped {
		if d := strings.SplitN(s.Check, "/", 2)[0]; d == "psa" || d == "workload" || d == "rbac" {
			t.Errorf("%s was skipped on the manifests: %s", s.Check, s.Reason)
		}
	}
	if r.Summary.Checks < 30 {
		t.Errorf("only %d checks ran on the manifests", r.Summary.Checks)
	}
}

func TestScheduleFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"schedule"}, "pass --image"},
		{[]string{"schedule", "--image", "x:v1", "-n", "Bad_NS"}, "--namespace"},
		{[]string{"schedule", "--image", "x:v1", "--schedule", ""}, "--schedule"},
		{[]string{"-o", "json", "--write-policyreports"}, "add -o policyreport"},
		{[]string{"-f", demo, "-o", "policyreport", "--write-policyreports"}, "-f audits files"},
	} {
		code, _, errOut := run(t, "", tt.args...)
		if code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d %q, want an error naming %q", tt.args, code, errOut, tt.want)
		}
	}
	if got := defaultImage("v1.2.3"); got != ImageRepository+":v1.2.3" {
		t.Errorf("defaultImage(v1.2.3) = %q", got)
	}
	for _, v := range []string{"dev", "v1.2.4-snapshot", "v1.2.3-4-gabcdef12", "v1.2.3-dirty"} {
		if got := defaultImage(v); got != "" {
			t.Errorf("defaultImage(%s) = %q, want none", v, got)
		}
	}
}
