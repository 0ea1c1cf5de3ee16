package inventory

import (
	"testing"
)

// Trim drops from a pod what no check reads: the status but its phase and
// addresses, the volume mounts, and the projected volumes' names (the token
// volume's is generated per pod). Every other volume keeps its name and
// every volume its place, which field paths name.
func TestTrimPod(t *testing.T) {
	inv, err := FromFiles([]string{"testdata/trim-pod.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
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
}
