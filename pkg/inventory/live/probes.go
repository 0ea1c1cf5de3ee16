package live

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// healthEndpoints are the endpoints whose verbose lists carry the KMS
// providers' checks: kube-apiserver adds them to /healthz and /readyz, not to
// /livez (k8s.io/apiserver's EtcdOptions, addHealthChecksWithoutLivez).
var healthEndpoints = []string{"/readyz", "/healthz"}

// probeHealth reads the verbose health check lists. A failing check makes
// the endpoint answer 500 with the same list, which is read too. An endpoint
// the user may not read (RBAC on the non-resource URL) or the server does
// not serve is left out; when none can be read the probe is forbidden.
func probeHealth(ctx context.Context, config *rest.Config) (*inventory.HealthProbe, error) {
	cfg := rest.CopyConfig(config)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	p := &inventory.HealthProbe{Endpoints: map[string]map[string]bool{}}
	var denied error
	for _, e := range healthEndpoints {
		code := 0
		res := cs.CoreV1().RESTClient().Get().AbsPath(e).Param("verbose", "").Do(ctx).StatusCode(&code)
		body, err := res.Raw()
		switch {
		case code == http.StatusOK || code == http.StatusInternalServerError:
			p.Endpoints[e] = inventory.ParseHealthChecks(string(body))
		case code == http.StatusForbidden || code == http.StatusUnauthorized:
			denied = err
		case code == http.StatusNotFound:
		case code == 0:
			return nil, fmt.Errorf("probe %s?verbose: %w", e, err)
		default:
			return nil, fmt.Errorf("probe %s?verbose: HTTP %d: %w", e, code, err)
		}
	}
	if len(p.Endpoints) == 0 && denied != nil {
		return nil, denied
	}
	return p, nil
}

// probeCertificates makes one request as the kubeconfig would and reads the
// serving certificate off its TLS connection (so proxies and the CA of the
// kubeconfig apply as for every other request), and parses the kubeconfig's
// own client certificate.
func probeCertificates(ctx context.Context, config *rest.Config) (*inventory.CertificateProbe, error) {
	p := &inventory.CertificateProbe{Host: config.Host}
	rt, err := rest.TransportFor(config)
	if err != nil {
		return nil, fmt.Errorf("create transport: %w", err)
	}
	base := config.Host
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+strings.TrimSuffix(config.APIPath, "/")+"/version", nil)
	if err != nil {
		return nil, fmt.Errorf("probe the serving certificate: %w", err)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("probe the serving certificate of %s: %w", config.Host, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		p.Serving = inventory.NewCertificateInfo(resp.TLS.PeerCertificates[0])
	}

	pemData, from := config.CertData, "client-certificate-data"
	if len(pemData) == 0 && config.CertFile != "" {
		from = config.CertFile
		if pemData, err = os.ReadFile(config.CertFile); err != nil {
			return nil, fmt.Errorf("read the kubeconfig's client certificate: %w", err)
		}
	}
	switch {
	case len(pemData) > 0:
		c, err := firstCertificate(pemData)
		if err != nil {
			return nil, fmt.Errorf("read the kubeconfig's client certificate (%s): %w", from, err)
		}
		p.Client, p.ClientFrom = inventory.NewCertificateInfo(c), from
	case config.ExecProvider != nil:
		p.ClientFrom = "exec plugin " + config.ExecProvider.Command + " (a certificate it returns is not seen)"
	case config.AuthProvider != nil:
		p.ClientFrom = "auth provider " + config.AuthProvider.Name
	case config.BearerToken != "" || config.BearerTokenFile != "":
		p.ClientFrom = "bearer token"
	}
	return p, nil
}

func firstCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("no PEM certificate")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// listOptionalCustom lists an add-on's custom resources (kept as read) at
// the first of its versions discovery serves. Discovery is asked first, so a
// cluster without the CRD reads as not installed (loaded, none) even for a
// user whom RBAC would refuse the list; a served kind that may not be listed
// is forbidden, and the checks that need it are skipped.
func (l *lister) listOptionalCustom(ctx context.Context, k inventory.Kind) error {
	versions, _, _ := inventory.CustomResource(k)
	version, served, err := l.servedVersion(k.Group(), string(k), versions)
	if err != nil {
		return err
	}
	if !served {
		return l.set(func() { l.inv.NotInstalled[k] = true })
	}
	nri := l.dc.Resource(schema.GroupVersionResource{Group: k.Group(), Version: version, Resource: string(k)})
	items, err := listPages(ctx, l, nri.Namespace(l.ns).List, func(l *unstructured.UnstructuredList) ([]unstructured.Unstructured, string) {
		return l.Items, l.GetContinue()
	}, func(o *unstructured.Unstructured) metav1.Object { return o })
	if apierrors.IsNotFound(err) {
		// The CRD was deleted since discovery answered.
		return l.set(func() { l.inv.NotInstalled[k] = true })
	}
	return l.done(err, func() { l.inv.SetCustom(k, items) })
}
