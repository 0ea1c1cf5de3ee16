package controls

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

func library(t *testing.T) *Library {
	t.Helper()
	l, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func benchmark(t *testing.T, l *Library, id string) *Catalogue {
	t.Helper()
	c, ok := l.Get(id)
	if !ok {
		t.Fatalf("no catalogue %s", id)
	}
	return c
}

func TestEveryBenchmarkIsThere(t *testing.T) {
	l := library(t)
	if got := strings.Join(l.BenchmarkIDs(), " "); got != "cis-1.9 cis-1.10 cis-1.11 cis-1.12 cis-2.0" {
		t.Errorf("benchmarks %s", got)
	}
	for _, fw := range Frameworks() {
		if _, err := l.Framework(fw, l.Newest()); err != nil {
			t.Error(err)
		}
	}
}

// The CIS IDs a finding carries depend on the benchmark version: the
// corrections of issue 17, version by version (kube-bench's cfg/cis-*).
func TestControlIDsPerBenchmarkVersion(t *testing.T) {
	l := library(t)
	type want struct {
		check  string
		facets []string
		cis    []string // the finding's CIS controls, exactly
	}
	v112 := []want{
		{"psa/host-path", nil, []string{"CIS-5.2.11"}},
		{"psa/host-ports", nil, []string{"CIS-5.2.12"}},
		{"psa/seccomp", nil, []string{"CIS-5.6.2"}},
		{"workload/default-namespace", nil, []string{"CIS-5.6.4"}},
		{"psa/privileged", []string{"windows-host-process"}, []string{"CIS-5.2.10"}},
		{"psa/privileged", []string{"privileged"}, []string{"CIS-5.2.2"}},
		{"psa/host-namespaces", []string{"host-pid", "host-network"}, []string{"CIS-5.2.3", "CIS-5.2.5"}},
		{"psa/capabilities", []string{"added"}, []string{"CIS-5.2.8", "CIS-5.2.9"}},
		{"cluster/apiserver-flags", []string{"anonymous-auth"}, []string{"CIS-1.2.1"}},
		{"cluster/apiserver-flags", []string{"authorization-not-always-allow"}, []string{"CIS-1.2.6"}},
		{"cluster/apiserver-flags", []string{"authorization-node"}, []string{"CIS-1.2.7"}},
		{"cluster/apiserver-flags", []string{"authorization-rbac"}, []string{"CIS-1.2.8"}},
		{"cluster/apiserver-flags", []string{"admission-node-restriction"}, []string{"CIS-1.2.14"}},
		{"cluster/apiserver-flags", []string{"profiling"}, []string{"CIS-1.2.15"}},
		{"cluster/apiserver-flags", []string{"audit-log-path"}, []string{"CIS-1.2.16"}},
		{"cluster/apiserver-flags", []string{"audit-log-maxage"}, []string{"CIS-1.2.17"}},
		{"cluster/apiserver-flags", []string{"audit-log-maxbackup"}, []string{"CIS-1.2.18"}},
		{"cluster/apiserver-flags", []string{"audit-log-maxsize"}, []string{"CIS-1.2.19"}},
		{"cluster/encryption-at-rest", nil, []string{"CIS-1.2.27"}},
		{"cluster/apiserver-flags", []string{"tls-cipher-suites"}, []string{"CIS-1.2.29"}},
		{"cluster/apiserver-flags", []string{"service-account-extend-token-expiration"}, []string{"CIS-1.2.30"}},
		{"cluster/apiserver-flags", []string{"audit-policy-file"}, []string{"CIS-3.2.1"}},
		{"cluster/apiserver-flags", []string{"tls-min-version"}, nil},
		{"cluster/controller-manager-flags", []string{"rotate-kubelet-server-certificate"}, []string{"CIS-1.3.6"}},
		{"cluster/scheduler-flags", []string{"bind-address"}, []string{"CIS-1.4.2"}},
		{"cluster/etcd-flags", []string{"cert-file"}, []string{"CIS-2.1"}},
		{"cluster/etcd-flags", []string{"client-cert-auth"}, []string{"CIS-2.2"}},
		{"cluster/etcd-flags", []string{"auto-tls"}, []string{"CIS-2.3"}},
		{"cluster/etcd-flags", []string{"peer-cert-file"}, []string{"CIS-2.4"}},
		{"cluster/etcd-flags", []string{"peer-client-cert-auth"}, []string{"CIS-2.5"}},
		{"cluster/etcd-flags", []string{"peer-auto-tls"}, []string{"CIS-2.6"}},
		{"cluster/anonymous-access", nil, []string{"CIS-1.2.1"}},
		{"cluster/kubelet-config", []string{"anonymous-auth"}, []string{"CIS-4.2.1"}},
		{"cluster/kubelet-config", []string{"authorization-mode"}, []string{"CIS-4.2.2"}},
		{"cluster/kubelet-config", []string{"read-only-port"}, []string{"CIS-4.2.4"}},
		{"cluster/kubelet-config", []string{"event-qps"}, []string{"CIS-4.2.8"}},
		{"cluster/kubelet-config", []string{"rotate-server-certificates"}, []string{"CIS-4.2.11"}},
		{"cluster/kubelet-config", []string{"pod-pids-limit"}, []string{"CIS-4.2.13"}},
		{"cluster/kubelet-config", []string{"seccomp-default"}, []string{"CIS-4.2.14"}},
		{"cluster/kubelet-config", []string{"protect-kernel-defaults"}, nil}, // 4.2.6 up to v1.6 (kube-bench cfg/cis-1.6), not since
	}
	v111 := []want{
		{"psa/host-path", nil, []string{"CIS-5.2.12"}},
		{"psa/host-ports", nil, []string{"CIS-5.2.13"}},
		{"psa/seccomp", nil, []string{"CIS-5.6.2"}},
		{"workload/default-namespace", nil, []string{"CIS-5.6.4"}},
		{"psa/privileged", []string{"windows-host-process"}, []string{"CIS-5.2.11"}},
		{"psa/capabilities", []string{"added"}, []string{"CIS-5.2.8", "CIS-5.2.9", "CIS-5.2.10"}},
		{"psa/capabilities", nil, []string{"CIS-5.2.8", "CIS-5.2.10"}},
		{"cluster/apiserver-flags", []string{"service-account-extend-token-expiration"}, []string{"CIS-1.2.30"}},
		{"cluster/kubelet-config", []string{"seccomp-default"}, []string{"CIS-4.2.14"}}, // 4.2.14 came with v1.11
	}
	v110 := []want{
		{"psa/host-path", nil, []string{"CIS-5.2.12"}},
		{"psa/host-ports", nil, []string{"CIS-5.2.13"}},
		{"psa/seccomp", nil, []string{"CIS-5.7.2"}},
		{"workload/default-namespace", nil, []string{"CIS-5.7.4"}},
		{"cluster/apiserver-flags", []string{"service-account-extend-token-expiration"}, nil}, // 1.2.30 came with v1.11
		{"cluster/encryption-at-rest", nil, []string{"CIS-1.2.27"}},
		{"cluster/kubelet-config", []string{"anonymous-auth"}, []string{"CIS-4.2.1"}},
		{"cluster/kubelet-config", []string{"tls-cipher-suites"}, []string{"CIS-4.2.12"}},
		{"cluster/kubelet-config", []string{"seccomp-default"}, nil},
	}
	for id, cases := range map[string][]want{"cis-1.12": v112, "cis-2.0": v112, "cis-1.11": v111, "cis-1.10": v110, "cis-1.9": v110} {
		m := l.Mapping(benchmark(t, l, id))
		for _, tc := range cases {
			var got []string
			for _, c := range m.Controls(tc.check, tc.facets) {
				if strings.HasPrefix(string(c), "CIS-") {
					got = append(got, string(c))
				}
			}
			if !slices.Equal(got, tc.cis) {
				t.Errorf("%s: %s %v maps to %v, want %v", id, tc.check, tc.facets, got, tc.cis)
			}
		}
	}
	// No control 5.2.13 since v1.12, and no finding can carry one.
	for _, id := range []string{"cis-1.12", "cis-2.0"} {
		for _, s := range benchmark(t, l, id).Sections {
			for _, c := range s.Controls {
				if c.ID == "5.2.13" || strings.HasPrefix(c.ID, "5.7.") {
					t.Errorf("%s has %s", id, c.ID)
				}
			}
		}
	}
}

// Every CIS benchmark numbers each API server, controller manager, scheduler
// and etcd flag on its own, and each of them has a check or says why not.
func TestControlPlaneControlsEachHaveTheirOwnNumber(t *testing.T) {
	l := library(t)
	for _, c := range l.Benchmarks() {
		n := 0
		for _, s := range c.Sections {
			if s.ID != "1.2" && s.ID != "2" {
				continue
			}
			for _, ctl := range s.Controls {
				n++
				if len(ctl.Checks) == 0 && ctl.Unseen == "" {
					t.Errorf("%s %s: neither checks nor unseen", c.ID(), ctl.ID)
				}
			}
		}
		if n < 35 {
			t.Errorf("%s: %d controls in 1.2 and 2", c.ID(), n)
		}
	}
}

func TestChooseBenchmark(t *testing.T) {
	l := library(t)
	for _, tc := range []struct{ requested, server, want, reason string }{
		{"", "v1.33.4", "cis-1.12", "targets Kubernetes 1.33"},
		{"", "v1.34.0", "cis-2.0", "targets Kubernetes 1.34"},
		{"", "v1.30.2-eks-1234", "cis-1.11", "targets Kubernetes 1.30"},
		{"", "v1.28.1", "cis-1.10", ""},
		{"", "v1.37.2", "cis-2.0", "no benchmark targets 1.37"},
		{"", "", "cis-2.0", "not known"},
		{"cis-1.9", "v1.37.2", "cis-1.9", "--benchmark"},
	} {
		b, c, err := l.ChooseBenchmark(tc.requested, tc.server)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID() != tc.want || b.ID != tc.want || !strings.Contains(b.Reason, tc.reason) {
			t.Errorf("%q %q: %s (%s), want %s (%s)", tc.requested, tc.server, b.ID, b.Reason, tc.want, tc.reason)
		}
	}
	if _, _, err := l.ChooseBenchmark("cis-1.13", ""); err == nil || !strings.Contains(err.Error(), "cis-1.12") {
		t.Errorf("an unknown benchmark: %v", err)
	}
}

func result(sc *finding.Scorecard, id finding.Control) finding.ControlResult {
	for _, r := range sc.Results {
		if r.ID == id {
			return r
		}
	}
	return finding.ControlResult{}
}

// Without a visible control plane the 1.2.x and 2.x controls are unknown,
// never passing; a finding fails its control only; a manual control is manual.
func TestScoreNeverPassesWhatWasNotSeen(t *testing.T) {
	l := library(t)
	c := benchmark(t, l, "cis-1.12")
	blind := Results{
		Ran:    map[string]bool{"rbac/cluster-admin-binding": true, "rbac/cluster-admin-equivalent": true, "rbac/broad-group-grant": true, "psa/host-path": true, "cluster/anonymous-access": true},
		NotRun: map[string]string{"cluster/apiserver-flags": "no kube-apiserver pod is visible", "cluster/etcd-flags": "no etcd pod is visible"},
		Findings: []finding.Finding{
			{Check: "psa/host-path", Severity: finding.High, Message: "hostPath", Resource: finding.Resource{Kind: "Pod", Namespace: "a", Name: "b"}},
		},
	}
	sc := Score(c, blind)
	for _, r := range sc.Results {
		if (r.Section == "1.2" || r.Section == "2") && r.Status == finding.ControlPass {
			t.Errorf("%s passes without a visible control plane", r.ID)
		}
	}
	if r := result(sc, "CIS-1.2.16"); r.Status != finding.ControlUnknown || !strings.Contains(r.Reason, "no kube-apiserver pod") {
		t.Errorf("1.2.16: %+v", r)
	}
	if r := result(sc, "CIS-5.2.11"); r.Status != finding.ControlFail || len(r.Evidence) != 1 || len(r.Evidence[0].Findings) != 1 {
		t.Errorf("5.2.11: %+v", r)
	}
	if r := result(sc, "CIS-5.1.1"); r.Status != finding.ControlPass {
		t.Errorf("5.1.1: %+v", r)
	}
	if r := result(sc, "CIS-5.2.12"); r.Status != finding.ControlUnknown || !strings.Contains(r.Reason, "psa/host-ports: not run") {
		t.Errorf("5.2.12 (its check did not run): %+v", r)
	}
	if r := result(sc, "CIS-5.1.7"); r.Status != finding.ControlManual || r.Reason == "" {
		t.Errorf("5.1.7: %+v", r)
	}
	if r := result(sc, "CIS-1.1.1"); r.Status != finding.ControlUnknown {
		t.Errorf("1.1.1 (a node file): %+v", r)
	}
	// Unknown counts against the score, like a failure.
	if s := sc.Summary; s.Pass == 0 || s.Score != s.Pass*100/(s.Pass+s.Fail+s.Unknown) {
		t.Errorf("summary %+v", s)
	}
	for _, s := range sc.Sections {
		if s.ID == "1.2" && (s.Pass != 0 || s.Score != 0) {
			t.Errorf("section 1.2: %+v", s)
		}
	}
	// Accepted and info findings do not fail a control.
	blind.Findings[0].Accepted = &finding.Acceptance{By: "annotation"}
	if r := result(Score(c, blind), "CIS-5.2.11"); r.Status != finding.ControlPass || r.Evidence[0].Accepted != 1 {
		t.Errorf("accepted: %+v", r)
	}
}

// A facet a finding says is unknown makes its controls unknown, never passed;
// a failing finding of the same facet still fails them.
func TestUnknownFacetMakesTheControlUnknown(t *testing.T) {
	lib, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	cis, ok := lib.Get("cis-1.12")
	if !ok {
		t.Fatal("no cis-1.12")
	}
	status := func(items []finding.Finding, id string) finding.ControlResult {
		sc := Score(cis, Results{Ran: map[string]bool{"cluster/apiserver-flags": true}, NotRun: map[string]string{}, Findings: items})
		for _, r := range sc.Results {
			if string(r.ID) == id {
				return r
			}
		}
		t.Fatalf("no control %s", id)
		return finding.ControlResult{}
	}
	unknown := finding.Finding{Check: "cluster/apiserver-flags", Severity: finding.Info, Message: "unknown: set by a file",
		Facets: []string{finding.UnknownFacet("authorization-node")}}
	if r := status([]finding.Finding{unknown}, "CIS-1.2.7"); r.Status != finding.ControlUnknown || r.Reason == "" {
		t.Errorf("1.2.7 with an unknown facet: %+v", r)
	}
	if r := status([]finding.Finding{unknown}, "CIS-1.2.8"); r.Status != finding.ControlPass {
		t.Errorf("1.2.8 is judged by another facet: %+v", r)
	}
	failing := finding.Finding{Check: "cluster/apiserver-flags", Severity: finding.Medium, Message: "no Node", Facets: []string{"authorization-node"}}
	if r := status([]finding.Finding{unknown, failing}, "CIS-1.2.7"); r.Status != finding.ControlFail {
		t.Errorf("1.2.7 with a failing finding too: %+v", r)
	}
}
