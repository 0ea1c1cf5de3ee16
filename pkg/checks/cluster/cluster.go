// Package cluster holds the checks on control-plane settings visible through
// the API: the flags of kubeadm-style static control-plane pods, the nodes'
// kubelet configurations (read through the API server with --kubelet),
// admission webhooks that fail open, legacy service-account token Secrets,
// and admission control that verifies image signatures. What the
// API does not show (a managed control plane's flags) is reported as unknown,
// never as passing.
package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Domain is the domain name of every check in this package.
const Domain = "cluster"

// Checks returns the cluster checks.

// The IDs of the cluster checks.
const (
	IDAnonymousAccess            = "cluster/anonymous-access"
	IDApiserverCertificateExpiry = "cluster/apiserver-certificate-expiry"
	IDApiserverFlags             = "cluster/apiserver-flags"
	IDCertManagerCertificate     = "cluster/cert-manager-certificate"
	IDClientCertificateExpiry    = "cluster/client-certificate-expiry"
	IDControlPlaneNotVisible     = "cluster/control-plane-not-visible"
	IDControllerManagerFlags     = "cluster/controller-manager-flags"
	IDEncryptionAtRest           = "cluster/encryption-at-rest"
	IDEtcdFlags                  = "cluster/etcd-flags"
	IDImageSigningNotEnforced    = "cluster/image-signing-not-enforced"
	IDLegacyTokenSecret          = "cluster/legacy-token-secret"
	IDSchedulerFlags             = "cluster/scheduler-flags"
	IDWebhookFailsOpen           = "cluster/webhook-fails-open"
)

func Checks() []checks.Check {
	return []checks.Check{
		flagsCheck(IDApiserverFlags, "kube-apiserver",
			"The API server's flags decide whether anonymous requests are served, whether requests are authorized and audited, and whether Secrets are encrypted at rest.",
			"/etc/kubernetes/manifests/kube-apiserver.yaml", apiserverRules()),
		flagsCheck(IDEtcdFlags, "etcd",
			"etcd holds every object of the cluster, Secrets included; clients and peers must use TLS and authenticate with certificates.",
			"/etc/kubernetes/manifests/etcd.yaml", etcdRules()),
		flagsCheck(IDControllerManagerFlags, "kube-controller-manager",
			"The controller manager signs service account tokens and runs every controller; its flags decide whether each controller has credentials of its own and what it exposes.",
			"/etc/kubernetes/manifests/kube-controller-manager.yaml", controllerManagerRules()),
		flagsCheck(IDSchedulerFlags, "kube-scheduler",
			"The scheduler's flags decide whether its profiling and metrics endpoints are exposed.",
			"/etc/kubernetes/manifests/kube-scheduler.yaml", schedulerRules()),
		encryptionAtRestCheck(),
		apiserverCertificateCheck(),
		clientCertificateCheck(),
		certManagerCheck(),
		kubeletConfigCheck(),
		{
			ID: IDControlPlaneNotVisible, Domain: Domain, Severity: finding.Info,
			Title:       "Control-plane settings cannot be seen through the API",
			Description: "No kube-apiserver pod is visible in kube-system (a managed or externally run control plane): its flags are unknown, not passing. Check them with the provider.",
			Remediation: "Review the provider's control-plane settings (anonymous auth, authorization mode, audit logging, encryption at rest).",
			Needs:       []inventory.Kind{inventory.Pods},
			Cluster:     true,
			Run:         controlPlaneNotVisible,
		},
		{
			ID: IDAnonymousAccess, Domain: Domain, Severity: finding.Critical,
			Range:       [2]finding.Severity{finding.Low, finding.Critical},
			Title:       "API server answers requests without credentials",
			Description: "With anonymous auth on, a request without credentials is served as system:anonymous; whatever RBAC grants that user or system:unauthenticated is open to anyone who can reach the API server.",
			Remediation: "Set --anonymous-auth=false on kube-apiserver (keep it only for health checks, with an AuthenticationConfiguration anonymous section limited to /livez, /readyz and /healthz), and remove every binding to system:anonymous and system:unauthenticated.",
			Needs:       []inventory.Kind{inventory.AnonymousAccess},
			Cluster:     true,
			Run:         anonymousAccess,
		},
		{
			ID: IDWebhookFailsOpen, Domain: Domain, Severity: finding.Low,
			Title:       "Admission webhook fails open",
			Description: "A webhook with failurePolicy Ignore admits every request while it is down or slow: a policy it enforces can be bypassed by making it unavailable.",
			Remediation: "Set failurePolicy: Fail on webhooks that enforce security policy, with enough replicas and a PodDisruptionBudget.",
			Needs:       []inventory.Kind{inventory.ValidatingWebhookConfigurations, inventory.MutatingWebhookConfigurations},
			Run:         webhooksFailOpen,
		},
		{
			ID: IDLegacyTokenSecret, Domain: Domain, Severity: finding.Medium,
			Title:       "Long-lived service account token Secret",
			Description: "A kubernetes.io/service-account-token Secret holds a token that never expires; anyone who reads it once holds the service account until the Secret is deleted.",
			Remediation: "Delete the Secret and use short-lived tokens (projected volumes, or kubectl create token).",
			Needs:       []inventory.Kind{inventory.Secrets},
			Run:         legacyTokens,
		},
		{
			ID: IDImageSigningNotEnforced, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Info, finding.Medium},
			Title:       "Image signatures are not verified at admission",
			Description: "Without admission control that verifies image signatures (sigstore policy-controller, Kyverno verifyImages or ImageValidatingPolicy, the ImagePolicyWebhook plugin), a tampered or untrusted image runs as readily as a signed one. Tools this audit cannot see are unknown, not passing.",
			Remediation: "Install a verifier (sigstore policy-controller with ClusterImagePolicies and namespaces labelled policy.sigstore.dev/include=true, or Kyverno verifyImages / ImageValidatingPolicy in Enforce mode) with failurePolicy Fail.",
			Needs: []inventory.Kind{inventory.Pods, inventory.Namespaces, inventory.ValidatingWebhookConfigurations, inventory.MutatingWebhookConfigurations,
				inventory.ClusterImagePolicies, inventory.KyvernoClusterPolicies, inventory.KyvernoPolicies, inventory.ImageValidatingPolicies, inventory.ConstraintTemplates},
			Cluster: true,
			Run:     imageSigningNotEnforced,
		},
	}
}

// flagRule judges one of a component's flags (or a few that go together); it
// returns a message when weak. Its name is the facet the control catalogues
// map to the benchmark's number for it (cluster/apiserver-flags:anonymous-auth
// is CIS 1.2.1), so a finding says exactly which recommendation it fails.
type flagRule struct {
	name     string
	severity finding.Severity
	judge    func(fl flagValues) string
}

// flagValues are a container's flags as parsed by flags.
type flagValues map[string]string

func (f flagValues) set(name string) bool { _, ok := f[name]; return ok && f[name] != "" }

// list is a comma-separated flag's values.
func (f flagValues) list(name string) []string {
	if f[name] == "" {
		return nil
	}
	return strings.Split(f[name], ",")
}

// atLeast reports whether a numeric flag is set to n or more.
func (f flagValues) atLeast(name string, n int) bool {
	v, err := strconv.Atoi(f[name])
	return err == nil && v >= n
}

// requireSet fails when any of the flags is unset.
func requireSet(why string, names ...string) func(flagValues) string {
	return func(fl flagValues) string {
		var missing []string
		for _, n := range names {
			if !fl.set(n) {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return ""
		}
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return fmt.Sprintf("%s %s not set: %s", strings.Join(missing, " and "), verb, why)
	}
}

func requireValue(name, want, why string) func(flagValues) string {
	return func(fl flagValues) string {
		if fl[name] == want {
			return ""
		}
		return fmt.Sprintf("%s is not %s: %s", name, want, why)
	}
}

func forbidValue(name, bad, why string) func(flagValues) string {
	return func(fl flagValues) string {
		if fl[name] != bad {
			return ""
		}
		return fmt.Sprintf("%s=%s: %s", name, bad, why)
	}
}

func admissionEnabled(plugin, why string) func(flagValues) string {
	return func(fl flagValues) string {
		if slices.Contains(fl.list("--enable-admission-plugins"), plugin) {
			return ""
		}
		return fmt.Sprintf("the %s admission plugin is not enabled: %s", plugin, why)
	}
}

// admissionNotDisabled passes a plugin the API server enables by default unless disabled.
func admissionNotDisabled(plugin, why string) func(flagValues) string {
	return func(fl flagValues) string {
		if !slices.Contains(fl.list("--disable-admission-plugins"), plugin) {
			return ""
		}
		return fmt.Sprintf("the %s admission plugin is disabled (--disable-admission-plugins): %s", plugin, why)
	}
}

func atLeast(name string, n int, why string) func(flagValues) string {
	return func(fl flagValues) string {
		if fl.atLeast(name, n) {
			return ""
		}
		if !fl.set(name) {
			return fmt.Sprintf("%s is not set: %s", name, why)
		}
		return fmt.Sprintf("%s=%s is below %d: %s", name, fl[name], n, why)
	}
}

// weakCipher reports a TLS cipher suite name that is not strong (RC4, 3DES, CBC mode, RSA key exchange).
func weakCipher(c string) bool {
	return strings.Contains(c, "RC4") || strings.Contains(c, "3DES") || strings.Contains(c, "_CBC_") || strings.HasPrefix(c, "TLS_RSA_")
}

// unknownVerdict starts a rule's message when the flags cannot tell (the
// setting lives in a file the API does not show).
const unknownVerdict = "\x00unknown:"

// structuredAuthz is the verdict of an authorization rule under --authorization-config.
func structuredAuthz(what string) string {
	return unknownVerdict + "authorization is configured by --authorization-config, a file the API does not show: whether " + what + " is not known"
}

func authorizationModes(fl flagValues) (modes []string, structured bool) {
	if fl.set("--authorization-config") {
		return nil, true
	}
	modes = fl.list("--authorization-mode")
	if len(modes) == 0 {
		modes = []string{"AlwaysAllow"} // kube-apiserver's default
	}
	return modes, false
}

// apiserverRules are the kube-apiserver recommendations of CIS 1.2.x (and 3.2.1) a flag shows.
func apiserverRules() []flagRule {
	return []flagRule{
		{"anonymous-auth", finding.High, func(fl flagValues) string {
			if fl["--anonymous-auth"] != "false" {
				return "anonymous requests are authenticated as system:anonymous (--anonymous-auth is not false)"
			}
			return ""
		}},
		{"token-auth-file", finding.High, func(fl flagValues) string {
			if fl.set("--token-auth-file") {
				return "static bearer tokens are read from --token-auth-file: they never expire and change only with a restart"
			}
			return ""
		}},
		{"admission-deny-service-external-ips", finding.Low, admissionEnabled("DenyServiceExternalIPs", "any user who may create Services can set externalIPs and intercept traffic")},
		{"kubelet-client-certificate", finding.Medium, requireSet("the API server does not authenticate to kubelets with a client certificate", "--kubelet-client-certificate", "--kubelet-client-key")},
		{"kubelet-certificate-authority", finding.Medium, requireSet("kubelets' serving certificates are not verified", "--kubelet-certificate-authority")},
		{"authorization-not-always-allow", finding.Critical, func(fl flagValues) string {
			modes, structured := authorizationModes(fl)
			if structured {
				return structuredAuthz("its authorizers leave out AlwaysAllow")
			}
			if !fl.set("--authorization-mode") {
				return "--authorization-mode is not set: the default, AlwaysAllow, authorizes every request"
			}
			if slices.Contains(modes, "AlwaysAllow") {
				return "--authorization-mode includes AlwaysAllow: every request is authorized"
			}
			return ""
		}},
		{"authorization-node", finding.Medium, func(fl flagValues) string {
			modes, structured := authorizationModes(fl)
			if structured {
				return structuredAuthz("the Node authorizer is among its authorizers")
			}
			if !slices.Contains(modes, "Node") {
				return "--authorization-mode does not include Node: kubelets are not limited to their own node's objects"
			}
			return ""
		}},
		{"authorization-rbac", finding.High, func(fl flagValues) string {
			modes, structured := authorizationModes(fl)
			if structured {
				return structuredAuthz("the RBAC authorizer is among its authorizers")
			}
			if !slices.Contains(modes, "RBAC") {
				return "--authorization-mode does not include RBAC"
			}
			return ""
		}},
		{"admission-event-rate-limit", finding.Low, admissionEnabled("EventRateLimit", "a flood of events can overload the API server")},
		{"admission-always-admit", finding.High, func(fl flagValues) string {
			if slices.Contains(fl.list("--enable-admission-plugins"), "AlwaysAdmit") {
				return "the AlwaysAdmit admission plugin is enabled: every request is admitted"
			}
			return ""
		}},
		{"admission-always-pull-images", finding.Low, admissionEnabled("AlwaysPullImages", "pods can use private images already pulled to their node without the pull secret")},
		{"admission-service-account", finding.Medium, admissionNotDisabled("ServiceAccount", "pods are not given service accounts and tokens automatically")},
		{"admission-namespace-lifecycle", finding.Medium, admissionNotDisabled("NamespaceLifecycle", "objects can be created in namespaces being deleted or that do not exist")},
		{"admission-node-restriction", finding.Medium, admissionEnabled("NodeRestriction", "a kubelet can change other nodes' objects and its own labels")},
		{"profiling", finding.Low, requireValue("--profiling", "false", "profiling endpoints are enabled")},
		{"audit-log-path", finding.Medium, requireSet("no audit log", "--audit-log-path")},
		{"audit-policy-file", finding.Medium, requireSet("no audit policy: nothing is audited", "--audit-policy-file")},
		{"audit-log-maxage", finding.Low, atLeast("--audit-log-maxage", 30, "keep audit logs for 30 days or as your retention policy says")},
		{"audit-log-maxbackup", finding.Low, atLeast("--audit-log-maxbackup", 10, "keep 10 rotated audit logs or as your retention policy says")},
		{"audit-log-maxsize", finding.Low, atLeast("--audit-log-maxsize", 100, "rotate audit logs at 100 MB or as your retention policy says")},
		{"service-account-lookup", finding.Medium, forbidValue("--service-account-lookup", "false", "tokens of deleted service accounts are still accepted")},
		{"service-account-key-file", finding.Medium, requireSet("service account tokens are verified with the serving key, which cannot be rotated apart", "--service-account-key-file")},
		{"etcd-certfile", finding.High, requireSet("the API server does not authenticate to etcd with a client certificate", "--etcd-certfile", "--etcd-keyfile")},
		{"tls-cert-file", finding.Medium, requireSet("the API server serves a self-signed certificate", "--tls-cert-file", "--tls-private-key-file")},
		{"client-ca-file", finding.Medium, requireSet("client certificates cannot be verified", "--client-ca-file")},
		{"etcd-cafile", finding.High, requireSet("etcd's serving certificate is not verified", "--etcd-cafile")},
		// --encryption-provider-config is judged by cluster/encryption-at-rest,
		// together with the KMS providers' health checks a managed control plane shows.
		{"tls-cipher-suites", finding.Low, func(fl flagValues) string {
			cs := fl.list("--tls-cipher-suites")
			if len(cs) == 0 {
				return "--tls-cipher-suites is not set: Go's defaults include suites the benchmark does not count as strong"
			}
			var weak []string
			for _, c := range cs {
				if weakCipher(c) {
					weak = append(weak, c)
				}
			}
			if len(weak) > 0 {
				return "weak TLS cipher suites are accepted: " + strings.Join(weak, ", ")
			}
			return ""
		}},
		{"service-account-extend-token-expiration", finding.Low, requireValue("--service-account-extend-token-expiration", "false", "projected tokens are valid for a year rather than the hour asked for")},
		{"tls-min-version", finding.Low, func(fl flagValues) string {
			if v := fl["--tls-min-version"]; v == "VersionTLS10" || v == "VersionTLS11" {
				return "TLS " + strings.TrimPrefix(v, "VersionTLS") + " is accepted (--tls-min-version)"
			}
			return ""
		}},
	}
}

// controllerManagerRules are CIS 1.3.x.
func controllerManagerRules() []flagRule {
	return []flagRule{
		{"terminated-pod-gc-threshold", finding.Low, requireSet("finished pods pile up to 12500 before they are collected", "--terminated-pod-gc-threshold")},
		{"profiling", finding.Low, requireValue("--profiling", "false", "profiling endpoints are enabled")},
		{"use-service-account-credentials", finding.Medium, requireValue("--use-service-account-credentials", "true", "every controller runs with the controller manager's own, broad credentials")},
		{"service-account-private-key-file", finding.Medium, requireSet("service account tokens cannot be signed with a key of their own", "--service-account-private-key-file")},
		{"root-ca-file", finding.Medium, requireSet("pods are not given the CA to verify the API server", "--root-ca-file")},
		{"rotate-kubelet-server-certificate", finding.Low, func(fl flagValues) string {
			if slices.Contains(fl.list("--feature-gates"), "RotateKubeletServerCertificate=false") {
				return "RotateKubeletServerCertificate=false: kubelet serving certificates are not rotated"
			}
			return ""
		}},
		{"bind-address", finding.Low, requireValue("--bind-address", "127.0.0.1", "the controller manager's metrics and health endpoints listen on every address")},
	}
}

// schedulerRules are CIS 1.4.x.
func schedulerRules() []flagRule {
	return []flagRule{
		{"profiling", finding.Low, requireValue("--profiling", "false", "profiling endpoints are enabled")},
		{"bind-address", finding.Low, requireValue("--bind-address", "127.0.0.1", "the scheduler's metrics and health endpoints listen on every address")},
	}
}

// etcdRules are CIS 2.1-2.6.
func etcdRules() []flagRule {
	return []flagRule{
		{"cert-file", finding.High, requireSet("clients are not served over TLS", "--cert-file", "--key-file")},
		{"listen-client-urls", finding.High, func(fl flagValues) string {
			for _, u := range fl.list("--listen-client-urls") {
				if strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "http://127.0.0.1") && !strings.HasPrefix(u, "http://localhost") {
					return "clients are served over plain HTTP on " + u
				}
			}
			return ""
		}},
		{"client-cert-auth", finding.High, requireValue("--client-cert-auth", "true", "clients are not required to present a certificate")},
		{"auto-tls", finding.Medium, forbidValue("--auto-tls", "true", "clients are served with a self-signed certificate")},
		{"peer-cert-file", finding.High, requireSet("peers are not served over TLS", "--peer-cert-file", "--peer-key-file")},
		{"peer-client-cert-auth", finding.High, requireValue("--peer-client-cert-auth", "true", "peers are not required to present a certificate")},
		{"peer-auto-tls", finding.Medium, forbidValue("--peer-auto-tls", "true", "peers are served with a self-signed certificate")},
	}
}

func ruleNames(rules []flagRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.name
	}
	return out
}

// flagsCheck is the check of one control-plane component's flags.
func flagsCheck(id, component, what, manifest string, rules []flagRule) checks.Check {
	return checks.Check{
		ID: id, Domain: Domain, Severity: finding.High,
		Range:       [2]finding.Severity{finding.Info, finding.Critical},
		Title:       component + " runs with a weak setting",
		Description: what + " Each flag is judged as its CIS Kubernetes Benchmark recommendation says; where no " + component + " pod is visible (a managed control plane) the check is unknown, never passing.",
		Remediation: "Change the flag in the " + component + " static pod manifest on each control-plane node (" + manifest + "); the kubelet restarts the pod.",
		Facets:      ruleNames(rules),
		Needs:       []inventory.Kind{inventory.Pods},
		Cluster:     true,
		Unseen:      notVisible(component),
		Run:         func(inv *inventory.Inventory) []finding.Finding { return componentFlags(inv, component, rules) },
	}
}

// notVisible makes a check unknown where no pod of the component is visible.
func notVisible(component string) func(*inventory.Inventory) string {
	return func(inv *inventory.Inventory) string {
		if len(componentPods(inv, component)) > 0 {
			return ""
		}
		return "no " + component + " pod is visible in kube-system (a managed or external control plane): its flags are unknown"
	}
}

// componentPods returns the kube-system pods of a kubeadm-style control-plane component.
func componentPods(inv *inventory.Inventory, component string) []*inventory.Pod {
	var out []*inventory.Pod
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if p.Namespace == "kube-system" && p.Labels["component"] == component {
			out = append(out, p)
		}
	}
	return out
}

// flags parses a container's command and args into flag values ("--x=v" and "--x v").
func flags(c *corev1.Container) flagValues {
	out := flagValues{}
	words := append(append([]string{}, c.Command...), c.Args...)
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "--") {
			continue
		}
		if k, v, ok := strings.Cut(w, "="); ok {
			out[k] = v
		} else if i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			out[w] = words[i+1]
			i++
		} else {
			out[w] = "true"
		}
	}
	return out
}

func componentFlags(inv *inventory.Inventory, component string, rules []flagRule) []finding.Finding {
	var out []finding.Finding
	for _, p := range componentPods(inv, component) {
		for ci := range p.Spec.Containers {
			c := &p.Spec.Containers[ci]
			if c.Name != component && len(p.Spec.Containers) > 1 {
				continue
			}
			fl := flags(c)
			for _, r := range rules {
				msg := r.judge(fl)
				if msg == "" {
					continue
				}
				sev, facet := r.severity, r.name
				if rest, unknown := strings.CutPrefix(msg, unknownVerdict); unknown {
					// Not a weakness found, and not a pass: the control is unknown.
					sev, facet, msg = finding.Info, finding.UnknownFacet(r.name), "unknown: "+rest
				}
				out = append(out, finding.Finding{
					Severity: sev,
					Message:  fmt.Sprintf("%s on %s: %s", component, nodeOf(p), msg),
					Resource: finding.Resource{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name},
					Evidence: map[string]any{"rule": r.name, "container": c.Name},
					Facets:   []string{facet},
				})
			}
		}
	}
	return out
}

func nodeOf(p *inventory.Pod) string {
	if p.NodeName != "" {
		return "node " + p.NodeName
	}
	return "pod " + p.Name
}

func controlPlaneNotVisible(inv *inventory.Inventory) []finding.Finding {
	if inv.Offline || len(componentPods(inv, "kube-apiserver")) > 0 {
		return nil
	}
	return []finding.Finding{{
		Message:  "no kube-apiserver pod in kube-system: control-plane flags are unknown (managed or external control plane)",
		Resource: finding.ClusterResource(),
	}}
}

// anonymousAccess judges the live probe: listing namespaces without
// credentials must fail, and should fail with 401 (anonymous auth off).
func anonymousAccess(inv *inventory.Inventory) []finding.Finding {
	p := inv.Anonymous
	if p == nil {
		return nil
	}
	ev := map[string]any{"GET /version": p.Version, "GET /api/v1/namespaces": p.Namespaces}
	res := finding.ClusterResource()
	switch {
	case p.Namespaces >= 200 && p.Namespaces < 300:
		return []finding.Finding{{
			Message:  fmt.Sprintf("a request without credentials listed namespaces (HTTP %d): RBAC grants system:anonymous or system:unauthenticated read access to the cluster", p.Namespaces),
			Resource: res, Evidence: ev,
		}}
	case p.Namespaces == 403:
		return []finding.Finding{{
			Severity: finding.Low,
			Message:  "anonymous auth is on: requests without credentials are served as system:anonymous (listing namespaces was forbidden by RBAC, HTTP 403)",
			Resource: res, Evidence: ev,
		}}
	}
	return nil
}

// failOpenWebhook is an admission webhook with failurePolicy Ignore.
type failOpenWebhook struct {
	Kind, Config, Name string
}

// failOpenWebhooks lists every validating and mutating webhook that admits requests while it is unavailable.
func failOpenWebhooks(inv *inventory.Inventory) []failOpenWebhook {
	var out []failOpenWebhook
	ignores := func(p *admissionregistrationv1.FailurePolicyType) bool {
		return p != nil && *p == admissionregistrationv1.Ignore
	}
	for _, c := range inv.ValidatingWebhooks {
		for _, w := range c.Webhooks {
			if ignores(w.FailurePolicy) {
				out = append(out, failOpenWebhook{"ValidatingWebhookConfiguration", c.Name, w.Name})
			}
		}
	}
	for _, c := range inv.MutatingWebhooks {
		for _, w := range c.Webhooks {
			if ignores(w.FailurePolicy) {
				out = append(out, failOpenWebhook{"MutatingWebhookConfiguration", c.Name, w.Name})
			}
		}
	}
	return out
}

func webhooksFailOpen(inv *inventory.Inventory) []finding.Finding {
	var out []finding.Finding
	for _, w := range failOpenWebhooks(inv) {
		out = append(out, finding.Finding{
			Message:  fmt.Sprintf("%s %s webhook %s has failurePolicy Ignore: requests are admitted unchecked while it is unavailable", w.Kind, w.Config, w.Name),
			Resource: finding.Resource{APIVersion: "admissionregistration.k8s.io/v1", Kind: w.Kind, Name: w.Config},
			Evidence: map[string]any{"webhook": w.Name},
		})
	}
	return out
}

// legacyTokens reports every legacy token Secret (inventory.TokenSecrets).
func legacyTokens(inv *inventory.Inventory) []finding.Finding {
	var out []finding.Finding
	for _, t := range inv.TokenSecrets() {
		s, sa := t.Secret, t.ServiceAccount
		msg := fmt.Sprintf("Secret %s/%s holds a non-expiring token of ServiceAccount %s/%s", s.Namespace, s.Name, s.Namespace, sa)
		ev := map[string]any{"serviceAccount": sa}
		if t.LastUsed != "" {
			msg += ", last used " + t.LastUsed
			ev["lastUsed"] = t.LastUsed
		}
		if t.InvalidSince != "" {
			msg += ", invalidated since " + t.InvalidSince
			ev["invalidSince"] = t.InvalidSince
		}
		target := remedy.Target{APIVersion: "v1", Kind: "Secret", Namespace: s.Namespace, Name: s.Name}
		out = append(out, finding.Finding{
			Message:  msg,
			Resource: finding.Resource{APIVersion: "v1", Kind: "Secret", Namespace: s.Namespace, Name: s.Name},
			Subject:  &finding.Subject{Kind: "ServiceAccount", Namespace: s.Namespace, Name: sa},
			Evidence: ev,
			Remediation: &remedy.Remediation{
				Summary: "delete the token Secret; workloads get short-lived projected tokens instead",
				Changes: []remedy.Change{remedy.NewDelete("delete Secret "+s.Namespace+"/"+s.Name+" (a long-lived token)", target, s.ResourceVersion)},
			},
		})
	}
	return out
}
