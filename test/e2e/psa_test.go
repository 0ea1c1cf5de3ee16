package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	applypkg "github.com/kubectl-harden/kubectl-harden/pkg/apply"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory/live"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// The PodSecurity admission in the real API server is the oracle for the PSA
// claims: a server-side dry-run of a namespace's enforce label makes it name
// the existing pods that would violate the level, and a dry-run create of a
// pod from a workload's template says whether enforce admits the template's
// next pods. Namespaces are psa-*: test/testdata/psa/live holds pods created
// directly (they stay Pending, there is no scheduler), test/testdata/psa/workloads
// Deployments and a CronJob, audited both live and offline from the files.

var psaLiveNamespaces = []string{"psa-open", "psa-clean", "psa-baseline"}

// psaAnalysis is the coverage of a psa report.
func psaAnalysis(t *testing.T, r *finding.Report) *psa.Coverage {
	t.Helper()
	c, ok, err := finding.CoverageOf[*psa.Coverage](r)
	if err != nil || !ok {
		t.Fatalf("report has no psa coverage: %v", err)
	}
	return c
}

func psaNamespace(t *testing.T, a *psa.Coverage, name string) psa.NamespaceSummary {
	t.Helper()
	for _, n := range a.Namespaces {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no psa summary for namespace %s", name)
	return psa.NamespaceSummary{}
}

// serverWarnings dry-runs the labels until the server's answer equals want,
// or gives up after a while and returns the last answer: PodSecurity lists
// pods from an informer, which may not yet hold pods created a moment ago.
func serverWarnings(t *testing.T, ns string, labels map[string]string, want []string) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := applypkg.DryRunNamespaceLabels(context.Background(), env.Config, ns, labels)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(got, want) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestPSAPredictionsMatchServerDryRun compares, for each psa-* namespace and
// each enforce label, the warnings the plugin predicts with those the API
// server returns for a server-side dry-run of the label: the same pods, the
// same reasons, in the server's own words.
func TestPSAPredictionsMatchServerDryRun(t *testing.T) {
	apply(t, "psa", "live")
	inv, err := live.FromCluster(context.Background(), env.Config, live.LiveOptions{Kinds: psa.Needs()})
	if err != nil {
		t.Fatal(err)
	}
	a := psa.Analyze(inv)
	labelSets := []map[string]string{
		{psa.EnforceLabel: "restricted", psa.EnforceVersionLabel: "v1.37"},
		{psa.EnforceLabel: "restricted", psa.EnforceVersionLabel: "latest"},
		{psa.EnforceLabel: "baseline", psa.EnforceVersionLabel: "v1.37"},
		{psa.EnforceLabel: "baseline"},
		{psa.EnforceLabel: "restricted", psa.EnforceVersionLabel: "v1.22"},
		{psa.EnforceLabel: "privileged"},
	}
	nonEmpty := 0
	for _, ns := range psaLiveNamespaces {
		for _, labels := range labelSets {
			predicted := a.PredictLabelChange(ns, labels)
			server := serverWarnings(t, ns, labels, predicted)
			if !slices.Equal(predicted, server) {
				t.Errorf("namespace %s, labels %v:\npredicted %q\nserver    %q", ns, labels, predicted, server)
			}
			if len(server) > 0 {
				nonEmpty++
			}
		}
	}
	// The comparison must have something to compare.
	if nonEmpty < 5 {
		t.Errorf("only %d dry-runs returned warnings", nonEmpty)
	}
	// At restricted, NET_ADMIN is "unrestricted capabilities" like a missing drop: the
	// server groups net-admin with plain-a and plain-b. node-shell's port became a
	// hostPort when the server defaulted the hostNetwork pod.
	want := []string{
		`existing pods in namespace "psa-open" violate the new PodSecurity enforce level "restricted:v1.37"`,
		"net-admin (and 2 other pods): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
		"node-shell: host namespaces, hostPort, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, restricted volume types, runAsNonRoot != true, seccompProfile",
		"root-user: runAsUser=0",
	}
	if got := a.PredictLabelChange("psa-open", labelSets[0]); !slices.Equal(got, want) {
		t.Errorf("psa-open at restricted:v1.37:\n got %q\nwant %q", got, want)
	}
	// Host-network pods get hostPort = containerPort from the server; the plugin judges them so.
	if got := a.PredictLabelChange("psa-open", labelSets[2]); len(got) != 3 || !strings.Contains(got[2], "hostPort") {
		t.Errorf("psa-open at baseline:v1.37: %q, want net-admin and node-shell with hostPort", got)
	}
}

// TestPSAServerDryRunThroughKubectl runs `kubectl harden psa --server-dry-run`
// through the real kubectl and checks every dry-run agreed with its prediction.
func TestPSAServerDryRunThroughKubectl(t *testing.T) {
	apply(t, "psa", "live")
	for _, ns := range psaLiveNamespaces {
		var r *finding.Report
		var stderr string
		var n psa.NamespaceSummary
		// The server's pod informer may lag the pods just created: try again while they differ.
		for i := 0; i < 60; i++ {
			r, stderr = report(t, env.Kubeconfig, "psa", "--server-dry-run", "-n", ns)
			n = psaNamespace(t, psaAnalysis(t, r), ns)
			if !strings.Contains(stderr, "differ") {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if n.Proposal == nil || len(n.DryRun) == 0 {
			t.Fatalf("%s: no proposal dry-run: %+v", ns, n)
		}
		for _, d := range n.DryRun {
			if !d.Agree || d.Error != "" {
				t.Errorf("%s: dry-run of %v: predicted %q, server %q, error %q", ns, d.Labels, d.Predicted, d.Server, d.Error)
			}
			// The proposed enforce level is one every pod passes: the server names none.
			if d.Labels[psa.EnforceLabel] == string(n.Proposal.Enforce) && len(d.Server) != 0 {
				t.Errorf("%s: proposed enforce=%s, yet the server warns %q", ns, n.Proposal.Enforce, d.Server)
			}
		}
		if strings.Contains(stderr, "differ") {
			t.Errorf("%s: stderr reports a disagreement: %s", ns, stderr)
		}
	}
	// psa-open: its strictest level is privileged (node-shell); enforce=restricted would warn.
	r, _ := report(t, env.Kubeconfig, "psa", "--server-dry-run", "-n", "psa-open")
	n := psaNamespace(t, psaAnalysis(t, r), "psa-open")
	if n.Strictest != "privileged" || len(n.DryRun) != 2 || len(n.DryRun[1].Server) != 4 {
		t.Errorf("psa-open: strictest %s, dry-runs %+v; want privileged, and a header and 3 pod groups for restricted", n.Strictest, n.DryRun)
	}
	// The table shows the server's answer.
	res := mustHarden(t, "psa", "--server-dry-run", "-n", "psa-clean")
	if !strings.Contains(res.Stdout, "SERVER DRY-RUN") || !strings.Contains(res.Stdout, "restricted: no warnings") {
		t.Errorf("table lacks the dry-run column:\n%s", res.Stdout)
	}
	// Without a cluster there is no server to ask.
	if res := harden(t, "psa", "--server-dry-run", "-f", testdata("psa", "workloads")); res.Code != 1 || !strings.Contains(res.Stderr, "--server-dry-run") {
		t.Errorf("--server-dry-run with -f: exit %d, stderr %q", res.Code, res.Stderr)
	}
}

// psaOnNamespace keeps a report's psa findings on a namespace, by check and
// resource, with what must not differ between a live and an offline run.
func psaOnNamespace(t *testing.T, r *finding.Report, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range r.Items {
		if !strings.HasPrefix(f.Check, "psa/") || (f.Resource.Namespace != ns && f.Resource.Name != ns) {
			continue
		}
		f.Source = nil
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f.Check+" "+f.Resource.String()] = string(b)
	}
	return out
}

// TestPSALiveAndOfflineAgree audits the Deployments of test/testdata/psa/workloads
// once applied to the cluster, and offline from the directory at the server's
// version: the findings, their remedies and the namespace summary must be the same.
func TestPSALiveAndOfflineAgree(t *testing.T) {
	apply(t, "psa", "workloads")
	live, _ := report(t, env.Kubeconfig, "psa", "-n", "psa-deploy")
	offline, _ := report(t, env.Kubeconfig, "psa", "-f", testdata("psa", "workloads"), "--server-version", "v1.37.2")
	l, o := psaOnNamespace(t, live, "psa-deploy"), psaOnNamespace(t, offline, "psa-deploy")
	want := []string{
		"psa/audit-warn-weaker namespace/psa-deploy",
		"psa/capabilities cronjob/psa-deploy/report",
		"psa/capabilities deployment/psa-deploy/log-shipper",
		"psa/capabilities deployment/psa-deploy/web",
		"psa/host-path deployment/psa-deploy/log-shipper",
		"psa/privilege-escalation cronjob/psa-deploy/report",
		"psa/privilege-escalation deployment/psa-deploy/log-shipper",
		"psa/privilege-escalation deployment/psa-deploy/web",
		"psa/restricted-blocker cronjob/psa-deploy/report",
		"psa/restricted-blocker deployment/psa-deploy/log-shipper",
		"psa/restricted-blocker deployment/psa-deploy/web",
		"psa/rollout-rejected cronjob/psa-deploy/report",
		"psa/rollout-rejected deployment/psa-deploy/log-shipper",
		"psa/run-as-root cronjob/psa-deploy/report",
		"psa/run-as-root deployment/psa-deploy/log-shipper",
		"psa/run-as-root deployment/psa-deploy/web",
		"psa/seccomp cronjob/psa-deploy/report",
		"psa/seccomp deployment/psa-deploy/log-shipper",
		"psa/seccomp deployment/psa-deploy/web",
	}
	sameLiveAndOffline(t, "psa-deploy", want, l, o)
	ls, os := psaNamespace(t, psaAnalysis(t, live), "psa-deploy"), psaNamespace(t, psaAnalysis(t, offline), "psa-deploy")
	lb, _ := json.Marshal(ls)
	ob, _ := json.Marshal(os)
	if string(lb) != string(ob) {
		t.Errorf("namespace summary differs\nlive:    %s\noffline: %s", lb, ob)
	}
	if ls.Strictest != "privileged" || ls.Counts.Workloads != 4 {
		t.Errorf("psa-deploy summary %+v: want strictest privileged over 4 workloads", ls)
	}
}

// podFrom is a pod made from a template, as a controller would make it.
func podFrom(name, ns string, tmpl corev1.PodTemplateSpec) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: tmpl.Labels, Annotations: tmpl.Annotations}, Spec: tmpl.Spec}
}

// admitted asks the API server, by dry-run create, whether it admits the pod.
func admitted(t *testing.T, pod *corev1.Pod) bool {
	t.Helper()
	_, err := env.Client.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	switch {
	case err == nil:
		return true
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "PodSecurity"):
		return false
	}
	t.Fatalf("dry-run create pod %s/%s: %v", pod.Namespace, pod.Name, err)
	return false
}

// TestPSARolloutRejectedMatchesEnforce asks the API server to admit a pod
// made from each workload template of psa-deploy (enforce=baseline): the
// templates it refuses are exactly those psa/rollout-rejected names. Then
// the risky securityContext patch of psa/restricted-blocker is applied by
// server-side dry-run and a pod from the patched template is admitted under
// enforce=restricted, where one from the original template is not.
func TestPSARolloutRejectedMatchesEnforce(t *testing.T) {
	apply(t, "psa", "workloads")
	ctx := context.Background()
	r, _ := report(t, env.Kubeconfig, "psa", "-n", "psa-deploy")
	var predicted []string
	for _, f := range findingsOf(r, "psa/rollout-rejected") {
		predicted = append(predicted, f.Resource.Kind+"/"+f.Resource.Name)
	}
	sort.Strings(predicted)

	templates := map[string]corev1.PodTemplateSpec{}
	deps, err := env.Client.AppsV1().Deployments("psa-deploy").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		templates["Deployment/"+d.Name] = d.Spec.Template
	}
	cjs, err := env.Client.BatchV1().CronJobs("psa-deploy").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cjs.Items {
		templates["CronJob/"+c.Name] = c.Spec.JobTemplate.Spec.Template
	}
	var rejected []string
	for name, tmpl := range templates {
		if !admitted(t, podFrom("probe-"+strings.ToLower(strings.ReplaceAll(name, "/", "-")), "psa-deploy", tmpl)) {
			rejected = append(rejected, name)
		}
	}
	sort.Strings(rejected)
	if len(rejected) == 0 || !slices.Equal(predicted, rejected) {
		t.Errorf("rollout-rejected predicted %q, server rejects %q", predicted, rejected)
	}

	// The risky patch for Deployment web, through server-side apply (dry-run).
	var patch *remedy.Change
	for _, f := range findingsOf(r, "psa/restricted-blocker") {
		if f.Resource.Name == "web" && f.Remediation != nil && len(f.Remediation.Changes) == 1 {
			patch = &f.Remediation.Changes[0]
		}
	}
	if patch == nil || !patch.Risky {
		t.Fatalf("no risky securityContext patch for Deployment web: %+v", findingsOf(r, "psa/restricted-blocker"))
	}
	body, err := json.Marshal(patch.Object)
	if err != nil {
		t.Fatal(err)
	}
	force := false
	out, err := env.Client.AppsV1().Deployments("psa-deploy").Patch(ctx, "web", types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: remedy.FieldManager, Force: &force, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("server-side apply of the patch: %v\n%s", err, body)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "psa-enforced", Labels: map[string]string{
		psa.EnforceLabel: "restricted", psa.EnforceVersionLabel: "v1.37"}}}
	if _, err := env.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if admitted(t, podFrom("web-before", "psa-enforced", templates["Deployment/web"])) {
		t.Error("the unpatched template of web is admitted under enforce=restricted")
	}
	if !admitted(t, podFrom("web-after", "psa-enforced", out.Spec.Template)) {
		t.Errorf("the patched template of web is refused under enforce=restricted:\n%s", mustJSON(t, out.Spec.Template))
	}
	// The patch changed only securityContext: the images are untouched.
	if out.Spec.Template.Spec.Containers[0].Image != templates["Deployment/web"].Spec.Containers[0].Image {
		t.Errorf("patched image %q", out.Spec.Template.Spec.Containers[0].Image)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
