// Command livescale measures a live audit of a synthetic cluster: it starts
// the test API server (test/bin, as the e2e tests do), loads a cluster of the
// given size into it with parallel creates, then times `kubectl harden -o
// json` against `kubectl get` of the same kinds, with the peak RSS of each
// from GNU time, and prints Markdown table rows.
//
//	go run ./test/bench/cmd/livescale -size S
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/test/bench/synth"
	"github.com/kubectl-harden/kubectl-harden/test/cluster"
)

// gets are the kinds `kubectl harden` lists for a full audit that the
// synthetic cluster holds, as kubectl get names them.
const gets = "namespaces,pods,serviceaccounts,secrets,configmaps,nodes,deployments,statefulsets,daemonsets,replicasets,jobs,cronjobs,roles,clusterroles,rolebindings,clusterrolebindings,networkpolicies,validatingwebhookconfigurations,mutatingwebhookconfigurations"

func main() {
	fs := flag.NewFlagSet("livescale", flag.ExitOnError)
	size := fs.String("size", "S", "cluster size: S, M, or nsN")
	workers := fs.Int("workers", 16, "parallel creates while loading")
	hold := fs.Bool("hold", false, "after measuring, keep the loaded server until interrupted (its kubeconfig is printed)")
	_ = fs.Parse(os.Args[1:])
	if err := run(*size, *workers, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "livescale:", err)
		os.Exit(1)
	}
}

func run(name string, workers int, hold bool) error {
	size, err := synth.Named(name)
	if err != nil {
		return err
	}
	root, err := cluster.Root()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "harden-livescale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	plugin, err := cluster.BuildPlugin(root, dir)
	if err != nil {
		return err
	}
	c, err := cluster.Start(filepath.Join(root, "test", "bin"), dir)
	if err != nil {
		return err
	}
	defer c.Stop()
	start := time.Now()
	n, err := load(c.Config, size, workers)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "livescale: loaded %d objects (%d namespaces, %d pods) in %s\n", n, size.Namespaces, size.Pods(), time.Since(start).Round(time.Second))

	fmt.Println("| size | run | wall | CPU | peak RSS | output |")
	fmt.Println("|---|---|---|---|---|---|")
	kubectl := filepath.Join(root, "test", "bin", "kubectl")
	for _, m := range []struct {
		label string
		args  []string
	}{
		{"kubectl get (the same kinds) -A -o json", []string{kubectl, "--kubeconfig", c.Kubeconfig, "get", gets, "-A", "-o", "json"}},
		{"kubectl harden -o json", []string{plugin, "--kubeconfig", c.Kubeconfig, "-o", "json"}},
		{"kubectl harden -o name", []string{plugin, "--kubeconfig", c.Kubeconfig, "-o", "name"}},
	} {
		row, err := measure(dir, m.args)
		if err != nil {
			return fmt.Errorf("%s: %w", m.label, err)
		}
		fmt.Printf("| %s | %s | %s |\n", name, m.label, row)
		if keep := os.Getenv("LIVESCALE_KEEP"); keep != "" { // keep each output to look at
			b, _ := os.ReadFile(filepath.Join(dir, "out"))
			_ = os.WriteFile(filepath.Join(keep, strings.NewReplacer(" ", "_", "/", "_").Replace(m.label)), b, 0o644)
		}
	}
	if hold {
		fmt.Fprintf(os.Stderr, "livescale: the server stays up until interrupted: --kubeconfig %s\n", c.Kubeconfig)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		<-ctx.Done()
	}
	return nil
}

// measure runs a command under GNU time and returns "wall | CPU | RSS | output".
func measure(dir string, args []string) (string, error) {
	timeFile := filepath.Join(dir, "time.txt")
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		return "", err
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%e %U %S %M", "-o", timeFile}, args...)...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 { // exit 2: findings, as expected
			return "", fmt.Errorf("%v: %s", err, stderr.String())
		}
	}
	b, err := os.ReadFile(timeFile)
	if err != nil {
		return "", err
	}
	var wall, user, sys float64
	var rss int
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if _, err := fmt.Sscanf(lines[len(lines)-1], "%f %f %f %d", &wall, &user, &sys, &rss); err != nil {
		return "", fmt.Errorf("read %s: %w", timeFile, err)
	}
	st, _ := out.Stat()
	return fmt.Sprintf("%.1f s | %.1f s | %d MB | %.1f MB", wall, user+sys, rss/1024, float64(st.Size())/1e6), nil
}

// load creates every object of the synthetic cluster: namespaces first,
// then the rest with parallel creates. Server-set fields are dropped.
func load(cfg *rest.Config, size synth.Size, workers int) (int64, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 5000, 5000
	cfg.WarningHandler = rest.NoWarnings{}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	var created atomic.Int64
	// Namespaces, then what pods need to be admitted, then owners before
	// what they own (the server gives each object a new UID, and the owned
	// objects' ownerReferences are rewritten to it), then the rest.
	groups := [][]string{{"namespaces"}, {"serviceaccounts", "nodes"}, {"deployments", "statefulsets", "daemonsets", "cronjobs"},
		{"replicasets", "jobs"}, {"pods"}}
	placed := map[string]bool{"services": true} // no check reads Services, and the test server's service range is small
	for _, g := range groups {
		for _, k := range g {
			placed[k] = true
		}
	}
	var rest []string
	for _, k := range synth.Kinds {
		if !placed[k] {
			rest = append(rest, k)
		}
	}
	groups = append(groups, rest)
	for _, group := range groups {
		objs := make(chan *unstructured.Unstructured, 256)
		errs := make(chan error, workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for o := range objs {
					if err := create(dc, o); err != nil {
						select {
						case errs <- err:
						default:
						}
						continue
					}
					created.Add(1)
				}
			}()
		}
		var readErr error
		for _, kind := range group {
			if readErr = readKind(size, kind, objs); readErr != nil {
				break
			}
		}
		close(objs)
		wg.Wait()
		if readErr != nil {
			return 0, readErr
		}
		select {
		case err := <-errs:
			return 0, err
		default:
		}
	}
	nsRes := dc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	for _, l := range later {
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, l.key, l.value)
		if _, err := nsRes.Patch(context.Background(), l.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return 0, fmt.Errorf("label namespace %s: %w", l.ns, err)
		}
	}
	return created.Load(), nil
}

func readKind(size synth.Size, kind string, objs chan<- *unstructured.Unstructured) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(synth.WriteKind(pw, size, kind)) }()
	var list unstructured.UnstructuredList
	if err := yaml.NewYAMLOrJSONDecoder(pr, 1<<20).Decode(&list.Object); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	items, _, _ := unstructured.NestedSlice(list.Object, "items")
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		o := &unstructured.Unstructured{Object: m}
		if o.GetKind() == "Namespace" {
			// Pod Security labels go on after the pods: the pods of a synthetic
			// cluster, like those of a real one, predate the labels.
			labels := o.GetLabels()
			for k, v := range labels {
				if strings.HasPrefix(k, "pod-security.kubernetes.io/") {
					later = append(later, podSecurityLabel{ns: o.GetName(), key: k, value: v})
					delete(labels, k)
				}
			}
			o.SetLabels(labels)
		}
		unstructured.RemoveNestedField(o.Object, "status")
		o.SetAnnotations(withOldUID(o.GetAnnotations(), string(o.GetUID())))
		for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"} {
			unstructured.RemoveNestedField(o.Object, "metadata", f)
		}
		objs <- o
	}
	return nil
}

// podSecurityLabel is a namespace label set once everything is loaded.
type podSecurityLabel struct{ ns, key, value string }

var later []podSecurityLabel

var resources = map[string]string{
	"Namespace": "namespaces", "Node": "nodes", "ServiceAccount": "serviceaccounts", "Secret": "secrets", "ConfigMap": "configmaps",
	"Service": "services", "Deployment": "deployments", "ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
	"DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs", "Pod": "pods", "Role": "roles", "RoleBinding": "rolebindings",
	"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "NetworkPolicy": "networkpolicies",
}

// uids maps the synthetic UIDs to those the server gave.
var uids sync.Map

const oldUIDKey = "livescale/synthetic-uid"

func withOldUID(a map[string]string, uid string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	a[oldUIDKey] = uid
	return a
}

func create(dc dynamic.Interface, o *unstructured.Unstructured) error {
	refs := o.GetOwnerReferences()
	for i := range refs {
		if v, ok := uids.Load(string(refs[i].UID)); ok {
			refs[i].UID = types.UID(v.(string))
		}
	}
	o.SetOwnerReferences(refs)
	a := o.GetAnnotations()
	old := a[oldUIDKey]
	delete(a, oldUIDKey)
	if len(a) == 0 {
		a = nil
	}
	o.SetAnnotations(a)
	gv, err := schema.ParseGroupVersion(o.GetAPIVersion())
	if err != nil {
		return err
	}
	res, ok := resources[o.GetKind()]
	if !ok {
		return fmt.Errorf("no resource for %s", o.GetKind())
	}
	ri := dc.Resource(gv.WithResource(res))
	var err2 error
	var made *unstructured.Unstructured
	if ns := o.GetNamespace(); ns != "" {
		made, err2 = ri.Namespace(ns).Create(context.Background(), o, metav1.CreateOptions{})
	} else {
		made, err2 = ri.Create(context.Background(), o, metav1.CreateOptions{})
	}
	if err2 == nil && old != "" {
		uids.Store(old, string(made.GetUID()))
	}
	if err2 != nil && !strings.Contains(err2.Error(), "already exists") {
		return fmt.Errorf("create %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err2)
	}
	return nil
}
