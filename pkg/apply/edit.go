package apply

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// edit opens the editor on the change and returns the edited change; false
// when the edit was cancelled or did not parse (the reason is printed).
func (s *Session) edit(p painter, ch remedy.Change) (remedy.Change, bool) {
	body, err := render.YAML(ch)
	if err != nil {
		fmt.Fprintln(s.Out, p.red(err.Error()))
		return ch, false
	}
	what := "the object sent by server-side apply"
	if ch.Action == remedy.Patch {
		what = "the " + string(ch.PatchType) + " patch body"
	}
	header := fmt.Sprintf("# Edit %s for %s.\n# Lines starting with '#' are ignored; an empty file cancels the edit.\n# The edited change is checked again by a server-side dry-run before you are asked.\n#\n", what, ch.Target)
	out, err := s.Edit(append([]byte(header), body...))
	if err != nil {
		fmt.Fprintln(s.Out, p.red("Edit failed: "+err.Error()))
		return ch, false
	}
	var kept []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			kept = append(kept, l)
		}
	}
	text := strings.TrimSpace(strings.Join(kept, "\n"))
	if text == "" {
		fmt.Fprintln(s.Out, "Edit cancelled, no changes made.")
		return ch, false
	}
	if text == strings.TrimSpace(string(body)) {
		fmt.Fprintln(s.Out, "Edit made no changes.")
		return ch, false
	}
	edited, err := parseEdit(ch, []byte(text))
	if err != nil {
		fmt.Fprintln(s.Out, p.red("Edit not used: "+err.Error()))
		return ch, false
	}
	return edited, true
}

// EditedDescription describes a change after [e]dit.
const EditedDescription = "edited by you (the diff shows what it changes)"

// parseEdit reads an edited change back. The target may not change: the
// change was reviewed, and is journaled, as a change to that object.
func parseEdit(ch remedy.Change, text []byte) (remedy.Change, error) {
	js, err := yaml.YAMLToJSON(text)
	if err != nil {
		return ch, fmt.Errorf("the edited YAML does not parse: %w", err)
	}
	edited := ch
	// The description and the impact were the check's words for its own
	// change: the session recomputes the impact, and the diff shows the rest.
	edited.Description, edited.Breaks = EditedDescription, nil
	switch ch.Action {
	case remedy.Apply:
		m := map[string]any{}
		if err := json.Unmarshal(js, &m); err != nil {
			return ch, fmt.Errorf("the edited object must be a YAML mapping: %w", err)
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetNamespace() == "" && ch.Target.Namespace != "" {
			obj.SetNamespace(ch.Target.Namespace)
		}
		got := remedy.Target{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
		if got != ch.Target {
			return ch, fmt.Errorf("the edit changed the object from %s to %s; only its content may change", ch.Target, got)
		}
		edited.Object = obj
	case remedy.Patch:
		if ch.PatchType == types.JSONPatchType {
			var ops []any
			if err := json.Unmarshal(js, &ops); err != nil {
				return ch, fmt.Errorf("a JSON patch is a list of operations: %w", err)
			}
		} else {
			m := map[string]any{}
			if err := json.Unmarshal(js, &m); err != nil {
				return ch, fmt.Errorf("a merge patch is a mapping: %w", err)
			}
		}
		edited.Patch = js
	default:
		return ch, fmt.Errorf("a %s cannot be edited", ch.Action)
	}
	return edited, nil
}
