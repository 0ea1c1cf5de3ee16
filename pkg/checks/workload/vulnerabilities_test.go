package workload

import (
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/checktest"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

func TestImageVulnerabilities(t *testing.T) {
	inv := checktest.Load(t, "vulnerabilities.yaml")
	var got []string
	for _, f := range checktest.Run(t, inv, Checks(), "workload/image-vulnerabilities") {
		got = append(got, f.Severity.String()+" "+f.Facets[0]+": "+f.Message)
		if f.Remediation == nil || !f.Remediation.Manual {
			t.Errorf("%s: remediation %+v, want manual guidance", f.Message, f.Remediation)
		}
	}
	slices.Sort(got)
	want := []string{
		"high fixable-critical: Deployment scan/web container web (image nginx:1.25.3): 1 critical and 1 high vulnerabilities have a fixed version (CVE-2026-0001, CVE-2026-0002)",
		"low not-scanned: Pod scan/debug container shell (image busybox:1.36): no image scan result (VulnerabilityReport) for this image",
		"low not-scanned: StatefulSet scan/db container postgres (image postgres:16.2): no image scan result (VulnerabilityReport) for this image; the reports on this workload are for docker.io/library/postgres:15.6",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n  %q\nwant\n  %q", got, want)
	}
}

// Where no scan result is visible the check is unknown, never a pass: the
// add-on not installed (offline: no report in the files), or installed with none.
func TestImageVulnerabilitiesUnknownWithoutScanResults(t *testing.T) {
	for _, inv := range []*inventory.Inventory{checktest.Load(t, "workloads.yaml")} {
		for _, c := range Checks() {
			if c.ID != "workload/image-vulnerabilities" {
				continue
			}
			res := checks.Run(inv, []checks.Check{c})
			if len(res.Unknown) != 1 || len(res.Ran) != 0 || res.Unknown[0].Reason == "" {
				t.Fatalf("got %+v, want unknown", res)
			}
			if want := "no image scan results visible"; res.Unknown[0].Reason[:len(want)] != want {
				t.Errorf("reason %q", res.Unknown[0].Reason)
			}
		}
	}
}

func TestParseImage(t *testing.T) {
	cases := []struct{ a, b string }{
		{"nginx", "index.docker.io/library/nginx:latest"},
		{"nginx:1.25", "docker.io/library/nginx:1.25"},
		{"user/app:v1", "registry-1.docker.io/user/app:v1"},
		{"localhost:5000/app:v1", "localhost:5000/app:v1"},
		{"ghcr.io/x/y@sha256:ab", "ghcr.io/x/y:1.0@sha256:ab"},
	}
	for _, tc := range cases {
		if !parseImage(tc.a).same(parseImage(tc.b)) {
			t.Errorf("%s and %s should be the same image: %+v %+v", tc.a, tc.b, parseImage(tc.a), parseImage(tc.b))
		}
	}
	if parseImage("nginx:1.25").same(parseImage("nginx:1.26")) || parseImage("a.io/x:1").same(parseImage("b.io/x:1")) {
		t.Error("different images compare equal")
	}
}
