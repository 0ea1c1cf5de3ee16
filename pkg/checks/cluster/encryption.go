package cluster

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// The facets of cluster/encryption-at-rest.
const (
	encNotConfigured = "not-configured"
	encKMSUnhealthy  = "kms-unhealthy"
	encKMSv1         = "kms-v1"
)

func encryptionAtRestCheck() checks.Check {
	return checks.Check{
		ID: IDEncryptionAtRest, Domain: Domain, Severity: finding.Medium,
		Range:       [2]finding.Severity{finding.Low, finding.Medium},
		Title:       "Secrets are not encrypted at rest, or their KMS provider fails",
		Description: "Without an encryption provider configuration, Secrets are stored in etcd in plain text: whoever reads etcd or its backups reads every Secret. A KMS provider shows in the API server's health checks (/readyz and /healthz list kms-providers or kms-provider-N), which managed control planes expose too; other providers (aescbc, aesgcm, secretbox) show only in the kube-apiserver flags of a visible control-plane pod. When neither is visible the check is unknown, never passing.",
		Remediation: "Give kube-apiserver an EncryptionConfiguration with a KMS v2 provider (or aescbc/secretbox) first for secrets, with --encryption-provider-config, then rewrite the existing Secrets so they are stored encrypted; on a managed cluster, turn on the provider's envelope encryption.",
		Facets:      []string{encNotConfigured, encKMSUnhealthy, encKMSv1},
		Needs:       []inventory.Kind{inventory.Pods, inventory.APIServerHealth},
		Cluster:     true,
		Unseen: func(inv *inventory.Inventory) string {
			if len(kmsHealthChecks(inv)) > 0 || len(componentPods(inv, "kube-apiserver")) > 0 {
				return ""
			}
			return "no KMS provider in the API server's health checks (" + strings.Join(healthEndpointsRead(inv), ", ") +
				") and no kube-apiserver pod in kube-system: whether Secrets are encrypted at rest is unknown (aescbc, aesgcm and secretbox providers show no health check)"
		},
		Run: encryptionAtRest,
	}
}

// kmsHealthChecks returns the API server's KMS provider health checks, by
// name, with whether each passed: kms-provider-N is a KMS v1 plugin (when the
// configuration is not reloaded automatically); kms-providers stands for the
// KMS v2 plugins, or, with automatic reload, for every plugin (then it is
// present even without one, a sign the encryption configuration is set).
func kmsHealthChecks(inv *inventory.Inventory) map[string]bool {
	out := map[string]bool{}
	for name, ok := range inv.Health.Checks() {
		if name == "kms-providers" || strings.HasPrefix(name, "kms-provider-") {
			out[name] = ok
		}
	}
	return out
}

func healthEndpointsRead(inv *inventory.Inventory) []string {
	var out []string
	for _, e := range inv.Health.EndpointNames() {
		out = append(out, e+"?verbose")
	}
	if len(out) == 0 {
		out = []string{"not read"}
	}
	return out
}

func encryptionAtRest(inv *inventory.Inventory) []finding.Finding {
	var out []finding.Finding
	kms := kmsHealthChecks(inv)
	names := make([]string, 0, len(kms))
	for n := range kms {
		names = append(names, n)
	}
	sort.Strings(names)
	var v1 []string
	for _, n := range names {
		if strings.HasPrefix(n, "kms-provider-") {
			v1 = append(v1, n)
		}
		if !kms[n] {
			out = append(out, finding.Finding{
				Severity: finding.Medium,
				Message:  fmt.Sprintf("the API server's health check %s fails: the KMS plugin does not answer, so resources encrypted with it cannot be read or written", n),
				Resource: finding.ClusterResource(),
				Evidence: map[string]any{"healthCheck": n, "endpoints": inv.Health.EndpointNames()},
				Facets:   []string{encKMSUnhealthy},
				Remediation: remedy.NewManual("On each control-plane node, check the KMS plugin named in the EncryptionConfiguration (its unix socket, its logs, its access to the key); " +
					"the health check recovers once the plugin answers. On a managed cluster, check the key's state with the provider."),
			})
		}
	}
	if len(v1) > 0 {
		out = append(out, finding.Finding{
			Severity: finding.Low,
			Message:  fmt.Sprintf("the API server encrypts with KMS v1 plugins (health checks %s): KMS v1 is deprecated and off by default since Kubernetes 1.29", strings.Join(v1, ", ")),
			Resource: finding.ClusterResource(),
			Evidence: map[string]any{"healthChecks": v1},
			Facets:   []string{encKMSv1},
			Remediation: remedy.NewManual("In the EncryptionConfiguration given by --encryption-provider-config, add a kms provider with apiVersion: v2 (a KMS v2 plugin) first and keep the v1 provider after it until " +
				"every Secret is rewritten (kubectl get secrets -A -o json | kubectl replace -f -), then remove the v1 provider."),
		})
	}
	for _, p := range componentPods(inv, "kube-apiserver") {
		for ci := range p.Spec.Containers {
			c := &p.Spec.Containers[ci]
			if c.Name != "kube-apiserver" && len(p.Spec.Containers) > 1 {
				continue
			}
			if flags(c).set("--encryption-provider-config") {
				continue
			}
			out = append(out, finding.Finding{
				Message:  fmt.Sprintf("kube-apiserver on %s: --encryption-provider-config is not set: Secrets are not encrypted at rest", nodeOf(p)),
				Resource: finding.Resource{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name},
				Evidence: map[string]any{"container": c.Name, "kmsHealthChecks": names},
				Facets:   []string{encNotConfigured},
				Remediation: remedy.NewManual("On the node, write an EncryptionConfiguration (resources: [secrets]; providers: kms apiVersion v2, or aescbc/secretbox, first; identity last) to " +
					"/etc/kubernetes/enc/enc.yaml, mount /etc/kubernetes/enc into the kube-apiserver static pod and add --encryption-provider-config=/etc/kubernetes/enc/enc.yaml to its command " +
					"in /etc/kubernetes/manifests/kube-apiserver.yaml; once every API server runs with it, rewrite the Secrets: kubectl get secrets -A -o json | kubectl replace -f -"),
			})
		}
	}
	return out
}
