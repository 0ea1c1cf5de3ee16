package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestCustomWorkloadJudgedLive installs a minimal Argo Rollout CRD, creates
// a Rollout with a privileged container and, as Argo's controller would (no
// controller runs here), a ReplicaSet the Rollout owns with a pod of it. The
// psa and workload audits read the Rollout through discovery and the dynamic
// client and report it by its own apiVersion and field path, and judge the
// ReplicaSet and the pod at the Rollout, not a second time. The CRD is
// removed at the end so that other tests (the auditor role's) see a cluster
// without it.
func TestCustomWorkloadJudgedLive(t *testing.T) {
	const ns, name, crd = "customworkload-canary", "customworkload-web", "crd/rollouts.argoproj.io"
	ctx := context.Background()
	t.Cleanup(func() {
		for _, args := range [][]string{
			{"delete", "--wait=true", "--ignore-not-found", crd},
			{"delete", "namespace", ns, "--wait=false", "--ignore-not-found"},
		} {
			if res, err := env.Kubectl(nil, args...); err != nil || res.Code != 0 {
				t.Errorf("kubectl %s: %v %s", strings.Join(args, " "), err, res.Stderr)
			}
		}
	})
	apply(t, "customworkload", "crd")
	if res, err := env.Kubectl(nil, "wait", "--for=condition=Established", "--timeout=60s", crd); err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRD: %v %s", err, res.Stderr)
	}
	// Established can come a moment before kubectl's discovery serves the
	// resource: retry the create for a while.
	var applyErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if applyErr = env.Apply(testdata("customworkload", "objects")); applyErr == nil {
			break
		}
	}
	if applyErr != nil {
		t.Fatal(applyErr)
	}
	res, err := env.Kubectl(nil, "get", "rollouts.argoproj.io", name, "-n", ns, "-o", "jsonpath={.metadata.uid}")
	if err != nil || res.Code != 0 || res.Stdout == "" {
		t.Fatalf("get the Rollout's uid: %v %s", err, res.Stderr)
	}
	owner := func(apiVersion, kind, name, uid string) []metav1.OwnerReference {
		yes := true
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(uid), Controller: &yes}}
	}
	labels := map[string]string{"app": name, "rollouts-pod-template-hash": "6c5d8f"}
	privileged := true
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example.com/web:1.4",
			SecurityContext: &corev1.SecurityContext{Privileged: &privileged}}}},
	}
	rs, err := env.Client.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-6c5d8f", Namespace: ns, Labels: labels,
			OwnerReferences: owner("argoproj.io/v1alpha1", "Rollout", name, res.Stdout)},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := podFrom(rs.Name+"-q7x2k", ns, tmpl)
	pod.OwnerReferences = owner("apps/v1", "ReplicaSet", rs.Name, string(rs.UID))
	if _, err := env.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	rollout := finding.Resource{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Namespace: ns, Name: name}
	// onRollout returns the findings of a check on the Rollout, and fails on
	// any finding of the report on the ReplicaSet or pod it stands for.
	onRollout := func(r *finding.Report, check string) []finding.Finding {
		t.Helper()
		var out []finding.Finding
		for _, f := range r.Items {
			if f.Resource.Namespace == ns && (f.Resource.Kind == "ReplicaSet" || f.Resource.Kind == "Pod") {
				t.Errorf("%s on %s: the Rollout's ReplicaSet and pod are judged at the Rollout: %s", f.Check, f.Resource, f.Message)
			}
			if f.Check == check && f.Resource == rollout {
				out = append(out, f)
			}
		}
		return out
	}

	r, stderr := report(t, env.Kubeconfig, "psa", "-n", ns)
	if stderr != "" || len(r.Summary.Skipped) != 0 {
		t.Errorf("psa audit: stderr %q, skipped %+v", stderr, r.Summary.Skipped)
	}
	priv := onRollout(r, "psa/privileged")
	if len(priv) != 1 || !strings.Contains(priv[0].Message, "spec.template.spec.containers[0].securityContext.privileged") {
		t.Errorf("psa/privileged on the Rollout at spec.template.spec: %+v", priv)
	}
	for _, check := range []string{"psa/audit-warn-violation", "psa/restricted-blocker"} {
		if len(onRollout(r, check)) != 1 {
			t.Errorf("no %s finding on the Rollout", check)
		}
	}
	if c := psaNamespace(t, psaAnalysis(t, r), ns).Counts; c.Workloads != 1 || c.Pods != 1 || c.Templates != 2 || c.Privileged != 1 {
		t.Errorf("%s counts %+v: want one privileged workload (the Rollout, its ReplicaSet and pod)", ns, c)
	}

	w, stderr := report(t, env.Kubeconfig, "workload")
	if stderr != "" || len(w.Summary.Skipped) != 0 {
		t.Errorf("workload audit: stderr %q, skipped %+v", stderr, w.Summary.Skipped)
	}
	writable := onRollout(w, "workload/writable-root-filesystem")
	if len(writable) != 1 || writable[0].Evidence["field"] != "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem" {
		t.Errorf("workload/writable-root-filesystem on the Rollout at its template: %+v", writable)
	}
}
