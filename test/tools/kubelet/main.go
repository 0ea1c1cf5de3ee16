// Command kubelet is the real kubelet of k8s.io/kubernetes (pkg/kubelet, as
// pkg/kubemark's hollow kubelet runs it) with a fake container runtime, for
// the e2e tests that read a node's kubelet through the API server. It
// registers its Node, serves the kubelet API over TLS with the
// authentication and authorization its configuration asks for (built as
// cmd/kubelet builds them), and serves /configz with the very configuration
// it runs with. No cgroups, no container runtime, no root-only feature.
//
// The configuration is the hollow kubelet's, overlaid with the
// KubeletConfiguration (kubelet.config.k8s.io/v1beta1) file given by
// --config: a field the file sets wins, as in a kubelet config file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/configz"
	remote "k8s.io/cri-client/pkg"
	fakeremote "k8s.io/cri-client/pkg/fake"
	"k8s.io/klog/v2"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	kubeletapp "k8s.io/kubernetes/cmd/kubelet/app"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	kubeletscheme "k8s.io/kubernetes/pkg/kubelet/apis/config/scheme"
	kubeletconfigvalidation "k8s.io/kubernetes/pkg/kubelet/apis/config/validation"
	cadvisortest "k8s.io/kubernetes/pkg/kubelet/cadvisor/testing"
	"k8s.io/kubernetes/pkg/kubelet/cm"
	"k8s.io/kubernetes/pkg/kubemark"
	"sigs.k8s.io/yaml"
)

func main() {
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig the kubelet talks to the API server with (required)")
	config := flag.String("config", "", "KubeletConfiguration (kubelet.config.k8s.io/v1beta1) file whose fields override the hollow kubelet's")
	nodeName := flag.String("node-name", "harden-kubelet", "name of the Node to register")
	nodeIP := flag.String("node-ip", "", "IP address of the node: the kubelet listens there and the Node's InternalIP says so (required; the API server proxies only to global unicast addresses)")
	rootDir := flag.String("root-dir", "", "directory for the kubelet's state and certificates (required)")
	flag.Parse()
	if *kubeconfig == "" || *nodeIP == "" || *rootDir == "" {
		fmt.Fprintln(os.Stderr, "kubelet: --kubeconfig, --node-ip and --root-dir are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go exitWithParent(stop)
	if err := run(ctx, *kubeconfig, *config, *nodeName, *nodeIP, *rootDir); err != nil {
		fmt.Fprintln(os.Stderr, "kubelet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, configFile, nodeName, nodeIP, rootDir string) error {
	f, c := kubemark.GetHollowKubeletConfig(&kubemark.HollowKubeletOptions{NodeName: nodeName, MaxPods: 110})
	// GetHollowKubeletConfig made its directories under /tmp: use rootDir instead.
	_ = os.RemoveAll(f.RootDirectory)
	f.RootDirectory = rootDir
	f.CertDirectory = filepath.Join(rootDir, "pki")
	f.NodeIP = nodeIP
	c.Address = nodeIP
	c.StaticPodPath = filepath.Join(rootDir, "static-pods")
	c.PodLogsDir = filepath.Join(rootDir, "pod-logs")
	// No cgroups here (the stub container manager touches none): what the
	// kubelet's validation asks of a kubelet that does not manage them.
	c.EnforceNodeAllocatable = []string{"none"}
	c.FailCgroupV1 = false
	for _, d := range []string{f.CertDirectory, c.StaticPodPath, c.PodLogsDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	if configFile != "" {
		if err := overlay(c, configFile); err != nil {
			return err
		}
	}
	// As cmd/kubelet: feature gates first, then the configuration is validated.
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(c.FeatureGates); err != nil {
		return fmt.Errorf("feature gates: %w", err)
	}
	if err := kubeletconfigvalidation.ValidateKubeletConfiguration(c, utilfeature.DefaultFeatureGate); err != nil {
		return fmt.Errorf("invalid kubelet configuration: %w", err)
	}

	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("read kubeconfig %s: %w", kubeconfig, err)
	}
	restConfig.UserAgent = "harden-test-kubelet"
	client, err := clientset.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	heartbeat := *restConfig
	heartbeat.Timeout, heartbeat.QPS = c.NodeStatusUpdateFrequency.Duration, -1
	heartbeatClient, err := clientset.NewForConfig(&heartbeat)
	if err != nil {
		return err
	}

	// The fake container runtime the kubelet's own tests use, on a unix socket
	// in the root directory (fakeremote.GenerateEndpoint would put it in /tmp).
	endpoint := "unix://" + filepath.Join(rootDir, "runtime.sock")
	fakeRuntime := fakeremote.NewFakeRemoteRuntime()
	if err := fakeRuntime.Start(endpoint); err != nil {
		return fmt.Errorf("start the fake runtime: %w", err)
	}
	defer fakeRuntime.Stop()
	runtimeService, err := remote.NewRemoteRuntimeServiceBuilder().WithEndpoint(endpoint).WithConnectionTimeout(15 * time.Second).Build(ctx)
	if err != nil {
		return fmt.Errorf("connect to the fake runtime: %w", err)
	}

	hk := kubemark.NewHollowKubelet(f, c, client, heartbeatClient, &cadvisortest.Fake{NodeName: nodeName},
		fakeRuntime.ImageService, runtimeService, cm.NewStubContainerManager())

	// What cmd/kubelet's run does and the hollow kubelet leaves out: serve
	// TLS (a self-signed certificate in the cert directory unless the
	// configuration names one), authenticate and authorize every request
	// as the configuration says, and register the configuration with /configz.
	tlsOptions, err := kubeletapp.InitializeTLS(ctx, f, c)
	if err != nil {
		return fmt.Errorf("initialize TLS: %w", err)
	}
	hk.KubeletDeps.TLSOptions = tlsOptions
	auth, runCAReload, err := kubeletapp.BuildAuth(types.NodeName(nodeName), client, *c)
	if err != nil {
		return fmt.Errorf("build the kubelet's authentication and authorization: %w", err)
	}
	hk.KubeletDeps.Auth = auth
	runCAReload(ctx.Done())
	if err := registerConfigz(c); err != nil {
		return err
	}

	go hk.Run(ctx)
	<-ctx.Done()
	return nil
}

// overlay sets the fields the file names on the running configuration: the
// configuration is converted to v1beta1, the file decoded onto it, and the
// result converted back, so unnamed fields keep the hollow kubelet's values.
func overlay(c *kubeletconfig.KubeletConfiguration, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	scheme, _, err := kubeletscheme.NewSchemeAndCodecs()
	if err != nil {
		return err
	}
	v := &kubeletconfigv1beta1.KubeletConfiguration{}
	if err := scheme.Convert(c, v, nil); err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", file, err)
	}
	if err := scheme.Convert(v, c, nil); err != nil {
		return fmt.Errorf("convert %s: %w", file, err)
	}
	return nil
}

// registerConfigz serves the configuration at /configz as cmd/kubelet's
// initConfigz does: converted to v1beta1, under the name "kubeletconfig".
func registerConfigz(c *kubeletconfig.KubeletConfiguration) error {
	scheme, _, err := kubeletscheme.NewSchemeAndCodecs()
	if err != nil {
		return err
	}
	v := &kubeletconfigv1beta1.KubeletConfiguration{}
	if err := scheme.Convert(c, v, nil); err != nil {
		return err
	}
	v.GetObjectKind().SetGroupVersionKind(kubeletconfigv1beta1.SchemeGroupVersion.WithKind("KubeletConfiguration"))
	cz, err := configz.New("kubeletconfig")
	if err != nil {
		return fmt.Errorf("register configz: %w", err)
	}
	return cz.Set(v)
}

// exitWithParent stops the kubelet when the process that started it (a test
// binary, which may be killed at its timeout before it cleans up) is gone.
func exitWithParent(stop func()) {
	parent := os.Getppid()
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			stop()
			return
		}
	}
}
