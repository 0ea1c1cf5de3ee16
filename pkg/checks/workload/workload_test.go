package workload

import (
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

func load(t *testing.T, includeSystem bool) *inventory.Inventory {
	t.Helper()
	inv := checktest.Load(t, "workloads.yaml")
	inv.Settings.IncludeSystem = includeSystem
	return inv
}

func run(t *testing.T, inv *inventory.Inventory, id string) []string {
	t.Helper()
	return checktest.Messages(checktest.Run(t, inv, Checks(), id))
}

func TestChecks(t *testing.T) {
	cases := []struct {
		id     string
		system bool
		want   []string
	}{
		{"workload/no-resource-limits", false, []string{
			"Deployment shop/web container web: no memory limit and no CPU request",
		}},
		{"workload/image-not-pinned", false, []string{
			"CronJob ops/backup container backup: image backup has no tag (means :latest) and no digest",
			"Deployment shop/web container web: image registry.example.com/web:latest uses the moving tag :latest",
		}},
		{"workload/image-not-pinned", true, []string{
			"CronJob ops/backup container backup: image backup has no tag (means :latest) and no digest",
			"Deployment shop/web container web: image registry.example.com/web:latest uses the moving tag :latest",
			"Pod kube-system/coredns-abc container coredns: image coredns:latest uses the moving tag :latest",
		}},
		{"workload/writable-root-filesystem", false, []string{
			"Deployment shop/web container web: readOnlyRootFilesystem is not true",
		}},
		{"workload/secret-in-env", false, []string{
			"Deployment shop/web container web: Secret values in environment variables: DB_PASSWORD (from Secret db)",
			"Pod default/hardened container app: Secret values in environment variables: every key of Secret app-env",
		}},
		{"workload/default-namespace", false, []string{"Pod hardened runs in the default namespace"}},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			got := run(t, load(t, tc.system), tc.id)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}

func TestSpecsJudgesEachPodSpecOnce(t *testing.T) {
	var got []string
	for _, s := range Specs(load(t, true)) {
		got = append(got, s.Resource.String()+" "+s.Path)
	}
	want := []string{
		"cronjob/ops/backup spec.jobTemplate.spec.template.spec",
		"deployment/shop/web spec.template.spec",
		"pod/default/hardened spec",
		"pod/kube-system/coredns-abc spec",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestFieldPathInEvidence(t *testing.T) {
	inv := load(t, false)
	for _, c := range Checks() {
		if c.ID != "workload/writable-root-filesystem" {
			continue
		}
		f := c.Run(inv)[0]
		if f.Evidence["field"] != "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem" {
			t.Errorf("field path %v", f.Evidence["field"])
		}
	}
}

func TestSharedProcessNamespace(t *testing.T) {
	inv := checktest.Load(t, "shared-process-namespace.yaml")
	got := run(t, inv, "workload/shared-process-namespace")
	want := []string{"Deployment shop/debug-sidecar shares its process namespace between 2 containers (spec.template.spec.shareProcessNamespace)"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
