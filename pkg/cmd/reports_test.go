package cmd

import (
	"strings"
	"testing"
)

// The formats for people and for other tools, offline on the sample cluster's manifests.
func TestReportFormatsOffline(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		want     []string
		wantErr  string
		notWants []string
	}{
		{args: []string{"-o", "html"}, want: []string{"<!DOCTYPE html>", `data-label="ServiceAccount ci/deployer"`, "Pod Security per namespace", `<table class="matrix">`}},
		{args: []string{"rbac", "-o", "dot"}, want: []string{"digraph escalation {", `label="User dev@example.com"`}, notWants: []string{"digraph reachability"}},
		{args: []string{"netpol", "-o", "dot"}, want: []string{"digraph reachability {", `label="legacy"`}, notWants: []string{"digraph escalation"}},
		{args: []string{"psa", "-o", "dot"}, code: 1, wantErr: "kubectl harden rbac -o dot"},
		{args: []string{"rbac", "-o", "policyreport"}, want: []string{"kind: ClusterPolicyReport", "name: kubectl-harden-rbac", "policy: rbac/escalation-path", "kind: PolicyReport\n"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, "", append(tc.args, "-f", demo)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in the output", w)
				}
			}
			for _, w := range tc.notWants {
				if strings.Contains(out, w) {
					t.Errorf("%q in the output", w)
				}
			}
			if tc.wantErr != "" && !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr %q, want %q", errOut, tc.wantErr)
			}
		})
	}
}
