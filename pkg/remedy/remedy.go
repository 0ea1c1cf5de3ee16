// Package remedy describes a finding's remediation as concrete object changes
// (server-side apply, patch with a resourceVersion precondition, delete) and
// renders them as YAML or as a diff of the live object against the proposed one.
package remedy

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// FieldManager is the server-side apply field manager of every change the plugin makes.
const FieldManager = "kubectl-harden"

// Action is what a Change does to its target.
type Action string

const (
	// Apply sends Object by server-side apply with FieldManager.
	Apply Action = "apply"
	// Patch sends Patch (of PatchType) to the named object; ResourceVersion, when set,
	// is a precondition so that a concurrent change makes the patch fail instead of merging.
	Patch Action = "patch"
	// Delete removes the named object; its full copy is journaled first.
	Delete Action = "delete"
)

// Target names the object a change acts on.
type Target struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// GroupVersionKind of the target.
func (t Target) GroupVersionKind() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(t.APIVersion, t.Kind)
}

func (t Target) String() string {
	kind := strings.ToLower(t.Kind)
	if gv, err := schema.ParseGroupVersion(t.APIVersion); err == nil && gv.Group != "" {
		kind += "." + gv.Group
	}
	if t.Namespace != "" {
		return kind + "/" + t.Name + " -n " + t.Namespace
	}
	return kind + "/" + t.Name
}

// Change is one object change a person can review and apply.
type Change struct {
	Action      Action `json:"action"`
	Description string `json:"description"`
	Target      Target `json:"target"`
	// Object is the intended (partial) object for Apply.
	Object *unstructured.Unstructured `json:"object,omitempty"`
	// PatchType and Patch are set for Patch.
	PatchType types.PatchType `json:"patchType,omitempty"`
	Patch     json.RawMessage `json:"patch,omitempty"`
	// ResourceVersion is the version the change was computed from, a precondition when applied.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Breaks says what the change may stop from working (pods that would be rejected, traffic that stops).
	Breaks []string `json:"breaks,omitempty"`
	// Risky marks a change that alters workloads rather than policy; it is never part of a default plan.
	Risky bool `json:"risky,omitempty"`
}

// Remediation is how to fix a finding: a summary and the changes that do it.
type Remediation struct {
	Summary string   `json:"summary"`
	Changes []Change `json:"changes,omitempty"`
	// Manual marks a fix outside the API (a flag or file on a node, a
	// provider's setting, a credential to reissue): Summary says exactly what
	// to change, and there are no Changes for fix or -o patch to make.
	Manual bool `json:"manual,omitempty"`
	// Alternatives are other whole ways to fix the finding, each made
	// instead of Changes, never with them (one cluster-scoped policy in place
	// of a NetworkPolicy per namespace). They are a person's choice: the fix
	// session offers each before the changes it replaces and never applies
	// one without a yes (not with --yes, not with [a]ll); -o patch prints
	// them commented out after the plan, which is Changes only.
	Alternatives []Remediation `json:"alternatives,omitempty"`
}

// NewManual returns a remediation a person carries out: the exact flag or
// file change as guidance, no change to the API.
func NewManual(summary string) *Remediation {
	return &Remediation{Summary: summary, Manual: true}
}

// NewApply returns an Apply change for obj, whose apiVersion, kind and name must be set.
func NewApply(description string, obj map[string]any) Change {
	u := &unstructured.Unstructured{Object: obj}
	return Change{
		Action:      Apply,
		Description: description,
		Target:      Target{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()},
		Object:      u,
	}
}

// NewDelete returns a Delete change for the target, with the version it was read at.
func NewDelete(description string, t Target, resourceVersion string) Change {
	return Change{Action: Delete, Description: description, Target: t, ResourceVersion: resourceVersion}
}

// NewMergePatch returns a JSON merge Patch change.
func NewMergePatch(description string, t Target, resourceVersion string, patch map[string]any) (Change, error) {
	b, err := json.Marshal(patch)
	if err != nil {
		return Change{}, fmt.Errorf("encode patch for %s: %w", t, err)
	}
	return Change{Action: Patch, Description: description, Target: t, PatchType: types.MergePatchType, Patch: b, ResourceVersion: resourceVersion}, nil
}

// Key identifies what a change does, whatever finding proposed it: findings
// that share a change (every subject of one binding, every pod of one
// namespace) show and apply it once.
func (c Change) Key() string {
	b, err := json.Marshal(struct {
		A Action
		T Target
		O *unstructured.Unstructured
		P json.RawMessage
	}{c.Action, c.Target, c.Object, c.Patch})
	if err != nil {
		// An object that does not encode cannot be sent either; keep it apart.
		return fmt.Sprintf("%s %s %p", c.Action, c.Target, c.Object)
	}
	return string(b)
}
