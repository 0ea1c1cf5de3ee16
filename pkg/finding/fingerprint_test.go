package finding

import (
	"encoding/json"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func TestFingerprint(t *testing.T) {
	base := Finding{
		Check: "workload/no-resource-limits", Severity: Low,
		Message:  "Deployment shop/web container app: no memory limit",
		Resource: Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		Evidence: map[string]any{"container": "app", "field": "spec.template.spec.containers[0].resources", "pods": []string{"web-5d9f-abc"}, "count": 3},
	}
	fp := base.Fingerprint()
	if len(fp) != 64 {
		t.Fatalf("fingerprint %q", fp)
	}
	same := map[string]func(f *Finding){
		"message":          func(f *Finding) { f.Message = "reworded, with 4 pods" },
		"severity":         func(f *Finding) { f.Severity = High },
		"title":            func(f *Finding) { f.Title = "x" },
		"remediation":      func(f *Finding) { f.Remediation = &remedy.Remediation{Summary: "s"} },
		"source":           func(f *Finding) { f.Source = &Source{File: "a.yaml", Line: 9} },
		"pods restarted":   func(f *Finding) { f.Evidence["pods"] = []string{"web-77c4-xyz", "web-77c4-qrs"} },
		"a count":          func(f *Finding) { f.Evidence["count"] = 4 },
		"sidecar inserted": func(f *Finding) { f.Evidence["field"] = "spec.template.spec.containers[1].resources" },
		"api version":      func(f *Finding) { f.Resource.APIVersion = "apps/v1beta2" },
		"accepted":         func(f *Finding) { f.Accepted = &Acceptance{By: "x:1"} },
		"baseline state":   func(f *Finding) { f.BaselineState = BaselineNew },
	}
	for name, change := range same {
		f := base
		f.Evidence = map[string]any{}
		for k, v := range base.Evidence {
			f.Evidence[k] = v
		}
		change(&f)
		if f.Fingerprint() != fp {
			t.Errorf("%s changed the fingerprint", name)
		}
	}
	differ := map[string]func(f *Finding){
		"check":          func(f *Finding) { f.Check = "workload/writable-root-filesystem" },
		"name":           func(f *Finding) { f.Resource.Name = "api" },
		"namespace":      func(f *Finding) { f.Resource.Namespace = "other" },
		"kind":           func(f *Finding) { f.Resource.Kind = "StatefulSet" },
		"group":          func(f *Finding) { f.Resource.APIVersion = "apps.example.com/v1" },
		"container":      func(f *Finding) { f.Evidence["container"] = "sidecar" },
		"field":          func(f *Finding) { f.Evidence["field"] = "spec.template.spec.initContainers[0].resources" },
		"subject":        func(f *Finding) { f.Subject = &Subject{Kind: "User", Name: "alice"} },
		"setting":        func(f *Finding) { f.Evidence["failurePolicy"] = "Ignore" },
		"exception (id)": func(f *Finding) { f.Evidence["exception"] = "workload/ on */web" },
	}
	for name, change := range differ {
		f := base
		f.Evidence = map[string]any{}
		for k, v := range base.Evidence {
			f.Evidence[k] = v
		}
		change(&f)
		if f.Fingerprint() == fp {
			t.Errorf("%s did not change the fingerprint", name)
		}
	}
	// A setting's value is not identity: only which setting.
	a, b := base, base
	a.Evidence = map[string]any{"failurePolicy": "Ignore"}
	b.Evidence = map[string]any{"failurePolicy": "Fail"}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("a setting's value changed the fingerprint")
	}
}

// A finding read back from a report's JSON has the fingerprint the check's finding had.
func TestFingerprintSurvivesJSON(t *testing.T) {
	fs := []Finding{
		{Check: "cluster/apiserver-flags", Severity: High, Resource: Resource{APIVersion: "v1", Kind: "Pod", Namespace: "kube-system", Name: "kube-apiserver-cp1"},
			Evidence: map[string]any{"container": "kube-apiserver", "flag": "--profiling", "set": false, "value": ""}},
		{Check: "x/y", Severity: Info, Resource: Resource{Kind: "Node", Name: "n"}, Evidence: map[string]any{"kind": 7, "label": map[string]int{"a": 1}}},
		{Check: "rbac/cluster-admin-binding", Severity: Critical, Resource: Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "b"},
			Subject: &Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"}},
	}
	for _, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var back Finding
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Fingerprint() != f.Fingerprint() {
			t.Errorf("%s: fingerprint changed through JSON", f.Check)
		}
	}
}

func TestCompareWithBaseline(t *testing.T) {
	mk := func(check, name string, sev Severity) Finding {
		return Finding{Check: check, Severity: sev, Message: name, Resource: Resource{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: name}}
	}
	old := &Report{Items: []Finding{mk("a/x", "p1", High), mk("a/x", "p2", High), mk("b/y", "p3", Low), mk("skipped/z", "p4", Critical)}}
	cur := NewReport(Metadata{}, nil, nil, []Finding{mk("a/x", "p1", High), mk("a/x", "p1", High), mk("a/x", "p5", Critical)})
	accepted := mk("b/y", "p6", Medium)
	accepted.Accepted = &Acceptance{By: "f:1"}
	cur.Items = append(cur.Items, accepted)
	CompareWithBaseline(cur, old, "old.json", func(c string) bool { return c != "skipped/z" })
	states := map[string]int{}
	for _, f := range cur.Items {
		states[f.Resource.Name+"="+f.BaselineState]++
	}
	// A second copy of a finding is new: each baseline finding matches once.
	if states["p1=unchanged"] != 1 || states["p1=new"] != 1 || states["p5=new"] != 1 || states["p6=new"] != 1 {
		t.Errorf("states %v", states)
	}
	s := cur.Summary.Baseline
	if s == nil || s.Report != "old.json" || s.Unchanged != 1 || s.Fixed != 2 || s.New != (SeverityCounts{Critical: 1, High: 1}) {
		t.Errorf("summary %+v", s)
	}
	// p4's check was not judged this time: it is not fixed.
	if len(cur.Fixed) != 2 || cur.Fixed[0].Resource.Name != "p2" || cur.Fixed[1].Resource.Name != "p3" || cur.Fixed[0].BaselineState != BaselineAbsent {
		t.Errorf("fixed %+v", cur.Fixed)
	}
	if got := len(cur.Failing()); got != 2 {
		t.Errorf("failing %d, want the two new unaccepted findings", got)
	}
}
