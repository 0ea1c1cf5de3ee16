package cluster

import (
	"fmt"
	"math"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// The facets of the certificate checks.
const (
	certExpired  = "expired"
	certExpiring = "expiring"
	certNotReady = "not-ready"
)

// noClock is why a certificate check cannot judge expiry.
const noClock = "the audit's time is not known: certificate expiry is not judged"

func apiserverCertificateCheck() checks.Check {
	return checks.Check{
		ID: IDApiserverCertificateExpiry, Domain: Domain, Severity: finding.Medium,
		Range:       [2]finding.Severity{finding.Medium, finding.High},
		Title:       "API server serving certificate expires soon",
		Description: "When the API server's serving certificate expires, every client that verifies it (kubelets, controllers, kubectl) stops trusting the API server. The certificate is read from the TLS handshake of the audit's own request; it is reported within --cert-expiry-days of its expiry.",
		Remediation: "Renew the serving certificate before it expires (kubeadm certs renew apiserver, then restart the kube-apiserver static pod), and automate the renewal.",
		Facets:      []string{certExpired, certExpiring},
		Needs:       []inventory.Kind{inventory.TLSCertificates},
		Cluster:     true,
		Unseen: func(inv *inventory.Inventory) string {
			if inv.TLS == nil || inv.TLS.Serving == nil {
				return "the API server is reached over plain HTTP: no serving certificate to judge"
			}
			if _, _, ok := inv.Settings.ExpiryHorizon(); !ok {
				return noClock
			}
			return ""
		},
		Run: func(inv *inventory.Inventory) []finding.Finding {
			c := inv.TLS.Serving
			msg, sev, facet := expiry(inv.Settings, c.NotAfter)
			if msg == "" {
				return nil
			}
			return []finding.Finding{{
				Severity: sev,
				Message:  fmt.Sprintf("the API server's serving certificate (%s, issued by %s) %s", c.Subject, c.Issuer, msg),
				Resource: finding.ClusterResource(),
				Evidence: certEvidence(c, inv.TLS.Host),
				Facets:   []string{facet},
				Remediation: remedy.NewManual("On each control-plane node: kubeadm certs renew apiserver (check all with kubeadm certs check-expiration), " +
					"then restart kube-apiserver by moving /etc/kubernetes/manifests/kube-apiserver.yaml out of the directory and back. " +
					"Without kubeadm, reissue the certificate of --tls-cert-file from the cluster CA. On a managed cluster the provider rotates it: ask them."),
			}}
		},
	}
}

func clientCertificateCheck() checks.Check {
	return checks.Check{
		ID: IDClientCertificateExpiry, Domain: Domain, Severity: finding.Medium,
		Range:       [2]finding.Severity{finding.Medium, finding.High},
		Title:       "The kubeconfig's client certificate expires soon",
		Description: "A client certificate is a credential that cannot be revoked and is valid until it expires; the one the audit authenticates with is reported within --cert-expiry-days of its expiry, so it is renewed before the automation that uses it breaks. A kubeconfig without a client certificate (a token, an exec plugin) has nothing to judge here.",
		Remediation: "Issue a new client certificate (kubeadm kubeconfig user, or a CertificateSigningRequest) and replace client-certificate-data in the kubeconfig; prefer short-lived credentials (OIDC, exec plugins).",
		Facets:      []string{certExpired, certExpiring},
		Needs:       []inventory.Kind{inventory.TLSCertificates},
		Cluster:     true,
		Unseen: func(inv *inventory.Inventory) string {
			if _, _, ok := inv.Settings.ExpiryHorizon(); !ok && inv.TLS != nil && inv.TLS.Client != nil {
				return noClock
			}
			return ""
		},
		Run: func(inv *inventory.Inventory) []finding.Finding {
			c := inv.TLS.Client
			if c == nil {
				return nil
			}
			msg, sev, facet := expiry(inv.Settings, c.NotAfter)
			if msg == "" {
				return nil
			}
			ev := certEvidence(c, inv.TLS.Host)
			ev["from"] = inv.TLS.ClientFrom
			return []finding.Finding{{
				Severity: sev,
				Message:  fmt.Sprintf("the kubeconfig's client certificate (%s, from %s) %s", c.Subject, inv.TLS.ClientFrom, msg),
				Resource: finding.ClusterResource(),
				Evidence: ev,
				Facets:   []string{facet},
				Remediation: remedy.NewManual("Issue a new certificate for the same user (kubeadm kubeconfig user --client-name=NAME on a control-plane node, " +
					"or a CertificateSigningRequest approved with kubectl certificate approve) and replace client-certificate-data and client-key-data in the kubeconfig " +
					"(kubectl config set-credentials NAME --client-certificate=FILE --client-key=FILE --embed-certs)."),
			}}
		},
	}
}

func certEvidence(c *inventory.CertificateInfo, host string) map[string]any {
	ev := map[string]any{"subject": c.Subject, "issuer": c.Issuer,
		"notBefore": c.NotBefore.UTC().Format(time.RFC3339), "notAfter": c.NotAfter.UTC().Format(time.RFC3339), "server": host}
	if len(c.DNSNames) > 0 {
		ev["dnsNames"] = c.DNSNames
	}
	return ev
}

// expiry says how a notAfter compares with the audit's horizon: expired
// (high), within it (medium), or "" beyond it.
func expiry(s inventory.Settings, notAfter time.Time) (msg string, sev finding.Severity, facet string) {
	now, horizon, ok := s.ExpiryHorizon()
	if !ok {
		return "", 0, ""
	}
	date := notAfter.UTC().Format("2006-01-02 15:04 MST")
	switch {
	case !notAfter.After(now):
		return "expired on " + date, finding.High, certExpired
	case notAfter.Before(horizon):
		return fmt.Sprintf("expires in %s, on %s", days(notAfter.Sub(now)), date), finding.Medium, certExpiring
	}
	return "", 0, ""
}

func days(d time.Duration) string {
	n := int(math.Floor(d.Hours() / 24))
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func certManagerCheck() checks.Check {
	return checks.Check{
		ID: IDCertManagerCertificate, Domain: Domain, Severity: finding.Medium,
		Range:       [2]finding.Severity{finding.Low, finding.High},
		Title:       "cert-manager Certificate not Ready or expiring",
		Description: "A cert-manager Certificate that is not Ready failed to be issued or renewed; one that expires within --cert-expiry-days without a renewal due will lapse and break the TLS it serves. Read only where cert-manager's CRD is served.",
		Remediation: "Find why issuance fails (kubectl describe certificate, its CertificateRequests and the Issuer), fix the issuer, then force a new issuance (cmctl renew).",
		Facets:      []string{certNotReady, certExpiring, certExpired},
		Needs:       []inventory.Kind{inventory.Certificates},
		Run:         certManagerCertificates,
	}
}

func certManagerCertificates(inv *inventory.Inventory) []finding.Finding {
	var out []finding.Finding
	for i := range inv.Certificates {
		u := &inv.Certificates[i]
		ns, name := u.GetNamespace(), u.GetName()
		res := finding.Resource{APIVersion: u.GetAPIVersion(), Kind: "Certificate", Namespace: ns, Name: name}
		secret, _, _ := unstructured.NestedString(u.Object, "spec", "secretName")
		fix := remedy.NewManual(fmt.Sprintf("kubectl describe certificate -n %s %s and its CertificateRequests show why issuance fails; once the Issuer is fixed, "+
			"cmctl renew -n %s %s forces a new issuance (cert-manager then rewrites Secret %s/%s)", ns, name, ns, name, ns, secret))
		ready, reason, message := certReady(u)
		ev := map[string]any{"secretName": secret}
		if !ready {
			why := "has no Ready condition"
			if reason != "" || message != "" {
				why = fmt.Sprintf("is not Ready (%s: %s)", reason, message)
			}
			out = append(out, finding.Finding{
				Message:  fmt.Sprintf("Certificate %s/%s %s: Secret %s/%s may hold an old certificate or none", ns, name, why, ns, secret),
				Resource: res, Evidence: ev, Facets: []string{certNotReady}, Remediation: fix,
			})
		}
		notAfter, ok := statusTime(u, "notAfter")
		if !ok {
			continue
		}
		msg, sev, facet := expiry(inv.Settings, notAfter)
		if msg == "" {
			continue
		}
		ev = map[string]any{"secretName": secret, "notAfter": notAfter.UTC().Format(time.RFC3339)}
		renewal, scheduled := statusTime(u, "renewalTime")
		now, _, _ := inv.Settings.ExpiryHorizon()
		if facet == certExpiring && scheduled && renewal.After(now) && renewal.Before(notAfter) {
			// A short-lived certificate cert-manager will renew in time.
			sev = finding.Low
			msg += ", renewal scheduled for " + renewal.UTC().Format("2006-01-02 15:04 MST")
			ev["renewalTime"] = renewal.UTC().Format(time.RFC3339)
		} else if scheduled {
			msg += ", renewal was due " + renewal.UTC().Format("2006-01-02 15:04 MST")
			ev["renewalTime"] = renewal.UTC().Format(time.RFC3339)
		}
		out = append(out, finding.Finding{
			Severity: sev,
			Message:  fmt.Sprintf("Certificate %s/%s %s", ns, name, msg),
			Resource: res, Evidence: ev, Facets: []string{facet}, Remediation: fix,
		})
	}
	return out
}

// certReady reads the Ready condition of a cert-manager Certificate.
func certReady(u *unstructured.Unstructured) (ready bool, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		reason, _ = m["reason"].(string)
		message, _ = m["message"].(string)
		return m["status"] == "True", reason, message
	}
	return false, "", ""
}

func statusTime(u *unstructured.Unstructured, field string) (time.Time, bool) {
	s, ok, _ := unstructured.NestedString(u.Object, "status", field)
	if !ok || s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}
