package e2e

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

func unknownReason(r *finding.Report, check string) (string, bool) {
	for _, u := range r.Summary.Unknown {
		if u.Check == check {
			return u.Reason, true
		}
	}
	return "", false
}

// TestEncryptionAtRestUnknownOnTheRealServer: the test API server runs
// without an encryption configuration and outside the cluster, so neither a
// KMS health check nor a kube-apiserver pod is visible: the check is unknown,
// and CIS 1.2.27 with it, never passing. The health check list the check
// reads is the real server's, parsed as the live loader parses it.
func TestEncryptionAtRestUnknownOnTheRealServer(t *testing.T) {
	for _, path := range []string{"/readyz?verbose", "/healthz?verbose"} {
		res, err := env.Kubectl(nil, "get", "--raw", path)
		if err != nil || res.Code != 0 {
			t.Fatalf("kubectl get --raw %s: %v %s", path, err, res.Stderr)
		}
		checks := inventory.ParseHealthChecks(res.Stdout)
		if ok, seen := checks["etcd"]; !seen || !ok || !checks["ping"] {
			t.Errorf("%s parsed as %v, want etcd and ping passing:\n%s", path, checks, res.Stdout)
		}
		for name := range checks {
			if strings.HasPrefix(name, "kms-provider") {
				t.Errorf("%s lists %s on a server without an encryption configuration", path, name)
			}
		}
	}
	r, _ := report(t, env.Kubeconfig, "--check", "cluster/encryption-at-rest", "--framework", "cis")
	reason, unknown := unknownReason(r, "cluster/encryption-at-rest")
	if !unknown || !strings.Contains(reason, "no KMS provider in the API server's health checks (/healthz?verbose, /readyz?verbose)") {
		t.Errorf("cluster/encryption-at-rest: unknown %v (%q), want unknown naming the health checks read", unknown, reason)
	}
	if fs := findingsOf(r, "cluster/encryption-at-rest"); len(fs) != 0 {
		t.Errorf("findings while blind: %+v", fs)
	}
	for _, c := range r.Controls.Results {
		if c.ID == "CIS-1.2.27" && c.Status != finding.ControlUnknown {
			t.Errorf("CIS-1.2.27 is %s, want unknown", c.Status)
		}
	}
}

// TestCertificateExpiryFromTheRealHandshake: envtest's serving and client
// certificates are real and valid for a week, so within the default 30 days
// both are reported, with the serving certificate's notAfter the one a TLS
// handshake of our own sees; with --cert-expiry-days 1 neither is.
func TestCertificateExpiryFromTheRealHandshake(t *testing.T) {
	u, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only reads the certificate
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", u.Host, err)
	}
	notAfter := conn.ConnectionState().PeerCertificates[0].NotAfter.UTC().Format(time.RFC3339)
	_ = conn.Close()

	ids := []string{"cluster/apiserver-certificate-expiry", "cluster/client-certificate-expiry"}
	args := []string{"cluster"}
	for _, id := range ids {
		args = append(args, "--check", id)
	}
	r, _ := report(t, env.Kubeconfig, args...)
	serving := findingsOf(r, ids[0])
	if len(serving) != 1 || serving[0].Severity != finding.Medium || !strings.Contains(serving[0].Message, "the API server's serving certificate") ||
		serving[0].Evidence["notAfter"] != notAfter {
		t.Errorf("serving certificate: %+v, want one medium finding with notAfter %s", serving, notAfter)
	}
	if len(serving) == 1 && (serving[0].Remediation == nil || !serving[0].Remediation.Manual || !strings.Contains(serving[0].Remediation.Summary, "kubeadm certs renew apiserver")) {
		t.Errorf("serving certificate remediation: %+v, want manual guidance", serving[0].Remediation)
	}
	client := findingsOf(r, ids[1])
	if len(client) != 1 || !strings.Contains(client[0].Message, "the kubeconfig's client certificate (CN=harden-admin") ||
		client[0].Evidence["from"] != "client-certificate-data" {
		t.Errorf("client certificate: %+v, want one finding on harden-admin's certificate", client)
	}

	r, _ = report(t, env.Kubeconfig, append(args, "--cert-expiry-days", "1")...)
	for _, id := range ids {
		if fs := findingsOf(r, id); len(fs) != 0 {
			t.Errorf("%s within one day: %+v", id, fs)
		}
	}
}

// TestCertManagerCertificatesOnTheRealServer: before cert-manager's CRD is
// served there is nothing to judge (not installed, no skip); after, the
// Certificates get the status cert-manager would write, through the status
// subresource, and the ones not Ready or expiring are reported.
func TestCertManagerCertificatesOnTheRealServer(t *testing.T) {
	const check = "cluster/cert-manager-certificate"
	const crd = "crd/certificates.cert-manager.io"
	before, stderr := report(t, env.Kubeconfig, "--check", check)
	if st := inputStatus(before); st["certificates"] != finding.InputNotInstalled || len(findingsOf(before, check)) != 0 || stderr != "" {
		t.Fatalf("without the CRD: input %v, findings %+v, stderr %q", st, findingsOf(before, check), stderr)
	}
	t.Cleanup(func() {
		_, _ = env.Kubectl(nil, "delete", "namespace", "cluster-certs", "--wait=false", "--ignore-not-found")
		if res, err := env.Kubectl(nil, "delete", "--wait=true", "--ignore-not-found", crd); err != nil || res.Code != 0 {
			t.Errorf("delete the CRD: %v %s", err, res.Stderr)
		}
	})
	apply(t, "cluster", "cert-manager", "crd")
	if res, err := env.Kubectl(nil, "wait", "--for=condition=Established", "--timeout=60s", crd); err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRD: %v %s", err, res.Stderr)
	}
	var applyErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if applyErr = env.Apply(testdata("cluster", "cert-manager", "objects")); applyErr == nil {
			break
		}
	}
	if applyErr != nil {
		t.Fatal(applyErr)
	}
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	ready := func(status, reason, message string) string {
		return fmt.Sprintf(`{"type":"Ready","status":%q,"reason":%q,"message":%q,"lastTransitionTime":%q}`, status, reason, message, ts(0))
	}
	statuses := map[string]string{
		"cluster-cert-ok": fmt.Sprintf(`{"status":{"conditions":[%s],"notBefore":%q,"notAfter":%q,"renewalTime":%q}}`,
			ready("True", "Ready", "Certificate is up to date and has not expired"), ts(-24*time.Hour), ts(365*24*time.Hour), ts(300*24*time.Hour)),
		"cluster-cert-failing": fmt.Sprintf(`{"status":{"conditions":[%s]}}`,
			ready("False", "Failed", "The certificate request has failed to complete and will be retried")),
		"cluster-cert-expiring": fmt.Sprintf(`{"status":{"conditions":[%s],"notBefore":%q,"notAfter":%q,"renewalTime":%q}}`,
			ready("True", "Ready", "Certificate is up to date and has not expired"), ts(-85*24*time.Hour), ts(5*24*time.Hour+time.Hour), ts(-25*24*time.Hour)),
	}
	for name, patch := range statuses {
		res, err := env.Kubectl(nil, "patch", "certificate", name, "-n", "cluster-certs", "--subresource=status", "--type=merge", "-p", patch)
		if err != nil || res.Code != 0 {
			t.Fatalf("set the status of %s: %v %s", name, err, res.Stderr)
		}
	}

	r, stderr := report(t, env.Kubeconfig, "--check", check)
	if stderr != "" {
		t.Errorf("stderr %q", stderr)
	}
	var got []string
	for _, f := range findingsOf(r, check) {
		got = append(got, f.Severity.String()+" "+f.Message)
	}
	slices.Sort(got)
	exp := now.Add(5*24*time.Hour + time.Hour).Format("2006-01-02 15:04 MST")
	due := now.Add(-25 * 24 * time.Hour).Format("2006-01-02 15:04 MST")
	want := []string{
		"medium Certificate cluster-certs/cluster-cert-expiring expires in 5 days, on " + exp + ", renewal was due " + due,
		"medium Certificate cluster-certs/cluster-cert-failing is not Ready (Failed: The certificate request has failed to complete and will be retried): Secret cluster-certs/cluster-cert-failing may hold an old certificate or none",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	r, _ = report(t, env.Kubeconfig, "--check", check, "--cert-expiry-days", "3")
	if n := len(findingsOf(r, check)); n != 1 {
		t.Errorf("--cert-expiry-days 3: %d findings, want only the failing one", n)
	}
}

// TestImageScanResultsOnTheRealServer: without trivy-operator's CRD, and
// with it but no report, no scan result is visible: the check is unknown,
// never passing. With a VulnerabilityReport created for one pod, its fixable
// critical CVE is reported and the other pod's image as not scanned.
func TestImageScanResultsOnTheRealServer(t *testing.T) {
	const check = "workload/image-vulnerabilities"
	const crd = "crd/vulnerabilityreports.aquasecurity.github.io"
	blind := func(want string) {
		t.Helper()
		r, _ := report(t, env.Kubeconfig, "--check", check, "--framework", "nist-800-190")
		reason, unknown := unknownReason(r, check)
		if !unknown || !strings.Contains(reason, want) || len(findingsOf(r, check)) != 0 {
			t.Errorf("unknown %v (%q), findings %+v; want unknown with %q", unknown, reason, findingsOf(r, check), want)
		}
		for _, c := range r.Controls.Results {
			if c.ID == "NIST-800-190-4.1.1" && c.Status == finding.ControlPass {
				t.Errorf("4.1.1 passes without scan results")
			}
		}
	}
	blind("no image scan results visible: VulnerabilityReports (aquasecurity.github.io, trivy-operator) are not served")

	t.Cleanup(func() {
		_, _ = env.Kubectl(nil, "delete", "namespace", "workload-scan", "--wait=false", "--ignore-not-found")
		if res, err := env.Kubectl(nil, "delete", "--wait=true", "--ignore-not-found", crd); err != nil || res.Code != 0 {
			t.Errorf("delete the CRD: %v %s", err, res.Stderr)
		}
	})
	apply(t, "workload-scan", "crd")
	if res, err := env.Kubectl(nil, "wait", "--for=condition=Established", "--timeout=60s", crd); err != nil || res.Code != 0 {
		t.Fatalf("wait for the CRD: %v %s", err, res.Stderr)
	}
	apply(t, "workload-scan", "objects", "workloads.yaml")
	blind("no image scan results visible: no VulnerabilityReport")

	var applyErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if applyErr = env.Apply(testdata("workload-scan", "objects", "reports.yaml")); applyErr == nil {
			break
		}
	}
	if applyErr != nil {
		t.Fatal(applyErr)
	}
	r, _ := report(t, env.Kubeconfig, "-n", "workload-scan", "--check", check)
	var got []string
	for _, f := range findingsOf(r, check) {
		got = append(got, f.Severity.String()+" "+f.Resource.Name+": "+f.Message)
	}
	slices.Sort(got)
	want := []string{
		"high workload-scan-web: Pod workload-scan/workload-scan-web container web (image nginx:1.25.3): 1 critical and 0 high vulnerabilities have a fixed version (CVE-2026-1001)",
		"low workload-scan-unscanned: Pod workload-scan/workload-scan-unscanned container shell (image busybox:1.36): no image scan result (VulnerabilityReport) for this image",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n  %q\nwant\n  %q", got, want)
	}
}
