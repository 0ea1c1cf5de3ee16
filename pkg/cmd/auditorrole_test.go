package cmd

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// secretReaders returns the IDs of the registered checks of the domains
// (every domain when none) that read Secrets: those the default auditor role skips.
func secretReaders(t *testing.T, domains ...string) []string {
	t.Helper()
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range reg.All() {
		if slices.Contains(c.Needs, inventory.Secrets) && (len(domains) == 0 || slices.Contains(domains, c.Domain)) {
			out = append(out, c.ID)
		}
	}
	if len(out) == 0 && len(domains) == 0 {
		t.Fatal("no registered check reads Secrets: the test has nothing to look for")
	}
	return out
}

// grantsSecrets reports whether a role allows get or list on secrets.
func grantsSecrets(role *rbacv1.ClusterRole) bool {
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "secrets") || slices.Contains(r.Resources, "*") {
			return true
		}
	}
	return false
}

func TestAuditorRole(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantSecrets bool
		// skipped are the checks the note must name; none means no note at all.
		skipped []string
		// notSkipped are checks the note must not name.
		notSkipped []string
	}{
		{name: "every check leaves Secrets out", skipped: secretReaders(t)},
		{name: "one domain names only its own checks", args: []string{"rbac"}, skipped: secretReaders(t, "rbac"), notSkipped: secretReaders(t, "cluster")},
		{name: "with-secrets grants them and says nothing", args: []string{"--with-secrets"}, wantSecrets: true},
		{name: "no selected check reads Secrets", args: []string{"workload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"auditor-role"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var role rbacv1.ClusterRole
			if err := yaml.Unmarshal([]byte(out), &role); err != nil || role.Kind != "ClusterRole" {
				t.Fatalf("output is not one ClusterRole document (%v):\n%s", err, out)
			}
			if role.Labels[rbac.AuditorRoleLabel] != "true" {
				t.Errorf("role labels %v, want %s=true", role.Labels, rbac.AuditorRoleLabel)
			}
			if got := grantsSecrets(&role); got != tt.wantSecrets {
				t.Errorf("grants secrets %v, want %v:\n%s", got, tt.wantSecrets, out)
			}
			for _, r := range role.Rules {
				if !slices.Equal(r.Verbs, []string{"get", "list"}) {
					t.Errorf("rule %v grants more than get, list", r)
				}
			}
			comment := strings.HasPrefix(out, "# ")
			if len(tt.skipped) == 0 {
				if errOut != "" || comment {
					t.Errorf("want no note, got stderr %q, output:\n%s", errOut, out)
				}
				return
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "cannot list secrets: forbidden") || !strings.Contains(errOut, "--with-secrets") {
				t.Errorf("stderr is not one paragraph on the skipped checks and --with-secrets: %q", errOut)
			}
			if !comment {
				t.Errorf("output does not open with the note as a comment:\n%s", out)
			}
			for _, id := range tt.skipped {
				if !strings.Contains(errOut, id) || !strings.Contains(out, id) {
					t.Errorf("the note does not name %s: stderr %q, output:\n%s", id, errOut, out)
				}
			}
			for _, id := range tt.notSkipped {
				if strings.Contains(errOut, id) {
					t.Errorf("the note names %s, which is not selected: %q", id, errOut)
				}
			}
		})
	}
}

// auditorCluster binds the auditor role to a user, in a cluster with one
// object of each kind the rbac checks read (so that none is skipped), and a
// legacy token Secret of a cluster-admin ServiceAccount for a Secret reader to find.
const auditorCluster = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: auditors}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-harden-auditor}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: auditor}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, namespace: ci, name: deployer}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Secret
metadata:
  name: deployer-token
  namespace: ci
  annotations: {kubernetes.io/service-account.name: deployer}
type: kubernetes.io/service-account-token
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: config-reader, namespace: ci}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: config-reader, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-reader}
subjects:
- {kind: ServiceAccount, namespace: ci, name: deployer}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: ci}
spec:
  serviceAccountName: deployer
  containers: [{name: job, image: busybox:1.37}]
`

// TestAuditorRoleIsRecognised: the printed role, bound to a user, gives
// nothing above info and nothing to fix, even with --with-secrets.
func TestAuditorRoleIsRecognised(t *testing.T) {
	for _, args := range [][]string{nil, {"--with-secrets"}} {
		t.Run(strings.Join(append([]string{"auditor-role"}, args...), " "), func(t *testing.T) {
			code, role, errOut := run(t, "", append([]string{"auditor-role"}, args...)...)
			if code != 0 {
				t.Fatalf("auditor-role: exit %d: %s", code, errOut)
			}
			code, out, errOut := run(t, role+"---"+auditorCluster, "rbac", "-f", "-", "-o", "json")
			if code != 0 {
				t.Fatalf("rbac -f -: exit %d: %s", code, errOut)
			}
			var r finding.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Summary.Skipped) > 0 {
				t.Fatalf("checks skipped, the fixture lacks a kind: %+v", r.Summary.Skipped)
			}
			n := 0
			for _, f := range r.Items {
				if f.Resource.Name != "auditors" {
					continue
				}
				n++
				if f.Severity != finding.Info || (f.Remediation != nil && len(f.Remediation.Changes) > 0) {
					t.Errorf("%s %s: %s (changes %v)", f.Severity, f.Check, f.Message, f.Remediation)
				}
			}
			if want := len(args) > 0; (n > 0) != want {
				t.Errorf("%d findings on the binding; want some (at info) only with --with-secrets", n)
			}
		})
	}
}

// The role lists nodes, which the kubelet probe reads, but leaves out
// nodes/proxy: get on it reaches the whole kubelet API, so --kubelet needs it
// granted apart, as the help says.
func TestAuditorRoleLeavesNodesProxyOut(t *testing.T) {
	code, out, errOut := run(t, "", "auditor-role", "cluster")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(out), &role); err != nil {
		t.Fatal(err)
	}
	nodes := false
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "nodes/proxy") {
			t.Errorf("the role grants nodes/proxy: %v", r)
		}
		nodes = nodes || (slices.Equal(r.APIGroups, []string{""}) && slices.Contains(r.Resources, "nodes"))
	}
	if !nodes {
		t.Errorf("the role does not list nodes, which --kubelet reads:\n%s", out)
	}
	_, help, _ := run(t, "", "auditor-role", "--help")
	if !strings.Contains(help, "kubectl create clusterrole kubectl-harden-kubelet --verb=get --resource=nodes/proxy") {
		t.Errorf("the help does not say how to grant nodes/proxy for --kubelet:\n%s", help)
	}
}
