package apply

import (
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// objects reads testdata/objects.yaml: before, after and policy.
func objects(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile("testdata/objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]map[string]any{}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for k, v := range raw {
		out[k] = &unstructured.Unstructured{Object: v}
	}
	return out
}
