package apply

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func TestItemsShareOneChange(t *testing.T) {
	binding := remedy.Target{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci-admin"}
	del := remedy.NewDelete("delete ci-admin", binding, "7")
	deny := remedy.NewApply("deny", objects(t)["policy"].Object)
	f := func(check, msg string, sev finding.Severity, changes ...remedy.Change) finding.Finding {
		out := finding.Finding{Check: check, Severity: sev, Title: check, Message: msg}
		if changes != nil {
			out.Remediation = &remedy.Remediation{Changes: changes}
		}
		return out
	}
	findings := []finding.Finding{
		f("rbac/cluster-admin-binding", "sa ci/deployer", finding.Critical, del),
		f("rbac/cluster-admin-binding", "user bob", finding.Critical, del),
		f("rbac/wildcard-rule", "no change", finding.Medium),
		f("netpol/namespace-without-policy", "shop", finding.Medium, deny),
		f("netpol/pods-not-isolated-ingress", "shop pods", finding.Medium, deny),
	}
	items := Items(findings, func(id string) string { return "why " + id })
	if len(items) != 2 {
		t.Fatalf("%d items, want 2: %+v", len(items), items)
	}
	if items[0].Change.Action != remedy.Delete || len(items[0].Findings) != 2 || items[0].Why != "why rbac/cluster-admin-binding" || items[0].Severity != finding.Critical {
		t.Errorf("first item: %+v", items[0])
	}
	if items[1].Check != "netpol/namespace-without-policy" || len(items[1].Findings) != 2 {
		t.Errorf("second item: %+v", items[1])
	}
	if got := Items(findings, nil); got[0].Why != "" {
		t.Errorf("why without a describer: %q", got[0].Why)
	}
}

func TestParseEdit(t *testing.T) {
	obj := objects(t)
	apply := remedy.NewApply("label shop", obj["after"].Object)
	apply.Breaks = []string{"the check's impact of its own change"}
	deny := remedy.NewApply("deny", obj["policy"].Object)
	merge, err := remedy.NewMergePatch("label", remedy.Target{APIVersion: "v1", Kind: "Namespace", Name: "shop"}, "10", map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	jsonPatch := remedy.Change{Action: remedy.Patch, PatchType: types.JSONPatchType, Patch: json.RawMessage(`[]`), Target: merge.Target}
	tests := []struct {
		name    string
		change  remedy.Change
		text    string
		check   func(t *testing.T, c remedy.Change)
		wantErr string
	}{
		{
			name: "apply object edited", change: apply,
			text: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n",
			check: func(t *testing.T, c remedy.Change) {
				if c.Object.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" || c.Description != EditedDescription || c.Breaks != nil {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "a namespaced object's namespace may be left out", change: deny,
			text: "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
			check: func(t *testing.T, c remedy.Change) {
				if c.Object.GetNamespace() != "shop" {
					t.Errorf("namespace %q", c.Object.GetNamespace())
				}
			},
		},
		{
			name: "the target may not change", change: deny,
			text:    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-all, namespace: shop}\n",
			wantErr: "the edit changed the object from networkpolicy.networking.k8s.io/default-deny -n shop to networkpolicy.networking.k8s.io/allow-all -n shop",
		},
		{
			name: "merge patch edited", change: merge, text: "metadata:\n  labels: {a: c}\n",
			check: func(t *testing.T, c remedy.Change) {
				if string(c.Patch) != `{"metadata":{"labels":{"a":"c"}}}` || c.ResourceVersion != "10" {
					t.Errorf("patch %s rv %s", c.Patch, c.ResourceVersion)
				}
			},
		},
		{name: "merge patch must be a mapping", change: merge, text: "- a\n", wantErr: "a merge patch is a mapping"},
		{
			name: "JSON patch edited", change: jsonPatch, text: "- {op: remove, path: /metadata/labels/a}\n",
			check: func(t *testing.T, c remedy.Change) {
				if string(c.Patch) != `[{"op":"remove","path":"/metadata/labels/a"}]` {
					t.Errorf("patch %s", c.Patch)
				}
			},
		},
		{name: "JSON patch must be a list", change: jsonPatch, text: "op: remove\n", wantErr: "a JSON patch is a list"},
		{name: "YAML that does not parse", change: apply, text: "metadata: [\n", wantErr: "does not parse"},
		{name: "a delete has nothing to edit", change: remedy.NewDelete("", merge.Target, ""), text: "a: b\n", wantErr: "cannot be edited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEdit(tt.change, []byte(tt.text))
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

func TestAnswers(t *testing.T) {
	ctx := context.Background()
	a := newAnswers(strings.NewReader("y\n\nno\nq"))
	for _, want := range []string{"y\n", "\n", "no\n", "q"} {
		got, err := a.next(ctx)
		if err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := a.next(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("after the last line: %v, want EOF", err)
	}
	if _, err := a.next(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("EOF is not sticky: %v", err)
	}
}

func TestAnswersStopOnCancel(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	a := newAnswers(r)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := a.next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The read started before the cancel still delivers its line to the next question.
	go io.WriteString(w, "n\n")
	got, err := a.next(context.Background())
	if err != nil || got != "n\n" {
		t.Errorf("got %q, %v", got, err)
	}
}
