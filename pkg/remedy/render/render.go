// Package render shows a remediation change to a person and prepares it for
// the API server: YAML, the client-side preview, a coloured diff, the
// kubectl command lines. It is apart from package remedy so that the report
// model (finding, remedy) imports API types only.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"
	"github.com/pmezard/go-difflib/difflib"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// serverMetadata lists the metadata fields the API server sets on its own.
// They differ between any two reads of an object, so renderings, diffs and
// comparisons leave them out, as `kubectl diff` leaves out managedFields.
func serverMetadata() []string {
	return []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
		"selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"}
}

// Clean returns a copy of obj without the metadata the server sets and
// without status, which no change here writes. nil stays nil.
func Clean(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	c := obj.DeepCopy()
	for _, f := range serverMetadata() {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	delete(c.Object, "status")
	if md, ok := c.Object["metadata"].(map[string]any); ok {
		// Drop what the removals leave empty, so an object read back from the
		// server compares equal to the same object as written.
		for _, k := range []string{"labels", "annotations"} {
			if m, ok := md[k].(map[string]any); ok && len(m) == 0 {
				delete(md, k)
			}
		}
	}
	return c
}

// Equal reports whether two objects are the same once the server-set
// metadata and status are ignored. Two nils are equal.
func Equal(a, b *unstructured.Unstructured) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return equality.Semantic.DeepEqual(Clean(a).Object, Clean(b).Object)
}

// ToYAML renders an object as YAML with the server-set metadata left out.
func ToYAML(obj *unstructured.Unstructured) ([]byte, error) {
	if obj == nil {
		return nil, nil
	}
	b, err := yaml.Marshal(Clean(obj).Object)
	if err != nil {
		return nil, fmt.Errorf("render %s %s as YAML: %w", obj.GetKind(), obj.GetName(), err)
	}
	return b, nil
}

// YAML renders what the change sends: the object of an apply, the body of a
// patch, or the target of a delete.
func YAML(c remedy.Change) ([]byte, error) {
	switch c.Action {
	case remedy.Apply:
		return ToYAML(c.Object)
	case remedy.Patch:
		b, err := yaml.JSONToYAML(c.Patch)
		if err != nil {
			return nil, fmt.Errorf("render the patch of %s as YAML: %w", c.Target, err)
		}
		return b, nil
	case remedy.Delete:
		b, err := yaml.Marshal(c.Target)
		if err != nil {
			return nil, fmt.Errorf("render %s as YAML: %w", c.Target, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("change to %s: unknown action %q", c.Target, c.Action)
}

// Preview computes on the client what the change would make of live (nil
// when the object does not exist): the proposed object, or nil for a delete.
// An apply is merged like a JSON merge patch, which is what server-side
// apply does for maps and scalars; lists may merge differently on the
// server, so the session prefers the server's dry-run answer when it can ask.
func Preview(live *unstructured.Unstructured, c remedy.Change) (*unstructured.Unstructured, error) {
	switch c.Action {
	case remedy.Delete:
		if live == nil {
			return nil, fmt.Errorf("%s does not exist", c.Target)
		}
		return nil, nil
	case remedy.Apply:
		if c.Object == nil {
			return nil, fmt.Errorf("apply %s: the change has no object", c.Target)
		}
		if live == nil {
			return c.Object.DeepCopy(), nil
		}
		patch, err := json.Marshal(Clean(c.Object).Object)
		if err != nil {
			return nil, fmt.Errorf("encode the object of %s: %w", c.Target, err)
		}
		return patchObject(live, types.MergePatchType, patch, c.Target)
	case remedy.Patch:
		if live == nil {
			return nil, fmt.Errorf("%s does not exist", c.Target)
		}
		return patchObject(live, c.PatchType, c.Patch, c.Target)
	}
	return nil, fmt.Errorf("change to %s: unknown action %q", c.Target, c.Action)
}

func patchObject(live *unstructured.Unstructured, pt types.PatchType, patch []byte, t remedy.Target) (*unstructured.Unstructured, error) {
	orig, err := json.Marshal(live.Object)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", t, err)
	}
	var out []byte
	switch pt {
	case types.MergePatchType, "":
		out, err = jsonpatch.MergePatch(orig, patch)
	case types.JSONPatchType:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(patch); err == nil {
			out, err = p.Apply(orig)
		}
	case types.StrategicMergePatchType:
		typed, serr := scheme.Scheme.New(t.GroupVersionKind())
		if serr != nil {
			return nil, fmt.Errorf("strategic merge patch of %s needs a built-in kind: %w", t, serr)
		}
		out, err = strategicpatch.StrategicMergePatch(orig, patch, typed)
	default:
		return nil, fmt.Errorf("patch %s: patch type %q cannot be previewed on the client", t, pt)
	}
	if err != nil {
		return nil, fmt.Errorf("patch %s: %w", t, err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("patch %s: %w", t, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// DiffOptions name the two sides of a diff and say whether to colour it.
type DiffOptions struct {
	From, To string // header names; "live" and "proposed" when empty
	Color    bool
	// Context is the number of unchanged lines around a change; 3 when zero.
	Context int
}

// Diff writes a unified diff of live against proposed, each rendered as YAML
// without server-set metadata, coloured like `kubectl diff` piped to a
// colouring pager: removals red, additions green, hunk headers cyan. A nil
// side is an absent object. It returns whether the two differ.
func Diff(w io.Writer, live, proposed *unstructured.Unstructured, opts DiffOptions) (bool, error) {
	a, err := ToYAML(live)
	if err != nil {
		return false, err
	}
	b, err := ToYAML(proposed)
	if err != nil {
		return false, err
	}
	if string(a) == string(b) {
		return false, nil
	}
	from, to := opts.From, opts.To
	if from == "" {
		from = "live"
	}
	if to == "" {
		to = "proposed"
	}
	n := opts.Context
	if n == 0 {
		n = 3
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b),
		FromFile: from, ToFile: to, Context: n,
	})
	if err != nil {
		return true, fmt.Errorf("diff %s: %w", from, err)
	}
	paint := Palette{On: opts.Color}.Color
	header, hunk, del, add := paint(color.Bold), paint(color.FgCyan), paint(color.FgRed), paint(color.FgGreen)
	var sb strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		body := strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(body, "---") || strings.HasPrefix(body, "+++"):
			sb.WriteString(header.Sprint(body))
		case strings.HasPrefix(body, "@@"):
			sb.WriteString(hunk.Sprint(body))
		case strings.HasPrefix(body, "-"):
			sb.WriteString(del.Sprint(body))
		case strings.HasPrefix(body, "+"):
			sb.WriteString(add.Sprint(body))
		default:
			sb.WriteString(body)
		}
		sb.WriteByte('\n')
	}
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return true, fmt.Errorf("write diff: %w", err)
	}
	return true, nil
}

// lines splits YAML into lines that keep their newline, as difflib wants them.
func lines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	out := strings.SplitAfter(s, "\n")
	return out[:len(out)-1] // SplitAfter leaves an empty string after the final newline
}

// ApplyObject returns the object that `kubectl apply --server-side` would
// need to make the change, and false when server-side apply cannot express
// it: deletes, JSON patches, and patches that remove fields (null values) or
// set lists (a merge patch replaces a list; apply merges keyed lists) or
// carry strategic-merge directives.
func ApplyObject(c remedy.Change) (*unstructured.Unstructured, bool) {
	switch c.Action {
	case remedy.Apply:
		if c.Object == nil {
			return nil, false
		}
		return Clean(c.Object), true
	case remedy.Patch:
		if c.PatchType != types.MergePatchType && c.PatchType != types.StrategicMergePatchType && c.PatchType != "" {
			return nil, false
		}
		var patch map[string]any
		if err := json.Unmarshal(c.Patch, &patch); err != nil || !applyExpressible(patch) {
			return nil, false
		}
		md, _ := patch["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
		}
		delete(md, "resourceVersion")
		md["name"] = c.Target.Name
		if c.Target.Namespace != "" {
			md["namespace"] = c.Target.Namespace
		}
		patch["metadata"] = md
		patch["apiVersion"] = c.Target.APIVersion
		patch["kind"] = c.Target.Kind
		return &unstructured.Unstructured{Object: patch}, true
	}
	return nil, false
}

// applyExpressible reports whether a merge patch only sets maps and scalars.
func applyExpressible(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case []any:
		return false
	case map[string]any:
		for k, e := range t {
			if strings.HasPrefix(k, "$") || !applyExpressible(e) {
				return false
			}
		}
	}
	return true
}

// KubectlDelete is the kubectl command that deletes the change's target.
func KubectlDelete(t remedy.Target) string {
	return "kubectl delete " + t.String()
}

// KubectlPatch is the kubectl command that sends a remedy.Patch change, with its
// resourceVersion precondition when it has one, quoted for a POSIX shell.
func KubectlPatch(c remedy.Change) (string, error) {
	body := c.Patch
	if c.ResourceVersion != "" {
		var err error
		if body, err = withResourceVersion(c.PatchType, c.Patch, c.ResourceVersion); err != nil {
			return "", fmt.Errorf("patch %s: %w", c.Target, err)
		}
	}
	typ := "merge"
	switch c.PatchType {
	case types.JSONPatchType:
		typ = "json"
	case types.StrategicMergePatchType:
		typ = "strategic"
	}
	quoted := "'" + strings.ReplaceAll(string(body), "'", `'\''`) + "'"
	return "kubectl patch " + c.Target.String() + " --type=" + typ + " -p " + quoted, nil
}

// WithResourceVersion returns the patch with the resourceVersion precondition
// added: metadata.resourceVersion for merge patches, a test operation for a
// JSON patch. The server then refuses the patch if the object changed.
func WithResourceVersion(c remedy.Change, rv string) ([]byte, error) {
	return withResourceVersion(c.PatchType, c.Patch, rv)
}

func withResourceVersion(pt types.PatchType, patch []byte, rv string) ([]byte, error) {
	if pt == types.JSONPatchType {
		var ops []any
		if err := json.Unmarshal(patch, &ops); err != nil {
			return nil, fmt.Errorf("decode JSON patch: %w", err)
		}
		test := map[string]any{"op": "test", "path": "/metadata/resourceVersion", "value": rv}
		return json.Marshal(append([]any{test}, ops...))
	}
	m := map[string]any{}
	if err := json.Unmarshal(patch, &m); err != nil {
		return nil, fmt.Errorf("decode merge patch: %w", err)
	}
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	md["resourceVersion"] = rv
	m["metadata"] = md
	return json.Marshal(m)
}
