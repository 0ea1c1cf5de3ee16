// Package rbac audits RBAC the way the API server's authorizer evaluates it:
// it builds the effective permissions of every subject (users, groups, service
// accounts and the implicit groups they belong to) from bindings and roles,
// reports dangerous capabilities with the binding, role and rule that grant
// them, follows escalation paths between subjects, and answers who-can.
package rbac

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Domain is the domain name of every check in this package.
const Domain = "rbac"

// options are what the rbac checks read of the run's settings
// (inventory.Settings, set by --include-system), taken once per run.
type options struct {
	// IncludeSystem reports grants made by the built-in (bootstrap) roles and
	// bindings even when they are unchanged from the defaults, and pods of the
	// kube-system, kube-public and kube-node-lease namespaces.
	IncludeSystem bool
}

// needs lists the kinds every rbac check reads, and the extra ones a check needs.

// The IDs of the rbac checks.
const (
	IDAdmissionWrite               = "rbac/admission-write"
	IDAutomountToken               = "rbac/automount-token"
	IDAwsAuthWrite                 = "rbac/aws-auth-write"
	IDBindingMissingRole           = "rbac/binding-missing-role"
	IDBindingMissingServiceaccount = "rbac/binding-missing-serviceaccount"
	IDBroadGroupGrant              = "rbac/broad-group-grant"
	IDClusterAdminBinding          = "rbac/cluster-admin-binding"
	IDClusterAdminEquivalent       = "rbac/cluster-admin-equivalent"
	IDCsrApproval                  = "rbac/csr-approval"
	IDDefaultServiceaccount        = "rbac/default-serviceaccount"
	IDEscalateBind                 = "rbac/escalate-bind"
	IDEscalationPath               = "rbac/escalation-path"
	IDImpersonate                  = "rbac/impersonate"
	IDNamespaceWrite               = "rbac/namespace-write"
	IDNodesProxy                   = "rbac/nodes-proxy"
	IDPersistentvolumeCreate       = "rbac/persistentvolume-create"
	IDPodCreate                    = "rbac/pod-create"
	IDPodExec                      = "rbac/pod-exec"
	IDSecretsRead                  = "rbac/secrets-read"
	IDSecretsWrite                 = "rbac/secrets-write"
	IDServiceaccountToken          = "rbac/serviceaccount-token"
	IDSystemMasters                = "rbac/system-masters"
	IDTokenSecretRead              = "rbac/token-secret-read"
	IDUnusedPermissions            = "rbac/unused-permissions"
	IDWildcardRule                 = "rbac/wildcard-rule"
)

func needs(extra ...inventory.Kind) []inventory.Kind {
	return append([]inventory.Kind{inventory.ClusterRoleBindings, inventory.RoleBindings, inventory.ClusterRoles, inventory.Roles}, extra...)
}

// Checks returns the rbac checks. What they report beyond the default audit
// comes from the run's settings (inventory.Settings.IncludeSystem).
func Checks() []checks.Check {
	effective := func(inv *inventory.Inventory) options {
		return options{IncludeSystem: inv.Settings.IncludeSystem}
	}
	capCheck := func(id string) func(*inventory.Inventory) []finding.Finding {
		return func(inv *inventory.Inventory) []finding.Finding { return capabilityFindings(inv, effective(inv), id) }
	}
	with := func(f func(*inventory.Inventory, options) []finding.Finding) func(*inventory.Inventory) []finding.Finding {
		return func(inv *inventory.Inventory) []finding.Finding { return f(inv, effective(inv)) }
	}
	return []checks.Check{
		{
			ID: IDClusterAdminBinding, Domain: Domain, Severity: finding.Critical,
			Range:       [2]finding.Severity{finding.High, finding.Critical},
			Title:       "Subject bound to cluster-admin",
			Description: "cluster-admin allows every verb on every resource; a subject bound to it cluster-wide controls the cluster, and in a namespace controls everything there.",
			Remediation: "Bind the subject to a role that grants only what it needs, then remove it from the cluster-admin binding.",
			Needs:       needs(), Run: with(clusterAdminBindings),
		},
		{
			ID: IDClusterAdminEquivalent, Domain: Domain, Severity: finding.Critical,
			Title:       "Role equivalent to cluster-admin",
			Description: "A rule allowing every verb on every resource in every API group is cluster-admin under another name.",
			Remediation: "Replace the role by one that lists the resources and verbs needed.",
			Needs:       needs(), Run: capCheck(IDClusterAdminEquivalent),
		},
		{
			ID: IDEscalateBind, Domain: Domain, Severity: finding.High,
			Title:       "Subject can escalate or bind roles",
			Description: "escalate lets a subject write roles with permissions it does not hold; bind lets it bind roles it does not hold, such as cluster-admin.",
			Remediation: "Remove escalate and bind from the role, or limit bind to named roles with resourceNames.",
			Needs:       needs(), Run: capCheck(IDEscalateBind),
		},
		{
			ID: IDImpersonate, Domain: Domain, Severity: finding.High,
			Range:       [2]finding.Severity{finding.Medium, finding.Critical},
			Title:       "Subject can impersonate",
			Description: "impersonate lets a subject act as other users, groups or service accounts; impersonating any group includes system:masters, which bypasses RBAC.",
			Remediation: "Remove impersonate, or limit it to named users or service accounts with resourceNames.",
			Needs:       needs(), Run: capCheck(IDImpersonate),
		},
		{
			ID: IDCsrApproval, Domain: Domain, Severity: finding.High,
			Title:       "Subject can approve certificate signing requests",
			Description: "Approving CSRs for a signer such as kubernetes.io/kube-apiserver-client mints client certificates for any user or group, system:masters included.",
			Remediation: "Remove update on certificatesigningrequests/approval or approve on signers.",
			Needs:       needs(), Run: capCheck(IDCsrApproval),
		},
		{
			ID: IDAdmissionWrite, Domain: Domain, Severity: finding.High,
			Title:       "Subject can change admission webhooks or policies",
			Description: "Writing admission webhook configurations or admission policies lets a subject see and rewrite every object sent to the API server, or switch off the checks that protect it.",
			Remediation: "Keep write access to admissionregistration.k8s.io with cluster administrators only.",
			Needs:       needs(), Run: capCheck(IDAdmissionWrite),
		},
		{
			ID: IDServiceaccountToken, Domain: Domain, Severity: finding.High,
			Title:       "Subject can create ServiceAccount tokens",
			Description: "create on serviceaccounts/token mints a token for a ServiceAccount, and so holds all its permissions.",
			Remediation: "Remove create on serviceaccounts/token, or limit it to named ServiceAccounts.",
			Needs:       needs(), Run: capCheck(IDServiceaccountToken),
		},
		{
			ID: IDPodCreate, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Medium, finding.High},
			Title:       "Subject can create or change pods",
			Description: "Creating pods or writing any pod controller runs code as any ServiceAccount of the namespace with its Secrets mounted; changing a pod's image runs code as its ServiceAccount.",
			Remediation: "Limit pod and workload writes to the namespaces and subjects that deploy, and enforce Pod Security admission there.",
			Needs:       needs(), Run: capCheck(IDPodCreate),
		},
		{
			ID: IDSecretsRead, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Info, finding.High},
			Title:       "Subject can read Secrets",
			Description: "get, list and watch on secrets return their data, ServiceAccount tokens included; list and watch return every Secret at once.",
			Remediation: "Remove get, list and watch on secrets, or limit get to named Secrets.",
			Needs:       needs(), Run: capCheck(IDSecretsRead),
		},
		{
			// The only rbac check that reads Secrets (as metadata): when they may not
			// be listed it alone is skipped, and the escalation paths through
			// existing token Secrets are left out while the other checks still run.
			ID: IDTokenSecretRead, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Info, finding.High},
			Title:       "Subject can read ServiceAccount token Secrets",
			Description: "A legacy token Secret (type kubernetes.io/service-account-token) holds a token that does not expire: whoever reads it holds its ServiceAccount's permissions until the Secret is deleted, even after losing access to Secrets.",
			Remediation: "Delete legacy token Secrets that are not used (the label kubernetes.io/legacy-token-last-used says when one was), use TokenRequest tokens instead, and remove get, list and watch on secrets where not needed.",
			Needs:       needs(inventory.Secrets), Run: with(tokenSecretReaders),
		},
		{
			ID: IDSecretsWrite, Domain: Domain, Severity: finding.Low,
			Range:       [2]finding.Severity{finding.Low, finding.Medium},
			Title:       "Subject can write Secrets",
			Description: "Creating a Secret of type kubernetes.io/service-account-token makes the API server fill it with a token of any ServiceAccount of the namespace; updating Secrets changes credentials workloads trust.",
			Remediation: "Remove create, update and patch on secrets where not needed.",
			Needs:       needs(), Run: capCheck(IDSecretsWrite),
		},
		{
			ID: IDNodesProxy, Domain: Domain, Severity: finding.High,
			Title:       "Subject can proxy to kubelets",
			Description: "nodes/proxy reaches the kubelet API directly (exec in any pod of the node) without API server audit or admission; get is enough.",
			Remediation: "Remove nodes/proxy; monitoring can use the metrics endpoints instead.",
			Needs:       needs(), Run: capCheck(IDNodesProxy),
		},
		{
			ID: IDPersistentvolumeCreate, Domain: Domain, Severity: finding.High,
			Title:       "Subject can create PersistentVolumes",
			Description: "A PersistentVolume of type hostPath mounts any path of a node into a pod.",
			Remediation: "Leave PersistentVolume creation to storage provisioners and administrators.",
			Needs:       needs(), Run: capCheck(IDPersistentvolumeCreate),
		},
		{
			ID: IDAwsAuthWrite, Domain: Domain, Severity: finding.High,
			Title:       "Subject can change the EKS aws-auth ConfigMap",
			Description: "On Amazon EKS the ConfigMap kube-system/aws-auth maps IAM roles and users to Kubernetes users and groups: whoever can update or patch it can map an IAM identity it controls to system:masters, which bypasses RBAC. Elsewhere the ConfigMap does nothing, and the finding is low.",
			Remediation: "Keep update and patch on configmaps in kube-system with cluster administrators; on EKS, manage access with access entries (authentication mode API) instead of aws-auth.",
			Needs:       needs(), Run: capCheck(IDAwsAuthWrite),
		},
		{
			ID: IDPodExec, Domain: Domain, Severity: finding.Medium,
			Title:       "Subject can exec, attach or port-forward into pods",
			Description: "pods/exec, attach, portforward and ephemeralcontainers run commands in or reach into running pods, with their ServiceAccount tokens and Secrets.",
			Remediation: "Keep these subresources for the people who debug the namespace.",
			Needs:       needs(), Run: capCheck(IDPodExec),
		},
		{
			ID: IDNamespaceWrite, Domain: Domain, Severity: finding.Medium,
			Title:       "Subject can change namespaces",
			Description: "Patching a namespace changes its Pod Security labels and the labels NetworkPolicies select on; a RoleBinding allows it on its own namespace.",
			Remediation: "Remove update and patch on namespaces from roles bound to namespace users.",
			Needs:       needs(), Run: capCheck(IDNamespaceWrite),
		},
		{
			ID: IDWildcardRule, Domain: Domain, Severity: finding.Medium,
			Title:       "Role uses wildcards",
			Description: "A * in verbs, resources or apiGroups also grants whatever is added to the API later.",
			Remediation: "List the verbs, groups and resources needed.",
			Needs:       needs(), Run: with(wildcardRules),
		},
		{
			ID: IDBroadGroupGrant, Domain: Domain, Severity: finding.High,
			Range:       [2]finding.Severity{finding.Medium, finding.Critical},
			Title:       "Role granted to anonymous, all users or all service accounts",
			Description: "Bindings to system:anonymous, system:unauthenticated, system:authenticated or system:serviceaccounts give the role to everyone in them; the built-in ones give discovery only.",
			Remediation: "Bind the users or ServiceAccounts that need the role instead of the group.",
			Needs:       needs(), Run: with(broadGroupGrants),
		},
		{
			ID: IDBindingMissingRole, Domain: Domain, Severity: finding.Medium,
			Title:       "Binding to a role that does not exist",
			Description: "The binding grants nothing now, but whoever creates a role of that name decides what its subjects get.",
			Remediation: "Delete the binding, or create the role it expects.",
			Needs:       needs(), Run: with(missingRoles),
		},
		{
			ID: IDBindingMissingServiceaccount, Domain: Domain, Severity: finding.Low,
			Title:       "Binding to a ServiceAccount that does not exist",
			Description: "A stale subject: whoever creates a ServiceAccount of that name inherits the grant.",
			Remediation: "Remove the subject from the binding.",
			Needs:       needs(inventory.ServiceAccounts), Run: with(missingServiceAccounts),
		},
		{
			ID: IDDefaultServiceaccount, Domain: Domain, Severity: finding.Low,
			Title:       "Default ServiceAccount used or granted permissions",
			Description: "Pods that name no ServiceAccount run as default; permissions given to it reach every such pod.",
			Remediation: "Give workloads their own ServiceAccounts and set automountServiceAccountToken: false on the default one.",
			Needs:       needs(inventory.ServiceAccounts, inventory.Pods), Run: with(defaultServiceAccounts),
		},
		{
			ID: IDAutomountToken, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Medium, finding.Critical},
			Title:       "Token of a powerful ServiceAccount mounted in pods",
			Description: "A pod with a mounted token holds its ServiceAccount's permissions: anyone who gets into the pod does too.",
			Remediation: "Set automountServiceAccountToken: false where the token is not needed, and narrow the ServiceAccount's permissions.",
			Needs:       needs(inventory.ServiceAccounts, inventory.Pods), Run: with(automountRiskyTokens),
		},
		{
			ID: IDSystemMasters, Domain: Domain, Severity: finding.Info,
			Range:       [2]finding.Severity{finding.Info, finding.Low},
			Title:       "Group system:masters bypasses RBAC",
			Description: "The API server allows every request of a member of system:masters before RBAC is asked. Membership comes from credentials (a client certificate with O=system:masters), not from any object, so no audit through the API can list the members; a binding naming the group grants them nothing more.",
			Remediation: "Keep system:masters credentials (such as kubeadm's super-admin.conf) offline for break-glass use, and give people and automation identities bound to roles.",
			Needs:       needs(), Run: with(systemMasters),
		},
		{
			ID: IDEscalationPath, Domain: Domain, Severity: finding.High,
			Range:       [2]finding.Severity{finding.Info, finding.Critical},
			Title:       "Subject can become a more powerful identity",
			Description: "A subject that can impersonate a ServiceAccount, mint or read its token (a token request, or a token Secret it creates or reads), or run a pod as it holds its permissions too.",
			Remediation: "Cut the first step of the path: remove the permission that lets the subject become the other identity.",
			Needs:       needs(inventory.ServiceAccounts, inventory.Pods),
			Run: func(inv *inventory.Inventory) []finding.Finding {
				return escalationFindings(Analyze(inv), effective(inv))
			},
		},
	}
}
