package netpol

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// TestCanReachWorkloads asks about workloads of manifests that hold only
// controllers: each is judged by its pod template.
func TestCanReachWorkloads(t *testing.T) {
	inv := load(t, "reach/deployments.yaml")
	tests := []struct {
		src, dst, port string
		allowed        bool
		// wantPort is the port answered, or the ports allowed when none was asked.
		wantPort        string
		egress, ingress string // a word each side's reason must contain
	}{
		// The api template is selected by label; grpc resolves on it to 9000.
		{"front/deployment/web", "back/deploy/api", "grpc", true, "9000/TCP", "front/web-egress egress[0]", "back/api-from-web ingress[0]"},
		{"front/deployment/web", "back/deploy/api", "metrics", false, "9100/TCP", "front/web-egress", "no rule admits front/deployment/web on 9100/TCP"},
		{"front/deployment/web", "back/deploy/api", "", true, "TCP 9000", "front/web-egress egress[0]", "back/api-from-web ingress[0]"},
		{"back/deploy/api", "back/sts/db", "pg", true, "5432/TCP", "back/api-from-web egress[0]", "back/db-from-api ingress[0]"},
		// The CronJob's template is isolated by back/default-deny only.
		{"back/cronjob/report", "back/statefulset/db", "5432", false, "5432/TCP", "isolated for egress by back/default-deny", "back/db-from-api"},
		// An outside address against a workload.
		{"203.0.113.7", "back/deployment/api", "grpc", false, "9000/TCP", "outside the cluster", "back/api-from-web, back/default-deny"},
		{"front/deploy/web", "203.0.113.7", "443", false, "443/TCP", "front/web-egress", "outside the cluster"},
	}
	for _, tc := range tests {
		r := reachOne(t, inv, tc.src, tc.dst, tc.port)
		port := r.Port
		if tc.port == "" {
			port = strings.Join(r.AllowedPorts, ",")
		}
		if r.Allowed != tc.allowed || port != tc.wantPort || !strings.Contains(r.Egress.Reason, tc.egress) || !strings.Contains(r.Ingress.Reason, tc.ingress) {
			t.Errorf("%s -> %s %s: allowed %v on %q\negress: %s\ningress: %s\nwant %v on %q, %q / %q",
				tc.src, tc.dst, tc.port, r.Allowed, port, r.Egress.Reason, r.Ingress.Reason, tc.allowed, tc.wantPort, tc.egress, tc.ingress)
		}
	}

	// The answer names the workload.
	r := reachOne(t, inv, "front/deployment/web", "back/deploy/api", "grpc")
	if r.Source != "front/deployment/web" || r.Destination != "back/deployment/api" {
		t.Errorf("answer names %s -> %s", r.Source, r.Destination)
	}
	// hostNetwork and finished templates say what limits the answer.
	notes := map[string]string{"front/ds/agent": "uses hostNetwork", "back/job/migrate": "has finished: it starts no more pods"}
	for src, want := range notes {
		r := reachOne(t, inv, src, "back/deploy/api", "grpc")
		if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("%s: notes %v lack %q", src, r.Notes, want)
		}
	}
	// Unknown workloads and missing named ports are errors; a namespace of
	// manifests has templates but no pods to expand.
	for _, bad := range []struct{ src, dst, port, err string }{
		{"back/deploy/nope", "back/deploy/api", "", "deployment back/nope not found"},
		{"back/deploy/api", "back/sts/api", "", "statefulset back/api not found"},
		{"back/deploy/api", "back/sts/db", "http", "destination back/statefulset/db has no container port named http/TCP"},
		{"back/*", "back/deploy/api", "", "namespace back has no Running or Pending pods"},
	} {
		s, _ := ParseEndpoint(bad.src, "")
		d, _ := ParseEndpoint(bad.dst, "")
		var q *PortQuery
		if bad.port != "" {
			pq, _ := ParsePortQuery(bad.port)
			q = &pq
		}
		if _, err := CanReach(inv, s, d, q); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("can-reach %s %s %s: error %v, want %q", bad.src, bad.dst, bad.port, err, bad.err)
		}
	}
}

// TestCanReachWorkloadAsItsPods checks that a workload is judged exactly as
// a pod with its template's labels and ports: the same verdicts, policies,
// rules and ports, only the names differ.
func TestCanReachWorkloadAsItsPods(t *testing.T) {
	inv := load(t, "reach/deployments.yaml", "reach/pods.yaml")
	pairs := []struct{ workload, pod string }{
		{"front/deploy/web", "front/web-1"},
		{"back/deploy/api", "back/api-1"},
		{"back/sts/db", "back/db-0"},
		{"back/cj/report", "back/report-1"},
	}
	for _, port := range []string{"", "grpc", "pg", "9100", "8080"} {
		for _, s := range pairs {
			for _, d := range pairs {
				if s == d {
					continue
				}
				wantErr := canReachErr(t, inv, s.pod, d.pod, port)
				if gotErr := canReachErr(t, inv, s.workload, d.workload, port); (gotErr == nil) != (wantErr == nil) {
					t.Errorf("%s -> %s %s: error %v, pods give %v", s.workload, d.workload, port, gotErr, wantErr)
				}
				if wantErr != nil {
					continue
				}
				w := reachOne(t, inv, s.workload, d.workload, port)
				p := reachOne(t, inv, s.pod, d.pod, port)
				if w.Allowed != p.Allowed || w.Port != p.Port || !slices.Equal(w.AllowedPorts, p.AllowedPorts) ||
					!sameSide(w.Egress, p.Egress) || !sameSide(w.Ingress, p.Ingress) {
					t.Errorf("%s -> %s %s: %+v\npods %s -> %s: %+v", s.workload, d.workload, port, w, s.pod, d.pod, p)
				}
			}
		}
	}
}

func sameSide(a, b Side) bool {
	return a.Isolated == b.Isolated && a.Allowed == b.Allowed && slices.Equal(a.Policies, b.Policies) && slices.Equal(a.Allowing, b.Allowing)
}

// canReachErr asks a question and returns only its error.
func canReachErr(t *testing.T, inv *inventory.Inventory, src, dst, port string) error {
	t.Helper()
	_, err := ask(t, inv, "", src, dst, port)
	return err
}
