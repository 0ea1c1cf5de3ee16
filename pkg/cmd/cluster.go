package cmd

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"
)

var clusterLong = templates.LongDesc(`
	Audit control-plane settings visible through the API, webhooks and legacy tokens:
	the flags of kubeadm-style control-plane pods (unknown, never passing, where the
	control plane runs outside the cluster), anonymous access, encryption at rest,
	certificates, admission webhooks that fail open and image signature verification.

	With --kubelet it also reads each node's kubelet configuration, as the kubelet runs
	with it, from the kubelet's /configz through the API server's node proxy
	(GET /api/v1/nodes/NAME/proxy/configz), and judges it as CIS 4.2.x says: anonymous
	auth, authorization mode, client CA, read-only port, streaming idle timeout, iptables
	chains, event QPS, serving certificate and its rotation, client certificate rotation,
	cipher suites, pod PID limit, seccomp default and protect-kernel-defaults. It needs
	list on nodes and get on nodes/proxy; 'kubectl harden auditor-role' leaves nodes/proxy
	out (see its help). A node whose kubelet cannot be read (forbidden, unreachable) makes
	those settings unknown for that node, with the reason. Without --kubelet they are unknown.
	Every fix is a change on the node (the kubelet's config file or flags): the findings
	say which, marked manual.`)

var clusterExample = templates.Examples(`
	# The cluster checks on the current cluster
	kubectl harden cluster

	# Also each node's kubelet settings, with the CIS scorecard (needs get on nodes/proxy)
	kubectl harden cluster --kubelet --framework cis

	# As JSON, for scripts: the kubelets' settings are in the report's coverage
	kubectl harden cluster --kubelet -o json`)

// configureCluster gives the cluster audit command its help and --kubelet.
func configureCluster(o *AuditOptions, cmd *cobra.Command) {
	cmd.Long, cmd.Example = clusterLong, clusterExample
	o.addKubeletFlag(cmd)
}
