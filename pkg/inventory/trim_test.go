package inventory

import (
	"encoding/json"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Trim drops from a pod what no check reads: the status but its phase and
// addresses, its UID, the volume mounts, and the projected volumes' names (the token
// volume's is generated per pod). Every other volume keeps its name and
// every volume its place, which field paths name.
func TestTrimPod(t *testing.T) {
	inv := readFixture(t, "trim-pod.yaml")
	if len(inv.Pods) != 1 {
		t.Fatalf("%d pods, want 1", len(inv.Pods))
	}
	p := inv.Pods[0]
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		if len(c.VolumeMounts) > 0 {
			t.Errorf("container %s keeps its mounts %v", c.Name, c.VolumeMounts)
		}
	}
	if len(p.Spec.Volumes) != 2 {
		t.Fatalf("volumes %v, want both", p.Spec.Volumes)
	}
	if v := p.Spec.Volumes[0]; v.Name != "host" || v.HostPath == nil || v.HostPath.Path != "/var/log" {
		t.Errorf("the hostPath volume became %+v", v)
	}
	if v := p.Spec.Volumes[1]; v.Name != "" || v.Projected == nil || len(v.Projected.Sources) != 1 {
		t.Errorf("the token volume became %+v, want its source without its name", v)
	}
	if p.Status.Phase != "Running" || p.Status.PodIP != "10.0.0.7" {
		t.Errorf("status %+v, want the phase and the pod's address only", p.Status)
	}
	if p.UID != "" || p.Name != "web-7d9f8c6b5-x7k2q" {
		t.Errorf("metadata %s %s, want the name without the UID", p.Name, p.UID)
	}
}

// A ConfigMap keeps its metadata (exceptions read its annotations, findings
// its position) and none of its data, which no check reads.
func TestTrimConfigMap(t *testing.T) {
	inv := readFixture(t, "trim-configmap.yaml")
	if len(inv.ConfigMaps) != 1 {
		t.Fatalf("%d ConfigMaps, want 1", len(inv.ConfigMaps))
	}
	cm := inv.ConfigMaps[0]
	if cm.Data != nil || cm.BinaryData != nil {
		t.Errorf("the data stayed: %v %v", cm.Data, cm.BinaryData)
	}
	if cm.Name != "dashboards" || cm.Labels["grafana_dashboard"] != "1" || cm.Annotations["kubectl-harden.io/accept"] == "" {
		t.Errorf("the metadata became %+v", cm.ObjectMeta)
	}
	if s, ok := inv.SourceOf("ConfigMap", "monitoring", "dashboards"); !ok || s.Line != 1 {
		t.Errorf("source %+v %v, want line 1", s, ok)
	}
}

// A VulnerabilityReport keeps the scanned image and, of each vulnerability,
// what the scan check reads; its metadata stays whole (the trivy-operator
// labels and annotations name the scanned workload).
func TestTrimVulnerabilityReport(t *testing.T) {
	inv := readFixture(t, "trim-vulnreport.yaml")
	if len(inv.VulnerabilityReports) != 1 {
		t.Fatalf("%d reports, want 1", len(inv.VulnerabilityReports))
	}
	u := inv.VulnerabilityReports[0]
	got, err := json.Marshal(u.Object["report"])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"artifact":{"repository":"library/nginx","tag":"1.25.3"},"registry":{"server":"index.docker.io"},` +
		`"vulnerabilities":[{"fixedVersion":"3.0.13-1","installedVersion":"3.0.11-1","resource":"libssl3","severity":"CRITICAL","vulnerabilityID":"CVE-2026-0001"},` +
		`{"installedVersion":"1.2.13","resource":"zlib1g","severity":"HIGH","vulnerabilityID":"CVE-2026-0002"}]}`
	if string(got) != want {
		t.Errorf("report\n%s\nwant\n%s", got, want)
	}
	if u.GetLabels()["trivy-operator.resource.kind"] != "ReplicaSet" || u.GetAnnotations()["trivy-operator.resource.name"] != "web-6d4cf56db6" {
		t.Errorf("metadata %v %v", u.GetLabels(), u.GetAnnotations())
	}
	// A live list's page is trimmed the same way, an item at a time (Trim).
	var page unstructured.Unstructured
	b, err := os.ReadFile("testdata/trim-vulnreport.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := page.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	Trim(&page)
	if got, _ := json.Marshal(page.Object["report"]); string(got) != want {
		t.Errorf("a live item's report\n%s\nwant\n%s", got, want)
	}
}

// readFixture reads one file of testdata.
func readFixture(t *testing.T, name string) *Inventory {
	t.Helper()
	inv, err := FromFiles([]string{"testdata/" + name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}
