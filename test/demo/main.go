// Command demo starts a local kube-apiserver and etcd seeded with the sample
// cluster in test/testdata/demo, writes its kubeconfig, and runs
// `kubectl harden` against it through the real kubectl. With -keep it leaves
// the cluster running until interrupted, for trying the plugin by hand.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/kubectl-harden/kubectl-harden/test/cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	// A flag set of its own: controller-runtime registers flags on the global one.
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	keep := fs.Bool("keep", false, "keep the cluster running until Ctrl-C, and print how to use it")
	kubeconfig := fs.String("write-kubeconfig", "", "also write the admin kubeconfig to this file")
	_ = fs.Parse(os.Args[1:])
	args := fs.Args()
	if len(args) == 0 {
		args = []string{"harden"}
	}

	root, err := cluster.Root()
	if err != nil {
		return err
	}
	bin, err := cluster.EnsureBinaries(root)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "harden-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pluginDir := filepath.Join(dir, "plugin")
	if err := os.Mkdir(pluginDir, 0o755); err != nil {
		return err
	}
	if _, err := cluster.BuildPlugin(root, pluginDir); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "demo: starting kube-apiserver and etcd ...")
	c, err := cluster.Start(bin, dir)
	if err != nil {
		return err
	}
	defer c.Stop()
	c.PluginDir = pluginDir
	if err := c.Apply(filepath.Join(root, "test", "testdata", "demo")); err != nil {
		return err
	}
	if *kubeconfig != "" {
		b, err := os.ReadFile(c.Kubeconfig)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*kubeconfig, b, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "demo: sample cluster is up; running: kubectl %v\n\n", args)
	cmd := exec.Command(filepath.Join(bin, "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			return fmt.Errorf("kubectl %v: %w", args, err)
		}
	}
	if !*keep {
		return nil
	}
	fmt.Fprintf(os.Stderr, "\ndemo: the cluster stays up until Ctrl-C. In another shell:\n  export KUBECONFIG=%s PATH=%s:%s:$PATH\n  kubectl harden\n", c.Kubeconfig, pluginDir, bin)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
