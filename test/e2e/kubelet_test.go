package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/cluster"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	testcluster "github.com/kubectl-harden/kubectl-harden/test/cluster"
)

// The kubelet tests run a real kubelet (test/tools/kubelet: k8s.io/kubernetes'
// pkg/kubelet as the hollow kubelet runs it, with the fake container runtime
// of the kubelet's own tests) that registers a Node with the test API server
// and serves its API over TLS with the authentication and authorization its
// configuration says. The API server reaches it through its node proxy, as
// it reaches any kubelet. It runs only for these tests, and its Node, Lease
// and the binding it needs are removed after them.

// testKubelet is a running kubelet and its Node.
type testKubelet struct {
	node string
	port int // the kubelet API's
	cmd  *exec.Cmd
	log  string
	stop func() // stops the kubelet and waits for it; the Node stays
}

// nodeIP returns an address of this machine the API server will proxy to:
// it refuses loopback and link-local addresses (isProxyableHostname in
// pkg/registry/core/node), so 127.0.0.1 will not do.
func nodeIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	t.Fatalf("no global unicast IPv4 address on this machine (have %v): the API server proxies to nodes only at such an address", addrs)
	return ""
}

// freePort returns a TCP port nothing listens on at ip.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startKubelet starts the test kubelet as node, configured by the
// KubeletConfiguration fields in config (a YAML fragment, on top of what it
// needs to run: its port and the client CA of the API server's kubelet client
// certificate, which config may override), and waits for its Node.
func startKubelet(t *testing.T, node, config string) *testKubelet {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ip := nodeIP(t)
	port := freePort(t, ip)
	file := filepath.Join(dir, "config.yaml")
	doc := fmt.Sprintf("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nport: %d\n%s", port, config)
	if !strings.Contains(config, "clientCAFile") {
		doc += fmt.Sprintf("\nauthentication:\n  x509:\n    clientCAFile: %s\n", env.KubeletClientCA)
	}
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &testKubelet{node: node, port: port, log: filepath.Join(dir, "kubelet.log")}
	logf, err := os.Create(k.log)
	if err != nil {
		t.Fatal(err)
	}
	k.cmd = exec.Command(filepath.Join(env.BinDir, "kubelet"), "--kubeconfig", env.Kubeconfig, "--config", file,
		"--node-name", node, "--node-ip", ip, "--root-dir", filepath.Join(dir, "root"))
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("start the test kubelet %s: %v", k.cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- k.cmd.Wait(); _ = logf.Close() }()
	var once sync.Once
	k.stop = func() {
		once.Do(func() {
			_ = k.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				exited <- err
			case <-time.After(15 * time.Second):
				_ = k.cmd.Process.Kill()
				exited <- <-exited
			}
		})
	}
	t.Cleanup(func() {
		k.stop()
		core := env.Client.CoreV1()
		if err := core.Nodes().Delete(ctx, node, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete Node %s: %v", node, err)
		}
		_ = env.Client.CoordinationV1().Leases("kube-node-lease").Delete(ctx, node, metav1.DeleteOptions{})
		if t.Failed() {
			b, _ := os.ReadFile(k.log)
			t.Logf("the test kubelet's log:\n%s", tail(string(b), 60))
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := env.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err == nil {
			return k
		}
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(k.log)
			t.Fatalf("the test kubelet exited (%v) before registering Node %s:\n%s", err, node, tail(string(b), 60))
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Node %s was not registered within 90s", node)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// allowAPIServerToKubelets binds system:kubelet-api-admin to the API server's
// kubelet client user, as kubeadm does, so that a kubelet whose authorization
// is Webhook lets the API server's proxied requests through.
func allowAPIServerToKubelets(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubelet-e2e-apiserver-kubelet-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:kubelet-api-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: testcluster.KubeletClientUser}},
	}
	if _, err := env.Client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.RbacV1().ClusterRoleBindings().Delete(ctx, crb.Name, metav1.DeleteOptions{}) })
}

// waitForConfigz waits until the admin's GET of the kubelet's /configz
// through the API server answers as ready says (the kubelet listens a moment
// after its Node is registered, and an authorization it cached expires).
func waitForConfigz(t *testing.T, k *testKubelet, what string, ready func(error) bool) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		_, err = env.Client.CoreV1().RESTClient().Get().Resource("nodes").Name(k.node).SubResource("proxy").Suffix("configz").DoRaw(context.Background())
		if ready(err) {
			return
		}
	}
	t.Fatalf("GET /api/v1/nodes/%s/proxy/configz: %v, want %s", k.node, err, what)
}

// kubeletStatus is the HTTP status of a GET without credentials of a kubelet URL.
func kubeletStatus(t *testing.T, url string) int {
	t.Helper()
	// The test kubelet's serving certificate is self-signed, as a kubelet without one makes it.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// cisStatuses are the statuses of the CIS 4.2.x controls in a report's scorecard.
func cisStatuses(t *testing.T, r *finding.Report) map[string]finding.ControlResult {
	t.Helper()
	if r.Controls == nil {
		t.Fatal("no scorecard in the report")
	}
	out := map[string]finding.ControlResult{}
	for _, c := range r.Controls.Results {
		if c.Section == "4.2" {
			out[string(c.ID)] = c
		}
	}
	return out
}

// kubeletSummary is the report's summary of the node's kubelet.
func kubeletSummary(t *testing.T, r *finding.Report, node string) cluster.KubeletSettings {
	t.Helper()
	s, ok, err := finding.CoverageOf[*cluster.KubeletSummary](r)
	if err != nil || !ok {
		t.Fatalf("no kubelet summary in the report's coverage: %v", err)
	}
	for _, k := range s.Kubelets {
		if k.Node == node {
			return k
		}
	}
	t.Fatalf("no kubelet %s in the report's coverage: %+v", node, s.Kubelets)
	return cluster.KubeletSettings{}
}

// TestKubeletSettings starts a real kubelet with some good and some weak
// settings and audits it through the real kubectl: the settings it runs with
// are in the report, each CIS 4.2.x control passes or fails as they say, and
// what cannot be judged is unknown. Before the kubelet trusts the API server
// the kubelet's refusal is the reason; a user without nodes/proxy gets unknown
// with the API server's refusal; without --kubelet the controls stay unknown.
func TestKubeletSettings(t *testing.T) {
	const node = "kubelet-e2e-node"
	readOnly := freePort(t, nodeIP(t))
	k := startKubelet(t, node, fmt.Sprintf(`readOnlyPort: %d
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization:
  mode: Webhook
  webhook: {cacheAuthorizedTTL: 1s, cacheUnauthorizedTTL: 1s}
rotateCertificates: true
serverTLSBootstrap: false
streamingConnectionIdleTimeout: 5m
makeIPTablesUtilChains: true
eventRecordQPS: 5
tlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
podPidsLimit: 1024
seccompDefault: false
`, readOnly, env.KubeletClientCA))

	// The kubelet authorizes with SubjectAccessReviews: until RBAC lets the
	// API server's kubelet client user in, the kubelet refuses the proxied request.
	waitForConfigz(t, k, "the kubelet's refusal", apierrors.IsForbidden)
	r, _ := report(t, env.Kubeconfig, "cluster", "--kubelet")
	if fs := findingsOf(r, cluster.KubeletCheck); len(fs) != 1 || fs[0].Severity != finding.Info || fs[0].Resource.Name != node ||
		!strings.Contains(fs[0].Message, "unknown: its configuration (/configz) could not be read: the kubelet refused the API server's request (HTTP 403)") ||
		!strings.Contains(fs[0].Message, "user="+testcluster.KubeletClientUser) {
		t.Errorf("before the kubelet trusts the API server: want one unknown finding with the kubelet's refusal, got %+v", fs)
	}

	allowAPIServerToKubelets(t)
	waitForConfigz(t, k, "the configuration", func(err error) bool { return err == nil })

	// What the findings below claim, asked of the kubelet itself without
	// credentials: the read-only port serves its pods, and the secure port
	// serves anonymous requests (authorized by a SubjectAccessReview, which
	// denies system:anonymous: 403, not the 401 of a kubelet without anonymous auth).
	if code := kubeletStatus(t, fmt.Sprintf("http://%s/pods", net.JoinHostPort(nodeIP(t), strconv.Itoa(readOnly)))); code != http.StatusOK {
		t.Errorf("the read-only port answered %d, want 200", code)
	}
	if code := kubeletStatus(t, fmt.Sprintf("https://%s/pods", net.JoinHostPort(nodeIP(t), strconv.Itoa(k.port)))); code != http.StatusForbidden {
		t.Errorf("an anonymous request to the kubelet API got %d, want 403", code)
	}

	r, _ = report(t, env.Kubeconfig, "cluster", "--kubelet", "--framework", "cis")
	settings := kubeletSummary(t, r, node).Settings
	for name, want := range map[string]any{
		"authentication.anonymous.enabled": true, "authorization.mode": "Webhook", "readOnlyPort": float64(readOnly),
		"authentication.x509.clientCAFile": env.KubeletClientCA, "rotateCertificates": true, "serverTLSBootstrap": false,
		"seccompDefault": false, "protectKernelDefaults": false, "eventRecordQPS": float64(5), "podPidsLimit": float64(1024),
		"streamingConnectionIdleTimeout": "5m0s", "makeIPTablesUtilChains": true,
	} {
		if settings[name] != want {
			t.Errorf("the report says the kubelet runs with %s: %v, want %v", name, settings[name], want)
		}
	}
	var messages []string
	for _, f := range findingsOf(r, cluster.KubeletCheck) {
		messages = append(messages, f.Severity.String()+": "+f.Message)
		if f.Resource.Name != node {
			t.Errorf("a kubelet finding about another node: %s", f.Message)
		}
	}
	for _, want := range []string{
		"high: kubelet on node " + node + ": authentication.anonymous.enabled is true",
		"medium: kubelet on node " + node + ": readOnlyPort is " + strconv.Itoa(readOnly),
		"low: kubelet on node " + node + ": serverTLSBootstrap is false",
		"low: kubelet on node " + node + ": seccompDefault is false",
		"low: kubelet on node " + node + ": protectKernelDefaults is false",
		"info: kubelet on node " + node + ": unknown: eventRecordQPS is 5",
		// InitializeTLS wrote a self-signed certificate to the cert directory, as a kubelet without one does.
		"info: kubelet on node " + node + ": unknown: tlsCertFile is " + filepath.Join(filepath.Dir(k.log), "root", "pki", "kubelet.crt") + ", where",
	} {
		found := false
		for _, m := range messages {
			found = found || strings.HasPrefix(m, want)
		}
		if !found {
			t.Errorf("no finding %q in\n  %s", want, strings.Join(messages, "\n  "))
		}
	}
	if len(messages) != 7 {
		t.Errorf("%d kubelet findings, want 7:\n  %s", len(messages), strings.Join(messages, "\n  "))
	}
	for _, f := range findingsOf(r, cluster.KubeletCheck) {
		if f.Severity > finding.Info && (f.Remediation == nil || !f.Remediation.Manual || !strings.Contains(f.Remediation.Summary, "On node "+node+", set ")) {
			t.Errorf("%s: the remedy is not the manual change on the node: %+v", f.Message, f.Remediation)
		}
	}
	want := map[string]string{
		"CIS-4.2.1": finding.ControlFail, "CIS-4.2.2": finding.ControlPass, "CIS-4.2.3": finding.ControlPass,
		"CIS-4.2.4": finding.ControlFail, "CIS-4.2.5": finding.ControlPass, "CIS-4.2.6": finding.ControlPass,
		"CIS-4.2.7": finding.ControlManual, "CIS-4.2.8": finding.ControlUnknown, "CIS-4.2.9": finding.ControlUnknown,
		"CIS-4.2.10": finding.ControlPass, "CIS-4.2.11": finding.ControlFail, "CIS-4.2.12": finding.ControlPass,
		"CIS-4.2.13": finding.ControlPass, "CIS-4.2.14": finding.ControlFail,
	}
	admin := cisStatuses(t, r)
	for id, st := range want {
		if admin[id].Status != st {
			t.Errorf("%s (%s): %s %s, want %s", id, r.Metadata.Benchmark.ID, admin[id].Status, admin[id].Reason, st)
		}
	}
	table := mustHarden(t, "cluster", "--kubelet", "--color", "never").Stdout
	row := ""
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == node {
			row = strings.Join(f, " ")
		}
	}
	// NODE VERSION ANONYMOUS-AUTH AUTHORIZATION READ-ONLY-PORT PROTECT-KERNEL-DEFAULTS ROTATE-CERTIFICATES SERVER-TLS-BOOTSTRAP SECCOMP-DEFAULT EVENT-QPS
	if want := node + " v1.37.2 true Webhook " + strconv.Itoa(readOnly) + " false true false false 5"; !strings.Contains(table, "KUBELETS") || row != want {
		t.Errorf("the kubelets table's row is %q, want %q:\n%s", row, want, table)
	}

	// Without --kubelet nothing is asked of the kubelets: unknown, as before.
	r, _ = report(t, env.Kubeconfig, "cluster", "--framework", "cis")
	for id, c := range cisStatuses(t, r) {
		if c.Status != finding.ControlUnknown && c.Status != finding.ControlManual {
			t.Errorf("%s without --kubelet: %s", id, c.Status)
		}
		if c.Status == finding.ControlUnknown && !strings.Contains(c.Reason, "not read without --kubelet") {
			t.Errorf("%s without --kubelet: unknown, but says %q", id, c.Reason)
		}
	}

	// The auditor role lists nodes but leaves nodes/proxy out: unknown, with the API server's refusal.
	const user = "kubelet-e2e-auditor"
	kubeconfig, _ := applyAuditorRole(t, "kubelet-e2e-auditor", user)
	r, _ = report(t, kubeconfig, "cluster", "--kubelet", "--framework", "cis")
	fs := findingsOf(r, cluster.KubeletCheck)
	if len(fs) != 1 || fs[0].Severity != finding.Info ||
		!strings.Contains(fs[0].Message, "the API server forbids it (--kubelet needs get on nodes/proxy)") ||
		!strings.Contains(fs[0].Message, `User "`+user+`" cannot get resource "nodes/proxy"`) {
		t.Errorf("without nodes/proxy: want one unknown finding with the API server's refusal, got %+v", fs)
	}
	for id, c := range cisStatuses(t, r) {
		if want[id] == finding.ControlManual {
			continue
		}
		if c.Status != finding.ControlUnknown || !strings.Contains(c.Reason, "forbids it") {
			t.Errorf("%s without nodes/proxy: %s %q, want unknown with the reason", id, c.Status, c.Reason)
		}
	}

	// Granted as the auditor-role help says, the auditor sees what the admin sees,
	// and the audit reports the grant: nodes/proxy reaches the kubelet API.
	for _, args := range [][]string{
		{"create", "clusterrole", "kubectl-harden-kubelet", "--verb=get", "--resource=nodes/proxy"},
		{"create", "clusterrolebinding", "kubectl-harden-kubelet", "--clusterrole=kubectl-harden-kubelet", "--user=" + user},
	} {
		res, err := env.Kubectl(nil, args...)
		if err != nil || res.Code != 0 {
			t.Fatalf("kubectl %s: %v %s", strings.Join(args, " "), err, res.Stderr)
		}
	}
	t.Cleanup(func() {
		_, _ = env.Kubectl(nil, "delete", "clusterrolebinding,clusterrole", "kubectl-harden-kubelet", "--ignore-not-found")
	})
	r, _ = report(t, kubeconfig, "--kubelet", "--framework", "cis")
	for id, c := range cisStatuses(t, r) {
		if c.Status != admin[id].Status {
			t.Errorf("%s with nodes/proxy: %s, the admin's %s", id, c.Status, admin[id].Status)
		}
	}
	grant := false
	for _, f := range findingsOf(r, "rbac/nodes-proxy") {
		grant = grant || (f.Subject != nil && f.Subject.Name == user && f.Severity > finding.Info)
	}
	if !grant {
		t.Errorf("rbac/nodes-proxy does not report the auditor's grant of nodes/proxy: %+v", findingsOf(r, "rbac/nodes-proxy"))
	}

	// A node whose kubelet is down: its settings are unknown, and the audit says it could not reach it.
	k.stop()
	r, _ = report(t, env.Kubeconfig, "cluster", "--kubelet", "--framework", "cis")
	if fs := findingsOf(r, cluster.KubeletCheck); len(fs) != 1 || fs[0].Severity != finding.Info ||
		!strings.Contains(fs[0].Message, "could not be read: the kubelet could not be reached through the API server") {
		t.Errorf("with the kubelet down: want one unknown finding saying it could not be reached, got %+v", fs)
	}
	for id, c := range cisStatuses(t, r) {
		if want[id] != finding.ControlManual && c.Status != finding.ControlUnknown {
			t.Errorf("%s with the kubelet down: %s", id, c.Status)
		}
	}
}
