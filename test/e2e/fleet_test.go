package e2e

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/test/cluster"
)

// fleetList is the -o json output of a fleet audit: a kubectl List of Reports.
type fleetList struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Items      []finding.Report `json:"items"`
}

// fleetKubeconfig writes one kubeconfig holding the current context of each
// admin kubeconfig, renamed to the given name, as a user with several
// clusters has; servers adds contexts whose cluster is only a server address.
func fleetKubeconfig(t *testing.T, contexts map[string]string, servers map[string]string) string {
	t.Helper()
	merged := clientcmdapi.NewConfig()
	for name, path := range contexts {
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ctx := cfg.Contexts[cfg.CurrentContext]
		if ctx == nil {
			t.Fatalf("%s has no current context", path)
		}
		merged.Clusters[name] = cfg.Clusters[ctx.Cluster]
		merged.AuthInfos[name] = cfg.AuthInfos[ctx.AuthInfo]
		merged.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		merged.CurrentContext = name
	}
	for name, server := range servers {
		merged.Clusters[name] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
		merged.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "not-a-real-token"}
		merged.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	path := filepath.Join(t.TempDir(), "fleet.kubeconfig")
	if err := clientcmd.WriteToFile(*merged, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func decodeFleet(t *testing.T, res cluster.Result) map[string]finding.Report {
	t.Helper()
	var l fleetList
	if err := json.Unmarshal([]byte(res.Stdout), &l); err != nil {
		t.Fatalf("output is not a List: %v\n%s\nstderr: %s", err, res.Stdout, res.Stderr)
	}
	if l.APIVersion != "v1" || l.Kind != "List" {
		t.Errorf("apiVersion %q kind %q, want a v1 List", l.APIVersion, l.Kind)
	}
	out := map[string]finding.Report{}
	for _, r := range l.Items {
		out[r.Metadata.Context] = r
	}
	return out
}

// TestFleetAuditsEveryContext audits two real clusters from one kubeconfig
// through the real kubectl: one report each, with its own context, server and
// findings; then a third context that cannot be reached fails alone.
func TestFleetAuditsEveryContext(t *testing.T) {
	second, err := cluster.Start(env.BinDir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	if err := second.Apply(testdata("fleet")); err != nil {
		t.Fatal(err)
	}
	admins := map[string]string{"fleet-first": env.Kubeconfig, "fleet-second": second.Kubeconfig}
	hosts := map[string]string{"fleet-first": env.Config.Host, "fleet-second": second.Config.Host}
	kubeconfig := fleetKubeconfig(t, admins, nil)

	res := hardenAs(t, kubeconfig, nil, "--all-contexts", "-o", "json")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	reports := decodeFleet(t, res)
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2: %v", len(reports), fleetContextNames(reports))
	}
	seeded := func(r finding.Report) bool {
		for _, f := range r.Items {
			if f.Check == "rbac/cluster-admin-binding" && f.Resource.Name == "fleet-deployer-admin" {
				return true
			}
		}
		return false
	}
	for name, host := range hosts {
		r, ok := reports[name]
		if !ok {
			t.Fatalf("no report for context %s: %v", name, fleetContextNames(reports))
		}
		if r.Metadata.Server == nil || strings.TrimSuffix(r.Metadata.Server.Host, "/") != strings.TrimSuffix(host, "/") || r.Metadata.Server.Version == "" {
			t.Errorf("%s: server %+v, want host %s", name, r.Metadata.Server, host)
		}
		if got, want := seeded(r), name == "fleet-second"; got != want {
			t.Errorf("%s: reports the second cluster's fleet-deployer-admin binding: %v, want %v", name, got, want)
		}
	}
	if reports["fleet-first"].Summary.Critical == 0 {
		t.Error("the first cluster holds the sample's critical findings, but its report has none")
	}

	// Tables come one per cluster under a header, in the order --contexts gives.
	res = hardenAs(t, kubeconfig, nil, "--contexts", "fleet-second,fleet-first", "--check", "rbac/cluster-admin-binding", "--fail-on", "critical")
	secondAt, firstAt := strings.Index(res.Stdout, "==> context fleet-second <=="), strings.Index(res.Stdout, "==> context fleet-first <==")
	if res.Code != 2 || secondAt != 0 || firstAt < 0 {
		t.Errorf("--fail-on critical over two tables: exit %d, headers at %d and %d\n%s\nstderr: %s", res.Code, secondAt, firstAt, res.Stdout, res.Stderr)
	}

	// A context whose server refuses connections: the others still report.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broken := "https://" + l.Addr().String()
	l.Close()
	kubeconfig = fleetKubeconfig(t, admins, map[string]string{"fleet-broken": broken})
	res = hardenAs(t, kubeconfig, nil, "--all-contexts", "-o", "json")
	if res.Code != 1 {
		t.Errorf("exit %d with an unreachable context, want 1", res.Code)
	}
	reports = decodeFleet(t, res)
	if _, ok := reports["fleet-first"]; !ok || len(reports) != 2 {
		t.Errorf("reports %v, want fleet-first and fleet-second", fleetContextNames(reports))
	}
	if _, ok := reports["fleet-second"]; !ok {
		t.Errorf("reports %v, want fleet-first and fleet-second", fleetContextNames(reports))
	}
	if !strings.Contains(res.Stderr, "error: context fleet-broken: ") || strings.Count(res.Stderr, "error:") != 1 {
		t.Errorf("stderr does not name the broken context once:\n%s", res.Stderr)
	}
}

func fleetContextNames(m map[string]finding.Report) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
