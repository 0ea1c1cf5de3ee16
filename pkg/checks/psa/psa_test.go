package psa

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/pod-security-admission/api"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// load reads a fixture from testdata as an offline run with --server-version would.
func load(t *testing.T, file, serverVersion string) *inventory.Inventory {
	t.Helper()
	return checktest.LoadVersion(t, serverVersion, file)
}

var key = checktest.Key

func findingsOf(t *testing.T, inv *inventory.Inventory) []finding.Finding {
	t.Helper()
	res := checks.Run(inv, Checks())
	if len(res.Skipped) > 0 {
		t.Fatalf("skipped checks: %+v", res.Skipped)
	}
	return res.Findings
}

func find(fs []finding.Finding, k string) (finding.Finding, bool) {
	for _, f := range fs {
		if key(f) == k {
			return f, true
		}
	}
	return finding.Finding{}, false
}

type checkCase struct {
	name          string
	file          string
	serverVersion string
	includeSystem bool
	want          []string
}

// checkCases are the fixtures and the findings each must give, exactly.
func checkCases() []checkCase {
	return []checkCase{
		{
			// The Deployment, its ReplicaSet and its two pods are one workload: reported once, on the Deployment.
			name: "unlabelled namespace", file: "unlabelled.yaml", serverVersion: "v1.37.2",
			want: []string{
				"psa/enforce-missing Namespace//legacy",
				"psa/restricted-blocker Deployment/legacy/web",
				"psa/restricted-blocker Pod/legacy/debug",
				"psa/privileged Pod/legacy/debug",
				"psa/host-namespaces Pod/legacy/debug",
				"psa/host-path Pod/legacy/debug",
				"psa/capabilities Deployment/legacy/web",
				"psa/capabilities Pod/legacy/debug",
				"psa/seccomp Deployment/legacy/web",
				"psa/seccomp Pod/legacy/debug",
				"psa/run-as-root Deployment/legacy/web",
				"psa/run-as-root Pod/legacy/debug",
				"psa/privilege-escalation Deployment/legacy/web",
				"psa/privilege-escalation Pod/legacy/debug",
			},
		},
		{
			name: "enforce weaker than what the workloads satisfy", file: "freewin.yaml", serverVersion: "v1.37.2",
			want: []string{
				"psa/free-win Namespace//analytics",
				"psa/audit-warn-weaker Namespace//analytics",
			},
		},
		{
			// restricted-blocker is implied by rollout-rejected under enforce=restricted, which carries the patch.
			name: "template rejected by enforce", file: "rollout.yaml", serverVersion: "v1.37.2",
			want: []string{
				"psa/rollout-rejected Deployment/shop/api",
				"psa/audit-warn-violation Deployment/shop/api",
				"psa/capabilities Deployment/shop/api",
				"psa/seccomp Deployment/shop/api",
				"psa/run-as-root Deployment/shop/api",
				"psa/privilege-escalation Deployment/shop/api",
			},
		},
		{
			name: "label problems, system namespace left out", file: "labels.yaml", serverVersion: "v1.37.2",
			want: []string{
				"psa/invalid-label Namespace//broken",
				"psa/privileged-production Namespace//payments-prod",
				"psa/free-win Namespace//payments-prod",
				"psa/audit-warn-weaker Namespace//billing",
			},
		},
		{
			name: "label problems, system namespace included", file: "labels.yaml", serverVersion: "v1.37.2", includeSystem: true,
			want: []string{
				"psa/invalid-label Namespace//broken",
				"psa/privileged-production Namespace//payments-prod",
				"psa/free-win Namespace//payments-prod",
				"psa/audit-warn-weaker Namespace//billing",
				"psa/enforce-missing Namespace//kube-system",
				"psa/restricted-blocker DaemonSet/kube-system/kube-proxy",
				"psa/privileged DaemonSet/kube-system/kube-proxy",
				"psa/host-namespaces DaemonSet/kube-system/kube-proxy",
				"psa/capabilities DaemonSet/kube-system/kube-proxy",
				"psa/seccomp DaemonSet/kube-system/kube-proxy",
				"psa/run-as-root DaemonSet/kube-system/kube-proxy",
				"psa/privilege-escalation DaemonSet/kube-system/kube-proxy",
			},
		},
		{
			// v1.37 judges runAsUser=0; the namespace pinned to v1.22 predates that check.
			name: "versions pinned and latest on a v1.37 server", file: "versions.yaml", serverVersion: "v1.37.2",
			want: []string{
				"psa/audit-warn-weaker Namespace//pinned",
				"psa/audit-warn-weaker Namespace//floating",
				"psa/restricted-blocker Pod/floating/rootish",
				"psa/run-as-root Pod/floating/rootish",
			},
		},
		{
			// latest means the server's own version: on a v1.22 server the pod passes restricted.
			name: "latest on a v1.22 server", file: "versions.yaml", serverVersion: "v1.22.17",
			want: []string{
				"psa/audit-warn-weaker Namespace//pinned",
				"psa/audit-warn-weaker Namespace//floating",
			},
		},
		{
			name: "host ports, volume types and unsafe options", file: "options.yaml", serverVersion: "v1.37.2",
			want: []string{
				"psa/restricted-blocker Job/misc/migrate",
				"psa/restricted-blocker StatefulSet/misc/cache",
				"psa/host-ports StatefulSet/misc/cache",
				"psa/restricted-volumes StatefulSet/misc/cache",
				"psa/unsafe-options Job/misc/migrate",
				"psa/unsafe-options StatefulSet/misc/cache",
			},
		},
		{
			// The pod made from an older template is reported on its own; the template passes.
			name: "pod older than its template", file: "stale.yaml", serverVersion: "v1.37.2",
			want: []string{
				"psa/audit-warn-violation Deployment/ops/worker",
				"psa/restricted-blocker Deployment/ops/worker",
				"psa/host-path Pod/ops/worker-1-x7k2p",
			},
		},
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range checkCases() {
		t.Run(tc.name, func(t *testing.T) {
			inv := load(t, tc.file, tc.serverVersion)
			inv.Settings.IncludeSystem = tc.includeSystem
			fs := findingsOf(t, inv)
			var got []string
			for _, f := range fs {
				got = append(got, key(f))
				if f.Message == "" || f.Severity == 0 || f.Remediation == nil || f.Remediation.Summary == "" {
					t.Errorf("%s: incomplete finding %+v", key(f), f)
				}
				if f.Source == nil || f.Source.File == "" {
					t.Errorf("%s: no source file for an offline finding", key(f))
				}
			}
			sort.Strings(got)
			want := slices.Clone(tc.want)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestEveryCheckFails makes sure each check is shown failing by some fixture
// and passing by another.
func TestEveryCheckFails(t *testing.T) {
	fired := map[string]int{}
	cases := checkCases()
	for _, tc := range cases {
		seen := map[string]bool{}
		for _, w := range tc.want {
			seen[strings.Fields(w)[0]] = true
		}
		for id := range seen {
			fired[id]++
		}
	}
	for _, c := range Checks() {
		if fired[c.ID] == 0 {
			t.Errorf("no fixture makes %s fail", c.ID)
		}
		if fired[c.ID] == len(cases) {
			t.Errorf("no fixture makes %s pass", c.ID)
		}
	}
}

func TestFindingDetails(t *testing.T) {
	fs := findingsOf(t, load(t, "unlabelled.yaml", "v1.37.2"))
	cases := []struct {
		key      string
		severity finding.Severity
		facets   []string // what the control catalogues map to CIS IDs (pkg/controls tests the IDs)
		fields   []string
		message  string
	}{
		{
			key: "psa/privileged Pod/legacy/debug", severity: finding.High,
			facets:  []string{"privileged"},
			fields:  []string{"spec.containers[0].securityContext.privileged"},
			message: `Pod legacy/debug: privileged (container "shell" must not set securityContext.privileged=true) at spec.containers[0].securityContext.privileged`,
		},
		{
			key: "psa/host-namespaces Pod/legacy/debug", severity: finding.High,
			facets: []string{"host-pid", "host-network"},
			fields: []string{"spec.hostNetwork", "spec.hostPID"},
		},
		{
			key: "psa/host-path Pod/legacy/debug", severity: finding.High,

			fields: []string{"spec.volumes[0].hostPath"},
		},
		{
			// Adding SYS_ADMIN breaks baseline: high, where only not dropping ALL is low.
			key: "psa/capabilities Pod/legacy/debug", severity: finding.High,
			facets: []string{"added"},
			fields: []string{"spec.containers[0].securityContext.capabilities.add", "spec.containers[0].securityContext.capabilities.drop"},
		},
		{
			key: "psa/capabilities Deployment/legacy/web", severity: finding.Low,

			fields:  []string{"spec.template.spec.containers[0].securityContext.capabilities.drop"},
			message: `Deployment legacy/web: unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]) at spec.template.spec.containers[0].securityContext.capabilities.drop (2 pods)`,
		},
		{
			key: "psa/run-as-root Deployment/legacy/web", severity: finding.Medium,

			fields: []string{"spec.template.spec.securityContext.runAsNonRoot"},
		},
		{
			key: "psa/seccomp Deployment/legacy/web", severity: finding.Low,

			fields: []string{"spec.template.spec.securityContext.seccompProfile"},
		},
		{
			key: "psa/privilege-escalation Deployment/legacy/web", severity: finding.Medium,

			fields: []string{"spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"},
		},
		{
			key: "psa/enforce-missing Namespace//legacy", severity: finding.Medium,

			message: "Namespace legacy has no pod-security.kubernetes.io/enforce label: pods are admitted at the cluster default (privileged unless the admission configuration sets one); 1 of its 2 workloads need privileged (they fail baseline)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			f, ok := find(fs, tc.key)
			if !ok {
				t.Fatalf("no finding %s", tc.key)
			}
			if f.Severity != tc.severity {
				t.Errorf("severity %s, want %s", f.Severity, tc.severity)
			}
			if !slices.Equal(f.Facets, tc.facets) {
				t.Errorf("facets %v, want %v", f.Facets, tc.facets)
			}
			if tc.fields != nil && !slices.Equal(f.Evidence["fields"].([]string), tc.fields) {
				t.Errorf("fields %v, want %v", f.Evidence["fields"], tc.fields)
			}
			if tc.message != "" && f.Message != tc.message {
				t.Errorf("message\n got %q\nwant %q", f.Message, tc.message)
			}
		})
	}
}

func TestNamespaceSummary(t *testing.T) {
	cases := []struct {
		file, namespace string
		strictest, next api.Level
		counts          Counts
		blocking        []string // object check
		proposal        map[string]string
	}{
		{
			file: "unlabelled.yaml", namespace: "legacy", strictest: api.LevelPrivileged, next: api.LevelBaseline,
			counts:   Counts{Workloads: 2, Pods: 3, Templates: 2, Privileged: 1, Baseline: 1},
			blocking: []string{"Pod legacy/debug capabilities_baseline", "Pod legacy/debug hostNamespaces", "Pod legacy/debug hostPathVolumes", "Pod legacy/debug privileged"},
			proposal: map[string]string{
				WarnLabel: "restricted", WarnVersionLabel: "v1.37", AuditLabel: "restricted", AuditVersionLabel: "v1.37",
				EnforceLabel: "privileged", EnforceVersionLabel: "v1.37",
			},
		},
		{
			file: "freewin.yaml", namespace: "analytics", strictest: api.LevelRestricted,
			counts: Counts{Workloads: 1, Templates: 1, Restricted: 1},
			proposal: map[string]string{
				WarnLabel: "restricted", WarnVersionLabel: "v1.37", AuditLabel: "restricted", AuditVersionLabel: "v1.37",
				EnforceLabel: "restricted", EnforceVersionLabel: "v1.37",
			},
		},
		{
			// The running pod is why the namespace cannot go beyond privileged; enforce
			// baseline stays (never lowered), and the labels are already as proposed.
			file: "stale.yaml", namespace: "ops", strictest: api.LevelPrivileged, next: api.LevelBaseline,
			counts:   Counts{Workloads: 1, Pods: 1, Templates: 2, Privileged: 1},
			blocking: []string{"Pod ops/worker-1-x7k2p hostPathVolumes"},
		},
		{
			// Pinned to v1.22, the pod passes restricted there, but not at the server's v1.37:
			// the enforce labels stay as they are, only audit and warn are added.
			file: "versions.yaml", namespace: "pinned", strictest: api.LevelRestricted,
			counts: Counts{Workloads: 1, Pods: 1, Restricted: 1},
			proposal: map[string]string{
				WarnLabel: "restricted", WarnVersionLabel: "v1.37", AuditLabel: "restricted", AuditVersionLabel: "v1.37",
				EnforceLabel: "restricted", EnforceVersionLabel: "v1.22",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file+"/"+tc.namespace, func(t *testing.T) {
			a := Analyze(load(t, tc.file, "v1.37.2"))
			var sum *NamespaceSummary
			for i := range a.Namespaces {
				if a.Namespaces[i].Name == tc.namespace {
					sum = &a.Namespaces[i]
				}
			}
			if sum == nil {
				t.Fatalf("no summary for %s in %+v", tc.namespace, a.Namespaces)
			}
			if sum.Strictest != tc.strictest || sum.Next != tc.next {
				t.Errorf("strictest %q next %q, want %q %q", sum.Strictest, sum.Next, tc.strictest, tc.next)
			}
			if sum.Counts != tc.counts {
				t.Errorf("counts %+v, want %+v", sum.Counts, tc.counts)
			}
			var blocking []string
			for _, b := range sum.Blocking {
				blocking = append(blocking, b.Object.Kind+" "+b.Object.Namespace+"/"+b.Object.Name+" "+b.Check)
				if len(b.Fields) == 0 {
					t.Errorf("blocker %+v names no field", b)
				}
			}
			sort.Strings(blocking)
			if !slices.Equal(blocking, tc.blocking) {
				t.Errorf("blocking %q, want %q", blocking, tc.blocking)
			}
			switch {
			case tc.proposal == nil && sum.Proposal != nil:
				t.Errorf("unexpected proposal %+v", sum.Proposal)
			case tc.proposal != nil && sum.Proposal == nil:
				t.Errorf("no proposal, want labels %v", tc.proposal)
			case tc.proposal != nil:
				got, _ := json.Marshal(sum.Proposal.Labels)
				want, _ := json.Marshal(tc.proposal)
				if string(got) != string(want) {
					t.Errorf("proposed labels %s, want %s", got, want)
				}
			}
			// The summary is report data: it must encode.
			if _, err := json.Marshal(a); err != nil {
				t.Errorf("encode the analysis: %v", err)
			}
		})
	}
}

func TestStagedLabelChanges(t *testing.T) {
	f, ok := find(findingsOf(t, load(t, "unlabelled.yaml", "v1.37.2")), "psa/enforce-missing Namespace//legacy")
	if !ok {
		t.Fatal("no psa/enforce-missing finding")
	}
	cs := f.Remediation.Changes
	if len(cs) != 2 {
		t.Fatalf("want 2 staged changes, got %+v", cs)
	}
	labels := func(c remedy.Change) map[string]string {
		if c.Action != remedy.Apply || c.Target != (remedy.Target{APIVersion: "v1", Kind: "Namespace", Name: "legacy"}) || c.Risky {
			t.Errorf("change %+v: want a plain apply of Namespace legacy", c)
		}
		l := c.Object.GetLabels()
		return l
	}
	first, second := labels(cs[0]), labels(cs[1])
	if len(first) != 4 || first[WarnLabel] != "restricted" || first[AuditLabel] != "restricted" || first[WarnVersionLabel] != "v1.37" || first[AuditVersionLabel] != "v1.37" {
		t.Errorf("first stage labels %v: want warn and audit restricted v1.37 only", first)
	}
	// The second stage repeats the first's labels: server-side apply would remove them otherwise.
	if len(second) != 6 || second[EnforceLabel] != "privileged" || second[EnforceVersionLabel] != "v1.37" || second[WarnLabel] != "restricted" {
		t.Errorf("second stage labels %v", second)
	}
	if len(cs[1].Breaks) != 0 {
		t.Errorf("enforcing the strictest satisfied level breaks nothing, got %v", cs[1].Breaks)
	}

	// Two findings on one namespace share the label change: only the more severe carries it.
	fs := findingsOf(t, load(t, "freewin.yaml", "v1.37.2"))
	win, _ := find(fs, "psa/free-win Namespace//analytics")
	weak, _ := find(fs, "psa/audit-warn-weaker Namespace//analytics")
	if win.Remediation == nil || len(win.Remediation.Changes) != 2 || weak.Remediation == nil || len(weak.Remediation.Changes) != 0 ||
		!strings.Contains(weak.Remediation.Summary, "psa/free-win") {
		t.Errorf("free-win remediation %+v\naudit-warn-weaker remediation %+v\nwant the changes on free-win only", win.Remediation, weak.Remediation)
	}

	// Without the workloads, no enforce level can be called safe: only the first stage is offered.
	inv := load(t, "unlabelled.yaml", "v1.37.2")
	inv.Loaded[inventory.Pods] = false
	inv.Missing[inventory.Pods] = "forbidden"
	inv.Offline = false
	res := checks.Run(inv, Checks())
	var got *finding.Finding
	for i := range res.Findings {
		if key(res.Findings[i]) == "psa/enforce-missing Namespace//legacy" {
			got = &res.Findings[i]
		}
	}
	if got == nil {
		t.Fatalf("psa/enforce-missing needs only namespaces, but did not run: %+v", res.Skipped)
	}
	if len(got.Remediation.Changes) != 1 || got.Remediation.Changes[0].Object.GetLabels()[EnforceLabel] != "" {
		t.Errorf("with pods unreadable, want only the warn/audit stage, got %+v", got.Remediation.Changes)
	}
	if !slices.ContainsFunc(res.Skipped, func(s finding.Skipped) bool { return s.Check == "psa/free-win" }) {
		t.Errorf("psa/free-win needs pods and should be skipped: %+v", res.Skipped)
	}
}

// TestRestrictedPatch merges the risky securityContext patch into the
// Deployment (list entries by name, as server-side apply does) and judges the result.
func TestRestrictedPatch(t *testing.T) {
	inv := load(t, "rollout.yaml", "v1.37.2")
	f, ok := find(findingsOf(t, inv), "psa/rollout-rejected Deployment/shop/api")
	if !ok {
		t.Fatal("no psa/rollout-rejected finding")
	}
	if len(f.Remediation.Changes) != 1 {
		t.Fatalf("want the securityContext patch, got %+v", f.Remediation)
	}
	c := f.Remediation.Changes[0]
	if !c.Risky || c.Action != remedy.Apply || c.Target.Kind != "Deployment" || c.Target.Name != "api" || c.Target.Namespace != "shop" || len(c.Breaks) == 0 {
		t.Fatalf("want a risky apply of Deployment shop/api saying what it breaks, got %+v", c)
	}
	orig, err := json.Marshal(inv.Deployments[0])
	if err != nil {
		t.Fatal(err)
	}
	patch, err := c.Object.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(orig, patch, appsv1.Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := json.Unmarshal(merged, &d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.Template.Spec.Containers[0].Image != "registry.example.com/api:2.0" {
		t.Errorf("patch lost the container's image: %+v", d.Spec.Template.Spec.Containers[0])
	}
	after := inventory.New()
	for _, k := range inventory.AllKinds() {
		after.Loaded[k] = true
	}
	after.Offline = true
	after.ServerVersion = "v1.37.2"
	after.Namespaces = inv.Namespaces
	after.Deployments = []appsv1.Deployment{d}
	v, ok := Analyze(after).Verdict("Deployment", "shop", "api")
	if !ok || v.Level != api.LevelRestricted {
		t.Errorf("patched Deployment judged %+v, want restricted", v)
	}

	// A privileged pod cannot be fixed by the patch: none is offered.
	dbg, ok := find(findingsOf(t, load(t, "unlabelled.yaml", "v1.37.2")), "psa/restricted-blocker Pod/legacy/debug")
	if !ok {
		t.Fatal("no psa/restricted-blocker for the debug pod")
	}
	if len(dbg.Remediation.Changes) != 0 || !strings.Contains(dbg.Remediation.Summary, "recreate") {
		t.Errorf("debug pod remediation %+v: want no change and advice to recreate", dbg.Remediation)
	}
}

func TestVerdictVersion(t *testing.T) {
	cases := []struct {
		serverVersion, namespace, version string
		level                             api.Level
	}{
		{"v1.37.2", "pinned", "v1.22", api.LevelRestricted},
		{"v1.37.2", "floating", "v1.37", api.LevelBaseline},
		{"v1.22.17", "floating", "v1.22", api.LevelRestricted},
		// Offline without --server-version: the newest the library knows.
		{"", "floating", "latest", api.LevelBaseline},
	}
	for _, tc := range cases {
		a := Analyze(load(t, "versions.yaml", tc.serverVersion))
		v, ok := a.Verdict("Pod", tc.namespace, "rootish")
		if !ok {
			t.Fatalf("no verdict for %s/rootish", tc.namespace)
		}
		if v.Version != tc.version || v.Level != tc.level {
			t.Errorf("server %q, namespace %s: judged %s at %s, want %s at %s", tc.serverVersion, tc.namespace, v.Level, v.Version, tc.level, tc.version)
		}
	}
}

func TestPredictedWarnings(t *testing.T) {
	a := Analyze(load(t, "unlabelled.yaml", "v1.37.2"))
	cases := []struct {
		lv   api.LevelVersion
		want []string
	}{
		{
			lv: api.LevelVersion{Level: api.LevelBaseline, Version: api.LatestVersion()},
			want: []string{
				`existing pods in namespace "legacy" violate the new PodSecurity enforce level "baseline:latest"`,
				"debug: non-default capabilities, host namespaces, hostPath volumes, privileged",
			},
		},
		{
			lv: api.LevelVersion{Level: api.LevelRestricted, Version: api.MajorMinorVersion(1, 37)},
			want: []string{
				`existing pods in namespace "legacy" violate the new PodSecurity enforce level "restricted:v1.37"`,
				"debug: host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, restricted volume types, runAsNonRoot != true, seccompProfile",
				"web-6d4f-aaaaa (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
			},
		},
		{lv: api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}},
	}
	for _, tc := range cases {
		if got := a.PredictedWarnings("legacy", tc.lv); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.lv, got, tc.want)
		}
	}
}

func TestPolicyVersion(t *testing.T) {
	cases := []struct {
		in, want string
		err      bool
	}{
		{"v1.37.2", "v1.37", false},
		{"v1.29.4-eks-036c24b", "v1.29", false},
		{"1.30", "v1.30", false},
		{"v1.31.0+k3s1", "v1.31", false},
		{"", "latest", false},
		{"v2.0.0", "", true},
		{"banana", "", true},
	}
	for _, tc := range cases {
		v, err := PolicyVersion(tc.in)
		if (err != nil) != tc.err || (err == nil && v.String() != tc.want) {
			t.Errorf("PolicyVersion(%q) = %s, %v; want %s, error %v", tc.in, v, err, tc.want, tc.err)
		}
	}
}

// TestManifestDefaults judges manifests as the API server stores them: a
// volume with no source is an emptyDir, and a hostNetwork Pod's ports are host ports.
func TestManifestDefaults(t *testing.T) {
	a := Analyze(load(t, "defaults.yaml", "v1.37.2"))
	v, _ := a.Verdict("Pod", "defaults", "scratch")
	if v.Level != api.LevelRestricted {
		t.Errorf("pod with a source-less volume judged %+v, want restricted (the server makes it an emptyDir)", v)
	}
	v, _ = a.Verdict("Pod", "defaults", "hostnet")
	if !slices.ContainsFunc(v.Baseline, func(x Violation) bool { return x.Check == "hostPorts" }) {
		t.Errorf("hostNetwork pod violations %+v: want hostPorts (the server sets hostPort = containerPort)", v.Baseline)
	}
	v, _ = a.Verdict("Deployment", "defaults", "hostnet")
	if slices.ContainsFunc(v.Baseline, func(x Violation) bool { return x.Check == "hostPorts" }) {
		t.Errorf("hostNetwork template violations %+v: templates get no hostPort default since v1.28", v.Baseline)
	}
	if len(a.Notes) != 0 {
		t.Errorf("unexpected notes %v", a.Notes)
	}
	if n := Analyze(load(t, "defaults.yaml", "v1.99.0")).Notes; len(n) != 1 || !strings.Contains(n[0], "newer than") {
		t.Errorf("a server newer than the library should be noted, got %v", n)
	}
}
