package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// readObject reads testdata/<path>, or returns nil when the file does not exist (an absent object).
func readObject(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &unstructured.Unstructured{Object: m}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		dir     string
		changed bool
	}{
		{dir: "label", changed: true},  // labels added, server metadata and status ignored
		{dir: "create", changed: true}, // no live object: every line added
		{dir: "delete", changed: true}, // no proposed object: every line removed
		{dir: "same", changed: false},  // only the resourceVersion differs
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			live := readObject(t, filepath.Join("diff", tt.dir, "live.yaml"))
			proposed := readObject(t, filepath.Join("diff", tt.dir, "proposed.yaml"))
			var buf bytes.Buffer
			changed, err := Diff(&buf, live, proposed, DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.changed {
				t.Fatalf("changed = %v, want %v", changed, tt.changed)
			}
			if !tt.changed {
				if buf.Len() != 0 {
					t.Fatalf("no change printed a diff:\n%s", buf.String())
				}
				return
			}
			for _, server := range []string{"resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "phase"} {
				if strings.Contains(buf.String(), server) {
					t.Errorf("diff shows server-set field %s:\n%s", server, buf.String())
				}
			}
			golden(t, filepath.Join("diff", tt.dir, "want.diff"), buf.Bytes())
		})
	}
}

func TestDiffColor(t *testing.T) {
	live := readObject(t, "diff/label/live.yaml")
	proposed := readObject(t, "diff/label/proposed.yaml")
	tests := []struct {
		color bool
		want  []string
		not   []string
	}{
		{color: true, want: []string{
			"\x1b[1m--- live\x1b[22m\n",
			"\x1b[36m@@ ",
			"\x1b[32m+    pod-security.kubernetes.io/enforce: baseline\x1b[0m\n",
			"\n     team: web\n", // context lines stay plain
		}},
		{color: false, want: []string{"--- live\n", "+    pod-security.kubernetes.io/enforce: baseline\n"}, not: []string{"\x1b["}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if _, err := Diff(&buf, live, proposed, DiffOptions{Color: tt.color}); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("color=%v: diff lacks %q:\n%q", tt.color, w, buf.String())
			}
		}
		for _, n := range tt.not {
			if strings.Contains(buf.String(), n) {
				t.Errorf("color=%v: diff has %q:\n%q", tt.color, n, buf.String())
			}
		}
	}
	var buf bytes.Buffer
	if _, err := Diff(&buf, nil, proposed, DiffOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[32m+kind: Namespace\x1b[0m") {
		t.Errorf("a created object is not all green additions:\n%q", buf.String())
	}
}

func mustPatch(t *testing.T, pt types.PatchType, patch string) remedy.Change {
	t.Helper()
	return remedy.Change{Action: remedy.Patch, PatchType: pt, Patch: json.RawMessage(patch),
		Target: remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Namespace: "ci", Name: "deployer"}}
}

func TestPreview(t *testing.T) {
	live := readObject(t, "diff/label/live.yaml")
	binding := readObject(t, "diff/delete/live.yaml")
	binding.SetKind("RoleBinding")
	binding.SetNamespace("ci")
	binding.SetName("deployer")
	binding.Object["subjects"] = []any{
		map[string]any{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"},
		map[string]any{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
	}
	labels := remedy.NewApply("label shop", map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "shop", "labels": map[string]any{"pod-security.kubernetes.io/enforce": "baseline"}},
	})
	tests := []struct {
		name    string
		live    *unstructured.Unstructured
		change  remedy.Change
		check   func(t *testing.T, got *unstructured.Unstructured)
		wantErr string
	}{
		{
			name: "apply merges into the live object", live: live, change: labels,
			check: func(t *testing.T, got *unstructured.Unstructured) {
				l := got.GetLabels()
				if l["pod-security.kubernetes.io/enforce"] != "baseline" || l["team"] != "web" {
					t.Errorf("labels = %v", l)
				}
			},
		},
		{
			name: "apply without a live object creates it", change: labels,
			check: func(t *testing.T, got *unstructured.Unstructured) {
				if !Equal(got, labels.Object) {
					t.Errorf("got %v", got.Object)
				}
			},
		},
		{
			name: "merge patch replaces the list", live: binding,
			change: mustPatch(t, types.MergePatchType, `{"subjects":[{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"}]}`),
			check: func(t *testing.T, got *unstructured.Unstructured) {
				s, _, _ := unstructured.NestedSlice(got.Object, "subjects")
				if len(s) != 1 || s[0].(map[string]any)["name"] != "alice" {
					t.Errorf("subjects = %v", s)
				}
			},
		},
		{
			name: "JSON patch", live: binding,
			change: mustPatch(t, types.JSONPatchType, `[{"op":"remove","path":"/subjects/0"}]`),
			check: func(t *testing.T, got *unstructured.Unstructured) {
				s, _, _ := unstructured.NestedSlice(got.Object, "subjects")
				if len(s) != 1 || s[0].(map[string]any)["name"] != "alice" {
					t.Errorf("subjects = %v", s)
				}
			},
		},
		{
			name: "strategic merge patch of a built-in kind", live: live,
			change: remedy.Change{Action: remedy.Patch, PatchType: types.StrategicMergePatchType, Patch: json.RawMessage(`{"metadata":{"labels":{"team":null}}}`),
				Target: remedy.Target{APIVersion: "v1", Kind: "Namespace", Name: "shop"}},
			check: func(t *testing.T, got *unstructured.Unstructured) {
				if _, ok := got.GetLabels()["team"]; ok {
					t.Errorf("label team not removed: %v", got.GetLabels())
				}
			},
		},
		{
			name: "delete proposes nothing", live: binding,
			change: remedy.NewDelete("delete", remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Namespace: "ci", Name: "deployer"}, "77"),
			check: func(t *testing.T, got *unstructured.Unstructured) {
				if got != nil {
					t.Errorf("got %v", got.Object)
				}
			},
		},
		{
			name:    "delete of a missing object",
			change:  remedy.NewDelete("delete", remedy.Target{APIVersion: "v1", Kind: "Namespace", Name: "gone"}, ""),
			wantErr: "namespace/gone does not exist",
		},
		{
			name:    "patch of a missing object",
			change:  mustPatch(t, types.MergePatchType, `{}`),
			wantErr: "does not exist",
		},
		{
			name: "bad JSON patch", live: binding,
			change:  mustPatch(t, types.JSONPatchType, `[{"op":"remove","path":"/nothing/here"}]`),
			wantErr: "patch rolebinding.rbac.authorization.k8s.io/deployer -n ci",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Preview(tt.live, tt.change)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func TestApplyObject(t *testing.T) {
	target := remedy.Target{APIVersion: "v1", Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"}
	tests := []struct {
		name   string
		change remedy.Change
		want   string // YAML of the apply object; empty when apply cannot express the change
	}{
		{
			name: "apply object without server metadata",
			change: remedy.NewApply("", map[string]any{"apiVersion": "v1", "kind": "Namespace",
				"metadata": map[string]any{"name": "x", "resourceVersion": "5", "labels": map[string]any{"a": "b"}}}),
			want: "apiVersion: v1\nkind: Namespace\nmetadata:\n  labels:\n    a: b\n  name: x\n",
		},
		{
			name:   "merge patch of scalars becomes a partial object",
			change: remedy.Change{Action: remedy.Patch, Target: target, PatchType: types.MergePatchType, Patch: json.RawMessage(`{"automountServiceAccountToken":false,"metadata":{"resourceVersion":"9"}}`)},
			want:   "apiVersion: v1\nautomountServiceAccountToken: false\nkind: ServiceAccount\nmetadata:\n  name: deployer\n  namespace: ci\n",
		},
		{name: "a list may merge differently", change: remedy.Change{Action: remedy.Patch, Target: target, PatchType: types.MergePatchType, Patch: json.RawMessage(`{"secrets":[]}`)}},
		{name: "a null removes a field", change: remedy.Change{Action: remedy.Patch, Target: target, PatchType: types.MergePatchType, Patch: json.RawMessage(`{"metadata":{"labels":{"a":null}}}`)}},
		{name: "strategic directive", change: remedy.Change{Action: remedy.Patch, Target: target, PatchType: types.StrategicMergePatchType, Patch: json.RawMessage(`{"$patch":"replace"}`)}},
		{name: "JSON patch", change: remedy.Change{Action: remedy.Patch, Target: target, PatchType: types.JSONPatchType, Patch: json.RawMessage(`[]`)}},
		{name: "delete", change: remedy.NewDelete("", target, "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, ok := ApplyObject(tt.change)
			if ok != (tt.want != "") {
				t.Fatalf("ok = %v, want %v", ok, tt.want != "")
			}
			if !ok {
				return
			}
			b, err := yaml.Marshal(obj.Object)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b, tt.want)
			}
		})
	}
}

func TestKubectlCommands(t *testing.T) {
	crb := remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci-deployer-admin"}
	np := remedy.Target{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "web"}
	if got, want := KubectlDelete(crb), "kubectl delete clusterrolebinding.rbac.authorization.k8s.io/ci-deployer-admin"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := KubectlDelete(np), "kubectl delete networkpolicy.networking.k8s.io/web -n shop"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	tests := []struct {
		change remedy.Change
		want   string
	}{
		{
			change: remedy.Change{Action: remedy.Patch, Target: np, PatchType: types.MergePatchType, ResourceVersion: "12",
				Patch: json.RawMessage(`{"metadata":{"annotations":{"why":"it's safer"}}}`)},
			want: `kubectl patch networkpolicy.networking.k8s.io/web -n shop --type=merge -p '{"metadata":{"annotations":{"why":"it'\''s safer"},"resourceVersion":"12"}}'`,
		},
		{
			change: remedy.Change{Action: remedy.Patch, Target: np, PatchType: types.JSONPatchType, ResourceVersion: "12",
				Patch: json.RawMessage(`[{"op":"remove","path":"/spec/ingress/0"}]`)},
			want: `kubectl patch networkpolicy.networking.k8s.io/web -n shop --type=json -p '[{"op":"test","path":"/metadata/resourceVersion","value":"12"},{"op":"remove","path":"/spec/ingress/0"}]'`,
		},
		{
			change: remedy.Change{Action: remedy.Patch, Target: np, PatchType: types.StrategicMergePatchType, Patch: json.RawMessage(`{"spec":{}}`)},
			want:   `kubectl patch networkpolicy.networking.k8s.io/web -n shop --type=strategic -p '{"spec":{}}'`,
		},
	}
	for _, tt := range tests {
		got, err := KubectlPatch(tt.change)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestChangeYAML(t *testing.T) {
	target := remedy.Target{APIVersion: "v1", Kind: "Namespace", Name: "shop"}
	patch, err := remedy.NewMergePatch("", target, "3", map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		change remedy.Change
		want   string
	}{
		{change: remedy.NewApply("", map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop", "uid": "u"}}),
			want: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"},
		{change: patch, want: "metadata:\n  labels:\n    a: b\n"},
		{change: remedy.NewDelete("", target, "3"), want: "apiVersion: v1\nkind: Namespace\nname: shop\n"},
	}
	for _, tt := range tests {
		b, err := YAML(tt.change)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.change.Action, b, tt.want)
		}
	}
	if _, err := YAML(remedy.Change{Action: "rename", Target: target}); err == nil {
		t.Error("an unknown action rendered")
	}
}

func TestEqualIgnoresServerFields(t *testing.T) {
	a := readObject(t, "diff/delete/live.yaml")
	b := readObject(t, "diff/same/proposed.yaml")
	b.SetUID("another")
	b.SetManagedFields(nil)
	b.SetLabels(map[string]string{})
	if !Equal(a, b) {
		t.Error("objects differing only in server-set metadata are not equal")
	}
	b.Object["subjects"] = []any{}
	if Equal(a, b) {
		t.Error("objects with different subjects are equal")
	}
	if Equal(a, nil) || !Equal(nil, nil) {
		t.Error("nil handling")
	}
}
