package arch

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The inventory's pods share their spec with the other replicas of their
// controller and keep their node apart (inventory.Pod.NodeName): a pod's
// spec.nodeName is always empty there, so code that read it would see every
// pod unscheduled. Only the inventory's own pod code names it.
func TestNoCodeReadsSpecNodeName(t *testing.T) {
	root := filepath.Join("..", "..", "pkg")
	allowed := filepath.Join(root, "inventory", "pod.go")
	read := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		read++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if path != allowed && strings.Contains(string(b), ".Spec.NodeName") {
			t.Errorf("%s reads .Spec.NodeName: an inventory pod's node is Pod.NodeName", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read < 100 {
		t.Fatalf("read %d files under pkg: is the test still reading the code?", read)
	}
}
