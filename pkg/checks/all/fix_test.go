package all

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// readObjects reads every object of the YAML files under dir.
func readObjects(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if m == nil {
				continue
			}
			u := &unstructured.Unstructured{Object: m}
			if u.IsList() {
				_ = u.EachListItem(func(o runtime.Object) error {
					out = append(out, o.(*unstructured.Unstructured).DeepCopy())
					return nil
				})
				continue
			}
			out = append(out, u)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func load(t *testing.T, objs []*unstructured.Unstructured) *inventory.Inventory {
	t.Helper()
	var b bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	inv, err := inventory.FromFiles([]string{"-"}, &b)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func sameTarget(o *unstructured.Unstructured, tg remedy.Target) bool {
	return o.GetAPIVersion() == tg.APIVersion && o.GetKind() == tg.Kind && o.GetNamespace() == tg.Namespace && o.GetName() == tg.Name
}

// applyChanges returns the objects as the changes leave them.
func applyChanges(objs []*unstructured.Unstructured, changes []remedy.Change) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs)+len(changes))
	for _, o := range objs {
		out = append(out, o.DeepCopy())
	}
	for _, c := range changes {
		found := false
		// A fixture directory may hold one object in several files: the change applies to each copy.
		for j, o := range out {
			if o == nil || !sameTarget(o, c.Target) {
				continue
			}
			found = true
			next, err := render.Preview(o, c)
			if err != nil {
				return nil, err
			}
			out[j] = next
		}
		if !found {
			next, err := render.Preview(nil, c)
			if err != nil {
				return nil, err
			}
			if next != nil {
				out = append(out, next)
			}
		}
	}
	kept := out[:0]
	for _, o := range out {
		if o != nil {
			kept = append(kept, o)
		}
	}
	return rollOut(kept, changes), nil
}

var controllers = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"Job": true, "CronJob": true, "ReplicationController": true}

// rollOut does what a controller does when its pod template changes: the
// pods (and a Deployment's ReplicaSets) made from the old template go, to be
// replaced by pods of the new one.
func rollOut(objs []*unstructured.Unstructured, changes []remedy.Change) []*unstructured.Unstructured {
	replaced := map[string]bool{} // kind/namespace/name of owners whose children are replaced
	for _, c := range changes {
		if c.Action != remedy.Delete && controllers[c.Target.Kind] {
			replaced[c.Target.Kind+"/"+c.Target.Namespace+"/"+c.Target.Name] = true
		}
	}
	if len(replaced) == 0 {
		return objs
	}
	ownedByReplaced := func(o *unstructured.Unstructured) bool {
		for _, ref := range o.GetOwnerReferences() {
			if replaced[ref.Kind+"/"+o.GetNamespace()+"/"+ref.Name] {
				return true
			}
		}
		return false
	}
	for _, o := range objs { // ReplicaSets and Jobs of a replaced owner are replaced too
		if ownedByReplaced(o) && o.GetKind() != "Pod" {
			replaced[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = true
		}
	}
	kept := objs[:0]
	for _, o := range objs {
		if !ownedByReplaced(o) {
			kept = append(kept, o)
		}
	}
	return kept
}

func findingKey(f finding.Finding) string {
	k := f.Check + " " + f.Resource.String()
	if f.Subject != nil {
		k += " " + f.Subject.String()
	}
	return k
}

// Applying a finding's changes to the objects and auditing again leaves the
// finding gone: a fix that does not fix is worse than none. So does applying
// any one of its alternatives instead.
func TestFixClosesFinding(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	tried, alternatives, open := 0, 0, map[string][]string{}
	for _, dir := range fixtureDirs(t) {
		if _, err := inventory.FromFiles([]string{dir}, nil); err != nil {
			continue
		}
		objs := readObjects(t, dir)
		inv := load(t, objs)
		res := checks.Run(inv, reg.All())
		seen := map[string]bool{}
		for _, f := range res.Findings {
			if f.Remediation == nil || len(f.Remediation.Changes) == 0 || seen[findingKey(f)] {
				continue
			}
			seen[findingKey(f)] = true
			c, _ := reg.Get(f.Check)
			fixes := [][]remedy.Change{f.Remediation.Changes}
			for _, alt := range f.Remediation.Alternatives {
				fixes = append(fixes, alt.Changes)
			}
			for i, changes := range fixes {
				what := "the changes"
				if i > 0 {
					what = fmt.Sprintf("alternative %d", i)
					alternatives++
				}
				after, err := applyChanges(objs, changes)
				if err != nil {
					t.Errorf("%s: %s: %s do not apply: %v", dir, findingKey(f), what, err)
					continue
				}
				tried++
				again := checks.Run(load(t, after), []checks.Check{c})
				for _, g := range again.Findings {
					if findingKey(g) == findingKey(f) && g.Severity >= f.Severity {
						open[f.Check] = append(open[f.Check], fmt.Sprintf("%s: after %s: %s", filepath.Base(dir), what, g.Message))
					}
				}
			}
		}
	}
	if alternatives == 0 {
		t.Error("no alternative tried: the netpol fixtures that serve ClusterNetworkPolicy offer the Baseline default deny")
	}
	ids := make([]string, 0, len(open))
	for id := range open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t.Errorf("%s: %d findings stay after their fix, e.g. %s", id, len(open[id]), open[id][0])
	}
	if tried < 20 {
		t.Errorf("only %d fixes tried", tried)
	}
}

// Applying the whole plan of the sample cluster (what `-o patch | kubectl
// apply` does) fixes what it claims and adds no finding of the tool's own:
// its default-deny policies are not "policies selecting no pod", its staged
// warn/audit labels not faults of their own.
func TestWholePlanAddsNoFinding(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	objs := readObjects(t, filepath.Join("..", "..", "..", "test", "testdata", "demo"))
	before := checks.Run(load(t, objs), reg.All()).Findings
	had, fixed := map[string]bool{}, map[string]bool{}
	var plan []remedy.Change
	planned := map[string]bool{}
	for _, f := range before {
		had[findingKey(f)] = true
		if f.Remediation == nil || len(f.Remediation.Changes) == 0 {
			continue
		}
		risky := false
		for _, c := range f.Remediation.Changes {
			risky = risky || c.Risky
		}
		if risky {
			continue
		}
		fixed[findingKey(f)] = true
		for _, c := range f.Remediation.Changes {
			if !planned[c.Key()] {
				planned[c.Key()] = true
				plan = append(plan, c)
			}
		}
	}
	if len(plan) < 8 {
		t.Fatalf("the sample's plan has only %d changes", len(plan))
	}
	after, err := applyChanges(objs, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range checks.Run(load(t, after), reg.All()).Findings {
		k := findingKey(f)
		switch {
		case fixed[k]:
			t.Errorf("still reported after the plan: %s: %s", k, f.Message)
		case !had[k] && f.Severity > finding.Low:
			t.Errorf("new finding after the plan: %s %s: %s", f.Severity, k, f.Message)
		case !had[k]:
			if _, staged := f.Evidence["stage"]; !staged {
				t.Errorf("new finding after the plan, not linked to the stage that shows it: %s: %s", k, f.Message)
			}
		}
	}
}
