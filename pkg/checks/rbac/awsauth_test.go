package rbac

import (
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestAWSAuthWrite: update or patch of configmaps in kube-system, for any
// name or for aws-auth, is reported with a request a SubjectAccessReview can
// confirm; other ConfigMaps and other namespaces are not. The severity is
// high unless the server is known not to be EKS.
func TestAWSAuthWrite(t *testing.T) {
	want := []string{
		"User aws-auth-cluster can patch configmaps [kube-system/aws-auth] cluster-wide (ClusterRoleBinding aws-auth-cluster -> ClusterRole configmap-patcher)",
		"User aws-auth-edit can update, patch configmaps [kube-system/aws-auth] in namespace kube-system (RoleBinding kube-system/aws-auth-edit -> ClusterRole edit)",
		"User aws-auth-listed can update, patch configmaps [kube-system/aws-auth] in namespace kube-system (RoleBinding kube-system/aws-auth-listed -> ClusterRole system-configmaps)",
		"User aws-auth-mixed can patch configmaps [kube-system/aws-auth] in namespace kube-system (RoleBinding kube-system/aws-auth-mixed -> Role kube-system/mixed)",
		"User aws-auth-named can update configmaps [kube-system/aws-auth] in namespace kube-system (RoleBinding kube-system/aws-auth-named -> Role kube-system/aws-auth-editor)",
	}
	tests := []struct {
		name, version string
		severity      finding.Severity
	}{
		{"files without a server version may be EKS", "", finding.High},
		{"EKS", "v1.31.4-eks-2d5f260", finding.High},
		{"not EKS", "v1.37.2", finding.Low},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := load(t, "aws-auth/cluster.yaml")
			inv.ServerVersion = tt.version
			fs := run(t, inv, "rbac/aws-auth-write", options{})
			if got := messages(fs); !slices.Equal(got, want) {
				t.Fatalf("findings:\n got %q\nwant %q", got, want)
			}
			for _, f := range fs {
				if f.Severity != tt.severity {
					t.Errorf("%s: severity %v, want %v", f.Message, f.Severity, tt.severity)
				}
				for _, r := range f.Evidence["requests"].([]Request) {
					if r.Resource != "configmaps" || r.Name != "aws-auth" || r.Namespace != "kube-system" {
						t.Errorf("%s: request %v is not on kube-system/aws-auth", f.Message, r)
					}
				}
			}
		})
	}
}
