package rbac

import (
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

const (
	expectedAuditor = ": expected, ClusterRole kubectl-harden-auditor is the read-only kubectl-harden auditor role (label kubectl-harden.io/auditor-role=true)"
	writesIgnored   = `: ClusterRole fake-auditor-writes is labelled kubectl-harden.io/auditor-role but is not read-only: rules[1] is apiGroups: [""], resources: [pods], verbs: [get, list, create], so it is judged like any other role`
	wildcardIgnored = `: ClusterRole fake-auditor-wildcard is labelled kubectl-harden.io/auditor-role but has a wildcard or subresource: rules[0] is apiGroups: [""], resources: [*], verbs: [get, list], so it is judged like any other role`
	allVerbsIgnored = `: ClusterRole fake-auditor-all-verbs is labelled kubectl-harden.io/auditor-role but is not read-only: rules[0] is apiGroups: [""], resources: [secrets], verbs: [*], so it is judged like any other role`
	proxyIgnored    = `: ClusterRole fake-auditor-proxy is labelled kubectl-harden.io/auditor-role but has a wildcard or subresource: rules[0] is apiGroups: [""], resources: [nodes, nodes/proxy], verbs: [get, list], so it is judged like any other role`
)

// TestAuditorRole: what the labelled read-only auditor role (as printed with
// --with-secrets) gives its subjects is reported at info with nothing to fix;
// the label on a role that writes, has a wildcard or reads a subresource, or
// the role bound to a broad group, is judged as usual, and says why.
func TestAuditorRole(t *testing.T) {
	inv := load(t, "auditor/cluster.yaml")
	tests := []struct {
		check    string
		msg      string
		severity finding.Severity
		// changes says whether fix and -o patch get something to do.
		changes bool
	}{
		{"rbac/secrets-read", "User auditor can get, list secrets cluster-wide (ClusterRoleBinding auditor -> ClusterRole kubectl-harden-auditor)" + expectedAuditor,
			finding.Info, false},
		{"rbac/secrets-read", "ServiceAccount ci/harden can get, list secrets cluster-wide (ClusterRoleBinding auditor -> ClusterRole kubectl-harden-auditor)" + expectedAuditor,
			finding.Info, false},
		{"rbac/token-secret-read", "User auditor can get, list secrets cluster-wide, so it can read the legacy token Secrets of ServiceAccount ci/deployer (ClusterRoleBinding auditor -> ClusterRole kubectl-harden-auditor)" + expectedAuditor,
			finding.Info, false},
		{"rbac/escalation-path", "User auditor -> get, list secrets cluster-wide -> ServiceAccount ci/deployer -> cluster-admin" + expectedAuditor,
			finding.Info, false},
		// The auditor's own path is left to the one through another grant.
		{"rbac/secrets-read", "User auditor-dev can get, list secrets cluster-wide (ClusterRoleBinding auditor-dev -> ClusterRole kubectl-harden-auditor)" + expectedAuditor,
			finding.Info, false},
		{"rbac/escalation-path", "User auditor-dev -> create pods in namespace ci -> ServiceAccount ci/deployer -> cluster-admin",
			finding.Critical, true},
		// Bound to every authenticated user, the same role is no auditor's.
		{"rbac/secrets-read", "Group system:authenticated can get, list secrets cluster-wide (ClusterRoleBinding everyone-audits -> ClusterRole kubectl-harden-auditor)",
			finding.High, true},
		{"rbac/broad-group-grant", "Group system:authenticated (every authenticated user and service account) is granted ClusterRole kubectl-harden-auditor cluster-wide by ClusterRoleBinding everyone-audits",
			finding.High, true},
		{"rbac/escalation-path", "Group system:authenticated -> get, list secrets cluster-wide -> ServiceAccount ci/deployer -> cluster-admin",
			finding.Critical, true},
		// The label on a role that can create pods.
		{"rbac/pod-create", "User writer can create pods cluster-wide (ClusterRoleBinding fake-auditor-writes -> ClusterRole fake-auditor-writes)" + writesIgnored,
			finding.High, true},
		{"rbac/secrets-read", "User writer can get, list secrets cluster-wide (ClusterRoleBinding fake-auditor-writes -> ClusterRole fake-auditor-writes)" + writesIgnored,
			finding.High, true},
		{"rbac/escalation-path", "User writer -> create pods cluster-wide -> ServiceAccount ci/deployer -> cluster-admin" + writesIgnored,
			finding.Critical, true},
		// The label on a role with * in resources, or in verbs.
		{"rbac/wildcard-rule", "ClusterRole fake-auditor-wildcard has 1 wildcard rule(s), bound by 1 binding(s): it will also grant resources and verbs added later" + wildcardIgnored,
			finding.Medium, false},
		{"rbac/secrets-read", "User wildcard can get, list secrets cluster-wide (ClusterRoleBinding fake-auditor-wildcard -> ClusterRole fake-auditor-wildcard)" + wildcardIgnored,
			finding.High, true},
		{"rbac/wildcard-rule", "ClusterRole fake-auditor-all-verbs has 1 wildcard rule(s), bound by 1 binding(s): it will also grant resources and verbs added later" + allVerbsIgnored,
			finding.Medium, false},
		{"rbac/secrets-write", "User all-verbs can create, update, patch secrets cluster-wide (ClusterRoleBinding fake-auditor-all-verbs -> ClusterRole fake-auditor-all-verbs)" + allVerbsIgnored,
			finding.Medium, true},
		// The label on a role whose verbs read but whose subresource reaches the kubelet.
		{"rbac/nodes-proxy", "User proxy can get nodes/proxy cluster-wide (ClusterRoleBinding fake-auditor-proxy -> ClusterRole fake-auditor-proxy)" + proxyIgnored,
			finding.High, true},
	}
	for _, tt := range tests {
		t.Run(tt.check+": "+tt.msg, func(t *testing.T) {
			f := byMessage(t, run(t, inv, tt.check, options{}), tt.msg)
			if f.Severity != tt.severity {
				t.Errorf("severity %v, want %v", f.Severity, tt.severity)
			}
			if f.Remediation == nil || f.Remediation.Summary == "" {
				t.Fatalf("no remediation summary: %+v", f.Remediation)
			}
			if got := len(f.Remediation.Changes) > 0; got != tt.changes {
				t.Errorf("has changes %v, want %v: %+v", got, tt.changes, f.Remediation.Changes)
			}
		})
	}
}

// TestAuditorRoleBindingIsQuiet: across every check, the binding of the
// recognised auditor role gives nothing above info and nothing to fix.
func TestAuditorRoleBindingIsQuiet(t *testing.T) {
	res := checks.Run(load(t, "auditor/cluster.yaml"), Checks())
	n := 0
	for _, f := range res.Findings {
		if f.Resource.Kind != "ClusterRoleBinding" || f.Resource.Name != "auditor" {
			continue
		}
		n++
		if f.Severity != finding.Info || f.Remediation == nil || len(f.Remediation.Changes) > 0 {
			t.Errorf("%s %s: %s, changes %+v", f.Severity, f.Check, f.Message, f.Remediation)
		}
	}
	if n == 0 {
		t.Error("the auditor role's Secret reads are not reported at all: the report must still say what it allows")
	}
}
