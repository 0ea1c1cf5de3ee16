package rbac

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// TestChecks runs every check on a cluster with a case for each, and on one
// without: each check must fail on the first and pass on the second.
func TestChecks(t *testing.T) {
	bad := load(t, "checks/cluster.yaml")
	good := load(t, "checks/clean.yaml")
	want := map[string][]string{
		"rbac/cluster-admin-binding": {
			"ServiceAccount ci/deployer is bound to cluster-admin by ClusterRoleBinding deployer-admin",
		},
		"rbac/cluster-admin-equivalent": {
			"Group ops can do everything (every verb on every resource) cluster-wide (ClusterRoleBinding ops-super -> ClusterRole super)",
		},
		"rbac/escalate-bind": {
			"User platform-bot can escalate, bind clusterroles.rbac.authorization.k8s.io cluster-wide (ClusterRoleBinding platform -> ClusterRole rbac-manager)",
		},
		"rbac/impersonate": {
			"ServiceAccount shop/default can impersonate serviceaccounts in namespace shop (RoleBinding shop/default-edit -> ClusterRole edit)",
			"User platform-bot can impersonate groups, users cluster-wide (ClusterRoleBinding platform -> ClusterRole rbac-manager)",
		},
		"rbac/csr-approval": {
			"User platform-bot can update certificatesigningrequests/approval.certificates.k8s.io; approve signers.certificates.k8s.io [kubernetes.io/kube-apiserver-client] cluster-wide (ClusterRoleBinding platform -> ClusterRole rbac-manager)",
		},
		"rbac/admission-write": {
			"User platform-bot can patch mutatingwebhookconfigurations.admissionregistration.k8s.io cluster-wide (ClusterRoleBinding platform -> ClusterRole rbac-manager)",
		},
		"rbac/serviceaccount-token": {
			"ServiceAccount ci/builder can create serviceaccounts/token cluster-wide (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)",
			"ServiceAccount shop/default can create serviceaccounts/token in namespace shop (RoleBinding shop/default-edit -> ClusterRole edit)",
		},
		"rbac/pod-create": {
			"ServiceAccount ci/builder can patch deployments.apps cluster-wide (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)",
			"ServiceAccount shop/default can create pods; create, update, patch deployments.apps, daemonsets.apps, statefulsets.apps, replicasets.apps, jobs.batch, cronjobs.batch, replicationcontrollers; update, patch pods in namespace shop (RoleBinding shop/default-edit -> ClusterRole edit)",
			"User dev can create pods in namespace ci (RoleBinding ci/dev-pods -> Role ci/pod-runner)",
		},
		"rbac/secrets-read": {
			"Group system:authenticated can get secrets in namespace shop (RoleBinding shop/everyone-secrets -> ClusterRole secret-reader)",
			"ServiceAccount ci/builder can get, list secrets cluster-wide (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)",
			"ServiceAccount shop/default can get, list, watch secrets in namespace shop (RoleBinding shop/default-edit -> ClusterRole edit)",
		},
		"rbac/secrets-write": {
			"ServiceAccount ci/builder can create secrets cluster-wide (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)",
			"ServiceAccount shop/default can create, update, patch secrets in namespace shop (RoleBinding shop/default-edit -> ClusterRole edit)",
		},
		"rbac/token-secret-read": {
			"ServiceAccount ci/builder can get, list secrets cluster-wide, so it can read the legacy token Secrets of ServiceAccount ci/deployer (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)",
		},
		"rbac/aws-auth-write": {
			"User eks-admin can update, patch configmaps [kube-system/aws-auth] in namespace kube-system (RoleBinding kube-system/aws-auth-editors -> Role kube-system/aws-auth-editor)",
		},
		"rbac/system-masters": {
			"ClusterRoleBinding masters-view binds Group system:masters to ClusterRole view: redundant, since system:masters bypasses RBAC, and misleading, since deleting it takes nothing away from the group's members",
			"Group system:masters bypasses RBAC: the API server allows its members every request without asking RBAC, and membership comes from credentials (a client certificate with O=system:masters), not from any object, so this audit cannot list the members and does not guess them",
		},
		"rbac/nodes-proxy": {
			"User platform-bot can get nodes/proxy cluster-wide (ClusterRoleBinding platform -> ClusterRole rbac-manager)",
		},
		"rbac/persistentvolume-create": {
			"User platform-bot can create persistentvolumes cluster-wide (ClusterRoleBinding platform -> ClusterRole rbac-manager)",
		},
		"rbac/pod-exec": {
			"ServiceAccount ci/builder can create pods/exec, pods/portforward cluster-wide (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)",
			"ServiceAccount shop/default can create pods/exec, pods/attach, pods/portforward in namespace shop (RoleBinding shop/default-edit -> ClusterRole edit)",
		},
		"rbac/namespace-write": {
			"User shop-owner can patch namespaces in namespace shop (RoleBinding shop/labeller -> Role shop/ns-labeller)",
		},
		"rbac/wildcard-rule": {
			"ClusterRole super has 1 wildcard rule(s), bound by 1 binding(s): it will also grant resources and verbs added later",
		},
		"rbac/broad-group-grant": {
			"Group system:authenticated (every authenticated user and service account) is granted ClusterRole secret-reader in namespace shop by RoleBinding shop/everyone-secrets",
		},
		"rbac/binding-missing-role": {
			"RoleBinding shop/latent refers to Role shop/not-yet, which is not in the input: it grants nothing until the role exists",
		},
		"rbac/binding-missing-serviceaccount": {
			"ServiceAccount shop/old-app bound by RoleBinding shop/stale to ClusterRole view does not exist: whoever creates a ServiceAccount of that name inherits the grant",
		},
		"rbac/default-serviceaccount": {
			"1 pod(s) in namespace shop run as ServiceAccount default: web-0",
			"ServiceAccount shop/default is granted ClusterRole edit in namespace shop by RoleBinding shop/default-edit: every pod in shop that names no ServiceAccount holds it",
		},
		"rbac/automount-token": {
			"ServiceAccount ci/deployer holds cluster-admin and its token is mounted in 1 pod(s): deploy-job",
			"ServiceAccount shop/default holds impersonate serviceaccounts in namespace shop and its token is mounted in 1 pod(s): web-0",
		},
		"rbac/escalation-path": {
			"ServiceAccount ci/builder -> create serviceaccounts/token cluster-wide -> ServiceAccount ci/deployer -> cluster-admin",
			"User dev -> create pods in namespace ci -> ServiceAccount ci/deployer -> cluster-admin",
		},
	}
	for _, c := range Checks() {
		t.Run(c.ID, func(t *testing.T) {
			w, ok := want[c.ID]
			if !ok {
				t.Fatalf("no expectation for %s", c.ID)
			}
			fs := run(t, bad, c.ID, options{})
			if got := messages(fs); !slices.Equal(got, w) {
				t.Errorf("findings:\n got %q\nwant %q", got, w)
			}
			for _, f := range fs {
				if f.Resource.Kind == "" || f.Resource.Name == "" || f.Severity == 0 || f.Remediation == nil || f.Remediation.Summary == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			if fs := run(t, good, c.ID, options{}); len(fs) != 0 {
				t.Errorf("clean cluster: want no findings, got %q", messages(fs))
			}
		})
	}
}

// TestBuiltinPolicyIsQuiet: the API server's own bootstrap policy, unchanged,
// yields no finding but the one note that system:masters bypasses RBAC; with
// IncludeSystem it is audited like any other.
func TestBuiltinPolicyIsQuiet(t *testing.T) {
	inv, err := inventory.FromFiles([]string{"-"}, bytes.NewReader(bootstrapPolicy))
	if err != nil {
		t.Fatal(err)
	}
	// As listed from a live server, where the defaults are real objects.
	inv.Offline = false
	// Secrets are listed live by rbac/token-secret-read; the bootstrap policy has none.
	inv.Loaded[inventory.Secrets] = true
	res := checks.Run(inv, Checks())
	if len(res.Skipped) != 0 || len(res.Findings) != 1 || res.Findings[0].Check != "rbac/system-masters" || res.Findings[0].Severity != finding.Info {
		t.Fatalf("built-in policy: skipped %v, findings %q", res.Skipped, messages(res.Findings))
	}
	if b := res.Findings[0].Evidence["bindings"]; !slices.Equal(b.([]string), []string{"ClusterRoleBinding cluster-admin"}) {
		t.Errorf("the note names bindings %v, want the built-in cluster-admin one", b)
	}
	inv2, _ := inventory.FromFiles([]string{"-"}, bytes.NewReader(bootstrapPolicy))
	inv2.Offline, inv2.Settings.IncludeSystem = false, true
	res = checks.Run(inv2, Checks())
	got := messages(res.Findings)
	for _, w := range []string{
		"ServiceAccount kube-system/clusterrole-aggregation-controller can escalate clusterroles.rbac.authorization.k8s.io cluster-wide (ClusterRoleBinding system:controller:clusterrole-aggregation-controller -> ClusterRole system:controller:clusterrole-aggregation-controller)",
		"User system:kube-controller-manager can create serviceaccounts/token cluster-wide (ClusterRoleBinding system:kube-controller-manager -> ClusterRole system:kube-controller-manager)",
		"ClusterRoleBinding cluster-admin binds Group system:masters to ClusterRole cluster-admin: redundant, since system:masters bypasses RBAC, and misleading, since deleting it takes nothing away from the group's members",
	} {
		if !slices.Contains(got, w) {
			t.Errorf("with IncludeSystem, missing %q in %q", w, got)
		}
	}
}

// TestChangedBuiltinIsReported: a rule added to a built-in role bound to all
// authenticated users, or a subject added to a built-in binding, is reported.
func TestChangedBuiltinIsReported(t *testing.T) {
	fs := run(t, load(t, "checks/changed-builtin.yaml"), "rbac/broad-group-grant", options{})
	want := []string{
		"Group system:authenticated (every authenticated user and service account) is granted rules added to the built-in ClusterRole system:discovery by ClusterRoleBinding system:discovery",
		"Group system:unauthenticated (every unauthenticated request) is granted ClusterRole system:basic-user cluster-wide by ClusterRoleBinding system:basic-user",
	}
	if got := messages(fs); !slices.Equal(got, want) {
		t.Fatalf("findings:\n got %q\nwant %q", got, want)
	}
	f := byMessage(t, fs, want[0])
	c := f.Remediation.Changes[0]
	if c.Action != remedy.Patch || c.Target.Name != "system:discovery" || c.ResourceVersion != "55" {
		t.Errorf("change %+v, want a patch of ClusterRole system:discovery at 55", c)
	}
	if strings.Contains(string(c.Patch), "secrets") || !strings.Contains(string(c.Patch), "/healthz") {
		t.Errorf("patch %s should restore the built-in rules and drop the added one", c.Patch)
	}
	f = byMessage(t, fs, want[1])
	var p struct{ Subjects []struct{ Name string } }
	if err := json.Unmarshal(f.Remediation.Changes[0].Patch, &p); err != nil || len(p.Subjects) != 1 || p.Subjects[0].Name != "system:authenticated" {
		t.Errorf("patch %s should keep only system:authenticated", f.Remediation.Changes[0].Patch)
	}
}

// TestRemedies checks the exact object changes.
func TestRemedies(t *testing.T) {
	inv := load(t, "checks/cluster.yaml")
	t.Run("cluster-wide binding of namespaced powers becomes a RoleBinding", func(t *testing.T) {
		fs := run(t, inv, "rbac/secrets-read", options{})
		f := byMessage(t, fs, "ServiceAccount ci/builder can get, list secrets cluster-wide (ClusterRoleBinding builder-powers -> ClusterRole ns-powers)")
		cs := f.Remediation.Changes
		if len(cs) != 2 || cs[0].Action != remedy.Apply || cs[1].Action != remedy.Delete {
			t.Fatalf("changes %+v", cs)
		}
		obj := cs[0].Object
		if obj.GetKind() != "RoleBinding" || obj.GetNamespace() != "ci" || obj.GetName() != "builder-powers" {
			t.Errorf("apply %s %s/%s", obj.GetKind(), obj.GetNamespace(), obj.GetName())
		}
		if ref, _, _ := unstructured.NestedString(obj.Object, "roleRef", "name"); ref != "ns-powers" {
			t.Errorf("roleRef %q", ref)
		}
		if cs[1].Target.Kind != "ClusterRoleBinding" || cs[1].Target.Name != "builder-powers" || cs[1].ResourceVersion != "105" {
			t.Errorf("delete %+v", cs[1])
		}
		if f.Evidence["rules"] == nil || f.Evidence["binding"] != "ClusterRoleBinding builder-powers" || f.Evidence["role"] != "ClusterRole ns-powers" {
			t.Errorf("evidence %v", f.Evidence)
		}
	})
	t.Run("automount off on the ServiceAccount", func(t *testing.T) {
		fs := run(t, inv, "rbac/automount-token", options{})
		f := byMessage(t, fs, "ServiceAccount ci/deployer holds cluster-admin and its token is mounted in 1 pod(s): deploy-job")
		c := f.Remediation.Changes[0]
		if c.Action != remedy.Apply || c.Object.GetKind() != "ServiceAccount" || c.Object.GetNamespace() != "ci" || c.Object.GetName() != "deployer" || !c.Risky {
			t.Fatalf("change %+v", c)
		}
		if v, ok := c.Object.Object["automountServiceAccountToken"].(bool); !ok || v {
			t.Errorf("automountServiceAccountToken = %v", c.Object.Object["automountServiceAccountToken"])
		}
	})
	t.Run("escalation evidence has the path", func(t *testing.T) {
		fs := run(t, inv, "rbac/escalation-path", options{})
		f := byMessage(t, fs, "User dev -> create pods in namespace ci -> ServiceAccount ci/deployer -> cluster-admin")
		hops, _ := f.Evidence["hops"].([]map[string]any)
		if len(hops) != 1 || hops[0]["binding"] != "RoleBinding ci/dev-pods" || hops[0]["becomes"] != "ServiceAccount ci/deployer" {
			t.Errorf("hops %v", f.Evidence["hops"])
		}
		if f.Severity != finding.Critical || f.Resource.Name != "dev-pods" {
			t.Errorf("severity %v resource %v", f.Severity, f.Resource)
		}
		if c := f.Remediation.Changes[0]; c.Action != remedy.Delete || c.ResourceVersion != "102" {
			t.Errorf("change %+v", c)
		}
	})
	t.Run("missing role binding is deleted", func(t *testing.T) {
		fs := run(t, inv, "rbac/binding-missing-role", options{})
		if c := fs[0].Remediation.Changes[0]; c.Action != remedy.Delete || c.Target.Name != "latent" || c.ResourceVersion != "108" {
			t.Errorf("change %+v", c)
		}
	})
}
