package rbac

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// TestSystemMasters: one note that system:masters bypasses RBAC and its
// members cannot be seen, and a low finding for each binding naming the group.
func TestSystemMasters(t *testing.T) {
	const note = "Group system:masters bypasses RBAC: the API server allows its members every request without asking RBAC, and membership comes from credentials (a client certificate with O=system:masters), not from any object, so this audit cannot list the members and does not guess them"
	redundant := func(b, role string) string {
		return b + " binds Group system:masters to " + role + ": redundant, since system:masters bypasses RBAC, and misleading, since deleting it takes nothing away from the group's members"
	}
	tests := []struct {
		name    string
		fixture string
		live    bool
		opts    options
		want    []string
	}{
		{
			name: "bindings naming the group", fixture: "masters/cluster.yaml",
			want: []string{redundant("ClusterRoleBinding break-glass", "ClusterRole cluster-admin"), note, redundant("RoleBinding shop/masters-edit", "ClusterRole edit")},
		},
		{
			name: "the built-in binding with IncludeSystem", fixture: "masters/cluster.yaml", opts: options{IncludeSystem: true},
			want: []string{redundant("ClusterRoleBinding break-glass", "ClusterRole cluster-admin"), redundant("ClusterRoleBinding cluster-admin", "ClusterRole cluster-admin"),
				note, redundant("RoleBinding shop/masters-edit", "ClusterRole edit")},
		},
		{name: "a live cluster always has the group", fixture: "checks/clean.yaml", live: true, want: []string{note}},
		{name: "files that do not name the group", fixture: "checks/clean.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := load(t, tt.fixture)
			inv.Offline = !tt.live
			fs := run(t, inv, "rbac/system-masters", tt.opts)
			if got := messages(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings:\n got %q\nwant %q", got, tt.want)
			}
			for _, f := range fs {
				want := finding.Low
				if f.Message == note {
					want = finding.Info
				}
				if f.Severity != want {
					t.Errorf("%s: severity %v, want %v", f.Message, f.Severity, want)
				}
			}
		})
	}

	fs := run(t, load(t, "masters/cluster.yaml"), "rbac/system-masters", options{})
	n := byMessage(t, fs, note)
	if got := n.Evidence["bindings"]; !slices.Equal(got.([]string), []string{"ClusterRoleBinding cluster-admin", "ClusterRoleBinding break-glass", "RoleBinding shop/masters-edit"}) {
		t.Errorf("note names bindings %v", got)
	}
	// The group is taken out and alice kept; a binding of the group alone is deleted.
	c := byMessage(t, fs, redundant("ClusterRoleBinding break-glass", "ClusterRole cluster-admin")).Remediation.Changes[0]
	var p struct{ Subjects []struct{ Kind, Name string } }
	if err := json.Unmarshal(c.Patch, &p); err != nil || c.Action != remedy.Patch || c.ResourceVersion != "21" ||
		len(p.Subjects) != 1 || p.Subjects[0].Name != "alice" {
		t.Errorf("break-glass change %+v (%s)", c, c.Patch)
	}
	c = byMessage(t, fs, redundant("RoleBinding shop/masters-edit", "ClusterRole edit")).Remediation.Changes[0]
	if c.Action != remedy.Delete || c.Target.Name != "masters-edit" || c.ResourceVersion != "22" {
		t.Errorf("masters-edit change %+v", c)
	}

	// Grants to system:masters are not reported as capabilities, nor as paths.
	for _, id := range []string{"rbac/cluster-admin-binding", "rbac/pod-create", "rbac/secrets-read", "rbac/escalation-path"} {
		for _, f := range run(t, load(t, "masters/cluster.yaml"), id, options{}) {
			if f.Subject != nil && *f.Subject == mastersSubject() {
				t.Errorf("%s reports system:masters: %s", id, f.Message)
			}
		}
	}
}
