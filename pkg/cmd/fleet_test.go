package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// fleetReports audits the demo manifests once per context name, so the
// printers get real reports that differ only in their context.
func fleetReports(t *testing.T, contexts ...string) []*finding.Report {
	t.Helper()
	var out []*finding.Report
	for _, c := range contexts {
		streams, _, _, _ := genericiooptions.NewTestIOStreams()
		o := NewAuditOptions(streams)
		o.Filenames = []string{demo}
		o.Checks = []string{"workload/"}
		o.Severity = "info"
		r, _, err := o.Audit(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Metadata.Files = nil
		r.Metadata.Context = c
		r.Metadata.Server = &finding.ServerInfo{Host: "https://" + c + ".example:6443", Version: "v1.37.2"}
		out = append(out, r)
	}
	return out
}

// list decodes a json or yaml List of reports.
type list struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Items      []finding.Report `json:"items"`
}

func TestFleetPrinters(t *testing.T) {
	reports := fleetReports(t, "prod", "staging")
	if len(reports[0].Items) == 0 {
		t.Fatal("the demo has no workload findings to print")
	}
	namePrinter, err := output.New("name", output.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var single bytes.Buffer
	if err := namePrinter.Print(reports[0], &single); err != nil {
		t.Fatal(err)
	}
	names := strings.Split(strings.TrimSuffix(single.String(), "\n"), "\n")

	decodeList := func(t *testing.T, out string, unmarshal func([]byte, any) error) {
		t.Helper()
		var l list
		if err := unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("decode %q: %v", out, err)
		}
		if l.APIVersion != "v1" || l.Kind != "List" || len(l.Items) != 2 {
			t.Fatalf("not a List of two reports: %s %s, %d items", l.APIVersion, l.Kind, len(l.Items))
		}
		for i, want := range []string{"prod", "staging"} {
			r := l.Items[i]
			if r.Kind != "Report" || r.Metadata.Context != want || r.Metadata.Server.Host != "https://"+want+".example:6443" || len(r.Items) != len(reports[i].Items) {
				t.Errorf("item %d: kind %s context %q server %+v, %d findings", i, r.Kind, r.Metadata.Context, r.Metadata.Server, len(r.Items))
			}
		}
	}
	tests := []struct {
		output string
		check  func(t *testing.T, out string)
	}{
		{"json", func(t *testing.T, out string) { decodeList(t, out, json.Unmarshal) }},
		{"yaml", func(t *testing.T, out string) {
			decodeList(t, out, func(b []byte, v any) error { return yaml.Unmarshal(b, v) })
		}},
		{"table", func(t *testing.T, out string) {
			prod, staging := strings.Index(out, "==> context prod <==\nTARGET  prod"), strings.Index(out, "\n\n==> context staging <==\nTARGET  staging")
			if prod != 0 || staging < 0 || strings.Count(out, "==> context") != 2 {
				t.Errorf("headers at %d and %d:\n%s", prod, staging, out)
			}
		}},
		{"wide", func(t *testing.T, out string) {
			if strings.Count(out, "==> context") != 2 || !strings.Contains(out, "==> context staging <==") {
				t.Errorf("wide without a header per context:\n%s", out)
			}
		}},
		{"name", func(t *testing.T, out string) {
			var want []string
			for _, c := range []string{"prod", "staging"} {
				for _, n := range names {
					want = append(want, c+"\t"+n)
				}
			}
			if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("names:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
			}
		}},
		{"jsonpath={.items[*].metadata.context}", func(t *testing.T, out string) {
			if out != "prod staging" {
				t.Errorf("jsonpath over the List: %q", out)
			}
		}},
		{`go-template={{range .items}}{{.metadata.context}}={{.summary.checks}} {{end}}`, func(t *testing.T, out string) {
			want := "prod=" + strconv.Itoa(reports[0].Summary.Checks) + " staging=" + strconv.Itoa(reports[1].Summary.Checks) + " "
			if out != want {
				t.Errorf("go-template over the List: %q, want %q", out, want)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.output, func(t *testing.T) {
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := NewAuditOptions(streams)
			o.Output = tc.output
			printReports, err := o.fleetPrinter(nil, len(reports))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := printReports(reports, &out); err != nil {
				t.Fatal(err)
			}
			tc.check(t, out.String())
		})
	}
}

// -o html is one page for the fleet, a section per cluster.
func TestFleetHTML(t *testing.T) {
	reports := fleetReports(t, "prod", "staging")
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := NewAuditOptions(streams)
	o.Output = "html"
	printReports, err := o.fleetPrinter(nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printReports(reports, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `<section class="cluster"`); n != 2 || strings.Count(out.String(), "<html") != 1 {
		t.Errorf("%d sections in the page, want 2 in one page", n)
	}
}

// An empty fleet (every context failed) is still a List, with items [] for scripts.
func TestFleetEmptyList(t *testing.T) {
	var out bytes.Buffer
	if err := printListJSON(nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"items": []`) {
		t.Errorf("empty list: %s", out.String())
	}
}

// SARIF and patch streams cannot say which cluster a result is from: more
// than one context is an error, one context prints as usual.
func TestFleetSingleClusterFormats(t *testing.T) {
	reports := fleetReports(t, "prod")
	for _, format := range []string{"sarif", "patch", "policyreport"} {
		streams, _, _, _ := genericiooptions.NewTestIOStreams()
		o := NewAuditOptions(streams)
		o.Output = format
		if _, err := o.fleetPrinter(nil, 2); err == nil || !strings.Contains(err.Error(), "-o "+format) {
			t.Errorf("-o %s with two contexts: %v", format, err)
		}
		printReports, err := o.fleetPrinter(nil, 1)
		if err != nil {
			t.Fatalf("-o %s with one context: %v", format, err)
		}
		var got, want bytes.Buffer
		if err := printReports(reports, &got); err != nil {
			t.Fatal(err)
		}
		p, _ := o.Printer(nil)
		if err := p.Print(reports[0], &want); err != nil {
			t.Fatal(err)
		}
		if got.Len() == 0 || got.String() != want.String() {
			t.Errorf("-o %s with one context differs from the single-cluster output", format)
		}
	}
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := NewAuditOptions(streams)
	o.Output = "csv"
	if _, err := o.fleetPrinter(nil, 2); err == nil || !strings.Contains(err.Error(), "unknown output format") {
		t.Errorf("-o csv: %v", err)
	}
}

// closedPort returns an address nothing listens on, so a context pointing
// there fails at once with connection refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// unreachableKubeconfig writes a kubeconfig whose contexts point at servers that refuse connections.
func unreachableKubeconfig(t *testing.T, contexts ...string) string {
	t.Helper()
	var clusters, ctxs strings.Builder
	for _, c := range contexts {
		clusters.WriteString("- name: " + c + "\n  cluster: {server: \"https://" + closedPort(t) + "\"}\n")
		ctxs.WriteString("- name: " + c + "\n  context: {cluster: " + c + ", user: auditor, namespace: shop}\n")
	}
	kc := "apiVersion: v1\nkind: Config\nclusters:\n" + clusters.String() + "contexts:\n" + ctxs.String() +
		"users:\n- name: auditor\n  user: {token: not-a-real-token}\ncurrent-context: " + contexts[0] + "\n"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFleetFailingContexts(t *testing.T) {
	kc := unreachableKubeconfig(t, "east", "west")
	code, out, errOut := run(t, "", "--kubeconfig", kc, "--all-contexts", "-o", "json")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var l list
	if err := json.Unmarshal([]byte(out), &l); err != nil || l.Kind != "List" || len(l.Items) != 0 {
		t.Errorf("stdout is not an empty List: %v %q", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "error: context east: contact API server") || !strings.HasPrefix(lines[1], "error: context west: contact API server") {
		t.Errorf("stderr, want one line per context in order:\n%s", errOut)
	}
	code, _, errOut = run(t, "", "--kubeconfig", kc, "--contexts", "west", "-o", "name")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "error: context west:") {
		t.Errorf("--contexts west: exit %d stderr %q", code, errOut)
	}
}

func TestFleetFlagErrors(t *testing.T) {
	kc := unreachableKubeconfig(t, "east", "west")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"both flags", []string{"--contexts", "east", "--all-contexts"}, "cannot be combined"},
		{"with -f", []string{"--all-contexts", "-f", demo}, "-f audits manifests"},
		{"with --context", []string{"--contexts", "east", "--context", "west"}, "--context names one cluster"},
		{"with --server", []string{"--all-contexts", "--server", "https://127.0.0.1:6443"}, "--server names one cluster"},
		{"unknown context", []string{"--contexts", "east,north"}, `no context "north" in the kubeconfig (it has: east, west)`},
		{"sarif", []string{"--all-contexts", "-o", "sarif"}, "-o sarif prints the results of one cluster"},
		{"patch in a domain", []string{"rbac", "--contexts", "east,west", "-o", "patch"}, "-o patch prints the results of one cluster"},
		{"psa dry-run", []string{"psa", "--all-contexts", "--server-dry-run"}, "--server-dry-run asks one API server"},
		{"fix", []string{"fix", "--all-contexts"}, "'kubectl harden fix' does not audit several clusters"},
		{"undo", []string{"undo", "--contexts", "east"}, "'kubectl harden undo' does not audit several clusters"},
		{"who-can", []string{"rbac", "who-can", "get", "pods", "--contexts", "east"}, "'kubectl harden rbac who-can' does not audit several clusters"},
		{"can-reach", []string{"netpol", "can-reach", "a/b", "a/c", "--all-contexts"}, "'kubectl harden netpol can-reach' does not audit several clusters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"--kubeconfig", kc}, tc.args...)...)
			if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: ") || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d out %q stderr %q, want one error line containing %q", code, out, errOut, tc.want)
			}
		})
	}
}

// Each context gets ConfigFlags of its own: the shared flag values, its
// context name, and the server of that context.
func TestContextConfigFlags(t *testing.T) {
	kc := unreachableKubeconfig(t, "east", "west")
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := NewAuditOptions(streams)
	*o.ConfigFlags.KubeConfig = kc
	*o.ConfigFlags.Namespace = "shop"
	hosts := map[string]string{}
	for _, name := range []string{"east", "west"} {
		f := contextConfigFlags(o.ConfigFlags, name)
		if f == o.ConfigFlags || *f.Context != name || f.KubeConfig != o.ConfigFlags.KubeConfig || f.Namespace != o.ConfigFlags.Namespace {
			t.Fatalf("%s: flags not shared or context not set", name)
		}
		cfg, err := f.ToRESTConfig()
		if err != nil {
			t.Fatal(err)
		}
		hosts[name] = cfg.Host
	}
	if *o.ConfigFlags.Context != "" {
		t.Errorf("the shared --context changed to %q", *o.ConfigFlags.Context)
	}
	if hosts["east"] == hosts["west"] || hosts["east"] == "" {
		t.Errorf("contexts reach the same server: %v", hosts)
	}
}
