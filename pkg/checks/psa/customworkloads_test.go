package psa

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestCustomWorkloads judges an Argo Rollout's template like a Deployment's,
// counts its ReplicaSet and pod under it once, and judges a custom resource of
// an unknown kind that has the shape of a pod template.
func TestCustomWorkloads(t *testing.T) {
	inv := load(t, "customworkloads.yaml", "v1.37.2")
	fs := findingsOf(t, inv)
	var got []string
	for _, f := range fs {
		got = append(got, key(f))
		if f.Resource.Kind == "ReplicaSet" || f.Resource.Kind == "Pod" {
			t.Errorf("%s: the Rollout's ReplicaSet and pod are judged at the Rollout: %s", key(f), f.Message)
		}
	}
	sort.Strings(got)
	want := []string{
		"psa/audit-warn-violation Rollout/canary/web",
		"psa/audit-warn-violation Widget/canary/spinner",
		"psa/capabilities Rollout/canary/web",
		"psa/capabilities Widget/canary/spinner",
		"psa/host-namespaces Widget/canary/spinner",
		"psa/privilege-escalation Rollout/canary/web",
		"psa/privilege-escalation Widget/canary/spinner",
		"psa/privileged Rollout/canary/web",
		"psa/restricted-blocker Rollout/canary/web",
		"psa/restricted-blocker Widget/canary/spinner",
		"psa/rollout-rejected Rollout/canary/web",
		"psa/rollout-rejected Widget/canary/spinner",
		"psa/run-as-root Rollout/canary/web",
		"psa/run-as-root Widget/canary/spinner",
		"psa/seccomp Rollout/canary/web",
		"psa/seccomp Widget/canary/spinner",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}

	priv, ok := find(fs, "psa/privileged Rollout/canary/web")
	if !ok {
		t.Fatal("no psa/privileged finding on the Rollout")
	}
	if r := priv.Resource; r.APIVersion != "argoproj.io/v1alpha1" || r.Namespace != "canary" || r.Name != "web" {
		t.Errorf("finding names %+v, want the Rollout by its own apiVersion", r)
	}
	if !strings.Contains(priv.Message, "spec.template.spec.containers[0].securityContext.privileged") {
		t.Errorf("message does not give the field path in the Rollout: %s", priv.Message)
	}
	if priv.Source == nil || priv.Source.Line == 0 {
		t.Errorf("no source line for the Rollout's finding: %+v", priv.Source)
	}
	// The pod spec of a custom resource is not patched blind: its CRD decides how lists merge.
	rej, _ := find(fs, "psa/rollout-rejected Rollout/canary/web")
	if rej.Remediation == nil || len(rej.Remediation.Changes) != 0 {
		t.Errorf("rollout-rejected on a Rollout offers changes: %+v", rej.Remediation)
	}

	sum := Analyze(inv).Namespaces[0]
	if sum.Name != "canary" || sum.Counts.Workloads != 2 || sum.Counts.Pods != 1 || sum.Counts.Templates != 3 || sum.Strictest != "privileged" {
		t.Errorf("canary %+v: want 2 workloads (Rollout, Widget), 1 pod, 3 templates, strictest privileged", sum.Counts)
	}
	if v, ok := Analyze(inv).Verdict("Rollout", "canary", "web"); !ok || v.Object.APIVersion != "argoproj.io/v1alpha1" || v.Level != "privileged" {
		t.Errorf("Verdict of the Rollout: %+v %v", v, ok)
	}
}
