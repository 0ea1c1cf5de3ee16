package e2e

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestScheduleRunsWithItsServiceAccountToken applies what `kubectl harden
// schedule --policy-reports` prints with the real kubectl, takes a token of
// its ServiceAccount (`kubectl create token`), and runs the plugin as the
// CronJob's pod would, with that token only: through a kubeconfig holding
// nothing else, the JSON report skips only the checks that read Secrets (the
// auditor role leaves them out); with in-cluster config (the token and CA
// file at /var/run/secrets/kubernetes.io/serviceaccount, in a private mount
// namespace, and KUBERNETES_SERVICE_HOST/PORT) and the CronJob's own
// arguments, it writes the PolicyReports itself.
func TestScheduleRunsWithItsServiceAccountToken(t *testing.T) {
	const ns = "harden-schedule"
	crds := []string{"crd/policyreports.wgpolicyk8s.io", "crd/clusterpolicyreports.wgpolicyk8s.io"}
	t.Cleanup(func() {
		if res, err := env.Kubectl(nil, append([]string{"delete", "--wait=true", "--ignore-not-found"}, crds...)...); err != nil || res.Code != 0 {
			t.Errorf("delete the CRDs: %v %s", err, res.Stderr)
		}
	})
	apply(t, "policyreport", "crds.yaml")
	if res, err := env.Kubectl(nil, append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, crds...)...); err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRDs: %v %s", err, res.Stderr)
	}

	printed := mustHarden(t, "schedule", "-n", ns, "--policy-reports", "--image", "registry.example.com/kubectl-harden:v0.0.0").Stdout
	t.Cleanup(func() {
		_, _ = env.Kubectl(strings.NewReader(printed), "delete", "--wait=false", "--ignore-not-found", "-f", "-")
	})
	if res, err := env.Kubectl(strings.NewReader(printed), "apply", "-f", "-"); err != nil || res.Code != 0 {
		t.Fatalf("kubectl apply -f - of the schedule: %v exit %d\n%s\n%s", err, res.Code, res.Stderr, printed)
	}
	var cj batchv1.CronJob
	for _, doc := range strings.Split(printed, "\n---\n") {
		if strings.Contains(doc, "\nkind: CronJob\n") {
			if err := yaml.Unmarshal([]byte(doc), &cj); err != nil {
				t.Fatal(err)
			}
		}
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("no CronJob in the schedule:\n%s", printed)
	}
	args := pod.Containers[0].Args

	tok, err := env.Kubectl(nil, "create", "token", pod.ServiceAccountName, "-n", ns)
	if err != nil || tok.Code != 0 {
		t.Fatalf("kubectl create token: %v %s", err, tok.Stderr)
	}
	token := strings.TrimSpace(tok.Stdout)

	// A kubeconfig with the server, its CA and the token: nothing else.
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	kc.AuthInfos["job"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["job"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "job"}
	kc.CurrentContext = "job"
	kubeconfig := filepath.Join(t.TempDir(), "job.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	res := hardenAs(t, kubeconfig, nil, "-o", "json")
	if res.Code != 0 {
		t.Fatalf("the audit with the ServiceAccount's token: exit %d\n%s", res.Code, res.Stderr)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, s := range r.Summary.Skipped {
		skipped = append(skipped, s.Check)
		if !strings.Contains(s.Reason, "cannot list secrets") {
			t.Errorf("%s skipped with the ServiceAccount's token: %s", s.Check, s.Reason)
		}
	}
	slices.Sort(skipped)
	if want := secretCheckIDs(t); !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want only the checks that read Secrets %v\n%s", skipped, want, res.Stderr)
	}
	if len(r.Items) == 0 || r.Summary.Checks < 30 {
		t.Errorf("the audit saw too little: %d checks, %d findings", r.Summary.Checks, len(r.Items))
	}

	// In-cluster config, the CronJob's arguments: the plugin writes the reports.
	out := runInCluster(t, token, args)
	if !strings.Contains(out, "clusterpolicyreport.wgpolicyk8s.io/kubectl-harden serverside-applied") ||
		!strings.Contains(out, "policyreport.wgpolicyk8s.io/kubectl-harden (namespace "+ns+") serverside-applied") {
		t.Errorf("the job's output does not name the reports it wrote:\n%s", out)
	}
	got, err := env.Kubectl(nil, "get", "policyreports", "-A", "-l", "app.kubernetes.io/managed-by=kubectl-harden", "-o", "name")
	if err != nil || got.Code != 0 {
		t.Fatalf("kubectl get policyreports: %v %s", err, got.Stderr)
	}
	// Namespaces other tests left Terminating take no report ("not written"); the rest are on the server.
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "policyreport.wgpolicyk8s.io/kubectl-harden (namespace") && strings.HasSuffix(l, "serverside-applied") {
			n++
		}
	}
	if n == 0 || strings.Count(got.Stdout, "\n") != n {
		t.Errorf("the job wrote %d PolicyReports, the server has %d:\n%s", n, strings.Count(got.Stdout, "\n"), got.Stdout)
	}
	cpr, err := env.Kubectl(nil, "get", "clusterpolicyreport", "kubectl-harden", "-o", "jsonpath={.summary.pass}")
	if err != nil || cpr.Code != 0 || cpr.Stdout == "" || cpr.Stdout == "0" {
		t.Errorf("the ClusterPolicyReport: %v %s pass=%q", err, cpr.Stderr, cpr.Stdout)
	}
	// The reports are the plugin's: a second run replaces them without conflict.
	if again := runInCluster(t, token, args); strings.Count(again, "serverside-applied") != strings.Count(out, "serverside-applied") {
		t.Errorf("the second run wrote other objects:\n%s\nthen\n%s", out, again)
	}
}

// runInCluster runs the plugin binary as a pod would: no kubeconfig, the
// token and CA at the ServiceAccount path (a tmpfs over /run in a private
// mount namespace, so the machine's own /run is untouched), and the
// KUBERNETES_SERVICE_HOST/PORT of the test API server. Where a mount
// namespace cannot be made, it says so and uses a kubeconfig with the token.
func runInCluster(t *testing.T, token string, args []string) string {
	t.Helper()
	u, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	src, home := t.TempDir(), t.TempDir()
	for name, content := range map[string][]byte{"token": []byte(token), "ca.crt": env.Config.CAData, "namespace": []byte("harden-schedule")} {
		if err := os.WriteFile(filepath.Join(src, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plugin := filepath.Join(env.PluginDir, "kubectl-harden")
	script := `set -e; mount -t tmpfs tmpfs /run; d=/var/run/secrets/kubernetes.io/serviceaccount; mkdir -p "$d"; cp "$SRC"/* "$d"/; exec "$@"`
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh", plugin}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "NO_COLOR=1", "SRC=" + src,
		"KUBERNETES_SERVICE_HOST=" + u.Hostname(), "KUBERNETES_SERVICE_PORT=" + u.Port()}
	if probe := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /run"); probe.Run() != nil {
		t.Logf("no private mount namespace here (unshare --mount failed): the in-cluster run uses a kubeconfig with the ServiceAccount's token instead")
		kc := clientcmdapi.NewConfig()
		kc.Clusters["c"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
		kc.AuthInfos["c"] = &clientcmdapi.AuthInfo{Token: token}
		kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "c"}
		kc.CurrentContext = "c"
		path := filepath.Join(home, "config")
		if err := clientcmd.WriteToFile(*kc, path); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(plugin, args...)
		cmd.Env = []string{"HOME=" + home, "NO_COLOR=1", "KUBECONFIG=" + path}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl-harden %s in the job's place: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
