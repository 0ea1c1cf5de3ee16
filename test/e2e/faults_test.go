package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	fixsession "github.com/kubectl-harden/kubectl-harden/pkg/apply"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/test/cluster"
)

// faultCluster is a cluster of its own whose kube-apiserver the test
// stops (SIGSTOP), resumes, kills and starts again on the same etcd, port
// and certificates, so the admin kubeconfig keeps working. The plugin may
// talk to it through a TCP proxy the test controls, to make "the answer was
// lost" and "the request never arrived" deterministic.
type faultCluster struct {
	*cluster.Cluster
	t     *testing.T
	pid   int
	argv  []string
	own   *exec.Cmd // the server started again by the test, nil while envtest's runs
	proxy *tcpProxy
	// ProxyKubeconfig is the admin kubeconfig pointed at the proxy.
	ProxyKubeconfig string
}

func startFaultCluster(t *testing.T) *faultCluster {
	t.Helper()
	dir := t.TempDir()
	c, err := cluster.Start(env.BinDir, dir)
	if err != nil {
		t.Fatal(err)
	}
	c.PluginDir = env.PluginDir
	f := &faultCluster{Cluster: c, t: t}
	t.Cleanup(func() {
		if f.own != nil {
			_ = syscall.Kill(f.own.Process.Pid, syscall.SIGCONT)
			_ = f.own.Process.Kill()
			_ = f.own.Wait()
		} else {
			_ = syscall.Kill(f.pid, syscall.SIGCONT)
		}
		_ = c.Stop()
	})
	u, err := url.Parse(c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	if f.pid, f.argv, err = apiServerProcess(u.Port()); err != nil {
		t.Fatal(err)
	}
	f.proxy = startProxy(t, u.Host)
	kc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range kc.Clusters {
		cl.Server = "https://" + f.proxy.Addr()
	}
	f.ProxyKubeconfig = filepath.Join(dir, "proxy.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, f.ProxyKubeconfig); err != nil {
		t.Fatal(err)
	}
	return f
}

// apiServerProcess finds the kube-apiserver this test process started that
// serves on port, and its command line.
func apiServerProcess(port string) (int, []string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, nil, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if filepath.Base(argv[0]) != "kube-apiserver" {
			continue
		}
		for _, a := range argv {
			if a == "--secure-port="+port {
				return pid, argv, nil
			}
		}
	}
	return 0, nil, fmt.Errorf("no kube-apiserver child serving on port %s", port)
}

func (f *faultCluster) signal(sig syscall.Signal) {
	f.t.Helper()
	if err := syscall.Kill(f.pid, sig); err != nil {
		f.t.Fatalf("signal %v to kube-apiserver %d: %v", sig, f.pid, err)
	}
}

// kill ends the server at once, as a crash would.
func (f *faultCluster) kill() {
	f.t.Helper()
	f.signal(syscall.SIGKILL)
	if f.own != nil {
		_ = f.own.Wait()
		f.own = nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		// Gone, or a zombie envtest has not reaped yet: either serves nothing.
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", f.pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatal("kube-apiserver did not die")
}

// restart starts the server again with the same command line and waits until it is ready.
func (f *faultCluster) restart() {
	f.t.Helper()
	cmd := exec.Command(f.argv[0], f.argv[1:]...)
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.own, f.pid = cmd, cmd.Process.Pid
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := f.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.t.Fatal("kube-apiserver did not come back within 60s")
}

// session runs `kubectl harden ARGS` as a dialogue with the cluster's kubeconfig.
func (f *faultCluster) session(kubeconfig string, args ...string) *dialogue {
	return pipeDialogue(f.t, []string{"KUBECONFIG=" + kubeconfig, "HOME=" + f.Dir}, args...)
}

// harden runs `kubectl harden ARGS` to the end.
func (f *faultCluster) harden(kubeconfig string, args ...string) cluster.Result {
	f.t.Helper()
	res, err := f.KubectlAs(kubeconfig, nil, append([]string{"harden"}, args...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// exists reads a target directly (not through the proxy).
func (f *faultCluster) exists(tg remedy.Target) bool {
	f.t.Helper()
	c, err := fixsession.NewClientForConfig(f.Config, io.Discard)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj, err := c.Get(ctx, tg)
	if err != nil {
		f.t.Fatal(err)
	}
	return obj != nil
}

// tcpProxy forwards connections to the API server. It can hold the bytes
// the server sends (the answer is late: it was made, the client does not
// know), or drop the bytes the client sends (the request never arrives).
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	hold   bool // keep the server's bytes from the client
	drop   bool // throw the client's bytes away
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.reset() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	go p.pipe(client, server, true)
	p.pipe(server, client, false)
}

func (p *tcpProxy) pipe(from, to net.Conn, up bool) {
	defer from.Close()
	defer to.Close()
	buf := make([]byte, 32*1024)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			for {
				p.mu.Lock()
				held, dropped := !up && p.hold, up && p.drop
				p.mu.Unlock()
				if dropped {
					n = 0
				}
				if !held {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n > 0 {
				if _, err := to.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) set(hold, drop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold, p.drop = hold, drop
}

// reset passes traffic again and closes every connection: a stream with
// bytes held or dropped in the middle is of no use to anyone.
func (p *tcpProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold, p.drop = false, false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func lastState(t *testing.T, journal string, tg remedy.Target) fixsession.State {
	t.Helper()
	var st fixsession.State
	for _, e := range fixsession.Latest(mustJournal(t, journal)) {
		if e.Target == tg {
			st = e.State
		}
	}
	return st
}

// waitFor polls until ok or fails the test after d.
func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFixUnknownOutcomeUnderSIGSTOP stops the API server while a change is
// in flight, twice. First the server has made the change and its answer is
// lost (the proxy holds it, then the server is stopped): the session times
// out, journals the outcome as unknown, and stops for want of a server; after
// SIGCONT, undo finds the object as proposed and undoes it. Then the request
// never reaches the stopped server (the proxy drops it) and Ctrl-C abandons
// it: the session exits 130 within seconds, journals unknown, and undo finds
// the object as before: nothing to undo.
func TestFixUnknownOutcomeUnderSIGSTOP(t *testing.T) {
	f := startFaultCluster(t)
	if err := f.Apply(testdata("fix", "faults.yaml")); err != nil {
		t.Fatal(err)
	}
	const ns = "fix-faults"
	dns := networkPolicyTarget(ns, "allow-dns-egress")
	journals := filepath.Join(t.TempDir(), "journals")
	args := []string{"fix", "-n", ns, "--check", "netpol/namespace-without-policy", "--journal-dir", journals}

	// 1. Made, answer lost.
	d := f.session(f.ProxyKubeconfig, append(args, "--request-timeout=4s")...)
	seg, ok := d.prompt()
	if !ok || !strings.Contains(changeLine(seg), "networkpolicy.networking.k8s.io/allow-dns-egress") {
		t.Fatalf("first question:\n%s\nstderr: %s", seg, d.stderr.String())
	}
	f.proxy.set(true, false)
	d.answer("y")
	waitFor(t, 20*time.Second, "the server makes the change", func() bool { return f.exists(dns) })
	f.signal(syscall.SIGSTOP)
	out, code := d.wait()
	f.signal(syscall.SIGCONT)
	f.proxy.reset()
	for _, want := range []string{"Waiting for the API server to answer", "Unknown: networkpolicy.networking.k8s.io/allow-dns-egress",
		"lost contact with the API server; 1 changes not reviewed; journal "} {
		if !strings.Contains(out, want) {
			t.Errorf("session output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 || !strings.Contains(d.stderr.String(), "lost contact with the API server; 1 changes not reviewed") {
		t.Errorf("exit %d, stderr %s", code, d.stderr.String())
	}
	journal, err := fixsession.LatestJournal(journals)
	if err != nil {
		t.Fatal(err)
	}
	if st := lastState(t, journal, dns); st != fixsession.Unknown {
		t.Fatalf("journal state %q, want unknown", st)
	}
	res := f.harden(f.ProxyKubeconfig, "undo", "--dry-run", "--journal", journal)
	if res.Code != 0 || !strings.Contains(res.Stdout, "live object: made") || !strings.Contains(res.Stdout, "would delete it") || !f.exists(dns) {
		t.Fatalf("undo --dry-run: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	res = f.harden(f.ProxyKubeconfig, "undo", "--journal", journal)
	if res.Code != 0 || !strings.Contains(res.Stdout, "the change had been made") || !strings.Contains(res.Stdout, "Undo: 1 of 1 changes undone") {
		t.Fatalf("undo: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if f.exists(dns) {
		t.Fatal("undo left the policy the unanswered change made")
	}

	// 2. Never arrived; Ctrl-C.
	d = f.session(f.ProxyKubeconfig, append(args, "--request-timeout=60s")...)
	if seg, ok := d.prompt(); !ok || !strings.Contains(changeLine(seg), "allow-dns-egress") {
		t.Fatalf("first question of the second session:\n%s", seg)
	}
	f.signal(syscall.SIGSTOP)
	f.proxy.set(false, true)
	d.answer("y")
	waitFor(t, 10*time.Second, "the session says it is waiting", func() bool {
		select {
		case b, ok := <-d.chunks:
			if ok {
				d.text.Write(b)
			}
		case <-time.After(50 * time.Millisecond):
		}
		return strings.Contains(d.text.String()[d.mark:], "Waiting for the API server")
	})
	start := time.Now()
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	out, code = d.wait()
	took := time.Since(start)
	f.signal(syscall.SIGCONT)
	f.proxy.reset()
	if code != 130 || took > 6*time.Second {
		t.Errorf("after Ctrl-C: exit %d after %s, want 130 within seconds\n%s\nstderr: %s", code, took, out, d.stderr.String())
	}
	if !strings.Contains(out, "Interrupted: the change is on its way") || !strings.Contains(out, "(interrupted)") {
		t.Errorf("the interrupt is not said:\n%s", out)
	}
	journal2, err := fixsession.LatestJournal(journals)
	if err != nil || journal2 == journal {
		t.Fatalf("second journal %s (%v)", journal2, err)
	}
	if st := lastState(t, journal2, dns); st != fixsession.Unknown {
		t.Fatalf("journal state %q, want unknown", st)
	}
	res = f.harden(f.ProxyKubeconfig, "undo", "--dry-run", "--journal", journal2)
	if res.Code != 0 || !strings.Contains(res.Stdout, "live object: not made") || !strings.Contains(res.Stdout, "never made") {
		t.Fatalf("undo --dry-run: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	res = f.harden(f.ProxyKubeconfig, "undo", "--journal", journal2)
	if res.Code != 0 || !strings.Contains(res.Stdout, "nothing to undo") {
		t.Fatalf("undo: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if f.exists(dns) {
		t.Fatal("the change that never arrived exists")
	}
	if st := lastState(t, journal2, dns); st != fixsession.Failed {
		t.Errorf("after undo the journal says %q, want failed (never made)", st)
	}
}

// TestFixStopsWhenTheServerDies kills the API server during a session: the
// next request finds nobody, and the session stops at once with what is left
// and exit 1. Started again on the same etcd, a second run applies the rest
// and not what the first run already did.
func TestFixStopsWhenTheServerDies(t *testing.T) {
	f := startFaultCluster(t)
	if err := f.Apply(testdata("fix", "faults.yaml")); err != nil {
		t.Fatal(err)
	}
	const ns = "fix-faults"
	binding := roleBindingTarget(ns, "faults-deployer-admin")
	journals := filepath.Join(t.TempDir(), "journals")
	args := append([]string{"fix", "-n", ns, "--journal-dir", journals, "--request-timeout=10s"}, fixChecks...)

	d := f.session(f.Kubeconfig, args...)
	seg, ok := d.prompt()
	if !ok || !strings.Contains(changeLine(seg), "delete rolebinding.rbac.authorization.k8s.io/faults-deployer-admin") {
		t.Fatalf("first question:\n%s\nstderr: %s", seg, d.stderr.String())
	}
	total := regexpTotal(t, seg)
	d.answer("y")
	if _, ok := d.prompt(); !ok {
		t.Fatal("no second question")
	}
	f.kill()
	start := time.Now()
	d.answer("n")
	out, code := d.wait()
	took := time.Since(start)
	want := fmt.Sprintf("lost contact with the API server; %d changes not reviewed; journal ", total-2)
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(d.stderr.String(), want) || !strings.Contains(d.stderr.String(), "run `kubectl harden fix` again to continue") {
		t.Fatalf("exit %d, want 1 and %q\n%s\nstderr: %s", code, want, out, d.stderr.String())
	}
	if took > 5*time.Second || strings.Count(out, "Cannot apply") > 0 {
		t.Errorf("the session did not stop at once (%s):\n%s", took, out)
	}
	if !strings.Contains(out, "Summary: 1 applied, 1 skipped, 0 failed") {
		t.Errorf("summary:\n%s", out)
	}

	f.restart()
	if f.exists(binding) {
		t.Fatal("the applied deletion did not survive the restart")
	}
	res := f.harden(f.Kubeconfig, append(args, "--yes")...)
	if res.Code != 0 || strings.Contains(res.Stdout, "faults-deployer-admin") ||
		!strings.Contains(res.Stdout, fmt.Sprintf("Summary: %d applied, 0 skipped, 0 failed", total-1)) {
		t.Fatalf("the second run: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
}

// regexpTotal reads N of the first "[1/N]" of a session's output.
func regexpTotal(t *testing.T, seg string) int {
	t.Helper()
	i := strings.Index(seg, "[1/")
	if i < 0 {
		t.Fatalf("no [1/N] in:\n%s", seg)
	}
	j := strings.Index(seg[i:], "]")
	n, err := strconv.Atoi(seg[i+3 : i+j])
	if err != nil {
		t.Fatal(err)
	}
	return n
}
