package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-harden/kubectl-harden/test/bench/synth"
)

// Sharing equal parts between objects changes no value: the inventory read
// with sharing equals the one read without, kind by kind, and equal parts
// are one copy: the pods of one ReplicaSet share their spec, a
// ReplicaSet shares its Deployment's containers whichever is read first, and
// the pods of different controllers share their tolerations.
func TestSharingChangesNoValue(t *testing.T) {
	dir := t.TempDir()
	size := synth.S
	size.Namespaces, size.Nodes = 6, 3
	if _, err := synth.WriteDir(dir, size); err != nil {
		t.Fatal(err)
	}
	// Replicasets before deployments too: sharing must not depend on the order.
	reversed := t.TempDir()
	for _, k := range []string{"replicasets", "deployments"} {
		b, err := os.ReadFile(filepath.Join(dir, k+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(reversed, k+".yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(paths ...string) *Inventory {
		t.Helper()
		inv, err := Read(paths, nil, ReadOptions{Complete: true})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	shared := read(dir)
	sharedReversed := read(filepath.Join(reversed, "replicasets.yaml"), filepath.Join(reversed, "deployments.yaml"))
	shareParts = false
	defer func() { shareParts = true }()
	plain := read(dir)
	plainReversed := read(filepath.Join(reversed, "replicasets.yaml"), filepath.Join(reversed, "deployments.yaml"))

	if len(shared.Pods) != size.Pods() {
		t.Fatalf("%d pods, want %d", len(shared.Pods), size.Pods())
	}
	if !reflect.DeepEqual(shared, plain) {
		a, b := reflect.ValueOf(shared).Elem(), reflect.ValueOf(plain).Elem()
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() && !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
				t.Errorf("%s: the shared read differs from the plain one", f.Name)
			}
		}
		t.FailNow()
	}
	if !reflect.DeepEqual(sharedReversed, plainReversed) {
		t.Fatal("the shared read differs from the plain one, ReplicaSets first")
	}

	byOwner := map[string][]int{}
	for i, p := range shared.Pods {
		if len(p.OwnerReferences) > 0 {
			byOwner[string(p.OwnerReferences[0].UID)] = append(byOwner[string(p.OwnerReferences[0].UID)], i)
		}
	}
	sharedContainers := 0
	for _, idx := range byOwner {
		for _, i := range idx[1:] {
			a, b := shared.Pods[idx[0]].Spec, shared.Pods[i].Spec
			// The token volume's generated name and the mounts are trimmed
			// (Trim) and the node is the pod's own (NodeName), so the
			// replicas of one controller, on whatever nodes, hold one spec.
			if a == b {
				sharedContainers++
			}
			if shared.Pods[i].NodeName == "" || b.NodeName != "" {
				t.Errorf("pod %s: node %q, spec.nodeName %q", shared.Pods[i].Name, shared.Pods[i].NodeName, b.NodeName)
			}
			if len(b.Containers[0].VolumeMounts) > 0 {
				t.Errorf("pod %s keeps its volume mounts", shared.Pods[i].Name)
			}
		}
	}
	if sharedContainers == 0 {
		t.Error("no pod shares its spec with the first pod of its controller")
	}
	var want []corev1.Toleration
	for _, p := range shared.Pods {
		if want == nil {
			want = p.Spec.Tolerations
		}
	}
	copies := map[*corev1.Toleration]bool{}
	for _, p := range shared.Pods {
		if len(want) > 0 && reflect.DeepEqual(p.Spec.Tolerations, want) {
			copies[&p.Spec.Tolerations[0]] = true
		}
	}
	if len(copies) != 1 {
		t.Errorf("the pods hold %d copies of their equal tolerations, want 1", len(copies))
	}
	for name, inv := range map[string]*Inventory{"deployments first": shared, "replicasets first": sharedReversed} {
		d := inv.Deployments[0]
		n := 0
		for _, rs := range inv.ReplicaSets {
			if rs.Namespace == d.Namespace && len(rs.OwnerReferences) > 0 && rs.OwnerReferences[0].Name == d.Name {
				n++
				if &rs.Spec.Template.Spec.Containers[0] != &d.Spec.Template.Spec.Containers[0] {
					t.Errorf("%s: ReplicaSet %s does not share its Deployment's containers", name, rs.Name)
				}
				if !reflect.DeepEqual(rs.Spec.Template.Spec, d.Spec.Template.Spec) {
					t.Errorf("%s: ReplicaSet %s: the template differs from its Deployment's", name, rs.Name)
				}
			}
		}
		if n == 0 {
			t.Fatalf("%s: no ReplicaSet of Deployment %s", name, d.Name)
		}
	}
}
