package cluster

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// configz reads a kubelet's /configz body (JSON) from testdata/kubelet; the
// files are named *.configz so the manifest loader of other tests skips them.
func configz(t *testing.T, name string) *inventory.KubeletConfiguration {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "kubelet", name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := inventory.ParseConfigz(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// kubeletInventory is a live inventory whose nodes' kubelets were read as given.
func kubeletInventory(kubelets ...inventory.Kubelet) *inventory.Inventory {
	inv := inventory.New()
	inv.Loaded[inventory.KubeletConfigs] = true
	inv.Kubelets = kubelets
	return inv
}

func kubeletCheck(t *testing.T) checks.Check {
	t.Helper()
	for _, c := range Checks() {
		if c.ID == KubeletCheck {
			return c
		}
	}
	t.Fatal("no kubelet check")
	return checks.Check{}
}

// facetVerdicts runs the check and returns, per facet, "fail" or "unknown"
// (facets with no finding passed), with each finding's severity in range.
func facetVerdicts(t *testing.T, inv *inventory.Inventory) (map[string]string, []finding.Finding) {
	t.Helper()
	c := kubeletCheck(t)
	fs := checktest.Run(t, inv, []checks.Check{c}, KubeletCheck)
	got := map[string]string{}
	lo, hi := c.Severities()
	for _, f := range fs {
		if f.Severity < lo || f.Severity > hi {
			t.Errorf("%s outside %s..%s: %s", f.Severity, lo, hi, f.Message)
		}
		if f.Resource.Kind != "Node" || f.Resource.Name == "" {
			t.Errorf("finding not about a Node: %+v", f.Resource)
		}
		for _, fc := range f.Facets {
			if rule, ok := strings.CutPrefix(fc, "unknown:"); ok {
				got[rule] = "unknown"
				if f.Severity != finding.Info {
					t.Errorf("an unknown verdict at %s: %s", f.Severity, f.Message)
				}
			} else {
				got[fc] = "fail"
			}
		}
	}
	return got, fs
}

func TestKubeletSettings(t *testing.T) {
	cases := []struct {
		fixture string
		want    map[string]string // facet -> fail or unknown; every other facet passes
	}{
		{"hardened.configz", map[string]string{}},
		// kubeadm's defaults: anonymous off, Webhook, the cluster CA, no read-only port,
		// client certificate rotation; a self-signed serving certificate, no PID limit, no seccomp default.
		{"kubeadm-defaults.configz", map[string]string{
			"event-qps":                  "unknown",
			"tls-cert-file":              "unknown",
			"rotate-server-certificates": "fail",
			"tls-cipher-suites":          "fail",
			"pod-pids-limit":             "fail",
			"seccomp-default":            "fail",
			"protect-kernel-defaults":    "fail",
		}},
		{"weak.configz", map[string]string{
			"anonymous-auth":                    "fail",
			"authorization-mode":                "fail",
			"client-ca-file":                    "fail",
			"read-only-port":                    "fail",
			"streaming-connection-idle-timeout": "fail",
			"make-iptables-util-chains":         "fail",
			"event-qps":                         "unknown",
			"rotate-certificates":               "fail",
			"rotate-server-certificates":        "fail",
			"tls-cipher-suites":                 "fail",
			"pod-pids-limit":                    "fail",
			"seccomp-default":                   "fail",
			"protect-kernel-defaults":           "fail",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			got, fs := facetVerdicts(t, kubeletInventory(inventory.Kubelet{Node: "n1", KubeletVersion: "v1.37.2", Config: configz(t, tc.fixture)}))
			for _, facet := range kubeletRuleNames() {
				if got[facet] != tc.want[facet] {
					t.Errorf("%s: got %q, want %q", facet, or(got[facet], "pass"), or(tc.want[facet], "pass"))
				}
			}
			for _, f := range fs {
				if !strings.HasPrefix(f.Message, "kubelet on node n1: ") {
					t.Errorf("message does not name the node: %s", f.Message)
				}
				unknown := strings.HasPrefix(f.Facets[0], "unknown:")
				if !unknown && (f.Remediation == nil || !f.Remediation.Manual || !strings.Contains(f.Remediation.Summary, "On node n1, set ")) {
					t.Errorf("%s: remediation is not the manual change on the node: %+v", f.Message, f.Remediation)
				}
				if f.Evidence["settings"] == nil {
					t.Errorf("%s: no settings in the evidence", f.Message)
				}
			}
		})
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// The messages say the setting, its value and why it matters.
func TestKubeletMessages(t *testing.T) {
	inv := kubeletInventory(inventory.Kubelet{Node: "n1", Config: configz(t, "weak.configz")})
	got := messages(t, inv, KubeletCheck)
	for _, want := range []string{
		"high: kubelet on node n1: authentication.anonymous.enabled is true: requests to the kubelet API without credentials are served as system:anonymous",
		"critical: kubelet on node n1: authorization.mode is AlwaysAllow: every request the kubelet API receives is allowed: whoever reaches it may exec into the node's pods and read their logs",
		"medium: kubelet on node n1: readOnlyPort is 10255: the kubelet serves its pods, node stats and metrics there without authentication or authorization",
		"low: kubelet on node n1: weak TLS cipher suites are accepted (tlsCipherSuites): TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_GCM_SHA384",
		"low: kubelet on node n1: featureGates.RotateKubeletServerCertificate is false: the kubelet's serving certificate is never rotated",
		"info: kubelet on node n1: unknown: eventRecordQPS is 5: events beyond 5 a second are dropped, and whether that captures enough of this node's events is for a person to decide (0 captures every event)",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in\n  %q", want, got)
		}
	}
}

// A kubelet whose /configz could not be read makes every setting unknown on
// that node, with the reason; the other nodes are judged.
func TestKubeletUnreadIsUnknown(t *testing.T) {
	reason := `the API server forbids it (--kubelet needs get on nodes/proxy): nodes "n2" is forbidden: User "auditor" cannot get resource "nodes/proxy" in API group "" at the cluster scope`
	inv := kubeletInventory(
		inventory.Kubelet{Node: "n1", Config: configz(t, "hardened.configz")},
		inventory.Kubelet{Node: "n2", Unread: reason},
	)
	got, fs := facetVerdicts(t, inv)
	for _, facet := range kubeletRuleNames() {
		if got[facet] != "unknown" {
			t.Errorf("%s: %q, want unknown while n2 is unread", facet, or(got[facet], "pass"))
		}
	}
	if len(fs) != 1 || fs[0].Resource.Name != "n2" || !strings.Contains(fs[0].Message, "unknown: its configuration (/configz) could not be read: "+reason) {
		t.Fatalf("want one unknown finding about n2 with the reason, got %+v", fs)
	}
}

// No node, no kubelet: unknown, not a pass.
func TestKubeletWithoutNodesIsUnknown(t *testing.T) {
	res := checks.Run(kubeletInventory(), []checks.Check{kubeletCheck(t)})
	if len(res.Unknown) != 1 || !strings.Contains(res.Unknown[0].Reason, "no Node is visible") || len(res.Ran) != 0 {
		t.Fatalf("got %+v", res)
	}
}

// Not asked for (no --kubelet): unknown with the reason, neither skipped nor run.
func TestKubeletNotAskedForIsUnknown(t *testing.T) {
	inv := inventory.New()
	inv.OptedOut[inventory.KubeletConfigs] = true
	res := checks.Run(inv, []checks.Check{kubeletCheck(t)})
	if len(res.Unknown) != 1 || len(res.Skipped) != 0 || len(res.Ran) != 0 ||
		res.Unknown[0].Reason != "not read without --kubelet (it asks each node's kubelet for its configuration (/configz) through the API server, which needs get on nodes/proxy)" {
		t.Fatalf("got %+v", res)
	}
}

func TestKubeletEdgeCases(t *testing.T) {
	tls13 := configz(t, "kubeadm-defaults.configz")
	tls13.TLSMinVersion = "VersionTLS13"
	bootstrapNoGate := configz(t, "hardened.configz")
	bootstrapNoGate.FeatureGates = map[string]bool{"RotateKubeletServerCertificate": true}
	noCerts := configz(t, "hardened.configz")
	noCerts.ServerTLSBootstrap, noCerts.TLSCertFile, noCerts.TLSPrivateKeyFile = false, "", ""
	cases := []struct {
		name  string
		c     *inventory.KubeletConfiguration
		facet string
		want  string
	}{
		{"TLS 1.3 only needs no suite list", tls13, "tls-cipher-suites", ""},
		{"serverTLSBootstrap with the gate on rotates", bootstrapNoGate, "rotate-server-certificates", ""},
		{"no serving certificate at all", noCerts, "tls-cert-file", "fail"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := facetVerdicts(t, kubeletInventory(inventory.Kubelet{Node: "n1", Config: tc.c}))
			if got[tc.facet] != tc.want {
				t.Errorf("%s: %q, want %q", tc.facet, or(got[tc.facet], "pass"), or(tc.want, "pass"))
			}
		})
	}
}

// The summary shows each node's settings, and "unknown" for a node not read.
func TestKubeletSummary(t *testing.T) {
	inv := kubeletInventory(
		inventory.Kubelet{Node: "n2", Unread: "the kubelet did not answer within 10s"},
		inventory.Kubelet{Node: "n1", KubeletVersion: "v1.37.2", Config: configz(t, "weak.configz")},
	)
	s := KubeletCoverage(inv)
	if len(s.Kubelets) != 2 || s.Kubelets[0].Node != "n1" || s.Kubelets[1].Unread == "" {
		t.Fatalf("summary %+v", s)
	}
	if v := s.Kubelets[0].Settings["authentication.anonymous.enabled"]; v != true {
		t.Errorf("anonymous auth in the summary: %v", v)
	}
	if v := s.Kubelets[0].Settings["readOnlyPort"]; v != int32(10255) {
		t.Errorf("read-only port in the summary: %#v", v)
	}
	_, headers, rows := s.Table()
	want := []string{"NODE", "VERSION", "ANONYMOUS-AUTH", "AUTHORIZATION", "READ-ONLY-PORT", "PROTECT-KERNEL-DEFAULTS", "ROTATE-CERTIFICATES", "SERVER-TLS-BOOTSTRAP", "SECCOMP-DEFAULT", "EVENT-QPS"}
	if !slices.Equal(headers, want) {
		t.Errorf("headers %q", headers)
	}
	if got := strings.Join(rows[0], " "); got != "n1 v1.37.2 true AlwaysAllow 10255 false false false false 5" {
		t.Errorf("row %q", got)
	}
	if got := strings.Join(rows[1], " "); got != "n2  unknown unknown unknown unknown unknown unknown unknown unknown" {
		t.Errorf("row %q", got)
	}
}
