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

// Options tune what the rbac checks report; the zero value is the default audit.
// inventory.Settings.IncludeSystem, set by --include-system, has the same effect.
type Options struct {
	// IncludeSystem reports grants made by the built-in (bootstrap) roles and
	// bindings even when they are unchanged from the defaults, and pods of the
	// kube-system, kube-public and kube-node-lease namespaces.
	IncludeSystem bool
}

// Checks returns the rbac checks with default options.
func Checks() []checks.Check { return NewChecks(Options{}) }

// needs lists the kinds every rbac check reads, and the extra ones a check needs.
func needs(extra ...inventory.Kind) []inventory.Kind {
	return append([]inventory.Kind{inventory.ClusterRoleBindings, inventory.RoleBindings, inventory.ClusterRoles, inventory.Roles}, extra...)
}

// NewChecks returns the rbac checks configured by opts. The checks stay pure:
// opts is captured by value when they are built.
func NewChecks(opts Options) []checks.Check {
	// The run's settings (--include-system) add to what opts asks.
	effective := func(inv *inventory.Inventory) Options {
		o := opts
		o.IncludeSystem = o.IncludeSystem || inv.Settings.IncludeSystem
		return o
	}
	capCheck := func(id string) func(*inventory.Inventory) []finding.Finding {
		return func(inv *inventory.Inventory) []finding.Finding { return capabilityFindings(inv, effective(inv), id) }
	}
	with := func(f func(*inventory.Inventory, Options) []finding.Finding) func(*inventory.Inventory) []finding.Finding {
		return func(inv *inventory.Inventory) []finding.Finding { return f(inv, effective(inv)) }
	}
	return []checks.Check{
		{
			ID: "rbac/cluster-admin-binding", Domain: Domain, Severity: finding.Critical,
			Range:       [2]finding.Severity{finding.High, finding.Critical},
			Title:       "Subject bound to cluster-admin",
			Description: "cluster-admin allows every verb on every resource; a subject bound to it cluster-wide controls the cluster, and in a namespace controls everything there.",
			Remediation: "Bind the subject to a role that grants only what it needs, then remove it from the cluster-admin binding.",
			Needs:       needs(), Run: with(clusterAdminBindings),
		},
		{
			ID: checkClusterAdminEquivalent, Domain: Domain, Severity: finding.Critical,
			Title:       "Role equivalent to cluster-admin",
			Description: "A rule allowing every verb on every resource in every API group is cluster-admin under another name.",
			Remediation: "Replace the role by one that lists the resources and verbs needed.",
			Needs:       needs(), Run: capCheck(checkClusterAdminEquivalent),
		},
		{
			ID: "rbac/escalate-bind", Domain: Domain, Severity: finding.High,
			Title:       "Subject can escalate or bind roles",
			Description: "escalate lets a subject write roles with permissions it does not hold; bind lets it bind roles it does not hold, such as cluster-admin.",
			Remediation: "Remove escalate and bind from the role, or limit bind to named roles with resourceNames.",
			Needs:       needs(), Run: capCheck("rbac/escalate-bind"),
		},
		{
			ID: "rbac/impersonate", Domain: Domain, Severity: finding.High,
			Range:       [2]finding.Severity{finding.Medium, finding.Critical},
			Title:       "Subject can impersonate",
			Description: "impersonate lets a subject act as other users, groups or service accounts; impersonating any group includes system:masters, which bypasses RBAC.",
			Remediation: "Remove impersonate, or limit it to named users or service accounts with resourceNames.",
			Needs:       needs(), Run: capCheck("rbac/impersonate"),
		},
		{
			ID: "rbac/csr-approval", Domain: Domain, Severity: finding.High,
			Title:       "Subject can approve certificate signing requests",
			Description: "Approving CSRs for a signer such as kubernetes.io/kube-apiserver-client mints client certificates for any user or group, system:masters included.",
			Remediation: "Remove update on certificatesigningrequests/approval or approve on signers.",
			Needs:       needs(), Run: capCheck("rbac/csr-approval"),
		},
		{
			ID: "rbac/admission-write", Domain: Domain, Severity: finding.High,
			Title:       "Subject can change admission webhooks or policies",
			Description: "Writing admission webhook configurations or admission policies lets a subject see and rewrite every object sent to the API server, or switch off the checks that protect it.",
			Remediation: "Keep write access to admissionregistration.k8s.io with cluster administrators only.",
			Needs:       needs(), Run: capCheck("rbac/admission-write"),
		},
		{
			ID: "rbac/serviceaccount-token", Domain: Domain, Severity: finding.High,
			Title:       "Subject can create ServiceAccount tokens",
			Description: "create on serviceaccounts/token mints a token for a ServiceAccount, and so holds all its permissions.",
			Remediation: "Remove create on serviceaccounts/token, or limit it to named ServiceAccounts.",
			Needs:       needs(), Run: capCheck("rbac/serviceaccount-token"),
		},
		{
			ID: "rbac/pod-create", Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Medium, finding.High},
			Title:       "Subject can create or change pods",
			Description: "Creating pods or writing any pod controller runs code as any ServiceAccount of the namespace with its Secrets mounted; changing a pod's image runs code as its ServiceAccount.",
			Remediation: "Limit pod and workload writes to the namespaces and subjects that deploy, and enforce Pod Security admission there.",
			Needs:       needs(), Run: capCheck("rbac/pod-create"),
		},
		{
			ID: checkSecretsRead, Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Info, finding.High},
			Title:       "Subject can read Secrets",
			Description: "get, list and watch on secrets return their data, ServiceAccount tokens included; list and watch return every Secret at once.",
			Remediation: "Remove get, list and watch on secrets, or limit get to named Secrets.",
			Needs:       needs(), Run: capCheck(checkSecretsRead),
		},
		{
			// The only rbac check that reads Secrets (as metadata): when they may not
			// be listed it alone is skipped, and the escalation paths through
			// existing token Secrets are left out while the other checks still run.
			ID: "rbac/token-secret-read", Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Info, finding.High},
			Title:       "Subject can read ServiceAccount token Secrets",
			Description: "A legacy token Secret (type kubernetes.io/service-account-token) holds a token that does not expire: whoever reads it holds its ServiceAccount's permissions until the Secret is deleted, even after losing access to Secrets.",
			Remediation: "Delete legacy token Secrets that are not used (the label kubernetes.io/legacy-token-last-used says when one was), use TokenRequest tokens instead, and remove get, list and watch on secrets where not needed.",
			Needs:       needs(inventory.Secrets), Run: with(tokenSecretReaders),
		},
		{
			ID: checkSecretsWrite, Domain: Domain, Severity: finding.Low,
			Range:       [2]finding.Severity{finding.Low, finding.Medium},
			Title:       "Subject can write Secrets",
			Description: "Creating a Secret of type kubernetes.io/service-account-token makes the API server fill it with a token of any ServiceAccount of the namespace; updating Secrets changes credentials workloads trust.",
			Remediation: "Remove create, update and patch on secrets where not needed.",
			Needs:       needs(), Run: capCheck(checkSecretsWrite),
		},
		{
			ID: "rbac/nodes-proxy", Domain: Domain, Severity: finding.High,
			Title:       "Subject can proxy to kubelets",
			Description: "nodes/proxy reaches the kubelet API directly (exec in any pod of the node) without API server audit or admission; get is enough.",
			Remediation: "Remove nodes/proxy; monitoring can use the metrics endpoints instead.",
			Needs:       needs(), Run: capCheck("rbac/nodes-proxy"),
		},
		{
			ID: "rbac/persistentvolume-create", Domain: Domain, Severity: finding.High,
			Title:       "Subject can create PersistentVolumes",
			Description: "A PersistentVolume of type hostPath mounts any path of a node into a pod.",
			Remediation: "Leave PersistentVolume creation to storage provisioners and administrators.",
			Needs:       needs(), Run: capCheck("rbac/persistentvolume-create"),
		},
		{
			ID: "rbac/aws-auth-write", Domain: Domain, Severity: finding.High,
			Title:       "Subject can change the EKS aws-auth ConfigMap",
			Description: "On Amazon EKS the ConfigMap kube-system/aws-auth maps IAM roles and users to Kubernetes users and groups: whoever can update or patch it can map an IAM identity it controls to system:masters, which bypasses RBAC. Elsewhere the ConfigMap does nothing, and the finding is low.",
			Remediation: "Keep update and patch on configmaps in kube-system with cluster administrators; on EKS, manage access with access entries (authentication mode API) instead of aws-auth.",
			Needs:       needs(), Run: capCheck("rbac/aws-auth-write"),
		},
		{
			ID: "rbac/pod-exec", Domain: Domain, Severity: finding.Medium,
			Title:       "Subject can exec, attach or port-forward into pods",
			Description: "pods/exec, attach, portforward and ephemeralcontainers run commands in or reach into running pods, with their ServiceAccount tokens and Secrets.",
			Remediation: "Keep these subresources for the people who debug the namespace.",
			Needs:       needs(), Run: capCheck("rbac/pod-exec"),
		},
		{
			ID: "rbac/namespace-write", Domain: Domain, Severity: finding.Medium,
			Title:       "Subject can change namespaces",
			Description: "Patching a namespace changes its Pod Security labels and the labels NetworkPolicies select on; a RoleBinding allows it on its own namespace.",
			Remediation: "Remove update and patch on namespaces from roles bound to namespace users.",
			Needs:       needs(), Run: capCheck("rbac/namespace-write"),
		},
		{
			ID: "rbac/wildcard-rule", Domain: Domain, Severity: finding.Medium,
			Title:       "Role uses wildcards",
			Description: "A * in verbs, resources or apiGroups also grants whatever is added to the API later.",
			Remediation: "List the verbs, groups and resources needed.",
			Needs:       needs(), Run: with(wildcardRules),
		},
		{
			ID: "rbac/broad-group-grant", Domain: Domain, Severity: finding.High,
			Range:       [2]finding.Severity{finding.Medium, finding.Critical},
			Title:       "Role granted to anonymous, all users or all service accounts",
			Description: "Bindings to system:anonymous, system:unauthenticated, system:authenticated or system:serviceaccounts give the role to everyone in them; the built-in ones give discovery only.",
			Remediation: "Bind the users or ServiceAccounts that need the role instead of the group.",
			Needs:       needs(), Run: with(broadGroupGrants),
		},
		{
			ID: "rbac/binding-missing-role", Domain: Domain, Severity: finding.Medium,
			Title:       "Binding to a role that does not exist",
			Description: "The binding grants nothing now, but whoever creates a role of that name decides what its subjects get.",
			Remediation: "Delete the binding, or create the role it expects.",
			Needs:       needs(), Run: with(missingRoles),
		},
		{
			ID: "rbac/binding-missing-serviceaccount", Domain: Domain, Severity: finding.Low,
			Title:       "Binding to a ServiceAccount that does not exist",
			Description: "A stale subject: whoever creates a ServiceAccount of that name inherits the grant.",
			Remediation: "Remove the subject from the binding.",
			Needs:       needs(inventory.ServiceAccounts), Run: with(missingServiceAccounts),
		},
		{
			ID: "rbac/default-serviceaccount", Domain: Domain, Severity: finding.Low,
			Title:       "Default ServiceAccount used or granted permissions",
			Description: "Pods that name no ServiceAccount run as default; permissions given to it reach every such pod.",
			Remediation: "Give workloads their own ServiceAccounts and set automountServiceAccountToken: false on the default one.",
			Needs:       needs(inventory.ServiceAccounts, inventory.Pods), Run: with(defaultServiceAccounts),
		},
		{
			ID: "rbac/automount-token", Domain: Domain, Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Medium, finding.Critical},
			Title:       "Token of a powerful ServiceAccount mounted in pods",
			Description: "A pod with a mounted token holds its ServiceAccount's permissions: anyone who gets into the pod does too.",
			Remediation: "Set automountServiceAccountToken: false where the token is not needed, and narrow the ServiceAccount's permissions.",
			Needs:       needs(inventory.ServiceAccounts, inventory.Pods), Run: with(automountRiskyTokens),
		},
		{
			ID: "rbac/system-masters", Domain: Domain, Severity: finding.Info,
			Range:       [2]finding.Severity{finding.Info, finding.Low},
			Title:       "Group system:masters bypasses RBAC",
			Description: "The API server allows every request of a member of system:masters before RBAC is asked. Membership comes from credentials (a client certificate with O=system:masters), not from any object, so no audit through the API can list the members; a binding naming the group grants them nothing more.",
			Remediation: "Keep system:masters credentials (such as kubeadm's super-admin.conf) offline for break-glass use, and give people and automation identities bound to roles.",
			Needs:       needs(), Run: with(systemMasters),
		},
		{
			ID: "rbac/escalation-path", Domain: Domain, Severity: finding.High,
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
