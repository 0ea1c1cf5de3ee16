package netpol

import (
	"slices"
	"testing"
)

// TestCustomWorkloadCountsOnce counts an Argo Rollout with its ReplicaSet and
// pod as one workload, isolated by the policy selecting its template's labels.
func TestCustomWorkloadCountsOnce(t *testing.T) {
	a := Analyze(load(t, "workloads/customworkloads.yaml"))
	var refs []string
	for _, i := range a.NamespaceWorkloads("canary") {
		w := &a.Workloads[i]
		refs = append(refs, w.Ref())
		var pods, ingress []string
		for _, p := range w.Pods {
			pods = append(pods, a.Pods[p].Pod.Name)
		}
		for _, p := range w.Ingress {
			ingress = append(ingress, a.Policies[p].Name)
		}
		if !slices.Equal(pods, []string{"web-6c5d8f-q7x2k"}) || !slices.Equal(ingress, []string{"web-ingress"}) {
			t.Errorf("%s: pods %v ingress %v", w.Ref(), pods, ingress)
		}
	}
	if !slices.Equal(refs, []string{"rollout/web"}) {
		t.Errorf("workloads of canary %v, want the Rollout alone", refs)
	}
	c := ComputeCoverage(load(t, "workloads/customworkloads.yaml"))
	if n := c.Namespaces[0]; n.Workloads != 1 || n.Pods != 1 || n.IngressIsolated != 1 {
		t.Errorf("canary coverage %+v: want 1 workload, 1 pod, isolated", n)
	}
}
