package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// tierCRDs are the CRDs TestNetpolTiersLiveAndOfflineAgree installs.
var tierCRDs = []string{
	"crd/clusternetworkpolicies.policy.networking.k8s.io",
	"crd/adminnetworkpolicies.policy.networking.k8s.io",
	"crd/baselineadminnetworkpolicies.policy.networking.k8s.io",
}

// TestNetpolTiersLiveAndOfflineAgree installs the cluster-scoped network
// policy CRDs (ClusterNetworkPolicy from the network-policy-api module's own
// YAML, AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1 written
// from the published types), seeds issue 15's scenario and requires the
// live audit, read through discovery and the dynamic client, and the audit
// of the same files to agree on every finding, the coverage and every
// can-reach answer; before the CRDs exist the kinds read as not installed.
// The CRDs, and with them their objects, are removed at the end.
func TestNetpolTiersLiveAndOfflineAgree(t *testing.T) {
	t.Cleanup(func() {
		args := append([]string{"delete", "--wait=true", "--ignore-not-found"}, tierCRDs...)
		if res, err := env.Kubectl(nil, args...); err != nil || res.Code != 0 {
			t.Errorf("kubectl %s: %v %s", strings.Join(args, " "), err, res.Stderr)
		}
		for _, ns := range []string{"netpol-tier-shop", "netpol-tier-guest", "netpol-tier-front"} {
			_, _ = env.Kubectl(nil, "delete", "namespace", ns, "--wait=false", "--ignore-not-found")
		}
	})

	// Not installed: said once, in the report's metadata, and nothing is skipped.
	before, _ := report(t, env.Kubeconfig, "netpol")
	if st := inputStatus(before); st["clusternetworkpolicies"] != finding.InputNotInstalled ||
		st["adminnetworkpolicies"] != finding.InputNotInstalled || st["baselineadminnetworkpolicies"] != finding.InputNotInstalled {
		t.Errorf("without the CRDs: metadata.input %v, want not-installed", st)
	}
	if len(before.Summary.Skipped) != 0 {
		t.Errorf("without the CRDs checks are skipped: %+v", before.Summary.Skipped)
	}

	cnpCRD := clusterNetworkPolicyCRD(t, "experimental")
	objects := testdata("netpol-tiers", "objects")
	installCRDs(t, []string{cnpCRD, testdata("netpol-tiers", "crd")}, tierCRDs, objects)

	live, _ := report(t, env.Kubeconfig, "netpol")
	offline, _ := report(t, env.Kubeconfig, "netpol", "-f", objects)
	inTier := func(ns string) bool { return strings.HasPrefix(ns, "netpol-tier-") }
	want := []string{
		"netpol/namespace-without-default-deny-egress namespace/netpol-tier-front",
		"netpol/namespace-without-default-deny-egress namespace/netpol-tier-guest",
		"netpol/namespace-without-default-deny-egress namespace/netpol-tier-shop",
		"netpol/pods-not-isolated-egress namespace/netpol-tier-front",
		"netpol/pods-not-isolated-egress namespace/netpol-tier-guest",
		"netpol/pods-not-isolated-egress namespace/netpol-tier-shop",
	}
	sameLiveAndOffline(t, "netpol-tier-*", want, onNamespaces(t, live, inTier), onNamespaces(t, offline, inTier))

	st := inputStatus(live)
	for kind, n := range map[string]int{"clusternetworkpolicies": 3, "adminnetworkpolicies": 2, "baselineadminnetworkpolicies": 1} {
		if st[kind] != finding.InputListed || inputCount(live, kind) != n {
			t.Errorf("live metadata.input %s: %s, %d objects; want listed, %d", kind, st[kind], inputCount(live, kind), n)
		}
		if got := inputCount(offline, kind); got != n {
			t.Errorf("offline metadata.input %s: %d objects, want %d", kind, got, n)
		}
	}

	// front has no NetworkPolicy, and the Baseline tier isolates it for ingress.
	_, liveRows := netpolCoverage(t, live, "netpol-tier-")
	_, offRows := netpolCoverage(t, offline, "netpol-tier-")
	if !slices.Equal(liveRows, offRows) || len(liveRows) != 3 {
		t.Errorf("coverage differs\nlive:    %+v\noffline: %+v", liveRows, offRows)
	}
	wantFront := netpol.NamespaceCoverage{Namespace: "netpol-tier-front", ClusterPolicies: 2, Workloads: 1, Pods: 1,
		IngressIsolated: 1, IngressPercent: 100, DefaultDenyIngress: true}
	if len(liveRows) == 0 || liveRows[0] != wantFront {
		t.Errorf("front coverage %+v, want %+v", liveRows, wantFront)
	}

	// Every pod pair, live and offline: the ports allowed and why.
	allowed := map[string][]string{
		"netpol-tier-guest/probe-0 netpol-tier-shop/web-0": {"TCP 80"},
		"netpol-tier-front/fe-0 netpol-tier-shop/web-0":    {"TCP 80"},
		"netpol-tier-shop/web-0 netpol-tier-shop/db-0":     {"TCP 5432"},
	}
	namespaces := []string{"netpol-tier-shop", "netpol-tier-guest", "netpol-tier-front"}
	pairs := liveOfflinePairs(t, namespaces, objects, func(pair string, l netpol.Reach) {
		if !slices.Equal(l.AllowedPorts, allowed[pair]) || l.Allowed != (allowed[pair] != nil) {
			t.Errorf("%s: allowed %v ports %v, want %v\ningress: %s", pair, l.Allowed, l.AllowedPorts, allowed[pair], l.Ingress.Reason)
		}
	})
	if pairs != 12 {
		t.Errorf("%d pod pairs, want 12", pairs)
	}

	// The answer names the policy and tier that decided, and what it came before.
	res := mustHarden(t, "netpol", "can-reach", "netpol-tier-guest/probe-0", "netpol-tier-shop/db-0", "--port", "5432", "-o", "wide")
	for _, want := range []string{"no", "denied by AdminNetworkPolicy netpol-tier-deny-guest (Admin, priority 5) ingress rule 0 (no-guests)",
		"before NetworkPolicy netpol-tier-shop/db-ingress"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("can-reach table lacks %q:\n%s", want, res.Stdout)
		}
	}

	// The auditor role lets its holder list them.
	role := mustHarden(t, "auditor-role", "netpol")
	var cr rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(role.Stdout), &cr); err != nil {
		t.Fatal(err)
	}
	var granted []string
	for _, r := range cr.Rules {
		if slices.Contains(r.APIGroups, "policy.networking.k8s.io") {
			granted = append(granted, r.Resources...)
		}
	}
	if !slices.Equal(granted, []string{"adminnetworkpolicies", "baselineadminnetworkpolicies", "clusternetworkpolicies"}) {
		t.Errorf("auditor role grants %v in policy.networking.k8s.io", granted)
	}
}

// clusterNetworkPolicyCRD returns the ClusterNetworkPolicy CRD of a release
// channel (standard or experimental) in the network-policy-api module go.mod
// requires, from the module cache.
func clusterNetworkPolicyCRD(t *testing.T, channel string) string {
	t.Helper()
	goList := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/network-policy-api")
	goList.Dir = root
	out, err := goList.Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("locate sigs.k8s.io/network-policy-api in the module cache: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", channel, "policy.networking.k8s.io_clusternetworkpolicies.yaml")
}

// canReach runs can-reach -o json and returns its answers.
func canReach(t *testing.T, src, dst string, args ...string) []netpol.Reach {
	t.Helper()
	res := mustHarden(t, append([]string{"netpol", "can-reach", src, dst, "-o", "json"}, args...)...)
	var list struct {
		Items []netpol.Reach `json:"items"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &list); err != nil {
		t.Fatalf("can-reach %s %s: %v\n%s", src, dst, err, res.Stdout)
	}
	return list.Items
}

func tierJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inputStatus returns the status of each kind in the report's metadata.input.
func inputStatus(r *finding.Report) map[string]string {
	out := map[string]string{}
	if r.Metadata.Input != nil {
		for _, k := range r.Metadata.Input.Kinds {
			out[k.Kind] = k.Status
		}
	}
	return out
}

func inputCount(r *finding.Report, kind string) int {
	if r.Metadata.Input != nil {
		for _, k := range r.Metadata.Input.Kinds {
			if k.Kind == kind {
				return k.Count
			}
		}
	}
	return 0
}

// installCRDs applies CRD manifests, waits until the server establishes
// them, then applies objects of those kinds, retrying while discovery
// catches up.
func installCRDs(t *testing.T, crds []string, names []string, objects string) {
	t.Helper()
	if err := env.Apply(crds...); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, names...)
	if res, err := env.Kubectl(nil, args...); err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRDs: %v %s", err, res.Stderr)
	}
	var applyErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if applyErr = env.Apply(objects); applyErr == nil {
			return
		}
	}
	t.Fatal(applyErr)
}

// liveOfflinePairs asks can-reach for every pod pair of the namespaces, live
// and offline from objects, fails where the two answers differ, hands each
// live answer to check and returns how many pairs were judged.
func liveOfflinePairs(t *testing.T, namespaces []string, objects string, check func(pair string, live netpol.Reach)) int {
	t.Helper()
	pairs := 0
	for _, src := range namespaces {
		for _, dst := range namespaces {
			l := canReach(t, src+"/*", dst+"/*")
			o := canReach(t, src+"/*", dst+"/*", "-f", objects)
			if len(l) != len(o) {
				t.Fatalf("%s -> %s: %d answers live, %d offline", src, dst, len(l), len(o))
			}
			for i := range l {
				pairs++
				pair := l[i].Source + " " + l[i].Destination
				if lb, ob := tierJSON(t, l[i]), tierJSON(t, o[i]); lb != ob {
					t.Errorf("%s differs\nlive:    %s\noffline: %s", pair, lb, ob)
				}
				check(pair, l[i])
			}
		}
	}
	return pairs
}
