package cluster

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// KubeletCheck is the ID of the check of the nodes' kubelet configurations.
const KubeletCheck = "cluster/kubelet-config"

// kubeletConfig is the configuration a kubelet runs with, as /configz shows it.
type kubeletConfig = inventory.KubeletConfiguration

// kubeletRule judges one setting of a kubelet's configuration (or two that go
// together). Its name is the facet the control catalogues map to the
// benchmark's number for it (cluster/kubelet-config:anonymous-auth is CIS 4.2.1).
type kubeletRule struct {
	name     string
	severity finding.Severity
	// fields are the settings the rule reads, by their names in the kubelet's
	// config file, with the values the kubelet runs with: the evidence and the summary.
	fields func(c *kubeletConfig) map[string]any
	// judge returns a message when the setting is weak, one starting with
	// unknownVerdict when the configuration cannot tell, "" when it is good.
	judge func(c *kubeletConfig) string
	// fix is the change to make, in the config file and as a flag.
	fix, flag string
}

// field is a rule's one setting and its value.
func field(name string, v any) map[string]any { return map[string]any{name: v} }

// Defaults of kubelet.config.k8s.io/v1beta1 for the pointer fields, which a
// kubelet's /configz always fills: a missing one is read as the kubelet reads its config file.
func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func eventQPS(c *kubeletConfig) int32 {
	if c.EventRecordQPS == nil {
		return 50
	}
	return *c.EventRecordQPS
}

func podPidsLimit(c *kubeletConfig) int64 {
	if c.PodPidsLimit == nil {
		return -1
	}
	return *c.PodPidsLimit
}

func authorizationMode(c *kubeletConfig) string {
	if c.Authorization.Mode == "" {
		return inventory.KubeletAuthorizationWebhook
	}
	return c.Authorization.Mode
}

// selfSignedPath reports whether the serving certificate files are where the
// kubelet writes the self-signed pair it generates when none is configured
// (kubelet.crt and kubelet.key in its certificate directory).
func selfSignedPath(cert, key string) bool {
	base := func(p string) (dir, name string) {
		i := strings.LastIndexAny(p, `/\`)
		return p[:i+1], p[i+1:]
	}
	cd, cn := base(cert)
	kd, kn := base(key)
	return cn == "kubelet.crt" && kn == "kubelet.key" && cd == kd
}

// strongCipherSuites are the suites the benchmark counts as strong, as the
// remedy lists them.
const strongCipherSuites = "[TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, " +
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]"

// kubeletRules are the kubelet recommendations of CIS 4.2.x that /configz
// shows, and protectKernelDefaults, which the benchmark numbered up to v1.6
// (4.2.6) and the catalogues map to no control since.
func kubeletRules() []kubeletRule {
	return []kubeletRule{
		{name: "anonymous-auth", severity: finding.High,
			fields: func(c *kubeletConfig) map[string]any {
				return field("authentication.anonymous.enabled", boolOr(c.Authentication.Anonymous.Enabled, false))
			},
			judge: func(c *kubeletConfig) string {
				if !boolOr(c.Authentication.Anonymous.Enabled, false) {
					return ""
				}
				return "authentication.anonymous.enabled is true: requests to the kubelet API without credentials are served as system:anonymous"
			},
			fix: "authentication.anonymous.enabled: false", flag: "--anonymous-auth=false"},
		{name: "authorization-mode", severity: finding.Critical,
			fields: func(c *kubeletConfig) map[string]any { return field("authorization.mode", authorizationMode(c)) },
			judge: func(c *kubeletConfig) string {
				if authorizationMode(c) != inventory.KubeletAuthorizationAlwaysAllow {
					return ""
				}
				return "authorization.mode is AlwaysAllow: every request the kubelet API receives is allowed: whoever reaches it may exec into the node's pods and read their logs"
			},
			fix: "authorization.mode: Webhook", flag: "--authorization-mode=Webhook"},
		{name: "client-ca-file", severity: finding.Medium,
			fields: func(c *kubeletConfig) map[string]any {
				return field("authentication.x509.clientCAFile", c.Authentication.X509.ClientCAFile)
			},
			judge: func(c *kubeletConfig) string {
				if c.Authentication.X509.ClientCAFile != "" {
					return ""
				}
				return "authentication.x509.clientCAFile is not set: the kubelet verifies no client certificate, so it cannot tell the API server's requests (logs, exec, port-forward) from anyone else's"
			},
			fix: "authentication.x509.clientCAFile: /etc/kubernetes/pki/ca.crt (the CA that signs the API server's --kubelet-client-certificate)", flag: "--client-ca-file=/etc/kubernetes/pki/ca.crt"},
		{name: "read-only-port", severity: finding.Medium,
			fields: func(c *kubeletConfig) map[string]any { return field("readOnlyPort", c.ReadOnlyPort) },
			judge: func(c *kubeletConfig) string {
				if c.ReadOnlyPort == 0 {
					return ""
				}
				return fmt.Sprintf("readOnlyPort is %d: the kubelet serves its pods, node stats and metrics there without authentication or authorization", c.ReadOnlyPort)
			},
			fix: "readOnlyPort: 0", flag: "--read-only-port=0"},
		{name: "streaming-connection-idle-timeout", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any {
				return field("streamingConnectionIdleTimeout", c.StreamingConnectionIdleTimeout.Duration.String())
			},
			judge: func(c *kubeletConfig) string {
				if c.StreamingConnectionIdleTimeout.Duration != 0 {
					return ""
				}
				return "streamingConnectionIdleTimeout is 0: exec, attach and port-forward connections stay open however long they are idle"
			},
			fix: "streamingConnectionIdleTimeout: 5m", flag: "--streaming-connection-idle-timeout=5m"},
		{name: "make-iptables-util-chains", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any {
				return field("makeIPTablesUtilChains", boolOr(c.MakeIPTablesUtilChains, true))
			},
			judge: func(c *kubeletConfig) string {
				if boolOr(c.MakeIPTablesUtilChains, true) {
					return ""
				}
				return "makeIPTablesUtilChains is false: the kubelet does not keep its iptables utility chains, so they drift from the pods' network configuration"
			},
			fix: "makeIPTablesUtilChains: true", flag: "--make-iptables-util-chains=true"},
		{name: "event-qps", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any { return field("eventRecordQPS", eventQPS(c)) },
			judge: func(c *kubeletConfig) string {
				if q := eventQPS(c); q > 0 {
					return unknownVerdict + fmt.Sprintf("eventRecordQPS is %d: events beyond %d a second are dropped, and whether that captures enough of this node's events is for a person to decide (0 captures every event)", q, q)
				}
				return ""
			},
			fix: "eventRecordQPS: 0 (every event), or a rate the cluster's event volume needs", flag: "--event-qps=0"},
		{name: "tls-cert-file", severity: finding.Medium,
			fields: func(c *kubeletConfig) map[string]any {
				return map[string]any{"tlsCertFile": c.TLSCertFile, "tlsPrivateKeyFile": c.TLSPrivateKeyFile, "serverTLSBootstrap": c.ServerTLSBootstrap}
			},
			judge: func(c *kubeletConfig) string {
				switch {
				case c.ServerTLSBootstrap:
					return "" // the serving certificate is requested from the cluster's CA
				case c.TLSCertFile == "" || c.TLSPrivateKeyFile == "":
					return "tlsCertFile and tlsPrivateKeyFile are not both set, and serverTLSBootstrap is false: the kubelet serves its API with a self-signed certificate"
				case selfSignedPath(c.TLSCertFile, c.TLSPrivateKeyFile):
					return unknownVerdict + fmt.Sprintf("tlsCertFile is %s, where the kubelet writes the self-signed certificate it generates when none is configured: whether this one is signed by a CA the API server trusts is not visible through /configz", c.TLSCertFile)
				}
				return ""
			},
			fix:  "tlsCertFile and tlsPrivateKeyFile: a serving certificate and key signed by a CA the API server trusts (--kubelet-certificate-authority), or serverTLSBootstrap: true",
			flag: "--tls-cert-file=<certificate> --tls-private-key-file=<key>"},
		{name: "rotate-certificates", severity: finding.Medium,
			fields: func(c *kubeletConfig) map[string]any { return field("rotateCertificates", c.RotateCertificates) },
			judge: func(c *kubeletConfig) string {
				if c.RotateCertificates {
					return ""
				}
				return "rotateCertificates is false: the kubelet's client certificate is not renewed before it expires"
			},
			fix: "rotateCertificates: true", flag: "--rotate-certificates=true"},
		{name: "rotate-server-certificates", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any {
				v := map[string]any{"serverTLSBootstrap": c.ServerTLSBootstrap}
				if g, ok := c.FeatureGates["RotateKubeletServerCertificate"]; ok {
					v["featureGates.RotateKubeletServerCertificate"] = g
				}
				return v
			},
			judge: func(c *kubeletConfig) string {
				if g, ok := c.FeatureGates["RotateKubeletServerCertificate"]; ok && !g {
					return "featureGates.RotateKubeletServerCertificate is false: the kubelet's serving certificate is never rotated"
				}
				if !c.ServerTLSBootstrap {
					// pkg/kubelet starts the serving certificate manager only with both.
					return "serverTLSBootstrap is false: the kubelet does not request its serving certificate from the cluster's CA, so it is never rotated (RotateKubeletServerCertificate acts only with serverTLSBootstrap: true)"
				}
				return ""
			},
			fix:  "serverTLSBootstrap: true, with no RotateKubeletServerCertificate: false in featureGates (then approve the nodes' kubernetes.io/kubelet-serving CertificateSigningRequests)",
			flag: "--rotate-server-certificates=true"},
		{name: "tls-cipher-suites", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any { return field("tlsCipherSuites", c.TLSCipherSuites) },
			judge: func(c *kubeletConfig) string {
				if c.TLSMinVersion == "VersionTLS13" {
					return "" // TLS 1.3 suites are all strong, and Go does not let them be chosen
				}
				if len(c.TLSCipherSuites) == 0 {
					return "tlsCipherSuites is not set: Go's defaults include suites the benchmark does not count as strong"
				}
				var weak []string
				for _, s := range c.TLSCipherSuites {
					if weakCipher(s) {
						weak = append(weak, s)
					}
				}
				if len(weak) > 0 {
					return "weak TLS cipher suites are accepted (tlsCipherSuites): " + strings.Join(weak, ", ")
				}
				return ""
			},
			fix: "tlsCipherSuites: " + strongCipherSuites + " (or tlsMinVersion: VersionTLS13)", flag: "--tls-cipher-suites=" + strings.ReplaceAll(strings.Trim(strongCipherSuites, "[]"), ", ", ",")},
		{name: "pod-pids-limit", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any { return field("podPidsLimit", podPidsLimit(c)) },
			judge: func(c *kubeletConfig) string {
				if n := podPidsLimit(c); n <= 0 {
					return fmt.Sprintf("podPidsLimit is %d: a pod's processes are not limited, so one pod can fork until the node runs out of process IDs", n)
				}
				return ""
			},
			fix: "podPidsLimit: 4096 (or what the node's pods need)", flag: "--pod-max-pids=4096"},
		{name: "seccomp-default", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any { return field("seccompDefault", boolOr(c.SeccompDefault, false)) },
			judge: func(c *kubeletConfig) string {
				if boolOr(c.SeccompDefault, false) {
					return ""
				}
				return "seccompDefault is false: containers that name no seccomp profile run unconfined instead of under the runtime's default profile"
			},
			fix: "seccompDefault: true", flag: "--seccomp-default=true"},
		{name: "protect-kernel-defaults", severity: finding.Low,
			fields: func(c *kubeletConfig) map[string]any { return field("protectKernelDefaults", c.ProtectKernelDefaults) },
			judge: func(c *kubeletConfig) string {
				if c.ProtectKernelDefaults {
					return ""
				}
				return "protectKernelDefaults is false: the kubelet changes kernel parameters to the values it wants rather than failing when the node's differ"
			},
			fix:  "protectKernelDefaults: true (once the node's sysctls are what the kubelet expects: vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10, kernel.panic_on_oops=1)",
			flag: "--protect-kernel-defaults=true"},
	}
}

func kubeletRuleNames() []string {
	rs := kubeletRules()
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

func kubeletConfigCheck() checks.Check {
	return checks.Check{
		ID: KubeletCheck, Domain: Domain, Severity: finding.High,
		Range:       [2]finding.Severity{finding.Info, finding.Critical},
		Title:       "Kubelet runs with a weak setting",
		Description: "Every node's kubelet serves an API that runs commands in the node's pods; its configuration decides who may call it (anonymous auth, authorization mode, the unauthenticated read-only port), how it proves itself (serving certificates and their rotation), and what it allows pods (PID limits, the default seccomp profile). Each setting is judged as its CIS Kubernetes Benchmark recommendation (4.2.x) says, from the configuration the kubelet runs with (its /configz, read through the API server with --kubelet); a node whose kubelet cannot be read is unknown, never passing.",
		Remediation: "Change the setting in each kubelet's configuration file (the file its --config flag names; /var/lib/kubelet/config.yaml on kubeadm nodes, which kubeadm also keeps in the kube-system/kubelet-config ConfigMap) or remove the flag that overrides it, and restart the kubelet.",
		Facets:      kubeletRuleNames(),
		Needs:       []inventory.Kind{inventory.KubeletConfigs},
		Cluster:     true,
		Unseen: func(inv *inventory.Inventory) string {
			if len(inv.Kubelets) > 0 {
				return ""
			}
			return "no Node is visible: there is no kubelet whose configuration could be read"
		},
		Run: kubeletSettings,
	}
}

func nodeResource(name string) finding.Resource {
	return finding.Resource{APIVersion: "v1", Kind: "Node", Name: name}
}

func kubeletSettings(inv *inventory.Inventory) []finding.Finding {
	rules := kubeletRules()
	var out []finding.Finding
	for _, k := range inv.Kubelets {
		if k.Config == nil {
			facets := make([]string, len(rules))
			for i, r := range rules {
				facets[i] = finding.UnknownFacet(r.name)
			}
			out = append(out, finding.Finding{
				Severity: finding.Info,
				Message:  fmt.Sprintf("kubelet on node %s: unknown: its configuration (/configz) could not be read: %s", k.Node, k.Unread),
				Resource: nodeResource(k.Node),
				Evidence: map[string]any{"unread": k.Unread, "kubeletVersion": k.KubeletVersion},
				Facets:   facets,
			})
			continue
		}
		for _, r := range rules {
			msg := r.judge(k.Config)
			if msg == "" {
				continue
			}
			sev, facet := r.severity, r.name
			if rest, unknown := strings.CutPrefix(msg, unknownVerdict); unknown {
				sev, facet, msg = finding.Info, finding.UnknownFacet(r.name), "unknown: "+rest
			}
			f := finding.Finding{
				Severity: sev,
				Message:  fmt.Sprintf("kubelet on node %s: %s", k.Node, msg),
				Resource: nodeResource(k.Node),
				Evidence: map[string]any{"rule": r.name, "settings": r.fields(k.Config), "kubeletVersion": k.KubeletVersion},
				Facets:   []string{facet},
				Remediation: remedy.NewManual(fmt.Sprintf("On node %s, set %s in the kubelet's configuration file (the file its --config flag names; "+
					"/var/lib/kubelet/config.yaml on kubeadm nodes), or pass %s; a flag overrides the file. Then restart the kubelet (systemctl restart kubelet). "+
					"On kubeadm clusters change the kube-system/kubelet-config ConfigMap too, or the next kubeadm upgrade writes the old value back.", k.Node, r.fix, r.flag)),
			}
			out = append(out, f)
		}
	}
	return out
}

// KubeletSummary is the cluster domain's summary of the kubelets read with
// --kubelet: per node, the settings as it runs with them, or why they are unknown.
type KubeletSummary struct {
	Kubelets []KubeletSettings `json:"kubelets"`
}

// KubeletSettings is one node's kubelet in the summary.
type KubeletSettings struct {
	Node           string `json:"node"`
	KubeletVersion string `json:"kubeletVersion,omitempty"`
	// Unread says why the configuration could not be read; Settings are then empty.
	Unread string `json:"unread,omitempty"`
	// Settings are the judged settings by their configuration field names.
	Settings map[string]any `json:"settings,omitempty"`
}

// KubeletCoverage summarises the kubelets the inventory read.
func KubeletCoverage(inv *inventory.Inventory) *KubeletSummary {
	s := &KubeletSummary{Kubelets: []KubeletSettings{}}
	for _, k := range inv.Kubelets {
		ks := KubeletSettings{Node: k.Node, KubeletVersion: k.KubeletVersion, Unread: k.Unread}
		if k.Config != nil {
			ks.Settings = map[string]any{}
			for _, r := range kubeletRules() {
				maps.Copy(ks.Settings, r.fields(k.Config))
			}
		}
		s.Kubelets = append(s.Kubelets, ks)
	}
	sort.Slice(s.Kubelets, func(i, j int) bool { return s.Kubelets[i].Node < s.Kubelets[j].Node })
	return s
}

// KubeletCoverageNeeds are the kinds the summary reads.
func KubeletCoverageNeeds() []inventory.Kind { return []inventory.Kind{inventory.KubeletConfigs} }

// kubeletColumns are the settings the summary table shows, by column.
var kubeletColumns = []struct{ header, setting string }{
	{"ANONYMOUS-AUTH", "authentication.anonymous.enabled"},
	{"AUTHORIZATION", "authorization.mode"},
	{"READ-ONLY-PORT", "readOnlyPort"},
	{"PROTECT-KERNEL-DEFAULTS", "protectKernelDefaults"},
	{"ROTATE-CERTIFICATES", "rotateCertificates"},
	{"SERVER-TLS-BOOTSTRAP", "serverTLSBootstrap"},
	{"SECCOMP-DEFAULT", "seccompDefault"},
	{"EVENT-QPS", "eventRecordQPS"},
}

// Table renders the summary under the findings.
// CoverageDomain makes KubeletSummary the cluster document of a report's coverage.
func (*KubeletSummary) CoverageDomain() string { return Domain }

func (s *KubeletSummary) Table() (title string, headers []string, rows [][]string) {
	headers = []string{"NODE", "VERSION"}
	for _, c := range kubeletColumns {
		headers = append(headers, c.header)
	}
	for _, k := range s.Kubelets {
		row := []string{k.Node, k.KubeletVersion}
		for _, c := range kubeletColumns {
			if k.Settings == nil {
				row = append(row, "unknown")
			} else {
				row = append(row, fmt.Sprint(k.Settings[c.setting]))
			}
		}
		rows = append(rows, row)
	}
	return "KUBELETS (--kubelet: each node's /configz; unknown where it could not be read)", headers, rows
}
