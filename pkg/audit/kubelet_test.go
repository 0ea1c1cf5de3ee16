package audit

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/cluster"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// kubeletLoader stands for a live cluster whose nodes' kubelets answer as
// given; it records the kinds it was asked for. Every other kind is read as empty.
type kubeletLoader struct {
	kubelets []inventory.Kubelet
	asked    []inventory.Kind
}

func (l *kubeletLoader) Load(_ context.Context, kinds []inventory.Kind) (*inventory.Inventory, error) {
	l.asked = kinds
	inv := inventory.New()
	inv.ServerVersion = "v1.33.4" // CIS v1.12
	for _, k := range kinds {
		inv.Loaded[k] = true
	}
	if slices.Contains(kinds, inventory.KubeletConfigs) {
		inv.Kubelets = l.kubelets
	}
	return inv, nil
}

func kubeletAudit(t *testing.T, kubelet bool, kubelets ...inventory.Kubelet) (*finding.Report, *kubeletLoader) {
	t.Helper()
	l := &kubeletLoader{kubelets: kubelets}
	r, _, err := Run(context.Background(), registry(t), l, Config{Domains: []string{"cluster"}, Framework: "cis", Kubelet: kubelet})
	if err != nil {
		t.Fatal(err)
	}
	return r, l
}

func controlStatus(r *finding.Report, id string) finding.ControlResult {
	for _, c := range r.Controls.Results {
		if string(c.ID) == id {
			return c
		}
	}
	return finding.ControlResult{}
}

// Without --kubelet the kubelets are not read at all: the check and its
// CIS 4.2.x controls are unknown, saying why, and nothing is skipped.
func TestKubeletIsOptIn(t *testing.T) {
	yes := true
	r, l := kubeletAudit(t, false, inventory.Kubelet{Node: "n1", Config: &inventory.KubeletConfiguration{
		Authentication: inventory.KubeletAuthentication{Anonymous: inventory.KubeletAnonymousAuthentication{Enabled: &yes}}}})
	if slices.Contains(l.asked, inventory.KubeletConfigs) {
		t.Fatalf("the kubelets were read without --kubelet: %v", l.asked)
	}
	var reason string
	for _, u := range r.Summary.Unknown {
		if u.Check == cluster.KubeletCheck {
			reason = u.Reason
		}
	}
	if !strings.HasPrefix(reason, "not read without --kubelet") {
		t.Errorf("summary.unknown says %q for %s", reason, cluster.KubeletCheck)
	}
	for _, s := range r.Summary.Skipped {
		if s.Check == cluster.KubeletCheck {
			t.Errorf("skipped, which fails --fail-on: %+v", s)
		}
	}
	for _, id := range []string{"CIS-4.2.1", "CIS-4.2.2", "CIS-4.2.14"} {
		if c := controlStatus(r, id); c.Status != finding.ControlUnknown || !strings.Contains(c.Reason, "not read without --kubelet") {
			t.Errorf("%s: %s %q", id, c.Status, c.Reason)
		}
	}
	for _, f := range r.Items {
		if f.Check == cluster.KubeletCheck {
			t.Errorf("a finding without --kubelet: %s", f.Message)
		}
	}
}

// With --kubelet each 4.2.x control is decided by the nodes' settings, and a
// node that could not be read makes them unknown, never passed.
func TestKubeletControls(t *testing.T) {
	yes, no, zero := true, false, int32(0)
	weak := &inventory.KubeletConfiguration{
		Authentication: inventory.KubeletAuthentication{Anonymous: inventory.KubeletAnonymousAuthentication{Enabled: &yes},
			X509: inventory.KubeletX509Authentication{ClientCAFile: "/etc/kubernetes/pki/ca.crt"}},
		Authorization: inventory.KubeletAuthorization{Mode: "Webhook"},
		ReadOnlyPort:  10255, EventRecordQPS: &zero, SeccompDefault: &no, RotateCertificates: true,
	}
	r, l := kubeletAudit(t, true, inventory.Kubelet{Node: "n1", KubeletVersion: "v1.33.4", Config: weak})
	if !slices.Contains(l.asked, inventory.KubeletConfigs) {
		t.Fatalf("--kubelet did not ask for the kubelets: %v", l.asked)
	}
	if r.Metadata.Benchmark == nil || r.Metadata.Benchmark.ID != "cis-1.12" {
		t.Fatalf("benchmark %+v", r.Metadata.Benchmark)
	}
	want := map[string]string{
		"CIS-4.2.1": finding.ControlFail, "CIS-4.2.2": finding.ControlPass, "CIS-4.2.3": finding.ControlPass,
		"CIS-4.2.4": finding.ControlFail, "CIS-4.2.7": finding.ControlManual, "CIS-4.2.8": finding.ControlPass,
		"CIS-4.2.10": finding.ControlPass, "CIS-4.2.11": finding.ControlFail, "CIS-4.2.14": finding.ControlFail,
	}
	for id, st := range want {
		if c := controlStatus(r, id); c.Status != st {
			t.Errorf("%s: %s (%s), want %s", id, c.Status, c.Reason, st)
		}
	}
	if s, ok, err := finding.CoverageOf[*cluster.KubeletSummary](r); err != nil || !ok || len(s.Kubelets) != 1 {
		t.Errorf("no kubelet summary in the report's coverage: %+v", r.Coverage)
	}

	forbidden := `the API server forbids it (--kubelet needs get on nodes/proxy): nodes "n2" is forbidden`
	r, _ = kubeletAudit(t, true, inventory.Kubelet{Node: "n1", Config: weak}, inventory.Kubelet{Node: "n2", Unread: forbidden})
	for id, st := range want {
		c := controlStatus(r, id)
		switch st {
		case finding.ControlPass:
			if c.Status != finding.ControlUnknown || !strings.Contains(c.Reason, forbidden) {
				t.Errorf("%s with node n2 unread: %s %q, want unknown with the reason", id, c.Status, c.Reason)
			}
		default:
			if c.Status != st {
				t.Errorf("%s with node n2 unread: %s, want %s still", id, c.Status, st)
			}
		}
	}
}
