// Package netpol judges NetworkPolicy exactly as the API server and CNIs read
// it: which pods are isolated for ingress and egress and by which policies,
// the namespaces without (default-deny) policies, policies that select nothing,
// are open to everyone or have inert rules, and whether a given connection is
// allowed. It also summarises coverage per namespace and proposes default-deny
// remedies (see Remedies). Everything here is a pure function of the inventory.
//
// # Semantics
//
// NetworkPolicy (networking.k8s.io/v1), as the API server defaults it
// (kubernetes pkg/apis/networking/v1/defaults.go) and the website's
// network-policies.md describes it: a pod is isolated in a direction iff a
// policy of its namespace selects it and lists the direction (empty
// policyTypes is Ingress, plus Egress with egress rules); what is allowed is
// the union of the rules; a connection needs the source's egress and the
// destination's ingress. See match.go for peers and ports.
//
// The cluster-scoped tiers of sigs.k8s.io/network-policy-api (source:
// apis/v1alpha2/clusternetworkpolicy_types.go of v0.2/v0.3, and apis/v1alpha1
// for AdminNetworkPolicy and BaselineAdminNetworkPolicy of v0.1.x) are read in
// one model (tiers.go, tierreach.go). Each direction is decided in order:
//
//   - Admin tier (ClusterNetworkPolicy tier Admin, AdminNetworkPolicy), by
//     priority 0-1000, lower first, sharing one priority space; each policy's
//     rules in order, the first matching rule deciding: Accept (v1alpha1
//     Allow) and Deny are final, Pass skips the rest of the tier;
//   - NetworkPolicy v1: a pod some NetworkPolicy isolates in the direction is
//     decided by them exactly as without the tiers;
//   - Baseline tier (ClusterNetworkPolicy tier Baseline by priority, then the
//     singleton BaselineAdminNetworkPolicy "default", whose order against
//     ClusterNetworkPolicy the API does not define): only for pods no
//     NetworkPolicy isolates in that direction;
//   - otherwise allowed.
//
// Directions are independent: an egress Accept still needs the destination's
// ingress. Subjects select pods by namespaces, or by namespaceSelector AND
// podSelector; peers are namespaces, pods, and for egress networks (CIDRs,
// matched against pod addresses when known; a /0 covers all pod traffic);
// protocols/ports are TCP, UDP or SCTP with a port, a range, or none (every
// port), or a destination named port resolved among the destination pod's
// container ports. Host-network pods are never a subject nor a namespaces or
// pods peer. Peers the tool does not model (the experimental nodes and
// domainNames, or an entry with no known field) fail closed as the API
// prescribes: an Accept rule matches nothing through them, a Deny or Pass
// rule denies all; every answer about the pods such a policy selects says so.
// Policies of one tier and equal priority that match a connection with
// different actions leave it undefined (the API: "the implementation can
// apply any of the matching policies"): the verdict is unknown, never
// allowed or denied. A pod is isolated in a direction when a NetworkPolicy
// isolates it, or a cluster-scoped policy selecting it has a Deny rule there
// (a Baseline one only if no NetworkPolicy isolates it); a namespace is
// default-deny also when a cluster-scoped policy covering all its pods denies
// every pod on every port, and "has no NetworkPolicy" only when nothing of
// any tier isolates its pods.
//
// The CNIs' own policies: Cilium's CiliumNetworkPolicy and
// CiliumClusterwideNetworkPolicy (cilium.io/v2) and Calico's NetworkPolicy
// and GlobalNetworkPolicy (projectcalico.org/v3, or the crd.projectcalico.org/v1
// CRDs behind it when Calico's API server is not installed), read in
// cnipolicies.go and evaluated in cnieval.go and calicorules.go. The L3/L4
// subset both share is evaluated exactly; a verdict about an endpoint is
// confident only where every rule, in that direction, of every such policy
// selecting it is inside the subset. Otherwise (and where both CNIs' policies
// select one pod, or where they and a cluster-scoped tier policy select it in
// one direction, whose combination the tool does not model) the verdict is
// unknown, with the note "not modelled: <Kind> ns/name selects it; verdicts
// for pods it selects are unknown" and what is outside the subset: never
// allowed or denied, never counted isolated or open. An answer with an
// unknown side is unknown, unless the other side is denied by what the tool
// does model. Every answer names the deciding policy and rule
// ("denied by CiliumNetworkPolicy shop/db-deny (ingressDeny rule 0)").
//
// Cilium (sources: docs.cilium.io security/policy/intro "Policy Enforcement
// Modes", security/policy/language "Layer 3/Layer 4 examples" and "Entities
// based", security/policy/deny "Deny Policies", the Rule API reference for
// enableDefaultDeny), in the default enforcement mode:
//
//   - each rule of spec and specs applies to the endpoints its
//     endpointSelector selects (below); ingress/egress rules allow:
//     fromEndpoints/toEndpoints (label selectors over the peer's labels and
//     the namespace labels io.kubernetes.pod.namespace and
//     io.cilium.k8s.namespace.labels.<key>; in a CiliumNetworkPolicy a
//     selector that does not name the namespace label selects only the
//     policy's namespace), fromEntities/toEntities world (outside the
//     cluster), cluster (every pod, host-network ones too) and all, and
//     toPorts (ports with port, endPort and protocol TCP, UDP, SCTP or ANY,
//     the default; port 0 or none is every port; a name is the destination
//     pod's named port). A rule with only toPorts admits every peer on those
//     ports; an empty rule ({}) admits nothing;
//   - ingressDeny/egressDeny rules deny, and win over every allow, those of
//     NetworkPolicy v1 too ("Deny policies take precedence over allow
//     policies, regardless of whether they are a Cilium Network Policy, a
//     Clusterwide Cilium Network Policy or even a Kubernetes Network Policy");
//   - an endpoint is in default deny for a direction when a NetworkPolicy
//     isolates it or a rule selecting it has enableDefaultDeny for the
//     direction, which defaults to whether the rule has (deny) rules there;
//     then only what an allow rule of any policy (Cilium's or NetworkPolicy's,
//     unioned) admits passes; otherwise everything not denied passes;
//   - ingress from a host-network pod is unknown: Cilium admits traffic from
//     an endpoint's own node whatever the policy (allow-localhost), and the
//     tool does not know the nodes. Endpoint selectors never match an address
//     or a host-network pod (reserved identities), except that a clusterwide
//     policy's non-empty selector that matches an endpoint without labels may:
//     unknown.
//
// Outside Cilium's subset: toPorts rules (L7), serverNames, listener, TLS
// settings, toFQDNs, fromCIDR/toCIDR/toCIDRSet, toServices, toGroups,
// fromRequires/toRequires, fromNodes/toNodes, icmps, authentication, other
// entities (host, remote-node, kube-apiserver, ...), a rule naming both
// endpoints and entities, protocols other than TCP/UDP/SCTP/ANY, and host
// policies (nodeSelector).
//
// Calico (sources: docs.tigera.io calico reference/resources/networkpolicy,
// globalnetworkpolicy, and tier "How policy is evaluated"; network-policy
// policy-tiers "Get started with policy tiers"; libcalico-go's Kubernetes
// conversion, which puts a NetworkPolicy v1 into the default tier at order
// 1000 as knp.default.<name>):
//
//   - the policies of the default tier that select the endpoint in a
//     direction (types, defaulted), Calico's and NetworkPolicy v1 at order
//     1000, are evaluated by order, lower first (no order: last; ties by
//     name), each one's rules in order: Allow and Deny decide, Log goes on,
//     Pass leaves the tier for the next tier that applies, and with none for
//     the endpoint's profile (kns.<namespace>), which allows; a NetworkPolicy
//     v1 allows when one of its rules admits. A tier that selects the endpoint
//     and decides nothing denies (the end-of-tier deny); an endpoint no policy
//     selects in the direction is allowed by its profile;
//   - a rule matches by protocol (TCP, UDP, SCTP by name or number; none is
//     any), the peer's selector and namespaceSelector (the source for
//     ingress, the destination for egress; in a NetworkPolicy without
//     namespaceSelector the policy's namespace only, in a GlobalNetworkPolicy
//     every namespace), a selector restricting the selected endpoint itself
//     (the destination for ingress, the source for egress), and destination
//     ports and notPorts (numbers, "a:b" ranges, the destination pod's named
//     ports). Against an address or a host-network pod a peer selector is
//     unknown: it may match a NetworkSet, GlobalNetworkSet or host endpoint
//     the tool does not read.
//
// Outside Calico's subset: a tier other than default (its order against the
// default tier is in Tier objects the tool does not read),
// serviceAccountSelector, doNotTrack, preDNAT, applyOnForward; in rules
// nets/notNets, notSelector, serviceAccounts, services, domains, source
// ports, notProtocol, ICMP (icmp, notICMP, protocols ICMP, ICMPv6 and any
// other), ipVersion, http.
//
// A namespace is default-deny for a direction also when an evaluated Cilium
// or Calico policy puts every pod of it, present or future, into default
// deny (a selector reading only namespace keys) and no evaluated CNI policy
// covering it admits every pod on every port, where the inventory has no
// cluster-scoped policy.
//
// Selection, for both:
//
//   - Cilium (sources: cilium pkg/k8s/apis/cilium.io constants and the
//     CiliumNetworkPolicy docs): each rule of spec and specs selects by
//     endpointSelector, a LabelSelector over the pod's labels plus
//     io.kubernetes.pod.namespace, io.cilium.k8s.policy.serviceaccount and
//     io.cilium.k8s.namespace.labels.<key>; keys may carry the source prefix
//     k8s: or any:. A CiliumNetworkPolicy selects only in its namespace. A
//     rule acts on ingress when it has ingress or ingressDeny (even empty) or
//     enableDefaultDeny.ingress, likewise egress; a rule with neither is read
//     as acting on both. A nodeSelector rule (a host policy) selects the
//     host-network pods.
//   - Calico (sources: projectcalico/api v3 NetworkPolicySpec and
//     EntityRule docs, libcalico-go's selector grammar, the "Calico automatic
//     labels" docs): selector is Calico's expression language (==, !=, in,
//     not in, has, contains, starts with, ends with, !, &&, ||, parentheses,
//     all(); parser in calicoselector.go) over the pod's labels plus
//     projectcalico.org/namespace, projectcalico.org/orchestrator=k8s,
//     projectcalico.org/serviceaccount and the namespace's labels as pcns.<key>;
//     a GlobalNetworkPolicy's namespaceSelector sees the namespace's labels and
//     projectcalico.org/name. A NetworkPolicy selects only in its namespace.
//     types, when empty, default as the API does: Ingress without egress
//     rules, Egress with only egress rules, both with both. Host-network pods
//     are host endpoints, selected through HostEndpoint objects the tool does
//     not read, and are not selected (they are reported as not enforceable).
//
// A selector the tool cannot parse or evaluate (a Calico expression that does
// not parse, global(), a Cilium label source such as reserved:, or a key whose
// value it cannot know: io.cilium.k8s.policy.cluster, pcsa.*, other
// projectcalico.org/ keys) is read as selecting every pod in the policy's
// scope, never as selecting nothing; the note says so. Selecting too much
// only makes more answers unknown.
//
// # Remedies
//
// A namespace without NetworkPolicy, or without a default deny, gets
// NetworkPolicies of its own (remedy.go): default-deny (podSelector {}, no
// rules) for the directions missing, an egress deny always with
// allow-dns-egress (UDP and TCP 53 to kube-system pods k8s-app=kube-dns,
// kube-system named by kubernetes.io/metadata.name), and, where a
// namespace-wide policy admits every peer on every port, the removal of that
// rule. Each change's Breaks names the workloads that lose traffic.
//
// Where the cluster serves ClusterNetworkPolicy (live: discovery serves the
// kind; offline: the files hold the CRD clusternetworkpolicies.policy.networking.k8s.io
// or an object of the kind), those findings also offer an alternative
// (remedy.Remediation.Alternatives, baseline.go): one ClusterNetworkPolicy
// baseline-default-deny, tier Baseline, priority 1000, whose subject is every
// namespace but kube-system, kube-public and kube-node-lease (NotIn on
// kubernetes.io/metadata.name, so namespaces created later are covered too:
// a cluster's baseline, which namespace owners override with NetworkPolicies).
// Ingress: Deny from every pod (namespaces {}); a ClusterNetworkPolicy
// ingress peer names only pods, so ingress from outside the pod network is not
// denied. Egress: Accept to the cluster DNS on UDP and TCP 53, then Deny to
// 0.0.0.0/0 and ::/0. Priority 1000 is the last place of the tier, so every
// other Baseline policy is evaluated first and still decides what it matches.
// The tier decides only for pods no NetworkPolicy selects in a direction, so
// it fixes a namespace's finding unless a NetworkPolicy there admits every peer
// (no alternative on that finding). It is not offered when -n narrows the
// audit, when a BaselineAdminNetworkPolicy exists (its order against
// ClusterNetworkPolicy is undefined), when another Baseline policy holds
// priority 1000, or when baseline-default-deny exists already (proposing it
// again would undo a person's edit of it). Its Breaks lists the workloads of
// every namespace it covers that nothing isolates today.
package netpol

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Check IDs.
const (
	IDNamespaceWithoutPolicy    = "netpol/namespace-without-policy"
	IDNoDefaultDenyIngress      = "netpol/namespace-without-default-deny-ingress"
	IDNoDefaultDenyEgress       = "netpol/namespace-without-default-deny-egress"
	IDPodsNotIsolatedIngress    = "netpol/pods-not-isolated-ingress"
	IDPodsNotIsolatedEgress     = "netpol/pods-not-isolated-egress"
	IDPolicySelectsNoPod        = "netpol/policy-selects-no-pod"
	IDPolicyAllowsAll           = "netpol/policy-allows-all"
	IDInertRule                 = "netpol/inert-rule"
	IDEgressWithoutDNS          = "netpol/egress-without-dns"
	IDNoEnforcingCNIRecognised  = "netpol/cni-unknown"
	maxPodsInMessage            = 5
	namespaceAPIVersion         = "v1"
	networkPolicyAPIVersion     = "networking.k8s.io/v1"
	networkPolicyKind           = "NetworkPolicy"
	namespaceKind               = "Namespace"
	workloadsDescription        = "Counted per workload: a Deployment, StatefulSet, DaemonSet, CronJob (or a ReplicaSet, Job or ReplicationController nothing listed owns) with every pod it runs, judged by its pod template's labels, or a pod no listed controller runs; so manifests without pods are judged like the cluster. hostNetwork workloads (not enforceable) and finished pods and Jobs are not judged."
	systemNamespacesDescription = "kube-system, kube-public and kube-node-lease are left out (unless --include-system): their pods belong to the distribution, and a default deny there breaks DNS and the network plugin."
)

// systemNamespace reports whether the namespace belongs to the distribution.
// Namespace-level findings (no policy, no default deny) skip these unless
// --include-system asks for them; pod and policy findings still cover them
// once someone has written policies there.
func systemNamespace(inv *inventory.Inventory, ns string) bool { return inv.SkipsSystem(ns) }

// workloadNeeds are the kinds of the checks that count workloads, plus extra.
func workloadNeeds(extra ...inventory.Kind) []inventory.Kind {
	return append(append(append(append(extra, inventory.Pods, inventory.NetworkPolicies), WorkloadKinds()...), TierKinds()...), CNIKinds()...)
}

// TierKinds are the cluster-scoped network policy kinds every isolation
// verdict reads. They are optional (inventory.Kind.Optional): a cluster
// without their CRDs, or manifests without them, have none.
func TierKinds() []inventory.Kind {
	return []inventory.Kind{inventory.ClusterNetworkPolicies, inventory.AdminNetworkPolicies, inventory.BaselineAdminNetworkPolicies}
}

// Checks returns the netpol checks.
func Checks() []checks.Check {
	return []checks.Check{
		{
			ID: IDNamespaceWithoutPolicy, Domain: "netpol", Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Low, finding.Medium},
			Title:       "Namespace has no NetworkPolicy",
			Description: "Every pod of a namespace without NetworkPolicy accepts traffic from, and sends traffic to, anything. Low for a namespace with no workload (controller or pod) whose pods run on the pod network. " + systemNamespacesDescription,
			Remediation: "Add a default-deny NetworkPolicy for ingress and egress with a DNS allow, then allow what each workload needs; an ingress-only default deny is the gentler start.",
			Needs:       workloadNeeds(inventory.Namespaces),
			Run:         namespaceWithoutPolicy,
		},
		{
			ID: IDNoDefaultDenyIngress, Domain: "netpol", Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Low, finding.Medium},
			Title:       "Namespace has NetworkPolicies but no default-deny ingress",
			Description: "Pods no policy selects for ingress accept every connection, and so will every new pod; a namespace-wide policy that admits every peer on every port is no default deny. Only namespaces that have some NetworkPolicy are judged (the others get " + IDNamespaceWithoutPolicy + "); low when no workload runs there yet. " + systemNamespacesDescription,
			Remediation: "Add a NetworkPolicy with podSelector {} and policyTypes [Ingress] and no rules.",
			Needs:       workloadNeeds(inventory.Namespaces),
			Run: func(inv *inventory.Inventory) []finding.Finding {
				return noDefaultDeny(inv, networkingv1.PolicyTypeIngress)
			},
		},
		{
			ID: IDNoDefaultDenyEgress, Domain: "netpol", Severity: finding.Low,
			Title:       "Namespace has NetworkPolicies but no default-deny egress",
			Description: "Pods no policy selects for egress can connect anywhere, including the API server, cloud metadata endpoints and the internet. Only namespaces that have some NetworkPolicy are judged. " + systemNamespacesDescription,
			Remediation: "Add a NetworkPolicy with podSelector {} and policyTypes [Egress] together with an egress allow to the cluster DNS.",
			Needs:       workloadNeeds(inventory.Namespaces),
			Run: func(inv *inventory.Inventory) []finding.Finding {
				return noDefaultDeny(inv, networkingv1.PolicyTypeEgress)
			},
		},
		{
			ID: IDPodsNotIsolatedIngress, Domain: "netpol", Severity: finding.Medium,
			Title:       "Pods not isolated for ingress",
			Description: "No NetworkPolicy selects these workloads' pods for ingress, so they accept every connection, in a namespace that has NetworkPolicies. " + workloadsDescription,
			Remediation: "Add a default-deny ingress policy to the namespace, or a policy selecting these pods.",
			Needs:       workloadNeeds(),
			Run: func(inv *inventory.Inventory) []finding.Finding {
				return podsNotIsolated(inv, networkingv1.PolicyTypeIngress)
			},
		},
		{
			ID: IDPodsNotIsolatedEgress, Domain: "netpol", Severity: finding.Low,
			Title:       "Pods not isolated for egress",
			Description: "No NetworkPolicy selects these workloads' pods for egress, in a namespace that has NetworkPolicies: they can connect anywhere. " + workloadsDescription,
			Remediation: "Add a default-deny egress policy with a DNS allow to the namespace, or an egress policy selecting these pods.",
			Needs:       workloadNeeds(),
			Run: func(inv *inventory.Inventory) []finding.Finding {
				return podsNotIsolated(inv, networkingv1.PolicyTypeEgress)
			},
		},
		{
			ID: IDPolicySelectsNoPod, Domain: "netpol", Severity: finding.Low,
			Title:       "NetworkPolicy selects no pod",
			Description: "The policy's podSelector matches no pod and no pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job or CronJob in its namespace: it protects nothing, often because of a typo in a label. A namespace-wide policy (podSelector {}) is not reported: it is meant for every pod the namespace will run.",
			Remediation: "Fix the podSelector to match the intended pods' labels, or delete the policy.",
			Needs:       workloadNeeds(),
			Run:         policySelectsNoPod,
		},
		{
			ID: IDPolicyAllowsAll, Domain: "netpol", Severity: finding.Medium,
			Range:       [2]finding.Severity{finding.Low, finding.Medium},
			Title:       "NetworkPolicy isolates pods but allows every peer",
			Description: "A rule with no from/to, an empty peer, namespaceSelector {} or an ipBlock of 0.0.0.0/0 or ::/0 admits every peer, which undoes the isolation the policy creates. Medium when the rule also allows every port, low when it names ports. Egress rules limited to port 53 (DNS) are not reported.",
			Remediation: "Name the peers: a podSelector, a namespaceSelector on kubernetes.io/metadata.name, or a narrow ipBlock.",
			Needs:       []inventory.Kind{inventory.NetworkPolicies},
			Run:         policyAllowsAll,
		},
		{
			ID: IDInertRule, Domain: "netpol", Severity: finding.Low,
			Title:       "NetworkPolicy has rules for a direction not in policyTypes",
			Description: "Rules for a direction the policy's policyTypes does not list are ignored: the author meant to allow or restrict traffic and nothing happens.",
			Remediation: "Add the direction to policyTypes (which isolates the selected pods in it) or remove the rules.",
			Needs:       []inventory.Kind{inventory.NetworkPolicies},
			Run:         inertRules,
		},
		{
			ID: IDEgressWithoutDNS, Domain: "netpol", Severity: finding.Low,
			Title:       "Egress-isolated pods cannot resolve names",
			Description: "These workloads' pods are isolated for egress and no policy selecting them allows UDP 53 to the cluster DNS (kube-system pods k8s-app=kube-dns) or to an ipBlock: name lookups fail.",
			Remediation: "Add an egress allow to kube-system pods k8s-app=kube-dns on UDP and TCP 53.",
			Needs:       workloadNeeds(inventory.Namespaces),
			Run:         egressWithoutDNS,
		},
		{
			ID: IDNoEnforcingCNIRecognised, Domain: "netpol", Severity: finding.Info,
			Title:       "No NetworkPolicy-enforcing network plugin recognised",
			Description: "Without a network plugin that enforces NetworkPolicy, policies do nothing. None of calico, cilium, antrea, weave, kube-router, kube-ovn, ovn-kubernetes, azure-npm or GKE Dataplane V2 is visible in the inventory's DaemonSets and pods; this is reported as unknown, not as unenforced.",
			Remediation: "Confirm that the cluster's network plugin enforces NetworkPolicy, or install one that does.",
			Needs:       []inventory.Kind{inventory.Pods, inventory.DaemonSets},
			Cluster:     true,
			Run:         cniUnknown,
		},
	}
}

func namespaceResource(ns string) finding.Resource {
	return finding.Resource{APIVersion: namespaceAPIVersion, Kind: namespaceKind, Name: ns}
}

func policyResource(p *Policy) finding.Resource {
	return finding.Resource{APIVersion: networkPolicyAPIVersion, Kind: networkPolicyKind, Namespace: p.Namespace, Name: p.Name}
}

func namespaceWithoutPolicy(inv *inventory.Inventory) []finding.Finding {
	a := Analyze(inv)
	var out []finding.Finding
	for _, ns := range a.Namespaces {
		if systemNamespace(inv, ns) || a.governed(ns) {
			continue
		}
		s := a.namespaceState(ns)
		// An empty namespace exposes nothing yet, only every pod to come.
		msg := fmt.Sprintf("namespace %s has no NetworkPolicy: its %s %s and %s any traffic",
			ns, count(s.judged, s.noun()), verb(s.judged, "accepts", "accept"), verb(s.judged, "sends", "send"))
		sev := finding.Severity(0)
		if s.judged == 0 {
			msg, sev = fmt.Sprintf("namespace %s has no NetworkPolicy: every pod started in it will accept and send any traffic", ns), finding.Low
		}
		fix := DefaultDenyRemedy(a, ns)
		// Nothing isolates the namespace: the Baseline tier decides for all its pods.
		offerBaseline(inv, ns, fix)
		out = append(out, finding.Finding{
			Severity: sev,
			Message:  msg,
			Resource: namespaceResource(ns),
			Evidence: map[string]any{
				"workloads":          s.judged,
				"pods":               s.pods,
				"gentlerRemediation": IngressDenyRemedy(a, ns),
			},
			Remediation: fix,
		})
	}
	return out
}

func noDefaultDeny(inv *inventory.Inventory, dir networkingv1.PolicyType) []finding.Finding {
	a := Analyze(inv)
	word := strings.ToLower(string(dir))
	var out []finding.Finding
	for _, ns := range a.Namespaces {
		if systemNamespace(inv, ns) || !a.governed(ns) {
			continue
		}
		s := a.namespaceState(ns)
		open, openPods, deny, allowAll := s.direction(dir)
		if len(deny) > 0 {
			continue
		}
		fix := IngressDenyRemedy(a, ns)
		if dir == networkingv1.PolicyTypeEgress {
			fix = EgressDenyRemedy(a, ns)
		}
		if len(allowAll) == 0 {
			// A NetworkPolicy that admits everyone decides for every pod, and
			// the Baseline tier never sees them: only its removal fixes that.
			offerBaseline(inv, ns, fix)
		}
		evidence := map[string]any{
			"policies": len(a.NamespacePolicies(ns)), "workloads": s.judged, "pods": s.pods,
			"notIsolatedWorkloads": a.workloadRefs(open),
		}
		a.openPodsEvidence(evidence, open, openPods)
		if len(allowAll) > 0 {
			evidence["allowAll"] = a.policyRefs(allowAll)
		}
		if cps := a.namespaceClusterPolicies(ns); len(cps) > 0 {
			evidence["clusterPolicies"] = a.clusterPolicyRefs(cps)
		}
		// As for a namespace without policy: nothing is exposed yet, only pods to come.
		sev := finding.Severity(0)
		if s.judged == 0 {
			sev = finding.Low
		}
		msg := fmt.Sprintf("namespace %s has no default-deny %s policy: %s", ns, word, s.exposure(len(open), a.policyRefs(allowAll), word))
		if cnis := a.namespaceUnknownCNI(ns, dir, s.unknown(dir)); len(cnis) > 0 {
			// What the CNI's own policies do is unknown: say what is known, never "isolated".
			unknown := s.unknown(dir)
			msg = fmt.Sprintf("namespace %s has no default-deny %s NetworkPolicy or cluster-scoped policy; not modelled: %s %s in it, so whether %s a default deny is unknown",
				ns, word, strings.Join(a.cniRefs(cnis), ", "), verb(len(cnis), "acts", "act"), verb(len(cnis), "it is", "they are"))
			if len(unknown) > 0 {
				msg += fmt.Sprintf(", and so is the %s isolation of %s", word, count(len(unknown), s.noun()))
			}
			if len(open) > 0 {
				msg += fmt.Sprintf("; %d of its %s %s open for %s", len(open), count(s.judged, s.noun()), verb(len(open), "is", "are"), word)
			}
			evidence["notModelled"] = a.cniRefs(cnis)
			evidence["unknown"] = a.workloadRefs(unknown)
		}
		out = append(out, finding.Finding{
			Severity:    sev,
			Message:     msg,
			Resource:    namespaceResource(ns),
			Evidence:    evidence,
			Remediation: fix,
		})
	}
	return out
}

// exposure says, for a namespace without default deny in a direction, what
// is open today and that new pods will be: open counts the judged workloads
// no policy isolates, allowAll the namespace-wide policies that admit everyone.
func (s *namespaceState) exposure(open int, allowAll []string, word string) string {
	noun := s.noun()
	its := "its only " + noun
	if s.judged > 1 {
		its = "all " + count(s.judged, noun)
	}
	switch {
	case len(allowAll) > 0 && s.judged == 0:
		return fmt.Sprintf("%s %s every pod and %s every peer on every port, so every pod started in it will be open for %s",
			strings.Join(allowAll, ", "), verb(len(allowAll), "selects", "select"), verb(len(allowAll), "admits", "admit"), word)
	case len(allowAll) > 0:
		return fmt.Sprintf("%s %s every pod and %s every peer on every port, so %s and every new pod are open for %s",
			strings.Join(allowAll, ", "), verb(len(allowAll), "selects", "select"), verb(len(allowAll), "admits", "admit"), its, word)
	case s.judged == 0:
		return fmt.Sprintf("nothing in it runs on the pod network yet, and every pod started in it that no policy selects will be open for %s", word)
	case open == 0:
		return fmt.Sprintf("%s %s isolated for %s today, but every new pod that no policy selects will be open", its, verb(s.judged, "is", "are"), word)
	case open == s.judged:
		return fmt.Sprintf("%s %s open for %s, and so is every new pod that no policy selects", its, verb(s.judged, "is", "are"), word)
	}
	return fmt.Sprintf("%d of its %s %s open for %s, and so is every new pod that no policy selects", open, count(s.judged, noun), verb(open, "is", "are"), word)
}

func podsNotIsolated(inv *inventory.Inventory, dir networkingv1.PolicyType) []finding.Finding {
	a := Analyze(inv)
	word := strings.ToLower(string(dir))
	var out []finding.Finding
	for _, ns := range a.Namespaces {
		if !a.governed(ns) {
			continue
		}
		s := a.namespaceState(ns)
		open, openPods, _, _ := s.direction(dir)
		if len(open) == 0 {
			continue
		}
		out = append(out, finding.Finding{
			Message: fmt.Sprintf("%d of %s in namespace %s not isolated for %s: %s",
				len(open), count(s.judged, s.noun()), ns, word, shortList(a.workloadNames(open, s.onlyPods))),
			Resource: namespaceResource(ns),
			Evidence: a.openPodsEvidence(map[string]any{"workloads": a.workloadRefs(open), "judged": s.judged}, open, openPods),
		})
	}
	return out
}

// noun is what a namespace's counts are of: pods when every workload judged
// is a pod of its own (there is nothing else to count), else workloads.
func (s *namespaceState) noun() string {
	if s.onlyPods {
		return "pod"
	}
	return "workload"
}

// openPodsEvidence adds to e how many pods are open and, by name, the open
// pods that none of the open workloads runs (a pod whose labels differ from
// its template's): the pods of an open workload are named by the workload, so
// that a namespace of many replicas is not a list of every pod.
func (a *Analysis) openPodsEvidence(e map[string]any, open, openPods []int) map[string]any {
	e["openPods"] = len(openPods)
	run := map[int]bool{}
	for _, w := range open {
		for _, p := range a.Workloads[w].Pods {
			run[p] = true
		}
	}
	var others []string
	for _, i := range openPods {
		if !run[i] {
			others = append(others, a.Pods[i].Pod.Name)
		}
	}
	if len(others) > 0 {
		e["openPodsOutsideWorkloads"] = others
	}
	return e
}

// policyRefs names policies namespace/name.
func (a *Analysis) policyRefs(ps []int) []string {
	out := make([]string, 0, len(ps))
	for _, i := range ps {
		out = append(out, a.Policies[i].Ref())
	}
	return out
}

// workloadRefs names workloads kind/name (deployment/etl, pod/debug).
func (a *Analysis) workloadRefs(ws []int) []string {
	out := make([]string, 0, len(ws))
	for _, i := range ws {
		out = append(out, a.Workloads[i].Ref())
	}
	return out
}

// workloadNames names workloads for a message: by name alone when they are
// all pods (the message says so), else kind/name.
func (a *Analysis) workloadNames(ws []int, onlyPods bool) []string {
	if !onlyPods {
		return a.workloadRefs(ws)
	}
	out := make([]string, 0, len(ws))
	for _, i := range ws {
		out = append(out, a.Workloads[i].Name)
	}
	return out
}

// count writes "1 pod", "2 pods".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// verb picks the singular or plural form for n subjects.
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func shortList(names []string) string {
	if len(names) <= maxPodsInMessage {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxPodsInMessage], ", ") + fmt.Sprintf(" and %d more", len(names)-maxPodsInMessage)
}

func policySelectsNoPod(inv *inventory.Inventory) []finding.Finding {
	a := Analyze(inv)
	var out []finding.Finding
	for i := range a.Policies {
		p := &a.Policies[i]
		if p.SelectorError != nil {
			out = append(out, finding.Finding{
				Message:  fmt.Sprintf("NetworkPolicy %s has an invalid podSelector (%v): the API server rejects it, and it selects nothing", p.Ref(), p.SelectorError),
				Resource: policyResource(p),
			})
			continue
		}
		// podSelector {} is namespace-wide on purpose (a default deny, the
		// DNS allow): it is there for the pods to come, not a typo.
		if len(p.Selected) > 0 || len(p.SelectedWorkloads) > 0 || p.SelectsAll {
			continue
		}
		out = append(out, finding.Finding{
			Message:  fmt.Sprintf("NetworkPolicy %s selects no pod and no workload's pod template in namespace %s (podSelector %s)", p.Ref(), p.Namespace, selectorString(p)),
			Resource: policyResource(p),
			Evidence: map[string]any{"podSelector": p.Spec.PodSelector},
		})
	}
	return out
}

func selectorString(p *Policy) string {
	if p.SelectsAll {
		return "{}"
	}
	return metav1.FormatLabelSelector(&p.Spec.PodSelector)
}

func policyAllowsAll(inv *inventory.Inventory) []finding.Finding {
	a := Analyze(inv)
	var out []finding.Finding
	for i := range a.Policies {
		p := &a.Policies[i]
		var why []string
		allPorts := false
		for _, dir := range []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress} {
			word := strings.ToLower(string(dir))
			for j, r := range rulesOf(p, dir) {
				open := openPeers(r.peers)
				if len(open) == 0 {
					continue
				}
				ports := RulePorts(r.ports, nil)
				if dir == networkingv1.PolicyTypeEgress && onlyDNS(ports) {
					continue
				}
				portText := "every port"
				if isAllPorts(ports) {
					allPorts = true
				} else {
					portText = portsText(r.ports)
				}
				why = append(why, fmt.Sprintf("%s[%d] on %s: %s", word, j, portText, strings.Join(open, "; ")))
			}
		}
		if len(why) == 0 {
			continue
		}
		sev := finding.Low
		if allPorts {
			sev = finding.Medium
		}
		out = append(out, finding.Finding{
			Severity: sev,
			Message:  fmt.Sprintf("NetworkPolicy %s allows every peer: %s", p.Ref(), strings.Join(why, "; ")),
			Resource: policyResource(p),
			Evidence: map[string]any{"rules": why},
		})
	}
	return out
}

// onlyDNS reports whether a port set is within UDP/TCP 53 and not empty.
func onlyDNS(s PortSet) bool {
	if s.Empty() {
		return false
	}
	for proto, rs := range s {
		for _, r := range rs {
			if r.From != 53 || r.To != 53 || (proto != "UDP" && proto != "TCP") {
				return false
			}
		}
	}
	return true
}

func portsText(ports []networkingv1.NetworkPolicyPort) string {
	var out []string
	for _, p := range ports {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		switch {
		case p.Port == nil:
			out = append(out, proto+" every port")
		case p.EndPort != nil:
			out = append(out, fmt.Sprintf("%s %s-%d", proto, p.Port.String(), *p.EndPort))
		default:
			out = append(out, proto+" "+p.Port.String())
		}
	}
	return strings.Join(out, ", ")
}

func inertRules(inv *inventory.Inventory) []finding.Finding {
	a := Analyze(inv)
	var out []finding.Finding
	for i := range a.Policies {
		p := &a.Policies[i]
		var inert []string
		if len(p.Spec.Ingress) > 0 && !p.Types.Ingress {
			inert = append(inert, count(len(p.Spec.Ingress), "ingress rule"))
		}
		if len(p.Spec.Egress) > 0 && !p.Types.Egress {
			inert = append(inert, count(len(p.Spec.Egress), "egress rule"))
		}
		if len(inert) == 0 {
			continue
		}
		out = append(out, finding.Finding{
			Message: fmt.Sprintf("NetworkPolicy %s has %s that policyTypes %v does not list: they are ignored",
				p.Ref(), strings.Join(inert, " and "), p.Spec.PolicyTypes),
			Resource: policyResource(p),
			Evidence: map[string]any{"policyTypes": p.Spec.PolicyTypes, "inert": inert},
		})
	}
	return out
}

func egressWithoutDNS(inv *inventory.Inventory) []finding.Finding {
	a := Analyze(inv)
	targets := a.dnsTargets()
	dnsOK := make([]bool, len(a.Policies))
	for i := range a.Policies {
		dnsOK[i] = a.allowsDNS(&a.Policies[i], targets)
	}
	// withoutDNS reports whether isolating policies leave out DNS: isolated, and none allows it.
	withoutDNS := func(egress []int) bool {
		for _, pi := range egress {
			if dnsOK[pi] {
				return false
			}
		}
		return len(egress) > 0
	}
	// Where a cluster-scoped policy selects the pods for egress, every tier
	// decides whether they reach a DNS target on UDP 53.
	tieredWithoutDNS := func(iso *Isolation, name string) bool {
		if !a.IsolatedBy(iso, networkingv1.PolicyTypeEgress) {
			return false
		}
		self := &endpointRef{name: name, iso: &PodIsolation{Isolation: *iso}}
		for ti := range targets {
			t := &endpointRef{name: "kube-system DNS", peer: targets[ti]}
			if sd := a.tierSide(networkingv1.PolicyTypeEgress, self, t, &t.peer, corev1.ProtocolUDP, 53); sd.Allowed {
				return false
			}
		}
		return true
	}
	// Where Cilium or Calico policies (all evaluated) select the pod for
	// egress, they and NetworkPolicy decide whether it reaches DNS.
	cniWithoutDNS := func(iso *Isolation, pod *inventory.Pod) bool {
		if !a.IsolatedBy(iso, networkingv1.PolicyTypeEgress) {
			return false
		}
		self := &endpointRef{name: pod.Namespace + "/" + pod.Name, peer: PodPeer(pod, a.NamespaceLabels(pod.Namespace)), iso: &PodIsolation{Pod: pod, Isolation: *iso}}
		for ti := range targets {
			t := &endpointRef{name: "kube-system DNS", peer: targets[ti]}
			if sd := a.cniSideAt(networkingv1.PolicyTypeEgress, self, t, &t.peer, corev1.ProtocolUDP, 53); sd.Allowed || sd.Unknown {
				return false
			}
		}
		return true
	}
	without := func(iso *Isolation, name string, pod *inventory.Pod) bool {
		if a.UnknownIn(iso, networkingv1.PolicyTypeEgress) {
			return false // a Cilium or Calico policy decides: unknown, not claimed
		}
		if len(iso.CNIEgress) > 0 {
			return cniWithoutDNS(iso, pod)
		}
		if len(iso.TierEgress) > 0 {
			return tieredWithoutDNS(iso, name)
		}
		return withoutDNS(iso.Egress)
	}
	var out []finding.Finding
	for _, ns := range a.Namespaces {
		var workloads []int
		policies, tierPolicies := map[string]bool{}, map[string]bool{}
		onlyPods, byCNI := true, false
		for _, i := range a.NamespaceWorkloads(ns) {
			w := &a.Workloads[i]
			if w.Bucket != Judged || !without(&w.Isolation, w.Ref(), a.templatePod(i)) {
				continue
			}
			workloads = append(workloads, i)
			byCNI = byCNI || len(w.CNIEgress) > 0
			onlyPods = onlyPods && !w.Controlled()
			for _, pi := range w.Egress {
				policies[a.Policies[pi].Name] = true
			}
			for _, ci := range w.TierEgress {
				if a.ClusterPolicies[ci].canDeny(networkingv1.PolicyTypeEgress) {
					tierPolicies[a.ClusterPolicies[ci].Ref()] = true
				}
			}
		}
		if len(workloads) == 0 {
			continue
		}
		pods := []string{}
		for _, i := range a.NamespacePods(ns) {
			if p := &a.Pods[i]; p.Bucket == Judged && without(&p.Isolation, p.Ref(), p.Pod) {
				pods = append(pods, p.Pod.Name)
			}
		}
		noun := "workload"
		if onlyPods {
			noun = "pod"
		}
		out = append(out, finding.Finding{
			Message: fmt.Sprintf("%s in namespace %s isolated for egress without a DNS allow: %s",
				count(len(workloads), noun), ns, shortList(a.workloadNames(workloads, onlyPods))),
			Resource:    namespaceResource(ns),
			Evidence:    dnsEvidence(a.workloadRefs(workloads), pods, keys(policies), keys(tierPolicies)),
			Remediation: a.dnsRemedyOrNone(ns, keys(policies), byCNI),
		})
	}
	return out
}

// dnsRemedyOrNone is dnsRemedy, or nil where only cluster-scoped policies
// deny the egress (a NetworkPolicy cannot undo an Admin-tier deny), and a
// summary without changes where Cilium or Calico policies decide it: their
// deny rules (and Calico's earlier orders) win over a NetworkPolicy allow.
func (a *Analysis) dnsRemedyOrNone(ns string, policies []string, byCNI bool) *remedy.Remediation {
	if byCNI {
		return &remedy.Remediation{Summary: "Allow UDP and TCP 53 to the cluster DNS in the Cilium or Calico policies that select these pods for egress: a NetworkPolicy allow does not undo their deny rules."}
	}
	if r := a.dnsRemedy(ns, policies); len(r.Changes) > 0 {
		return r
	}
	return nil
}

// dnsEvidence is the evidence of egress-without-dns; clusterPolicies only
// where a cluster-scoped policy takes part.
func dnsEvidence(workloads, pods, policies, tierPolicies []string) map[string]any {
	e := map[string]any{"workloads": workloads, "pods": pods, "policies": policies}
	if len(tierPolicies) > 0 {
		e["clusterPolicies"] = tierPolicies
	}
	return e
}

func cniUnknown(inv *inventory.Inventory) []finding.Finding {
	c := DetectCNI(inv)
	if c.Status == CNIEnforcing {
		return nil
	}
	return []finding.Finding{{
		Message:  c.describe(),
		Resource: namespaceResource("kube-system"),
		Evidence: map[string]any{"status": string(c.Status), "other": c.Other, "seen": c.Evidence},
	}}
}
