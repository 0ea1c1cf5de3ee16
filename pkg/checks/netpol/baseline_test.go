package netpol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// withAlternative returns "check namespace" of every finding that offers the
// Baseline alternative, and that alternative.
func withAlternative(t *testing.T, fs []finding.Finding) ([]string, *remedy.Remediation) {
	t.Helper()
	var got []string
	var alt *remedy.Remediation
	for _, f := range fs {
		if f.Remediation == nil || len(f.Remediation.Alternatives) == 0 {
			continue
		}
		if len(f.Remediation.Alternatives) != 1 {
			t.Fatalf("%s %s: %d alternatives", f.Check, f.Resource.Name, len(f.Remediation.Alternatives))
		}
		got = append(got, f.Check+" "+f.Resource.Name)
		alt = &f.Remediation.Alternatives[0]
	}
	slices.Sort(got)
	return got, alt
}

// The Baseline alternative is offered exactly where the cluster serves
// ClusterNetworkPolicy, on the findings it fixes, and not where it could
// shadow a Baseline policy, undo a person's edit, or reach beyond -n.
func TestBaselineAlternativeOffered(t *testing.T) {
	fixes := []string{
		IDNoDefaultDenyEgress + " legacy",
		IDNoDefaultDenyEgress + " shop",
		IDNoDefaultDenyIngress + " shop",
		IDNamespaceWithoutPolicy + " guest",
	}
	tests := []struct {
		name      string
		files     []string
		namespace string // -n
		want      []string
	}{
		{name: "not served: the remedies are the NetworkPolicies alone", files: []string{"baseline/cluster.yaml"}},
		{name: "served: the files hold the CRD", files: []string{"baseline/cluster.yaml", "baseline/crd.yaml"}, want: fixes},
		{name: "served: the files hold a ClusterNetworkPolicy", files: []string{"baseline/cluster.yaml", "baseline/admin-policy.yaml"}, want: fixes},
		{name: "-n narrows the audit: nothing cluster-wide", files: []string{"baseline/cluster.yaml", "baseline/crd.yaml"}, namespace: "shop"},
		{name: "a BaselineAdminNetworkPolicy: its order is undefined", files: []string{"baseline/cluster.yaml", "baseline/crd.yaml", "baseline-blocked/banp.yaml"}},
		{name: "another Baseline policy holds priority 1000", files: []string{"baseline/cluster.yaml", "baseline-blocked/priority-1000.yaml"}},
		{name: "the policy exists, edited: not proposed again", files: []string{"baseline/cluster.yaml", "baseline-blocked/edited.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := load(t, tt.files...)
			inv.Settings.Namespace = tt.namespace
			_, fs := runChecks(t, inv)
			got, _ := withAlternative(t, fs)
			if !slices.Equal(got, tt.want) {
				t.Errorf("alternatives on %v, want %v", got, tt.want)
			}
			for _, f := range fs {
				if f.Remediation != nil && len(f.Remediation.Alternatives) == 0 && strings.Contains(f.Remediation.Summary, "Alternative") {
					t.Errorf("%s %s: the summary names an alternative it does not carry: %s", f.Check, f.Resource.Name, f.Remediation.Summary)
				}
			}
		})
	}

	// Not served, the remedies are exactly those of a cluster without the tiers.
	_, plain := runChecks(t, load(t, "baseline/cluster.yaml"))
	_, served := runChecks(t, load(t, "baseline/cluster.yaml", "baseline/crd.yaml"))
	if len(plain) != len(served) {
		t.Fatalf("%d findings not served, %d served", len(plain), len(served))
	}
	for i := range plain {
		p, s := plain[i].Remediation, served[i].Remediation
		if (p == nil) != (s == nil) || p == nil {
			continue
		}
		pc, _ := json.Marshal(p.Changes)
		sc, _ := json.Marshal(s.Changes)
		if !bytes.Equal(pc, sc) || !strings.HasPrefix(s.Summary, p.Summary) {
			t.Errorf("%s %s: served, the NetworkPolicy remedy itself changed:\n%s\n%s", plain[i].Check, plain[i].Resource.Name, pc, sc)
		}
	}
}

// The proposed object is a ClusterNetworkPolicy of network-policy-api's
// v1alpha2 types, field for field, and the model reads all of it.
func TestBaselineDenyPolicyIsValid(t *testing.T) {
	b, err := json.Marshal(BaselineDenyPolicy())
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cnp npav1alpha2.ClusterNetworkPolicy
	if err := dec.Decode(&cnp); err != nil {
		t.Fatalf("not a v1alpha2 ClusterNetworkPolicy: %v\n%s", err, b)
	}
	if cnp.APIVersion != npav1alpha2.GroupVersion.String() || cnp.Kind != "ClusterNetworkPolicy" || cnp.Name != BaselineDenyName ||
		cnp.Spec.Tier != npav1alpha2.BaselineTier || cnp.Spec.Priority != BaselineDenyPriority {
		t.Errorf("object %+v %+v", cnp.TypeMeta, cnp.Spec)
	}
	if s := cnp.Spec.Subject.Namespaces; s == nil || cnp.Spec.Subject.Pods != nil || len(s.MatchExpressions) != 1 ||
		!slices.Equal(s.MatchExpressions[0].Values, []string{"kube-node-lease", "kube-public", "kube-system"}) {
		t.Errorf("subject %+v", cnp.Spec.Subject)
	}
	if len(cnp.Spec.Egress) != 2 || cnp.Spec.Egress[0].Action != npav1alpha2.ClusterNetworkPolicyRuleActionAccept || cnp.Spec.Egress[1].Action != npav1alpha2.ClusterNetworkPolicyRuleActionDeny {
		t.Errorf("egress: the DNS Accept must come before the Deny: %+v", cnp.Spec.Egress)
	}
	p := fromCNP(&cnp)
	if len(p.NotModelled) != 0 || !denyAll(p.Ingress[0]) || !denyAll(p.Egress[1]) || denyAll(p.Egress[0]) {
		t.Errorf("the model reads it as %+v", p)
	}
}

// Applying the alternative to the files, the findings that offered it are
// gone, and can-reach follows the tiers: the Baseline deny decides for the
// pods no NetworkPolicy selects, NetworkPolicy for those it selects, and the
// cluster DNS stays reachable.
func TestBaselineAlternativeFixes(t *testing.T) {
	inv := load(t, "baseline/cluster.yaml", "baseline/crd.yaml")
	_, fs := runChecks(t, inv)
	offered, alt := withAlternative(t, fs)
	if alt == nil || len(alt.Changes) != 1 {
		t.Fatalf("alternative %+v", alt)
	}
	ch := alt.Changes[0]
	if ch.Action != remedy.Apply || ch.Target != (remedy.Target{APIVersion: "policy.networking.k8s.io/v1alpha2", Kind: "ClusterNetworkPolicy", Name: BaselineDenyName}) || ch.Risky {
		t.Errorf("change %+v", ch)
	}
	for _, want := range []string{"Baseline tier decides only for pods that no NetworkPolicy selects", "kube-system pods k8s-app=kube-dns, UDP and TCP 53",
		"Priority 1000", "ingress from outside the pod network", "those created later too"} {
		if !strings.Contains(alt.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, alt.Summary)
		}
	}
	// legacy's ingress is decided by its allow-all NetworkPolicy, web's egress by web-egress.
	wantBreaks := []string{
		"pod guest/probe-0 loses all ingress from pods",
		"pod guest/probe-0 loses all egress except DNS",
		"pod legacy/app-0 loses all egress except DNS",
		"pod shop/web-0 loses all ingress from pods",
		"pod shop/db-0 loses all egress except DNS",
	}
	if !slices.Equal(ch.Breaks, wantBreaks) {
		t.Errorf("breaks\n%s\nwant\n%s", strings.Join(ch.Breaks, "\n"), strings.Join(wantBreaks, "\n"))
	}

	after := load(t, "baseline/cluster.yaml", "baseline/crd.yaml")
	if err := after.Put(ch.Object.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	got, fsAfter := runChecks(t, after)
	for _, f := range fsAfter {
		if slices.Contains(offered, f.Check+" "+f.Resource.Name) {
			t.Errorf("still reported after the alternative: %s", f.Message)
		}
	}
	if want := []string{"namespace/legacy medium"}; !slices.Equal(got[IDNoDefaultDenyIngress], want) {
		t.Errorf("%s %v, want %v (the Baseline tier cannot undo an allow-all NetworkPolicy)", IDNoDefaultDenyIngress, got[IDNoDefaultDenyIngress], want)
	}
	if len(got[IDEgressWithoutDNS]) != 0 || len(got[IDPodsNotIsolatedEgress]) != 0 {
		t.Errorf("after the alternative: egress-without-dns %v, pods-not-isolated-egress %v", got[IDEgressWithoutDNS], got[IDPodsNotIsolatedEgress])
	}
	if _, again := withAlternative(t, fsAfter); again != nil {
		t.Error("the alternative is offered again once it is in place")
	}
	for _, n := range ComputeCoverage(after).Namespaces {
		switch n.Namespace {
		case "guest", "shop":
			if !n.DefaultDenyIngress || !n.DefaultDenyEgress || n.IngressIsolated != n.Workloads || n.EgressIsolated != n.Workloads {
				t.Errorf("%s after the alternative: %+v", n.Namespace, n)
			}
		case "kube-system":
			if n.ClusterPolicies != 0 || n.IngressIsolated != 0 {
				t.Errorf("kube-system is left out, yet: %+v", n)
			}
		}
	}

	baseline := "ClusterNetworkPolicy " + BaselineDenyName + " (Baseline, priority 1000)"
	for _, q := range []struct {
		src, dst, port string
		allowed        bool
		why            string // in the egress or ingress reason
	}{
		{"guest/probe-0", "shop/web-0", "80", false, baseline + " egress rule 1 (default-deny)"},
		{"guest/probe-0", "kube-system/coredns-0", "53/UDP", true, baseline + " egress rule 0 (allow-dns)"},
		{"guest/probe-0", "kube-system/coredns-0", "dns-tcp", true, "allow-dns"},
		{"guest/probe-0", "kube-system/coredns-0", "9153", false, "default-deny"},
		{"shop/db-0", "kube-system/coredns-0", "53/UDP", true, "allow-dns"},
		// NetworkPolicy decides for the pods it selects, both ways.
		{"shop/web-0", "shop/db-0", "5432", true, "shop/web-egress"},
		{"shop/web-0", "guest/probe-0", "80", false, "shop/web-egress"},
		// Ingress from another pod of the namespace is denied too.
		{"shop/db-0", "shop/web-0", "80", false, "default-deny"},
	} {
		r := reachOne(t, after, q.src, q.dst, q.port)
		if r.Allowed != q.allowed || !strings.Contains(r.Egress.Reason+" "+r.Ingress.Reason, q.why) {
			t.Errorf("%s -> %s %s: allowed %v, want %v because of %q\negress: %s\ningress: %s", q.src, q.dst, q.port, r.Allowed, q.allowed, q.why, r.Egress.Reason, r.Ingress.Reason)
		}
	}
}

// Every finding that offers the alternative carries it, so its Breaks stay
// short on a cluster of many namespaces: the lines past the bound are counted.
func TestBaselineBreaksBounded(t *testing.T) {
	crd, err := os.ReadFile(filepath.Join("testdata", "baseline", "crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.Write(crd)
	for i := range 15 {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: app, namespace: team-%02d}\nspec: {containers: [{name: app, image: app}]}\n", i)
	}
	path := filepath.Join(t.TempDir(), "teams.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.FromFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, fs := runChecks(t, inv)
	offered, alt := withAlternative(t, fs)
	if len(offered) != 15 || alt == nil {
		t.Fatalf("alternatives on %v", offered)
	}
	breaks := alt.Changes[0].Breaks
	if len(breaks) != maxBaselineBreaks+1 || breaks[0] != "pod team-00/app loses all ingress from pods" ||
		breaks[maxBaselineBreaks-1] != "pod team-09/app loses all egress except DNS" ||
		breaks[maxBaselineBreaks] != "and 10 more lines like these, in 5 namespaces (each namespace's own remedy names them)" {
		t.Errorf("breaks:\n%s", strings.Join(breaks, "\n"))
	}
}
