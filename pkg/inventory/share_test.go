package inventory

import (
	"reflect"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/test/bench/synth"
)

// Sharing equal parts between the pods of one controller changes no value:
// the inventory read with sharing equals the one read without, object for
// object, and the pods of one ReplicaSet do hold one copy of their containers.
func TestSharingChangesNoValue(t *testing.T) {
	dir := t.TempDir()
	size := synth.S
	size.Namespaces, size.Nodes = 6, 3
	if _, err := synth.WriteDir(dir, size); err != nil {
		t.Fatal(err)
	}
	shared, err := Read([]string{dir}, nil, ReadOptions{Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	shareParts = false
	defer func() { shareParts = true }()
	plain, err := Read([]string{dir}, nil, ReadOptions{Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(shared.Pods) != size.Pods() || !reflect.DeepEqual(shared.Pods, plain.Pods) {
		t.Fatalf("shared read differs from the plain one (%d pods, want %d)", len(shared.Pods), size.Pods())
	}
	byOwner := map[string][]int{}
	for i, p := range shared.Pods {
		if len(p.OwnerReferences) > 0 {
			byOwner[string(p.OwnerReferences[0].UID)] = append(byOwner[string(p.OwnerReferences[0].UID)], i)
		}
	}
	sharedEnv := 0
	for _, idx := range byOwner {
		for _, i := range idx[1:] {
			a, b := shared.Pods[idx[0]].Spec.Containers[0], shared.Pods[i].Spec.Containers[0]
			if len(a.Env) > 0 && &a.Env[0] == &b.Env[0] {
				sharedEnv++
			}
			if &a.VolumeMounts[0] == &b.VolumeMounts[0] && a.VolumeMounts[len(a.VolumeMounts)-1].Name != b.VolumeMounts[len(b.VolumeMounts)-1].Name {
				t.Errorf("pods with different token volume names share their mounts")
			}
		}
	}
	if sharedEnv == 0 {
		t.Error("no pod shares its containers' env with the first pod of its controller")
	}
}
