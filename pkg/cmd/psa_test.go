package cmd

import (
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

const psaFixture = "../../test/testdata/psa/workloads"

func TestPSAAudit(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  []string // in stdout
		err  string   // in stderr
	}{
		{
			name: "table with the per-namespace summary",
			args: []string{"psa", "-f", psaFixture, "--server-version", "v1.37.2"},
			out: []string{"Pod Security per namespace", "STRICTEST", "psa-deploy", "baseline:v1.37", "2 for baseline",
				"psa/rollout-rejected", "deployment/psa-deploy/log-shipper", "warn,audit=restricted enforce=baseline @v1.37"},
		},
		{
			name: "labels and patches for kubectl apply",
			args: []string{"psa", "-f", psaFixture, "--server-version", "v1.37", "-o", "patch"},
			out:  []string{"kind: Namespace", "pod-security.kubernetes.io/warn: restricted", "pod-security.kubernetes.io/warn-version: v1.37", "# LEFT OUT: risky"},
		},
		{
			name: "a server newer than the policy library is said",
			args: []string{"psa", "-f", psaFixture, "--server-version", "v1.99.0", "-o", "name"},
			out:  []string{"psa/rollout-rejected:deployment/psa-deploy/log-shipper"},
			err:  "newer than the plugin's Pod Security policy",
		},
		{
			name: "fail-on",
			args: []string{"psa", "-f", psaFixture, "--fail-on", "high", "-o", "name"},
			code: 2,
		},
		{
			name: "bad server version",
			args: []string{"psa", "-f", psaFixture, "--server-version", "1.x"},
			code: 1, err: "--server-version",
		},
		{
			name: "server dry-run needs a server",
			args: []string{"psa", "-f", psaFixture, "--server-dry-run"},
			code: 1, err: "--server-dry-run asks the API server",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(errOut, tc.err) {
				t.Errorf("stderr %q lacks %q", errOut, tc.err)
			}
		})
	}
}

func TestPSAJSONCoverage(t *testing.T) {
	code, out, errOut := run(t, "", "psa", "-f", psaFixture, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := report(t, out)
	cov, ok, err := finding.CoverageOf[*psa.Coverage](&r)
	if err != nil || !ok || len(r.Coverage) != 1 || len(cov.Namespaces) != 1 {
		t.Fatalf("coverage %+v: %v", r.Coverage, err)
	}
	n := cov.Namespaces[0]
	if n.Name != "psa-deploy" || n.Strictest != "privileged" || n.Counts.Workloads != 4 || n.Proposal == nil || n.Proposal.Version != "v1.37" {
		t.Errorf("psa-deploy summary %+v", n)
	}
}
