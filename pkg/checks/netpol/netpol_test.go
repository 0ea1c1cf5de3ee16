package netpol

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// runChecks runs every netpol check through the registry, as the plugin does,
// and returns "resource severity" lines per check.
func runChecks(t *testing.T, inv *inventory.Inventory) (map[string][]string, []finding.Finding) {
	t.Helper()
	reg, err := checks.NewRegistry(Checks())
	if err != nil {
		t.Fatal(err)
	}
	res := checks.Run(inv, reg.All())
	if len(res.Skipped) > 0 {
		t.Fatalf("skipped checks: %+v", res.Skipped)
	}
	got := map[string][]string{}
	for _, f := range res.Findings {
		got[f.Check] = append(got[f.Check], fmt.Sprintf("%s %s", f.Resource, f.Severity))
	}
	for _, v := range got {
		sort.Strings(v)
	}
	return got, res.Findings
}

func TestChecks(t *testing.T) {
	tests := []struct {
		fixture string
		want    map[string][]string
	}{
		{"checks/findings.yaml", map[string][]string{
			IDNamespaceWithoutPolicy:   {"namespace/bare medium"},
			IDNoDefaultDenyIngress:     {"namespace/partial medium"},
			IDNoDefaultDenyEgress:      {"namespace/partial low"},
			IDPodsNotIsolatedIngress:   {"namespace/partial medium"},
			IDPodsNotIsolatedEgress:    {"namespace/partial low"},
			IDPolicySelectsNoPod:       {"networkpolicy/partial/typo low"},
			IDPolicyAllowsAll:          {"networkpolicy/locked/allow-everyone medium", "networkpolicy/locked/open-https low"},
			IDInertRule:                {"networkpolicy/locked/inert low"},
			IDEgressWithoutDNS:         {"namespace/locked low"},
			IDNoEnforcingCNIRecognised: {"namespace/kube-system info"},
		}},
		{"checks/clean.yaml", map[string][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			got, _ := runChecks(t, load(t, tc.fixture))
			for id, want := range tc.want {
				if !slices.Equal(got[id], want) {
					t.Errorf("%s: got %v, want %v", id, got[id], want)
				}
			}
			for id, g := range got {
				if _, ok := tc.want[id]; !ok {
					t.Errorf("%s: unexpected findings %v", id, g)
				}
			}
		})
	}
	// Every check must be shown failing above.
	for _, c := range Checks() {
		if _, ok := tests[0].want[c.ID]; !ok {
			t.Errorf("check %s has no failing case in findings.yaml", c.ID)
		}
	}
}

// TestFindingDetails pins the messages and evidence a person reads.
func TestFindingDetails(t *testing.T) {
	_, fs := runChecks(t, load(t, "checks/findings.yaml"))
	byCheck := map[string]finding.Finding{}
	for _, f := range fs {
		byCheck[f.Check+" "+f.Resource.Name] = f
	}
	tests := []struct {
		key      string
		contains []string
		evidence string
		want     any
	}{
		// partial holds pods and a Deployment (scaled to zero): counted as workloads, named kind/name.
		{IDPodsNotIsolatedIngress + " partial", []string{"1 of 3 workloads", "partial", "ingress: pod/worker"}, "openPods", 1},
		{IDPodsNotIsolatedIngress + " partial", nil, "workloads", []string{"pod/worker"}},
		{IDPodsNotIsolatedEgress + " partial", []string{"3 of 3 workloads", "deployment/batch, pod/web, pod/worker"}, "openPods", 2},
		{IDNoDefaultDenyIngress + " partial", []string{"no default-deny ingress policy: 1 of its 3 workloads is open for ingress, and so is every new pod that no policy selects"}, "notIsolatedWorkloads", []string{"pod/worker"}},
		{IDNoDefaultDenyEgress + " partial", []string{"all 3 workloads are open for egress"}, "openPods", 2},
		{IDEgressWithoutDNS + " locked", []string{"2 pods in namespace locked isolated", "api, public"}, "policies", []string{"default-deny", "open-https"}},
		{IDInertRule + " inert", []string{"1 egress rule that", "[Ingress]"}, "", nil},
		{IDPolicySelectsNoPod + " typo", []string{"app=wbe"}, "", nil},
		{IDPolicyAllowsAll + " open-https", []string{"egress[0] on TCP 443", "ipBlock 0.0.0.0/0 (except 1 ranges)"}, "", nil},
		{IDPolicyAllowsAll + " allow-everyone", []string{"ingress[0] on every port", "no peers listed"}, "", nil},
		{IDNoEnforcingCNIRecognised + " kube-system", []string{"unknown"}, "status", "unknown"},
		{IDNamespaceWithoutPolicy + " bare", []string{"its 1 pod accepts and sends any traffic"}, "pods", 1},
		{IDNamespaceWithoutPolicy + " bare", nil, "workloads", 1},
	}
	for _, tc := range tests {
		f, ok := byCheck[tc.key]
		if !ok {
			t.Errorf("%s: no finding", tc.key)
			continue
		}
		for _, c := range tc.contains {
			if !strings.Contains(f.Message, c) {
				t.Errorf("%s: message %q does not contain %q", tc.key, f.Message, c)
			}
		}
		if tc.evidence != "" && fmt.Sprint(f.Evidence[tc.evidence]) != fmt.Sprint(tc.want) {
			t.Errorf("%s: evidence %s = %v, want %v", tc.key, tc.evidence, f.Evidence[tc.evidence], tc.want)
		}
		if f.Source == nil {
			t.Errorf("%s: source %v must be filled", tc.key, f.Source)
		}
	}
}

func TestSystemNamespacesWithPolicies(t *testing.T) {
	// kube-system gets no namespace-level finding, but once it has policies its
	// unisolated pods and the policies themselves are judged like any other.
	inv := load(t, "checks/findings.yaml", "checks/kube-system-policy.yaml")
	got, _ := runChecks(t, inv)
	if !slices.Contains(got[IDPodsNotIsolatedIngress], "namespace/kube-system medium") {
		t.Errorf("pods-not-isolated-ingress: %v, want kube-system", got[IDPodsNotIsolatedIngress])
	}
	for _, id := range []string{IDNamespaceWithoutPolicy, IDNoDefaultDenyIngress, IDNoDefaultDenyEgress} {
		for _, r := range got[id] {
			if strings.Contains(r, "kube-system") {
				t.Errorf("%s reports %s", id, r)
			}
		}
	}
	if !slices.Contains(got[IDPolicySelectsNoPod], "networkpolicy/kube-system/metrics low") {
		t.Errorf("policy-selects-no-pod: %v, want kube-system/metrics", got[IDPolicySelectsNoPod])
	}

	// --include-system reports kube-system like any namespace.
	inv = load(t, "checks/findings.yaml")
	inv.Settings.IncludeSystem = true
	got, _ = runChecks(t, inv)
	if !slices.Equal(got[IDNamespaceWithoutPolicy], []string{"namespace/bare medium", "namespace/kube-system medium"}) {
		t.Errorf("with --include-system, namespace-without-policy: %v", got[IDNamespaceWithoutPolicy])
	}
}

func TestEmptyNamespaceWithoutPolicyIsLow(t *testing.T) {
	got, fs := runChecks(t, load(t, "checks/findings.yaml", "checks/empty-namespace.yaml"))
	if !slices.Equal(got[IDNamespaceWithoutPolicy], []string{"namespace/bare medium", "namespace/empty low"}) {
		t.Errorf("namespace-without-policy: %v", got[IDNamespaceWithoutPolicy])
	}
	for _, f := range fs {
		if f.Resource.Name == "empty" && !strings.Contains(f.Message, "every pod started in it") {
			t.Errorf("message %q", f.Message)
		}
	}
}

func TestDetectCNI(t *testing.T) {
	tests := []struct {
		fixture string
		status  CNIStatus
		enf     []string
		other   []string
	}{
		{"checks/clean.yaml", CNIEnforcing, []string{"calico"}, nil},
		{"checks/findings.yaml", CNIUnknown, nil, nil},
		{"checks/cni-flannel.yaml", CNIUnknown, nil, []string{"flannel"}},
		{"checks/cni-cilium-pods.yaml", CNIEnforcing, []string{"cilium"}, nil},
	}
	for _, tc := range tests {
		c := DetectCNI(load(t, tc.fixture))
		if c.Status != tc.status || !slices.Equal(c.Enforcing, tc.enf) && len(tc.enf)+len(c.Enforcing) > 0 ||
			!slices.Equal(c.Other, tc.other) && len(tc.other)+len(c.Other) > 0 {
			t.Errorf("%s: %+v, want %s %v %v", tc.fixture, c, tc.status, tc.enf, tc.other)
		}
	}
}
