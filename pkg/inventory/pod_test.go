package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The inventory's pod keeps an API pod's metadata, spec, phase and
// addresses, and gives them back; the rest of the status is not kept.
func TestPodOf(t *testing.T) {
	api := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-0", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.7", PodIPs: []corev1.PodIP{{IP: "10.0.0.7"}, {IP: "fd00::7"}},
			HostIP: "192.168.0.1", Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	p := PodOf(&api)
	if p.Name != "web-0" || p.Labels["app"] != "web" || p.NodeName != "n1" || p.Spec.NodeName != "" || p.Status.Phase != corev1.PodRunning ||
		p.Status.PodIP != "10.0.0.7" || len(p.Status.PodIPs) != 2 {
		t.Fatalf("kept %+v", p)
	}
	want := api.DeepCopy()
	want.Status = corev1.PodStatus{Phase: api.Status.Phase, PodIP: api.Status.PodIP, PodIPs: api.Status.PodIPs}
	if got := p.API(); !reflect.DeepEqual(got, want) {
		t.Errorf("API() = %+v, want %+v", got, want)
	}
	if got := PodsOf(api, api); len(got) != 2 || !reflect.DeepEqual(got[1], p) {
		t.Errorf("PodsOf = %+v", got)
	}
}

// A pod read from a file always has a spec, and its node is NodeName, not
// spec.nodeName: checks read p.Spec without a nil check.
func TestReadPodSettles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pods.yaml")
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: a}\n---\n" +
		"apiVersion: v1\nkind: Pod\nmetadata: {name: placed, namespace: a}\nspec: {nodeName: n1, containers: [{name: c, image: i}]}\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := Read([]string{path}, nil, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Pods) != 2 {
		t.Fatalf("%d pods", len(inv.Pods))
	}
	for _, p := range inv.Pods {
		if p.Spec == nil || p.Spec.NodeName != "" {
			t.Fatalf("pod %s: spec %+v", p.Name, p.Spec)
		}
		if want := map[string]string{"bare": "", "placed": "n1"}[p.Name]; p.NodeName != want || p.API().Spec.NodeName != want {
			t.Errorf("pod %s: node %q, API() node %q, want %q", p.Name, p.NodeName, p.API().Spec.NodeName, want)
		}
	}
}
