package inventory

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// internPods decodes n pods that differ in their names, IPs and token volumes only,
// and one that differs in an env value, the way a decoder gives them: every
// part its own memory.
func internPods(t *testing.T, n int) []corev1.Pod {
	t.Helper()
	var out []corev1.Pod
	for i := range n + 1 {
		env := "info"
		if i == n {
			env = "debug"
		}
		js := fmt.Sprintf(`{"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "web-%[1]d", "namespace": "shop", "uid": "u-%[1]d", "labels": {"app": "web"}, "annotations": {},
			"creationTimestamp": "2026-10-01T12:00:00Z"},
		"spec": {
			"containers": [{"name": "web", "image": "web:1", "command": [], "env": [{"name": "LOG", "value": %[2]q}],
				"resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
				"securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
				"volumeMounts": [{"name": "kube-api-access-%[1]d", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]}],
			"volumes": [{"name": "kube-api-access-%[1]d", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
				{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
			"terminationGracePeriodSeconds": 30,
			"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]},
		"status": {"phase": "Running", "podIP": "10.0.0.%[1]d", "podIPs": [{"ip": "10.0.0.%[1]d"}]}}`, i, env)
		var p corev1.Pod
		if err := json.Unmarshal([]byte(js), &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// Interning changes no value (nil and empty slices and maps stay apart),
// gives equal parts one copy and leaves different ones their own, and the
// table's slices have no room an append could write into.
func TestInternKeepsValues(t *testing.T) {
	pods := internPods(t, 3)
	want := make([]corev1.Pod, len(pods))
	for i := range pods {
		want[i] = *pods[i].DeepCopy()
	}
	in := newInterner()
	for i := range pods {
		in.intern(&pods[i], i == 0) // the others only look up, as a controller's later pods do
	}
	if !reflect.DeepEqual(pods, want) {
		t.Fatal("interning changed a value")
	}
	a, b, debug := pods[0].Spec, pods[1].Spec, pods[3].Spec
	if a.Containers[0].Command == nil || len(a.Containers[0].Command) != 0 || pods[0].Annotations == nil || len(pods[0].Annotations) != 0 {
		t.Error("an empty slice or map became nil")
	}
	same := map[string][2]any{
		"labels":          {pods[0].Labels, pods[1].Labels},
		"limits":          {a.Containers[0].Resources.Limits, b.Containers[0].Resources.Limits},
		"securityContext": {a.Containers[0].SecurityContext, b.Containers[0].SecurityContext},
		"env":             {&a.Containers[0].Env[0], &b.Containers[0].Env[0]},
		"projected":       {a.Volumes[0].Projected, b.Volumes[0].Projected},
		"sizeLimit":       {a.Volumes[1].EmptyDir, b.Volumes[1].EmptyDir},
		"tolerations":     {&a.Tolerations[0], &b.Tolerations[0]},
		"gracePeriod":     {a.TerminationGracePeriodSeconds, b.TerminationGracePeriodSeconds},
		"securityContext of a pod with other env": {debug.Containers[0].SecurityContext, a.Containers[0].SecurityContext},
	}
	for name, p := range same {
		if reflect.ValueOf(p[0]).Pointer() != reflect.ValueOf(p[1]).Pointer() {
			t.Errorf("%s: two copies of equal parts", name)
		}
	}
	if &a.Containers[0] == &b.Containers[0] || &a.Volumes[0] == &b.Volumes[0] {
		t.Error("pods with different token volumes share their containers or volumes")
	}
	if &a.Containers[0].Env[0] == &debug.Containers[0].Env[0] {
		t.Error("different env shares one copy")
	}
	if c := a.Tolerations; cap(c) != len(c) {
		t.Errorf("a shared slice has room to grow: len %d, cap %d", len(c), cap(c))
	}
	// Names, uids and IPs are each object's own: they do not fill the table.
	for i := range in.shards {
		for k := range in.shards[i].strings {
			if k == "web-0" || k == "u-0" || k == "10.0.0.0" {
				t.Errorf("the table holds %q", k)
			}
		}
	}
}

// Objects interned on several goroutines at once, as the loaders do, keep
// their values and share their equal parts (run with -race).
func TestInternConcurrently(t *testing.T) {
	const workers, each = 4, 50
	pods := internPods(t, workers*each)
	want := make([]corev1.Pod, len(pods))
	for i := range pods {
		want[i] = *pods[i].DeepCopy()
	}
	in := newInterner()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * each; i < (w+1)*each; i++ {
				in.intern(&pods[i], true)
			}
		}()
	}
	wg.Wait()
	if !reflect.DeepEqual(pods, want) {
		t.Fatal("interning on several goroutines changed a value")
	}
	limits := map[uintptr]bool{}
	for _, p := range pods[:len(pods)-1] {
		limits[reflect.ValueOf(p.Spec.Containers[0].Resources.Limits).Pointer()] = true
	}
	if len(limits) != 1 {
		t.Errorf("%d copies of equal limits, want 1", len(limits))
	}
}
