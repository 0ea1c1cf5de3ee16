package inventory

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestCustomWorkloadsFromFiles(t *testing.T) {
	inv, err := FromFiles([]string{"testdata/customworkloads.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cw := range inv.CustomWorkloads {
		got = append(got, cw.APIVersion+" "+cw.Kind+" "+cw.Namespace+"/"+cw.Name+" "+cw.Path+" "+cw.Template.Spec.Containers[0].Image)
	}
	want := []string{
		"argoproj.io/v1alpha1 Rollout shop/web spec.template.spec web:1.1",
		"serving.knative.dev/v1 Service shop/hello spec.template.spec hello:1.0",
		"apps.kruise.io/v1alpha1 CloneSet shop/cache spec.template.spec cache:7",
		"apps.kruise.io/v1beta1 StatefulSet shop/db spec.template.spec db:16",
		"example.com/v1 Widget shop/spinner spec.template.spec spinner:2",
		"example.com/v1 Sweeper shop/nightly spec.jobTemplate.spec.template.spec sweep:1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("custom workloads\n  %q\nwant\n  %q", got, want)
	}
	if len(inv.StatefulSets) != 1 || inv.StatefulSets[0].Spec.Template.Labels["app"] != "db" {
		t.Errorf("the apps/v1 StatefulSet must stay apart from Kruise's: %d", len(inv.StatefulSets))
	}
	if inv.CustomWorkloads[0].ManagedFields != nil || inv.CustomWorkloads[0].Template.Labels["app"] != "web" {
		t.Errorf("metadata as read: %+v", inv.CustomWorkloads[0].ObjectMeta)
	}
	if p := inv.CustomWorkloads[1].Template.Spec.Containers[0].Ports; len(p) != 1 || p[0].ContainerPort != 8080 {
		t.Errorf("Knative's pod spec lost its fields: %+v", p)
	}

	wantUnmodelled := map[string]int{
		"argoproj.io/v1alpha1/Rollout":                  1, // by-ref, no template
		"example.com/v1/Widget":                         2, // idle, odd
		"v1/Service":                                    2, // web (twice), api
		"rbac.authorization.k8s.io/v1beta1/ClusterRole": 1,
	}
	if !maps.Equal(inv.Unmodelled, wantUnmodelled) {
		t.Errorf("unmodelled %v\nwant       %v", inv.Unmodelled, wantUnmodelled)
	}

	if s, ok := inv.SourceOf("Rollout", "shop", "web"); !ok || s.Line != 15 {
		t.Errorf("source of the Rollout %+v %v, want its later copy at line 15", s, ok)
	}
	if s, ok := inv.SourceOf("StatefulSet", "shop", "db"); !ok || s.Line != 58 {
		t.Errorf("source of the apps/v1 StatefulSet %+v %v, want line 58, not Kruise's", s, ok)
	}
	for _, w := range inv.Warnings {
		if strings.Contains(w, "StatefulSet") {
			t.Errorf("two kinds of StatefulSet are not one object given twice: %s", w)
		}
	}
	if !inv.Has(CustomWorkloads) {
		t.Error("custom workloads are read offline")
	}
}

func TestMalformedKnownWorkloadIsAnError(t *testing.T) {
	doc := "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: bad}\nspec:\n  template:\n    spec:\n      containers: [{name: web, ports: [{containerPort: http}]}]\n"
	_, err := FromFiles([]string{"-"}, strings.NewReader(doc))
	if err == nil || !strings.Contains(err.Error(), "Rollout") || !strings.Contains(err.Error(), "spec.template") {
		t.Errorf("want an error naming the Rollout and its template, got %v", err)
	}
}

func TestNewCountsUnmodelled(t *testing.T) {
	if New().Unmodelled == nil {
		t.Error("New leaves Unmodelled nil")
	}
}
