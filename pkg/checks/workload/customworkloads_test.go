package workload

import (
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
)

// TestCustomWorkloads judges the pod templates of custom resources like a
// Deployment's: the Rollout once (not its ReplicaSet and pod), the Knative
// Service, the CloneSet and the unknown kind at their own field paths.
func TestCustomWorkloads(t *testing.T) {
	inv := checktest.Load(t, "customworkloads.yaml")
	var specs []string
	for _, s := range Specs(inv) {
		specs = append(specs, s.Resource.APIVersion+" "+s.Resource.String()+" "+s.Path)
	}
	wantSpecs := []string{
		"argoproj.io/v1alpha1 rollout/shop/web spec.template.spec",
		"serving.knative.dev/v1 service/shop/hello spec.template.spec",
		"apps.kruise.io/v1alpha1 cloneset/shop/cache spec.template.spec",
		"batch.example.com/v1 sweeper/shop/nightly spec.jobTemplate.spec.template.spec",
	}
	if !slices.Equal(specs, wantSpecs) {
		t.Errorf("specs\n  %q\nwant\n  %q", specs, wantSpecs)
	}

	cases := []struct {
		id   string
		want []string
	}{
		{"workload/writable-root-filesystem", []string{"Rollout shop/web container web: readOnlyRootFilesystem is not true"}},
		{"workload/image-not-pinned", []string{"Service shop/hello container user-container: image registry.example.com/hello:latest uses the moving tag :latest"}},
		{"workload/secret-in-env", []string{"CloneSet shop/cache container cache: Secret values in environment variables: PASSWORD (from Secret cache)"}},
		{"workload/no-resource-limits", nil},
	}
	for _, tc := range cases {
		if got := run(t, inv, tc.id); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got\n  %q\nwant\n  %q", tc.id, got, tc.want)
		}
	}

	fs := checktest.Run(t, inv, Checks(), "workload/writable-root-filesystem")
	if len(fs) != 1 {
		t.Fatalf("writable-root-filesystem: %d findings", len(fs))
	}
	f := fs[0]
	if f.Resource.APIVersion != "argoproj.io/v1alpha1" || f.Resource.Kind != "Rollout" ||
		f.Evidence["field"] != "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem" {
		t.Errorf("finding names %+v at %v, want the Rollout at its template's field", f.Resource, f.Evidence["field"])
	}
	if f.Source == nil || f.Source.Line != 4 {
		t.Errorf("source %+v, want line 4 of the fixture", f.Source)
	}
	if got := inv.Unmodelled; len(got) != 1 || got["v1/Service"] != 1 {
		t.Errorf("unmodelled %v, want the core Service counted", got)
	}
}
