package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The NetworkPolicy tests seed test/testdata/netpol (namespaces netpol-*) and
// require the live audit and the offline audit of the same files to agree on
// every finding, its evidence and remedy, and the coverage; the API server is
// the oracle for the defaulting that offline reading must reproduce.

func netpolFixture(t *testing.T) {
	t.Helper()
	apply(t, "netpol")
}

// onNetpol keeps a report's findings about netpol-* namespaces and their
// objects, keyed by check and resource, with what must not differ between a
// live and an offline run: severity, message, evidence and remedy. Sources
// (offline only) and resourceVersion preconditions (live only) are dropped.
func onNetpol(t *testing.T, r *finding.Report) map[string]string {
	t.Helper()
	return onNamespaces(t, r, func(ns string) bool { return strings.HasPrefix(ns, "netpol-") })
}

// onNamespaces is onNetpol for the namespaces keep accepts.
func onNamespaces(t *testing.T, r *finding.Report, keep func(ns string) bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range r.Items {
		ns := f.Resource.Namespace
		if f.Resource.Kind == "Namespace" {
			ns = f.Resource.Name
		}
		if !keep(ns) {
			continue
		}
		f.Source = nil
		if f.Remediation != nil {
			for i := range f.Remediation.Changes {
				f.Remediation.Changes[i].ResourceVersion = ""
			}
		}
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		out[key(f)] = string(b)
	}
	return out
}

// netpolCoverage returns the report's coverage rows of namespaces starting with prefix.
func netpolCoverage(t *testing.T, r *finding.Report, prefix string) (netpol.CNI, []netpol.NamespaceCoverage) {
	t.Helper()
	cov, ok, err := finding.CoverageOf[*netpol.Coverage](r)
	if err != nil || !ok {
		t.Fatalf("report has no netpol coverage: %v", err)
	}
	var rows []netpol.NamespaceCoverage
	for _, n := range cov.Namespaces {
		if strings.HasPrefix(n.Namespace, prefix) {
			rows = append(rows, n)
		}
	}
	return cov.CNI, rows
}

func TestNetpolLiveAndOfflineAgree(t *testing.T) {
	netpolFixture(t)
	live, _ := report(t, env.Kubeconfig, "netpol")
	offline, _ := report(t, env.Kubeconfig, "netpol", "-f", testdata("netpol"))
	l, o := onNetpol(t, live), onNetpol(t, offline)

	want := []string{
		"netpol/egress-without-dns namespace/netpol-data",
		"netpol/inert-rule networkpolicy/netpol-data/inert",
		"netpol/namespace-without-default-deny-egress namespace/netpol-edge",
		"netpol/namespace-without-default-deny-egress namespace/netpol-shop",
		"netpol/namespace-without-default-deny-ingress namespace/netpol-edge",
		"netpol/namespace-without-policy namespace/netpol-bare",
		"netpol/pods-not-isolated-egress namespace/netpol-shop",
		"netpol/policy-allows-all networkpolicy/netpol-edge/lb-public",
		"netpol/policy-selects-no-pod networkpolicy/netpol-data/typo",
	}
	sameLiveAndOffline(t, "netpol-*", want, l, o)

	liveCNI, liveRows := netpolCoverage(t, live, "netpol-")
	offCNI, offRows := netpolCoverage(t, offline, "netpol-")
	if !slices.Equal(liveRows, offRows) || len(liveRows) != 4 {
		t.Errorf("coverage differs\nlive:    %+v\noffline: %+v", liveRows, offRows)
	}
	// Workloads without pods (no controllers run here) count by their
	// templates: netpol-data's Deployment beside its two pods; netpol-shop's
	// Job, egress-isolated by seed-egress through the job-name label the
	// server adds to its template (and offline reading adds too); netpol-edge's
	// hostNetwork DaemonSet beside the lb pod is not enforceable.
	wantRows := map[string][4]int{ // workloads, pods, egress isolated, hostNetwork
		"netpol-bare": {1, 1, 0, 0}, "netpol-data": {3, 2, 3, 0}, "netpol-edge": {1, 1, 1, 1}, "netpol-shop": {3, 2, 2, 1},
	}
	for _, n := range liveRows {
		if got := [4]int{n.Workloads, n.Pods, n.EgressIsolated, n.HostNetwork}; got != wantRows[n.Namespace] {
			t.Errorf("%s: workloads, pods, egress isolated, hostNetwork = %v, want %v", n.Namespace, got, wantRows[n.Namespace])
		}
	}
	// Neither the test cluster nor the files have a network plugin.
	if liveCNI.Status != netpol.CNIUnknown || offCNI.Status != netpol.CNIUnknown {
		t.Errorf("CNI live %+v offline %+v, want unknown", liveCNI, offCNI)
	}
	if len(findingsOf(live, netpol.IDNoEnforcingCNIRecognised)) != 1 {
		t.Errorf("live audit does not say the CNI is unknown")
	}
}

// TestNetpolDemoLiveAndOfflineAgree audits the sample cluster's namespaces,
// whose Deployments run no pod (manifests have none, and the test cluster has
// no controllers): both ways, the workloads are judged by their templates and
// every netpol finding and coverage row is the same.
func TestNetpolDemoLiveAndOfflineAgree(t *testing.T) {
	demo := []string{"analytics", "ci", "legacy", "shop"}
	live, _ := report(t, env.Kubeconfig, "netpol")
	offline, _ := report(t, env.Kubeconfig, "netpol", "-f", testdata("demo"))
	keep := func(ns string) bool { return slices.Contains(demo, ns) }
	l, o := onNamespaces(t, live, keep), onNamespaces(t, offline, keep)
	if len(l) == 0 || len(l) != len(o) {
		t.Errorf("netpol findings on the sample: %d live, %d offline", len(l), len(o))
	}
	for k, lv := range l {
		if ov := o[k]; ov != lv {
			t.Errorf("%s differs\nlive:    %s\noffline: %s", k, lv, ov)
		}
	}
	rows := func(r *finding.Report) []netpol.NamespaceCoverage {
		_, all := netpolCoverage(t, r, "")
		return slices.DeleteFunc(all, func(n netpol.NamespaceCoverage) bool { return !keep(n.Namespace) })
	}
	lr, or := rows(live), rows(offline)
	if !slices.Equal(lr, or) || len(lr) != len(demo) {
		t.Errorf("coverage of the sample differs\nlive:    %+v\noffline: %+v", lr, or)
	}
	// analytics: its Deployment is one workload, isolated for ingress by the
	// allow-all policy (which is therefore no default deny), open for egress.
	want := netpol.NamespaceCoverage{Namespace: "analytics", Policies: 1, Workloads: 1, IngressIsolated: 1, IngressPercent: 100}
	if len(lr) == 0 || lr[0] != want {
		t.Errorf("analytics coverage %+v, want %+v", lr, want)
	}
	for _, f := range findingsOf(live, netpol.IDNoDefaultDenyIngress) {
		if f.Resource.Name == "analytics" && !strings.Contains(f.Message, "so its only workload and every new pod are open for ingress") {
			t.Errorf("analytics: %s", f.Message)
		}
	}
}

// TestNetpolDefaultingMatchesServer asks the API server how it defaulted
// each fixture policy and namespace, and checks offline reading does the same.
func TestNetpolDefaultingMatchesServer(t *testing.T) {
	netpolFixture(t)
	files, err := inventory.FromFiles([]string{testdata("netpol")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, np := range files.NetworkPolicies {
		srv, err := env.Client.NetworkingV1().NetworkPolicies(np.Namespace).Get(ctx, np.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get networkpolicy %s/%s: %v", np.Namespace, np.Name, err)
		}
		offline, _ := netpol.EffectiveTypes(&np.Spec)
		var server netpol.PolicyTypes
		for _, pt := range srv.Spec.PolicyTypes {
			server.Ingress = server.Ingress || pt == networkingv1.PolicyTypeIngress
			server.Egress = server.Egress || pt == networkingv1.PolicyTypeEgress
		}
		if offline != server {
			t.Errorf("%s/%s: offline policyTypes %+v, server %v", np.Namespace, np.Name, offline, srv.Spec.PolicyTypes)
		}
		// The server defaults a port's protocol to TCP; RulePorts must read a missing one the same way.
		for i, r := range srv.Spec.Ingress {
			for j, p := range r.Ports {
				if p.Port == nil || p.Port.StrVal != "" {
					continue
				}
				off := netpol.RulePorts(np.Spec.Ingress[i].Ports[j:j+1], nil)
				if !off.Contains(*p.Protocol, p.Port.IntVal) {
					t.Errorf("%s/%s ingress[%d] port %d: server protocol %s, offline ports %v", np.Namespace, np.Name, i, p.Port.IntVal, *p.Protocol, off.Strings())
				}
			}
		}
	}
	// A Job's template gets job-name labels from the server; offline analysis adds
	// them (the controller-uid ones cannot be known before the Job exists).
	offlineWorkloads := netpol.Analyze(files)
	for _, job := range files.Jobs {
		srv, err := env.Client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get job %s/%s: %v", job.Namespace, job.Name, err)
		}
		var offline map[string]string
		for _, i := range offlineWorkloads.NamespaceWorkloads(job.Namespace) {
			if w := offlineWorkloads.Workloads[i]; w.Kind == "Job" && w.Name == job.Name {
				offline = w.Labels
			}
		}
		for k, v := range srv.Spec.Template.Labels {
			if strings.HasSuffix(k, "controller-uid") {
				continue
			}
			if offline[k] != v {
				t.Errorf("job %s/%s template label %s=%s on the server, offline %q", job.Namespace, job.Name, k, v, offline[k])
			}
		}
		if len(offline) == 0 || len(srv.Spec.Template.Labels) != len(offline)+2 {
			t.Errorf("job %s/%s: offline labels %v, server %v", job.Namespace, job.Name, offline, srv.Spec.Template.Labels)
		}
	}
	// namespaceSelector on kubernetes.io/metadata.name: the server sets it, offline analysis adds it.
	a := netpol.Analyze(files)
	for _, ns := range []string{"netpol-shop", "netpol-data", "netpol-edge", "netpol-bare"} {
		srv, err := env.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.NamespaceLabels(ns); got["kubernetes.io/metadata.name"] != srv.Labels["kubernetes.io/metadata.name"] {
			t.Errorf("%s: offline labels %v, server %v", ns, got, srv.Labels)
		}
	}
}

func TestNetpolCanReachThroughKubectl(t *testing.T) {
	netpolFixture(t)
	tests := []struct {
		args    []string
		allowed []bool
		egress  string // an allowing rule or isolating policy the egress side must name
		ingress string
	}{
		{[]string{"netpol-shop/api", "netpol-data/db", "--port", "pg"}, []bool{true}, "netpol-shop/api-from-web egress[0]", "netpol-data/db-from-api ingress[0]"},
		{[]string{"netpol-shop/api", "netpol-data/db", "--port", "6379"}, []bool{false}, "netpol-shop/api-from-web", "netpol-data/db-from-api"},
		{[]string{"web", "netpol-data/db", "-n", "netpol-shop", "--port", "5432"}, []bool{false}, "", "netpol-data/default-deny"},
		{[]string{"netpol-edge/lb", "netpol-shop/web", "--port", "http"}, []bool{true}, "netpol-edge/lb-to-shop egress[0]", "netpol-shop/web-from-edge ingress[0]"},
		{[]string{"netpol-edge/lb", "netpol-shop/api", "--port", "9090"}, []bool{false}, "netpol-edge/lb-to-shop", "netpol-shop/api-from-web"},
		{[]string{"netpol-shop/*", "netpol-shop/api"}, []bool{false, true}, "", "netpol-shop/api-from-web"},
		{[]string{"203.0.113.9", "netpol-edge/lb", "--port", "443"}, []bool{true}, "", "netpol-edge/lb-public ingress[0]"},
		// Workloads by their pod templates: live, the server's templates (the
		// Job's with the job-name labels it adds); offline, the manifests'.
		{[]string{"job/seed", "netpol-data/db", "-n", "netpol-shop", "--port", "pg"}, []bool{false}, "netpol-shop/seed-egress egress[0]", "netpol-data/db-from-api"},
		{[]string{"netpol-shop/api", "netpol-data/deploy/batch", "--port", "80"}, []bool{false}, "netpol-shop/api-from-web", "netpol-data/batch"},
		{[]string{"netpol-edge/ds/node-proxy", "netpol-bare/lonely", "--port", "80"}, []bool{true}, "", ""},
		{[]string{"netpol-shop/job/seed", "netpol-data/deployment/batch"}, []bool{false}, "netpol-shop/seed-egress", "netpol-data/default-deny"},
	}
	for _, tc := range tests {
		var runs [2]CanReachResult
		for i, extra := range [][]string{nil, {"-f", testdata("netpol")}} {
			args := append(append([]string{"netpol", "can-reach"}, tc.args...), append(extra, "-o", "json")...)
			res := mustHarden(t, args...)
			if err := json.Unmarshal([]byte(res.Stdout), &runs[i]); err != nil {
				t.Fatalf("can-reach %v: %v\n%s", tc.args, err, res.Stdout)
			}
		}
		live, offline := runs[0], runs[1]
		lb, _ := json.Marshal(live)
		ob, _ := json.Marshal(offline)
		if string(lb) != string(ob) {
			t.Errorf("can-reach %v: live and offline differ\nlive:    %s\noffline: %s", tc.args, lb, ob)
		}
		var allowed []bool
		for _, r := range live.Items {
			allowed = append(allowed, r.Allowed)
		}
		if !slices.Equal(allowed, tc.allowed) {
			t.Errorf("can-reach %v: allowed %v, want %v\n%s", tc.args, allowed, tc.allowed, lb)
			continue
		}
		r := live.Items[0]
		if tc.egress != "" && !slices.Contains(slices.Concat(r.Egress.Allowing, r.Egress.Policies), tc.egress) {
			t.Errorf("can-reach %v: egress %+v does not name %s", tc.args, r.Egress, tc.egress)
		}
		if tc.ingress != "" && !slices.Contains(slices.Concat(r.Ingress.Allowing, r.Ingress.Policies), tc.ingress) {
			t.Errorf("can-reach %v: ingress %+v does not name %s", tc.args, r.Ingress, tc.ingress)
		}
	}

	res := mustHarden(t, "netpol", "can-reach", "netpol-shop/web", "netpol-data/db", "--port", "5432")
	if !strings.Contains(res.Stdout, "denied by netpol-data/db-from-api, netpol-data/default-deny") ||
		!strings.Contains(res.Stderr, "no NetworkPolicy-enforcing CNI recognised") {
		t.Errorf("table:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
	}
	if res := harden(t, "netpol", "can-reach", "netpol-shop/nope", "netpol-data/db"); res.Code != 1 || !strings.Contains(res.Stderr, "pod netpol-shop/nope not found") {
		t.Errorf("unknown pod: exit %d, stderr %q", res.Code, res.Stderr)
	}
	if res := harden(t, "netpol", "can-reach", "netpol-shop/deploy/nope", "netpol-data/db"); res.Code != 1 || !strings.Contains(res.Stderr, "deployment netpol-shop/nope not found") {
		t.Errorf("unknown deployment: exit %d, stderr %q", res.Code, res.Stderr)
	}
}

// CanReachResult is the JSON of `kubectl harden netpol can-reach -o json`.
type CanReachResult struct {
	Source      string         `json:"source"`
	Destination string         `json:"destination"`
	Port        string         `json:"port,omitempty"`
	Items       []netpol.Reach `json:"items"`
}

// TestNetpolRemedyAppliesAndIsolates applies the plan `-o patch` prints for a
// namespace without policy with the real kubectl, and checks that the server
// accepted it and that the namespace is then default-deny both ways with DNS allowed.
func TestNetpolRemedyAppliesAndIsolates(t *testing.T) {
	ctx := context.Background()
	const ns = "netpolfix-remedy"
	if _, err := env.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, name := range []string{"app", "other"} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "registry.k8s.io/pause:3.10"}}},
		}
		if _, err := env.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	if r := mustHarden(t, "netpol", "can-reach", ns+"/app", ns+"/other", "--port", "80"); !strings.Contains(r.Stdout, "yes") {
		t.Fatalf("before the remedy app should reach other:\n%s", r.Stdout)
	}
	plan := mustHarden(t, "netpol", "-n", ns, "--check", netpol.IDNamespaceWithoutPolicy, "-o", "patch")
	for _, want := range []string{"name: " + netpol.AllowDNSName, "name: " + netpol.DefaultDenyName, "pod " + ns + "/app loses all ingress"} {
		if !strings.Contains(plan.Stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.Stdout)
		}
	}
	res, err := env.Kubectl(strings.NewReader(plan.Stdout), "apply", "--server-side", "--field-manager=kubectl-harden", "-f", "-")
	if err != nil || res.Code != 0 {
		t.Fatalf("kubectl apply the plan: %v %s", err, res.Stderr)
	}
	dns, err := env.Client.NetworkingV1().NetworkPolicies(ns).Get(ctx, netpol.AllowDNSName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := dns.Spec.Egress[0].To[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]; got != "kube-system" || len(dns.Spec.Egress[0].Ports) != 2 {
		t.Errorf("allow-dns on the server: %+v", dns.Spec)
	}

	after, _ := report(t, env.Kubeconfig, "netpol", "-n", ns)
	if fs := findingsOf(after, netpol.IDNamespaceWithoutPolicy); len(fs) != 0 {
		t.Errorf("after the remedy: %+v", fs)
	}
	_, rows := netpolCoverage(t, after, ns)
	want := netpol.NamespaceCoverage{Namespace: ns, Policies: 2, Workloads: 2, Pods: 2, IngressIsolated: 2, EgressIsolated: 2,
		IngressPercent: 100, EgressPercent: 100, DefaultDenyIngress: true, DefaultDenyEgress: true}
	if !slices.Equal(rows, []netpol.NamespaceCoverage{want}) {
		t.Errorf("coverage after the remedy %+v, want %+v", rows, want)
	}
	var list CanReachResult
	r := mustHarden(t, "netpol", "can-reach", ns+"/app", ns+"/other", "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Allowed || !list.Items[0].Egress.Isolated || !list.Items[0].Ingress.Isolated {
		t.Errorf("after the remedy app -> other: %s", r.Stdout)
	}
}
