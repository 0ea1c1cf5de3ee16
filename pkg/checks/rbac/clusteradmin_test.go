package rbac

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func TestClusterAdminBinding(t *testing.T) {
	inv := load(t, "cluster-admin/bindings.yaml")
	fs := run(t, inv, "rbac/cluster-admin-binding", options{})

	want := []string{
		"Group ops is bound to cluster-admin by ClusterRoleBinding ops-admins",
		"ServiceAccount ci/deployer is bound to cluster-admin by ClusterRoleBinding deployer-admin",
		"ServiceAccount shop/app is bound to cluster-admin in namespace shop by RoleBinding shop/shop-admin",
		"ServiceAccount tools/runner is bound to cluster-admin by ClusterRoleBinding sa-by-username",
		"User alice is bound to cluster-admin by ClusterRoleBinding ops-admins",
	}
	if got := messages(fs); !slices.Equal(got, want) {
		t.Fatalf("messages:\n got %q\nwant %q", got, want)
	}

	tests := []struct {
		msg       string
		severity  finding.Severity
		subject   finding.Subject
		action    remedy.Action
		rv        string
		patchSubj []string // names left in the binding after the patch
	}{
		{
			msg:      "ServiceAccount ci/deployer is bound to cluster-admin by ClusterRoleBinding deployer-admin",
			severity: finding.Critical,
			subject:  finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
			action:   remedy.Delete, rv: "101",
		},
		{
			msg:      "User alice is bound to cluster-admin by ClusterRoleBinding ops-admins",
			severity: finding.Critical,
			subject:  finding.Subject{Kind: "User", Name: "alice"},
			action:   remedy.Patch, rv: "102", patchSubj: []string{"system:masters"},
		},
		{
			msg:      "ServiceAccount shop/app is bound to cluster-admin in namespace shop by RoleBinding shop/shop-admin",
			severity: finding.High,
			subject:  finding.Subject{Kind: "ServiceAccount", Namespace: "shop", Name: "app"},
			action:   remedy.Delete, rv: "103",
		},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			f := byMessage(t, fs, tt.msg)
			if f.Severity != tt.severity {
				t.Errorf("severity %v, want %v", f.Severity, tt.severity)
			}
			if f.Subject == nil || *f.Subject != tt.subject {
				t.Errorf("subject %+v, want %+v", f.Subject, tt.subject)
			}
			if f.Remediation == nil || len(f.Remediation.Changes) != 1 {
				t.Fatalf("remediation %+v", f.Remediation)
			}
			c := f.Remediation.Changes[0]
			if c.Action != tt.action || c.ResourceVersion != tt.rv || c.Target.Name != f.Resource.Name || c.Target.Kind != f.Resource.Kind {
				t.Errorf("change %+v, want %s at resourceVersion %s of %s", c, tt.action, tt.rv, f.Resource)
			}
			if tt.action == remedy.Patch {
				var p struct {
					Subjects []struct{ Name string } `json:"subjects"`
				}
				if err := json.Unmarshal(c.Patch, &p); err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, s := range p.Subjects {
					names = append(names, s.Name)
				}
				if !slices.Equal(names, tt.patchSubj) {
					t.Errorf("patch leaves %v, want %v", names, tt.patchSubj)
				}
			}
		})
	}
}

func TestClusterAdminBindingClean(t *testing.T) {
	if fs := run(t, load(t, "cluster-admin/clean.yaml"), "rbac/cluster-admin-binding", options{}); len(fs) != 0 {
		t.Fatalf("want no findings, got %q", messages(fs))
	}
}
