package inventory

import (
	"bufio"
	"crypto/x509"
	"sort"
	"strings"
	"time"
)

// HealthProbe is what the API server lists of its own health checks: per
// endpoint ("/readyz", "/healthz"), each named check and whether it passed.
// The KMS encryption providers register checks there (kms-provider-N for
// each KMS v1 plugin, kms-providers for KMS v2 plugins or when the encryption
// config is reloaded automatically); /livez does not carry them.
type HealthProbe struct {
	// Endpoints maps an endpoint to its checks; an endpoint that could not
	// be read (forbidden, not served) is absent.
	Endpoints map[string]map[string]bool `json:"endpoints"`
}

// Checks returns every check name any endpoint lists, sorted, with whether it
// passed everywhere it is listed.
func (p *HealthProbe) Checks() map[string]bool {
	out := map[string]bool{}
	if p == nil {
		return out
	}
	for _, checks := range p.Endpoints {
		for name, ok := range checks {
			if prev, seen := out[name]; seen {
				out[name] = prev && ok
			} else {
				out[name] = ok
			}
		}
	}
	return out
}

// EndpointNames returns the endpoints read, sorted.
func (p *HealthProbe) EndpointNames() []string {
	var out []string
	if p == nil {
		return out
	}
	for e := range p.Endpoints {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// ParseHealthChecks reads the body of /readyz?verbose, /healthz?verbose or
// /livez?verbose: a line "[+]name ok" or "[-]name failed: reason withheld"
// per check, then "healthz check passed" or "... check failed". Other lines
// are ignored.
func ParseHealthChecks(body string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var ok bool
		switch {
		case strings.HasPrefix(line, "[+]"):
			ok = true
		case strings.HasPrefix(line, "[-]"):
		default:
			continue
		}
		name, _, _ := strings.Cut(line[3:], " ")
		if name != "" {
			out[name] = ok
		}
	}
	return out
}

// CertificateProbe is what a live audit sees of certificates: the API
// server's serving certificate, from the TLS handshake of a request, and the
// client certificate the kubeconfig authenticates with.
type CertificateProbe struct {
	// Host is the API server's address as the kubeconfig gives it.
	Host string `json:"host"`
	// Serving is the leaf certificate the server presented; nil over plain HTTP.
	Serving *CertificateInfo `json:"serving,omitempty"`
	// Client is the kubeconfig's client certificate; nil when it has none
	// (a token, an exec plugin whose certificate is not seen).
	Client *CertificateInfo `json:"client,omitempty"`
	// ClientFrom says where the client certificate came from ("client-certificate-data",
	// the file's path), or, without one, how the kubeconfig authenticates as far as it shows.
	ClientFrom string `json:"clientFrom,omitempty"`
}

// CertificateInfo is the part of an X.509 certificate the checks judge.
type CertificateInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	DNSNames  []string  `json:"dnsNames,omitempty"`
}

// NewCertificateInfo keeps what the checks read of a certificate.
func NewCertificateInfo(c *x509.Certificate) *CertificateInfo {
	return &CertificateInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, DNSNames: append([]string(nil), c.DNSNames...)}
}
