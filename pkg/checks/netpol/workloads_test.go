package netpol

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestWorkloads checks who a workload is, which pods it runs, its bucket and
// the policies its template is selected by, on ownership that does not lead
// to a listed controller.
func TestWorkloads(t *testing.T) {
	a := Analyze(load(t, "workloads/owners.yaml"))
	type want struct {
		bucket  Bucket
		pods    []string
		ingress []string
	}
	wants := map[string]want{
		// manualSelector: the API server adds no job-name label, the policy misses it.
		"job/manual": {Judged, nil, nil},
		// Finished, but still selected by its job-name label (added offline as the server does).
		"job/migrate":             {Inactive, nil, []string{"by-job-name"}},
		"pod/orphan-5f6g7-h8j9k":  {Judged, []string{"orphan-5f6g7-h8j9k"}, nil},
		"pod/reborn-1a2b3-z9x8c":  {Judged, []string{"reborn-1a2b3-z9x8c"}, nil},
		"replicaset/canary-7b8c9": {Judged, []string{"canary-7b8c9-q1w2e"}, nil},
		"replicaset/loop-a":       {Judged, nil, nil},
		"replicaset/loop-b":       {Judged, nil, nil},
		"replicaset/reborn-1a2b3": {Judged, nil, nil},
	}
	var got []string
	for _, i := range a.NamespaceWorkloads("odd") {
		w := &a.Workloads[i]
		got = append(got, w.Ref())
		exp, ok := wants[w.Ref()]
		if !ok {
			t.Errorf("unexpected workload %s", w.Ref())
			continue
		}
		var pods, ingress []string
		for _, p := range w.Pods {
			pods = append(pods, a.Pods[p].Pod.Name)
		}
		for _, p := range w.Ingress {
			ingress = append(ingress, a.Policies[p].Name)
		}
		if w.Bucket != exp.bucket || !slices.Equal(pods, exp.pods) || !slices.Equal(ingress, exp.ingress) {
			t.Errorf("%s: bucket %s pods %v ingress %v; want %s %v %v", w.Ref(), w.Bucket, pods, ingress, exp.bucket, exp.pods, exp.ingress)
		}
	}
	if len(got) != len(wants) || !slices.IsSorted(got) {
		t.Errorf("workloads of odd %v, want the %d above sorted", got, len(wants))
	}
	c := ComputeCoverage(load(t, "workloads/owners.yaml"))
	if n := c.Namespaces[0]; n.Workloads != 7 || n.Pods != 3 || n.Inactive != 1 || n.IngressIsolated != 0 {
		t.Errorf("odd coverage %+v: want 7 workloads, 3 pods, 1 inactive, none isolated", n)
	}
}

// TestWorkloadsCountOnce reads the same cluster from its manifests (no pods)
// and as listed live (ReplicaSets, Jobs and pods under the controllers): each
// workload counts once, so both give the same coverage but for the pods
// seen, and the same findings.
func TestWorkloadsCountOnce(t *testing.T) {
	manifests := ComputeCoverage(load(t, "workloads/manifests.yaml"))
	listed := ComputeCoverage(load(t, "workloads/listed.yaml"))
	want := []NamespaceCoverage{
		{Namespace: "analytics", Policies: 1, Workloads: 1, IngressIsolated: 1, IngressPercent: 100},
		{Namespace: "batch", Policies: 1},
		// node-agent's template has hostNetwork: counted apart. seed is selected
		// by its job-name label, which the API server adds to a Job's template.
		{Namespace: "shop", Policies: 4, Workloads: 4, IngressIsolated: 4, EgressIsolated: 3, IngressPercent: 100, EgressPercent: 75,
			DefaultDenyIngress: true, HostNetwork: 1},
		{Namespace: "tools", Workloads: 1},
	}
	if !slices.Equal(manifests.Namespaces, want) {
		t.Errorf("manifests:\n got %+v\nwant %+v", manifests.Namespaces, want)
	}
	// Live, the pods are there too: two web, two api and the seed Job's; the
	// node agent's is on the host network and the report's has finished.
	pods := map[string]int{"analytics": 1, "shop": 5, "tools": 1}
	for i := range want {
		want[i].Pods = pods[want[i].Namespace]
	}
	if !slices.Equal(listed.Namespaces, want) {
		t.Errorf("listed:\n got %+v\nwant %+v", listed.Namespaces, want)
	}
	if listed.Total.Workloads != 6 || listed.Total.Pods != 7 || manifests.Total.Pods != 0 || listed.Total.EgressPercent != 50 {
		t.Errorf("totals: listed %+v, manifests %+v", listed.Total, manifests.Total)
	}
	_, _, rows := manifests.Table()
	if !slices.Equal(rows[2], []string{"shop", "4", "4", "0", "4 (100%)", "3 (75%)", "yes", "no", "1", "0"}) {
		t.Errorf("shop row %v", rows[2])
	}
}

// messages returns "check resource severity: message" lines, sorted.
func messages(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s: %s", f.Check, f.Resource, f.Severity, f.Message))
	}
	sort.Strings(out)
	return out
}

// TestWorkloadFindings pins the findings on workloads and their wording,
// the zero cases included, and requires the manifests and the listed cluster
// to give the same ones.
func TestWorkloadFindings(t *testing.T) {
	_, fromManifests := runChecks(t, load(t, "workloads/manifests.yaml"))
	_, fromListed := runChecks(t, load(t, "workloads/listed.yaml"))
	want := []string{
		"netpol/cni-unknown namespace/kube-system info: no NetworkPolicy-enforcing network plugin (calico, cilium, antrea, weave, kube-router, ...) is visible: whether NetworkPolicy is enforced is unknown",
		"netpol/egress-without-dns namespace/shop low: 1 workload in namespace shop isolated for egress without a DNS allow: cronjob/report",
		"netpol/namespace-without-default-deny-egress namespace/analytics low: namespace analytics has no default-deny egress policy: its only workload is open for egress, and so is every new pod that no policy selects",
		"netpol/namespace-without-default-deny-egress namespace/batch low: namespace batch has no default-deny egress policy: nothing in it runs on the pod network yet, and every pod started in it that no policy selects will be open for egress",
		"netpol/namespace-without-default-deny-egress namespace/shop low: namespace shop has no default-deny egress policy: 1 of its 4 workloads is open for egress, and so is every new pod that no policy selects",
		"netpol/namespace-without-default-deny-ingress namespace/analytics medium: namespace analytics has no default-deny ingress policy: analytics/allow-all selects every pod and admits every peer on every port, so its only workload and every new pod are open for ingress",
		"netpol/namespace-without-default-deny-ingress namespace/batch low: namespace batch has no default-deny ingress policy: nothing in it runs on the pod network yet, and every pod started in it that no policy selects will be open for ingress",
		"netpol/namespace-without-policy namespace/tools medium: namespace tools has no NetworkPolicy: its 1 workload accepts and sends any traffic",
		"netpol/pods-not-isolated-egress namespace/analytics low: 1 of 1 workload in namespace analytics not isolated for egress: deployment/etl",
		"netpol/pods-not-isolated-egress namespace/shop low: 1 of 4 workloads in namespace shop not isolated for egress: statefulset/api",
		"netpol/policy-allows-all networkpolicy/analytics/allow-all medium: NetworkPolicy analytics/allow-all allows every peer: ingress[0] on every port: no peers listed: every address",
		"netpol/policy-selects-no-pod networkpolicy/batch/jobs-egress low: NetworkPolicy batch/jobs-egress selects no pod and no workload's pod template in namespace batch (podSelector app=job)",
	}
	for _, run := range []struct {
		name string
		fs   []finding.Finding
	}{{"manifests", fromManifests}, {"listed", fromListed}} {
		if got := messages(run.fs); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", run.name, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	}

	// Evidence names the workloads, and counts the pods where the inventory has them.
	evidence := func(fs []finding.Finding, check, ns, key string) string {
		for _, f := range fs {
			if f.Check == check && f.Resource.Name == ns {
				return fmt.Sprint(f.Evidence[key])
			}
		}
		return "no finding"
	}
	for _, e := range []struct {
		check, ns, key  string
		manifests, live string
	}{
		{IDPodsNotIsolatedEgress, "shop", "workloads", "[statefulset/api]", "[statefulset/api]"},
		{IDPodsNotIsolatedEgress, "shop", "openPods", "0", "2"},
		{IDPodsNotIsolatedEgress, "shop", "openPodsOutsideWorkloads", "<nil>", "<nil>"},
		{IDNoDefaultDenyIngress, "analytics", "allowAll", "[analytics/allow-all]", "[analytics/allow-all]"},
		{IDNoDefaultDenyEgress, "shop", "notIsolatedWorkloads", "[statefulset/api]", "[statefulset/api]"},
		{IDNamespaceWithoutPolicy, "tools", "pods", "0", "1"},
		{IDNamespaceWithoutPolicy, "tools", "workloads", "1", "1"},
		{IDEgressWithoutDNS, "shop", "policies", "[report-egress]", "[report-egress]"},
	} {
		if got := evidence(fromManifests, e.check, e.ns, e.key); got != e.manifests {
			t.Errorf("manifests %s %s evidence %s = %s, want %s", e.check, e.ns, e.key, got, e.manifests)
		}
		if got := evidence(fromListed, e.check, e.ns, e.key); got != e.live {
			t.Errorf("listed %s %s evidence %s = %s, want %s", e.check, e.ns, e.key, got, e.live)
		}
	}
}

// TestWorkloadRemedies names the workloads a default deny cuts off.
func TestWorkloadRemedies(t *testing.T) {
	for _, fixture := range []string{"workloads/manifests.yaml", "workloads/listed.yaml"} {
		a := Analyze(load(t, fixture))
		full := DefaultDenyRemedy(a, "tools")
		want := [][]string{
			{"deployment tools/dashboard loses all egress except DNS"},
			{"deployment tools/dashboard loses all ingress", "deployment tools/dashboard loses all egress (DNS stays allowed only with allow-dns-egress)"},
		}
		for i, c := range full.Changes {
			if !slices.Equal(c.Breaks, want[i]) {
				t.Errorf("%s: change %d breaks %v, want %v", fixture, i, c.Breaks, want[i])
			}
		}
		// shop is default-deny for ingress already: an ingress deny breaks nothing more.
		if b := IngressDenyRemedy(a, "shop").Changes[0].Breaks; len(b) != 0 {
			t.Errorf("%s: ingress deny of shop breaks %v", fixture, b)
		}
		if b := EgressDenyRemedy(a, "shop").Changes[1].Breaks; !slices.Equal(b, []string{"statefulset shop/api loses all egress (DNS stays allowed only with allow-dns-egress)"}) {
			t.Errorf("%s: egress deny of shop breaks %v", fixture, b)
		}
	}
	// Applying the full remedy to the manifests makes tools default-deny with DNS.
	_, fs := runChecks(t, withChanges(t, "workloads/manifests.yaml", DefaultDenyRemedy(Analyze(load(t, "workloads/manifests.yaml")), "tools").Changes))
	for _, f := range fs {
		if f.Resource.Name == "tools" {
			t.Errorf("after the remedy: %s %s", f.Check, f.Message)
		}
	}
}

// A pod its workload does not stand for (relabelled, so no longer selected
// as the template is) is named on its own; the pods of open workloads are
// only counted.
func TestOpenPodsOutsideWorkloads(t *testing.T) {
	_, fs := runChecks(t, load(t, "workloads/relabelled.yaml"))
	var got *finding.Finding
	for i := range fs {
		if fs[i].Check == IDNoDefaultDenyEgress {
			got = &fs[i]
		}
	}
	if got == nil {
		t.Fatalf("no %s finding in %v", IDNoDefaultDenyEgress, fs)
	}
	if w := fmt.Sprint(got.Evidence["notIsolatedWorkloads"]); w != "[]" {
		t.Errorf("notIsolatedWorkloads = %s, want [] (the template is isolated)", w)
	}
	if n := got.Evidence["openPods"]; n != 1 {
		t.Errorf("openPods = %v, want 1", n)
	}
	if p := fmt.Sprint(got.Evidence["openPodsOutsideWorkloads"]); p != "[web-6d5f4-d3e4f]" {
		t.Errorf("openPodsOutsideWorkloads = %s, want [web-6d5f4-d3e4f]", p)
	}
}
