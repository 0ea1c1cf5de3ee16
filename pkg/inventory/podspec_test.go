package inventory

import (
	"testing"
)

// TestPodSpecsOwners pins the owner rule every check counts by: the
// outermost listed controller, through controller ownerReferences only.
func TestPodSpecsOwners(t *testing.T) {
	inv, err := FromFiles([]string{"testdata/owners.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	specs := PodSpecs(inv)
	name := func(i int) string {
		if i < 0 {
			return "-"
		}
		r := specs[i].Ref
		return r.APIVersion + " " + r.Kind + "/" + r.Name
	}
	type want struct{ parent, owner, path string }
	wants := map[string]want{
		"v1 Pod/web-1-x":                        {"apps/v1 ReplicaSet/web-1", "apps/v1 Deployment/web", "spec"},
		"apps/v1 ReplicaSet/web-1":              {"apps/v1 Deployment/web", "apps/v1 Deployment/web", "spec.template.spec"},
		"apps/v1 Deployment/web":                {"-", "-", "spec.template.spec"},
		"v1 Pod/canary-1-x":                     {"apps/v1 ReplicaSet/canary-1", "argoproj.io/v1alpha1 Rollout/canary", "spec"},
		"apps/v1 ReplicaSet/canary-1":           {"argoproj.io/v1alpha1 Rollout/canary", "argoproj.io/v1alpha1 Rollout/canary", "spec.template.spec"},
		"argoproj.io/v1alpha1 Rollout/canary":   {"-", "-", "spec.template.spec"},
		"v1 Pod/report-1-x":                     {"batch/v1 Job/report-1", "batch/v1 CronJob/report", "spec"},
		"batch/v1 Job/report-1":                 {"batch/v1 CronJob/report", "batch/v1 CronJob/report", "spec.template.spec"},
		"batch/v1 CronJob/report":               {"-", "-", "spec.jobTemplate.spec.template.spec"},
		"v1 Pod/reborn":                         {"-", "-", "spec"},
		"v1 Pod/adopted":                        {"-", "-", "spec"},
		"v1 Pod/elsewhere":                      {"-", "-", "spec"},
		"v1 Pod/orphan":                         {"-", "-", "spec"},
		"v1 Pod/etcd-node1":                     {"-", "-", "spec"},
		"apps/v1 ReplicaSet/loop-a":             {"apps/v1 ReplicaSet/loop-b", "-", "spec.template.spec"},
		"apps/v1 ReplicaSet/loop-b":             {"apps/v1 ReplicaSet/loop-a", "-", "spec.template.spec"},
		"v1 Pod/loop-a-x":                       {"apps/v1 ReplicaSet/loop-a", "apps/v1 ReplicaSet/loop-a", "spec"},
		"apps/v1 StatefulSet/db":                {"-", "-", "spec.template.spec"},
		"apps.kruise.io/v1beta1 StatefulSet/db": {"-", "-", "spec.template.spec"},
		"v1 Pod/db-0":                           {"apps.kruise.io/v1beta1 StatefulSet/db", "apps.kruise.io/v1beta1 StatefulSet/db", "spec"},
		"v1 PodTemplate/spare":                  {"-", "-", "template.spec"},
	}
	if len(specs) != len(wants) {
		t.Errorf("%d pod specs, want %d", len(specs), len(wants))
	}
	for i, s := range specs {
		w, ok := wants[name(i)]
		if !ok {
			t.Errorf("unexpected pod spec %s", name(i))
			continue
		}
		if got := (want{name(s.Parent), name(s.Owner), s.Path}); got != w {
			t.Errorf("%s: parent, owner, path %+v, want %+v", name(i), got, w)
		}
		if s.Pod != (s.Ref.Kind == "Pod") || s.Controller != (s.Ref.Kind != "Pod" && s.Ref.Kind != "PodTemplate") {
			t.Errorf("%s: pod %v controller %v", name(i), s.Pod, s.Controller)
		}
		if s.Mirror != (s.Ref.Name == "etcd-node1") {
			t.Errorf("%s: mirror %v", name(i), s.Mirror)
		}
	}

	// The template metadata and the paths point into the object itself.
	for _, s := range specs {
		switch s.Ref.Name {
		case "canary":
			cw := s.Object.(*CustomWorkload)
			if s.Template != &cw.Template.ObjectMeta || s.Spec != &cw.Template.Spec || s.MetaPath != "spec.template.metadata" || s.Template.Labels["app"] != "canary" {
				t.Errorf("Rollout: template %p spec %p metaPath %s", s.Template, s.Spec, s.MetaPath)
			}
		case "web-1-x":
			if s.Template != s.Meta || s.MetaPath != "metadata" || s.PodTemplate != nil || &inv.Pods[s.Index] != s.Object {
				t.Errorf("Pod: template %p meta %p metaPath %s", s.Template, s.Meta, s.MetaPath)
			}
		}
	}
	if &PodSpecs(inv)[0] != &specs[0] {
		t.Error("PodSpecs is computed once per inventory")
	}
}
