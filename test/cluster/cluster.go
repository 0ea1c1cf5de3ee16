// Package cluster starts a real kube-apiserver and etcd (built by test/tools
// into test/bin) with envtest, for the e2e tests and the demo, and beside them
// kube-controller-manager's ClusterRole aggregation controller, so aggregated
// ClusterRoles hold their rules as in a real cluster. It also builds
// the plugin and runs it the way users do: as `kubectl harden` through the
// real kubectl found in test/bin, with the plugin on PATH.
package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Root returns the repository's top directory (where go.mod is).
func Root() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the repository")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
}

// aggregatorBinary is the ClusterRole aggregation controller in test/bin.
const aggregatorBinary = "clusterrole-aggregator"

// EnsureBinaries builds kube-apiserver, etcd, kubectl and the ClusterRole
// aggregation controller into test/bin when they are missing or at another
// version (test/tools/build.sh decides).
func EnsureBinaries(root string) (string, error) {
	bin := filepath.Join(root, "test", "bin")
	cmd := exec.Command("bash", filepath.Join(root, "test", "tools", "build.sh"))
	cmd.Env = append(os.Environ(), "BIN_DIR="+bin)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build test binaries with test/tools/build.sh: %w", err)
	}
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl", aggregatorBinary, "kubelet"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return "", fmt.Errorf("test/tools/build.sh left no %s in %s: %w", b, bin, err)
		}
	}
	return bin, nil
}

// BuildPlugin builds the kubectl-harden binary into dir, as the release
// builds it (static, no symbol table: .goreleaser.yaml), and returns its path.
func BuildPlugin(root, dir string) (string, error) {
	out := filepath.Join(dir, "kubectl-harden")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build kubectl-harden: %w: %s", err, stderr.String())
	}
	return out, nil
}

// Cluster is a running API server with an admin kubeconfig.
type Cluster struct {
	Env        *envtest.Environment
	Config     *rest.Config // system:masters
	Client     kubernetes.Interface
	Kubeconfig string // admin kubeconfig file
	Dir        string // scratch directory for kubeconfigs
	BinDir     string // kube-apiserver, etcd, kubectl
	PluginDir  string // holds kubectl-harden; put on PATH when running kubectl
	// AuditLog is the API server's audit log (every request, Metadata level, JSON lines).
	AuditLog string
	// KubeletClientCA is the CA of the API server's client certificate for
	// kubelets (user KubeletClientUser): a test kubelet trusts it (test/e2e/kubelet_test.go).
	KubeletClientCA string
	// aggregator is the ClusterRole aggregation controller's process.
	aggregator *exec.Cmd
}

// Start starts etcd and kube-apiserver from binDir, writes an admin
// kubeconfig into dir, and starts the ClusterRole aggregation controller with
// it; it returns once the built-in aggregated ClusterRoles (admin, edit, view)
// hold their rules. The caller must Stop it.
func Start(binDir, dir string) (*Cluster, error) {
	// envtest logs through controller-runtime's logger; nothing here needs those lines.
	ctrllog.SetLogger(logr.Discard())
	env := &envtest.Environment{BinaryAssetsDirectory: binDir}
	// Every request is audited at Metadata level, as a cluster whose logs
	// 'kubectl harden rbac narrow' reads would be (test/e2e/narrow_test.go).
	policy, auditLog := filepath.Join(dir, "audit-policy.yaml"), filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write the audit policy: %w", err)
	}
	kubeletClient, err := writeKubeletClientCert(dir)
	if err != nil {
		return nil, err
	}
	env.ControlPlane.GetAPIServer().Configure().
		// PodSecurity is on by default; say so, so a future default change does not silently weaken the tests.
		Set("enable-admission-plugins", "PodSecurity").
		Set("audit-policy-file", policy).
		Set("audit-log-path", auditLog).
		// A test kubelet (registered only by the tests that start one) is reached
		// at its InternalIP, as the API server's own client, like kubeadm sets it up.
		Set("kubelet-client-certificate", kubeletClient.Cert).
		Set("kubelet-client-key", kubeletClient.Key).
		Set("kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname")
	if _, err := env.Start(); err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd from %s: %w", binDir, err)
	}
	c := &Cluster{Env: env, Dir: dir, BinDir: binDir, AuditLog: auditLog, KubeletClientCA: kubeletClient.CA}
	admin, err := env.AddUser(envtest.User{Name: "harden-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("add admin user: %w", err)
	}
	c.Config = admin.Config()
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if c.Kubeconfig, err = writeKubeconfig(admin, filepath.Join(dir, "admin.kubeconfig")); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if err := c.startAggregator(); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// startAggregator runs the ClusterRole aggregation controller, as
// kube-controller-manager would, with the admin kubeconfig; its log is
// clusterrole-aggregator.log in the scratch directory.
func (c *Cluster) startAggregator() error {
	log, err := os.Create(filepath.Join(c.Dir, aggregatorBinary+".log"))
	if err != nil {
		return fmt.Errorf("create the log of %s: %w", aggregatorBinary, err)
	}
	defer log.Close() // the child holds its own descriptor
	cmd := exec.Command(filepath.Join(c.BinDir, aggregatorBinary), "--kubeconfig", c.Kubeconfig)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", aggregatorBinary, err)
	}
	c.aggregator = cmd
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.WaitAggregated(ctx); err != nil {
		return fmt.Errorf("the built-in aggregated ClusterRoles (see %s): %w", log.Name(), err)
	}
	return nil
}

func writeKubeconfig(u *envtest.AuthenticatedUser, path string) (string, error) {
	b, err := u.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("render kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("write kubeconfig: %w", err)
	}
	return path, nil
}

// Stop stops the ClusterRole aggregation controller, the API server and etcd.
func (c *Cluster) Stop() error {
	if a := c.aggregator; a != nil {
		c.aggregator = nil
		_ = a.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = a.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = a.Process.Kill()
			<-done
		}
	}
	return c.Env.Stop()
}

// AddUser adds a user authenticated by client certificate (no RBAC grants of
// its own) and returns its kubeconfig file and REST config.
func (c *Cluster) AddUser(name string, groups ...string) (string, *rest.Config, error) {
	u, err := c.Env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", nil, fmt.Errorf("add user %s: %w", name, err)
	}
	path, err := writeKubeconfig(u, filepath.Join(c.Dir, strings.NewReplacer(":", "_", "/", "_").Replace(name)+".kubeconfig"))
	return path, u.Config(), err
}

// Result is what a command printed and its exit status.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Kubectl runs the real kubectl with the admin kubeconfig (unless args name
// another) and the plugin on PATH, so `harden` resolves to the plugin.
func (c *Cluster) Kubectl(stdin io.Reader, args ...string) (Result, error) {
	return c.KubectlAs(c.Kubeconfig, stdin, args...)
}

// KubectlAs runs the real kubectl with the given kubeconfig.
func (c *Cluster) KubectlAs(kubeconfig string, stdin io.Reader, args ...string) (Result, error) {
	cmd := exec.Command(filepath.Join(c.BinDir, "kubectl"), args...)
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+kubeconfig,
		"PATH="+c.PluginDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+c.Dir,
		"NO_COLOR=1",
	)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.Code = ee.ExitCode()
		return res, nil
	}
	return res, err
}

// Apply creates or updates the objects in the files or directories with
// `kubectl apply --server-side` (field manager "kubectl"), as a user seeding a
// cluster would, and waits until the aggregation controller has written the
// aggregated ClusterRoles, so that what follows sees the cluster settled.
func (c *Cluster) Apply(paths ...string) error {
	for _, p := range paths {
		res, err := c.Kubectl(nil, "apply", "--server-side", "-R", "-f", p)
		if err != nil || res.Code != 0 {
			return fmt.Errorf("kubectl apply -f %s: %v %s", p, err, res.Stderr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitAggregated(ctx); err != nil {
		return fmt.Errorf("after kubectl apply -f %s: %w", strings.Join(paths, " "), err)
	}
	return nil
}
