// Package e2e runs the plugin against a real kube-apiserver and etcd, as
// `kubectl harden` through the real kubectl. TestMain builds what it needs
// (the server binaries through test/tools when missing, and the plugin),
// starts ONE cluster for the package, and seeds it with the sample cluster
// in test/testdata/demo. Tests of a domain use their own namespaces and
// object names, prefixed with the domain, so they do not see each other.
package e2e

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/test/cluster"
)

// Test-binary globals, set once by TestMain before any test runs.
var (
	env  *cluster.Cluster
	root string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if root, err = cluster.Root(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bin, err := cluster.EnsureBinaries(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "harden-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	pluginDir := filepath.Join(dir, "plugin")
	if err := os.Mkdir(pluginDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := cluster.BuildPlugin(root, pluginDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err = cluster.Start(bin, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	env.PluginDir = pluginDir
	if err := env.Apply(testdata("demo")); err != nil {
		fmt.Fprintln(os.Stderr, "seed the sample cluster:", err)
		return 1
	}
	return m.Run()
}

// testdata returns the path of a file or directory under test/testdata.
func testdata(parts ...string) string {
	return filepath.Join(append([]string{root, "test", "testdata"}, parts...)...)
}

// harden runs `kubectl harden ARGS` as the admin and fails the test on an exec error.
func harden(t *testing.T, args ...string) cluster.Result {
	t.Helper()
	return hardenAs(t, env.Kubeconfig, nil, args...)
}

// hardenAs runs `kubectl harden ARGS` with a kubeconfig and standard input.
func hardenAs(t *testing.T, kubeconfig string, stdin io.Reader, args ...string) cluster.Result {
	t.Helper()
	res, err := env.KubectlAs(kubeconfig, stdin, append([]string{"harden"}, args...)...)
	if err != nil {
		t.Fatalf("kubectl harden %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustHarden runs `kubectl harden ARGS` and fails unless it exits 0.
func mustHarden(t *testing.T, args ...string) cluster.Result {
	t.Helper()
	res := harden(t, args...)
	if res.Code != 0 {
		t.Fatalf("kubectl harden %s: exit %d\nstderr: %s", strings.Join(args, " "), res.Code, res.Stderr)
	}
	return res
}

// apply seeds objects from files or directories under test/testdata.
func apply(t *testing.T, parts ...string) {
	t.Helper()
	if err := env.Apply(testdata(parts...)); err != nil {
		t.Fatal(err)
	}
}
