// Package cluster holds the checks on control-plane settings visible through
// the API: the flags of kubeadm-style static control-plane pods, admission
// webhooks that fail open, legacy service-account token Secrets, and
// admission control that verifies image signatures. What the
// API does not show (a managed control plane's flags) is reported as unknown,
// never as passing.
package cluster

import (
	"fmt"
	"slices"
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
func Checks() []checks.Check {
	return []checks.Check{
		{
			ID: "cluster/apiserver-flags", Domain: Domain, Severity: finding.High,
			Range:       [2]finding.Severity{finding.Low, finding.Critical},
			Title:       "kube-apiserver runs with a weak setting",
			Description: "The API server's flags decide whether anonymous requests are served, whether requests are authorized, audited and whether Secrets are encrypted at rest.",
			Remediation: "Change the flag in the kube-apiserver static pod manifest on each control-plane node (/etc/kubernetes/manifests/kube-apiserver.yaml).",
			Controls:    []finding.Control{"CIS-1.2", "NSA-CISA-Control-Plane", "NIST-800-53-CM-6"},
			Needs:       []inventory.Kind{inventory.Pods},
			Cluster:     true,
			Run: func(inv *inventory.Inventory) []finding.Finding {
				return componentFlags(inv, "kube-apiserver", apiserverRules)
			},
		},
		{
			ID: "cluster/etcd-flags", Domain: Domain, Severity: finding.High,
			Title:       "etcd runs with a weak setting",
			Description: "etcd holds every object of the cluster, Secrets included; clients and peers must authenticate with certificates.",
			Remediation: "Change the flag in the etcd static pod manifest on each control-plane node (/etc/kubernetes/manifests/etcd.yaml).",
			Controls:    []finding.Control{"CIS-2", "NSA-CISA-Control-Plane", "NIST-800-53-SC-8"},
			Needs:       []inventory.Kind{inventory.Pods},
			Cluster:     true,
			Run:         func(inv *inventory.Inventory) []finding.Finding { return componentFlags(inv, "etcd", etcdRules) },
		},
		{
			ID: "cluster/control-plane-not-visible", Domain: Domain, Severity: finding.Info,
			Title:       "Control-plane settings cannot be seen through the API",
			Description: "No kube-apiserver pod is visible in kube-system (a managed or externally run control plane): its flags are unknown, not passing. Check them with the provider.",
			Remediation: "Review the provider's control-plane settings (anonymous auth, authorization mode, audit logging, encryption at rest).",
			Controls:    []finding.Control{"CIS-1.2", "NSA-CISA-Control-Plane"},
			Needs:       []inventory.Kind{inventory.Pods},
			Cluster:     true,
			Run:         controlPlaneNotVisible,
		},
		{
			ID: "cluster/anonymous-access", Domain: Domain, Severity: finding.Critical,
			Range:       [2]finding.Severity{finding.Low, finding.Critical},
			Title:       "API server answers requests without credentials",
			Description: "With anonymous auth on, a request without credentials is served as system:anonymous; whatever RBAC grants that user or system:unauthenticated is open to anyone who can reach the API server.",
			Remediation: "Set --anonymous-auth=false on kube-apiserver (keep it only for health checks, with an AuthenticationConfiguration anonymous section limited to /livez, /readyz and /healthz), and remove every binding to system:anonymous and system:unauthenticated.",
			Controls:    []finding.Control{"CIS-1.2.1", "CIS-5.1.1", "NSA-CISA-Authentication", "NIST-800-53-AC-14"},
			Needs:       []inventory.Kind{inventory.AnonymousAccess},
			Cluster:     true,
			Run:         anonymousAccess,
		},
		{
			ID: "cluster/webhook-fails-open", Domain: Domain, Severity: finding.Low,
			Title:       "Admission webhook fails open",
			Description: "A webhook with failurePolicy Ignore admits every request while it is down or slow: a policy it enforces can be bypassed by making it unavailable.",
			Remediation: "Set failurePolicy: Fail on webhooks that enforce security policy, with enough replicas and a PodDisruptionBudget.",
			Controls:    []finding.Control{"NSA-CISA-Admission", "NIST-800-53-SI-4"},
			Needs:       []inventory.Kind{inventory.ValidatingWebhookConfigurations, inventory.MutatingWebhookConfigurations},
			Run:         webhooksFailOpen,
		},
		{
			ID: "cluster/legacy-token-secret", Domain: Domain, Severity: finding.Medium,
			Title:       "Long-lived service account token Secret",
			Description: "A kubernetes.io/service-account-token Secret holds a token that never expires; anyone who reads it once holds the service account until the Secret is deleted.",
			Remediation: "Delete the Secret and use short-lived tokens (projected volumes, or kubectl create token).",
			Controls:    []finding.Control{"CIS-5.1.6", "NSA-CISA-Authentication", "NIST-800-53-IA-5"},
			Needs:       []inventory.Kind{inventory.Secrets},
			Run:         legacyTokens,
		},
		{
			ID: "cluster/image-signing-not-enforced", Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Info, finding.Medium},
			Title:       "Image signatures are not verified at admission",
			Description: "Without admission control that verifies image signatures (sigstore policy-controller, Kyverno verifyImages or ImageValidatingPolicy, the ImagePolicyWebhook plugin), a tampered or untrusted image runs as readily as a signed one. Tools this audit cannot see are unknown, not passing.",
			Remediation: "Install a verifier (sigstore policy-controller with ClusterImagePolicies and namespaces labelled policy.sigstore.dev/include=true, or Kyverno verifyImages / ImageValidatingPolicy in Enforce mode) with failurePolicy Fail.",
			Controls:    []finding.Control{"NIST-800-190-4.1.1", "NIST-800-53-SI-7", "NSA-CISA-Supply-Chain"},
			Needs: []inventory.Kind{inventory.Pods, inventory.Namespaces, inventory.ValidatingWebhookConfigurations, inventory.MutatingWebhookConfigurations,
				inventory.ClusterImagePolicies, inventory.KyvernoClusterPolicies, inventory.KyvernoPolicies, inventory.ImageValidatingPolicies, inventory.ConstraintTemplates},
			Cluster: true,
			Run:     imageSigningNotEnforced,
		},
	}
}

// flagRule judges a component's flags; it returns a message when weak.
type flagRule struct {
	flag     string
	severity finding.Severity
	judge    func(value string, set bool) string
}

var apiserverRules = []flagRule{
	{"--anonymous-auth", finding.High, func(v string, set bool) string {
		if !set || v != "false" {
			return "anonymous requests are authenticated as system:anonymous (--anonymous-auth is not false)"
		}
		return ""
	}},
	{"--authorization-mode", finding.Critical, func(v string, set bool) string {
		modes := strings.Split(v, ",")
		if slices.Contains(modes, "AlwaysAllow") {
			return "--authorization-mode includes AlwaysAllow: every request is authorized"
		}
		if set && !slices.Contains(modes, "RBAC") {
			return "--authorization-mode does not include RBAC"
		}
		return ""
	}},
	{"--profiling", finding.Low, func(v string, set bool) string {
		if v != "false" {
			return "profiling endpoints are enabled (--profiling is not false)"
		}
		return ""
	}},
	{"--audit-log-path", finding.Medium, func(v string, set bool) string {
		if !set || v == "" {
			return "no audit log (--audit-log-path is not set)"
		}
		return ""
	}},
	{"--encryption-provider-config", finding.Medium, func(v string, set bool) string {
		if !set || v == "" {
			return "Secrets are not encrypted at rest (--encryption-provider-config is not set)"
		}
		return ""
	}},
	{"--enable-admission-plugins", finding.Medium, func(v string, set bool) string {
		if !slices.Contains(strings.Split(v, ","), "NodeRestriction") {
			return "the NodeRestriction admission plugin is not enabled"
		}
		return ""
	}},
	{"--tls-min-version", finding.Low, func(v string, set bool) string {
		if set && (v == "VersionTLS10" || v == "VersionTLS11") {
			return "TLS " + strings.TrimPrefix(v, "VersionTLS") + " is accepted (--tls-min-version)"
		}
		return ""
	}},
}

var etcdRules = []flagRule{
	{"--client-cert-auth", finding.High, func(v string, set bool) string {
		if v != "true" {
			return "clients are not required to present a certificate (--client-cert-auth is not true)"
		}
		return ""
	}},
	{"--peer-client-cert-auth", finding.High, func(v string, set bool) string {
		if v != "true" {
			return "peers are not required to present a certificate (--peer-client-cert-auth is not true)"
		}
		return ""
	}},
	{"--auto-tls", finding.Medium, func(v string, set bool) string {
		if v == "true" {
			return "clients are served with a self-signed certificate (--auto-tls=true)"
		}
		return ""
	}},
	{"--listen-client-urls", finding.High, func(v string, set bool) string {
		for _, u := range strings.Split(v, ",") {
			if strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "http://127.0.0.1") && !strings.HasPrefix(u, "http://localhost") {
				return "clients are served over plain HTTP on " + u
			}
		}
		return ""
	}},
}

// componentPods returns the kube-system pods of a kubeadm-style control-plane component.
func componentPods(inv *inventory.Inventory, component string) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if p.Namespace == "kube-system" && p.Labels["component"] == component {
			out = append(out, p)
		}
	}
	return out
}

// flags parses a container's command and args into flag values ("--x=v" and "--x v").
func flags(c *corev1.Container) map[string]string {
	out := map[string]string{}
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
				v, set := fl[r.flag]
				msg := r.judge(v, set)
				if msg == "" {
					continue
				}
				out = append(out, finding.Finding{
					Severity: r.severity,
					Message:  fmt.Sprintf("%s on %s: %s", component, nodeOf(p), msg),
					Resource: finding.Resource{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name},
					Evidence: map[string]any{"flag": r.flag, "value": v, "set": set, "container": c.Name},
				})
			}
		}
	}
	return out
}

func nodeOf(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return "node " + p.Spec.NodeName
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
