package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

var auditTime = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func TestCertManagerCertificates(t *testing.T) {
	inv := checktest.Load(t, "cert-manager.yaml")
	// Without the audit's time only readiness is judged.
	if got, want := messages(t, inv, "cluster/cert-manager-certificate"), []string{
		"medium: Certificate shop/api-tls is not Ready (DoesNotExist: Issuing certificate as Secret does not exist): Secret shop/api-tls may hold an old certificate or none",
	}; !slices.Equal(got, want) {
		t.Errorf("no time:\n  %q\nwant\n  %q", got, want)
	}
	inv.Settings.Now = auditTime
	want := []string{
		"high: Certificate shop/old-tls expired on 2026-01-01 00:00 UTC, renewal was due 2025-12-01 00:00 UTC",
		"medium: Certificate shop/api-tls is not Ready (DoesNotExist: Issuing certificate as Secret does not exist): Secret shop/api-tls may hold an old certificate or none",
	}
	if got := messages(t, inv, "cluster/cert-manager-certificate"); !slices.Equal(got, want) {
		t.Errorf("at %s:\n  %q\nwant\n  %q", auditTime, got, want)
	}
	// web-tls expires in 59 days: within a 60-day horizon, but cert-manager
	// has its renewal scheduled before then, which is low.
	inv.Settings.CertExpiryDays = 60
	got := messages(t, inv, "cluster/cert-manager-certificate")
	if !slices.Contains(got, "low: Certificate shop/web-tls expires in 59 days, on 2026-07-30 00:00 UTC, renewal scheduled for 2026-06-30 00:00 UTC") {
		t.Errorf("60 days: %q", got)
	}
}

func TestCertManagerNotInstalledIsNothingToJudge(t *testing.T) {
	inv := checktest.Load(t, "control-plane.yaml")
	if got := messages(t, inv, "cluster/cert-manager-certificate"); len(got) != 0 {
		t.Errorf("got %q", got)
	}
}

func certInventory(serving, client *inventory.CertificateInfo) *inventory.Inventory {
	inv := inventory.New()
	inv.Loaded[inventory.TLSCertificates] = true
	inv.TLS = &inventory.CertificateProbe{Host: "https://127.0.0.1:6443", Serving: serving, Client: client, ClientFrom: "client-certificate-data"}
	inv.Settings.Now = auditTime
	return inv
}

func TestCertificateExpiry(t *testing.T) {
	cert := func(notAfter time.Time) *inventory.CertificateInfo {
		return &inventory.CertificateInfo{Subject: "CN=kube-apiserver", Issuer: "CN=kubernetes", NotBefore: auditTime.AddDate(-1, 0, 0), NotAfter: notAfter}
	}
	cases := []struct {
		name     string
		notAfter time.Time
		days     int
		want     []string
	}{
		{"far", auditTime.AddDate(1, 0, 0), 0, nil},
		{"within 30 days", auditTime.Add(10*24*time.Hour + time.Hour), 0, []string{"medium: the API server's serving certificate (CN=kube-apiserver, issued by CN=kubernetes) expires in 10 days, on 2026-06-11 01:00 UTC"}},
		{"beyond 5 days", auditTime.Add(10 * 24 * time.Hour), 5, nil},
		{"expired", auditTime.Add(-time.Hour), 0, []string{"high: the API server's serving certificate (CN=kube-apiserver, issued by CN=kubernetes) expired on 2026-05-31 23:00 UTC"}},
	}
	for _, tc := range cases {
		inv := certInventory(cert(tc.notAfter), nil)
		inv.Settings.CertExpiryDays = tc.days
		if got := messages(t, inv, "cluster/apiserver-certificate-expiry"); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}

	client := &inventory.CertificateInfo{Subject: "CN=admin,O=system:masters", Issuer: "CN=kubernetes", NotAfter: auditTime.Add(36 * time.Hour)}
	inv := certInventory(cert(auditTime.AddDate(1, 0, 0)), client)
	want := []string{"medium: the kubeconfig's client certificate (CN=admin,O=system:masters, from client-certificate-data) expires in 1 day, on 2026-06-02 12:00 UTC"}
	if got := messages(t, inv, "cluster/client-certificate-expiry"); !slices.Equal(got, want) {
		t.Errorf("client: got %q want %q", got, want)
	}
	// A kubeconfig with a token has no certificate of its own to judge.
	if got := messages(t, certInventory(cert(auditTime.AddDate(1, 0, 0)), nil), "cluster/client-certificate-expiry"); len(got) != 0 {
		t.Errorf("no client certificate: %q", got)
	}
}

func TestServingCertificateUnknownOverPlainHTTP(t *testing.T) {
	inv := certInventory(nil, nil)
	for _, c := range Checks() {
		if c.ID != "cluster/apiserver-certificate-expiry" {
			continue
		}
		res := checks.Run(inv, []checks.Check{c})
		if len(res.Unknown) != 1 || len(res.Ran) != 0 {
			t.Errorf("plain HTTP: %+v, want unknown", res)
		}
	}
}
