package cmd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// CanReachOptions are the arguments of `kubectl harden netpol can-reach`.
type CanReachOptions struct {
	*AuditOptions

	Port string

	src, dst netpol.Endpoint
	port     *netpol.PortQuery
}

// CanReachList is what -o json|yaml prints.
type CanReachList struct {
	Source      string         `json:"source"`
	Destination string         `json:"destination"`
	Port        string         `json:"port,omitempty"`
	Items       []netpol.Reach `json:"items"`
}

func newCmdCanReach(o *AuditOptions) *cobra.Command {
	c := &CanReachOptions{AuditOptions: o}
	cmd := &cobra.Command{
		Use:   "can-reach SRC DST [--port PORT[/PROTOCOL]]",
		Short: "Say whether NetworkPolicy lets SRC connect to DST, and which policies decide it",
		Long: templates.LongDesc(`
			Say whether NetworkPolicy allows a connection from SRC to DST, and which
			policies decide it. A connection needs both the source's egress and the
			destination's ingress: each side is open when no policy isolates the pod
			in that direction, and otherwise allowed only by a rule that admits the
			other end on the port.

			SRC and DST are NAMESPACE/POD, POD (in the -n namespace), NAMESPACE/* (each
			Running or Pending pod of the namespace), a workload as NAMESPACE/KIND/NAME or
			KIND/NAME (in the -n namespace), or an IP address outside the cluster. KIND is
			deployment, statefulset, daemonset, replicaset, replicationcontroller, job or
			cronjob, or a kubectl short name (deploy, sts, ds, rs, rc, cj); a workload stands
			for a pod made from its template (its labels, named ports and hostNetwork), so
			manifests that hold only controllers can be asked too. A pod in a namespace
			named like a kind is NAMESPACE/pod/NAME.
			PORT is a number or a container port name of the destination; PROTOCOL
			is TCP (default), UDP or SCTP. Without --port, the ports both sides allow are
			listed. Pod IPs are matched against ipBlock rules when the cluster reports them;
			a workload's template has no address, so ipBlock rules never match it.

			The answer is what the policies say. Whether they are enforced depends on the
			network plugin; pods with hostNetwork are outside NetworkPolicy in most plugins.`),
		Example: templates.Examples(`
			# May the reports pod of namespace legacy reach the node debugger on 8080/TCP?
			kubectl harden netpol can-reach legacy/reports legacy/node-debugger --port 8080

			# Which ports may any pod of namespace legacy open to the reports pod?
			kubectl harden netpol can-reach 'legacy/*' legacy/reports

			# Can an outside address reach the reports pod on 443/TCP, from manifests
			kubectl harden netpol can-reach 203.0.113.7 legacy/reports --port 443 -f ./deploy

			# May the etl Deployment's pods open 8080/TCP to the storefront Deployment's?
			kubectl harden netpol can-reach analytics/deployment/etl deploy/storefront -n shop --port 8080`),
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.Complete(args); err != nil {
				return err
			}
			if err := c.Validate(); err != nil {
				return err
			}
			return c.Run(cmd)
		},
	}
	cmd.Flags().StringVar(&c.Port, "port", "", "The destination port: NUMBER or NAME, with /TCP, /UDP or /SCTP (default TCP)")
	o.addOutputFlag(cmd, output.ListFormats())
	o.addInputFlags(cmd)
	o.addRefusedFlags(cmd, "contexts")
	return cmd
}

// Complete reads the endpoints, the port and the default namespace.
func (c *CanReachOptions) Complete(args []string) error {
	ns := c.AuditOptions.DefaultNamespace()
	var err error
	if c.src, err = netpol.ParseEndpoint(args[0], ns); err != nil {
		return fmt.Errorf("SRC: %w", err)
	}
	if c.dst, err = netpol.ParseEndpoint(args[1], ns); err != nil {
		return fmt.Errorf("DST: %w", err)
	}
	if c.Port != "" {
		q, err := netpol.ParsePortQuery(c.Port)
		if err != nil {
			return fmt.Errorf("--port: %w", err)
		}
		c.port = &q
	}
	// -n only names the default namespace of SRC and DST: peers in other
	// namespaces decide too, so the whole cluster is read.
	c.AllNamespaces = true
	return nil
}

// Validate checks the request before the cluster is read.
func (c *CanReachOptions) Validate() error {
	if c.src.IP.IsValid() && c.dst.IP.IsValid() {
		return fmt.Errorf("SRC and DST are both addresses outside the cluster: NetworkPolicy has nothing to say")
	}
	return validateListOutput("netpol can-reach", c.Output)
}

// Run reads pods, namespaces and policies and prints the verdicts.
func (c *CanReachOptions) Run(cmd *cobra.Command) error {
	// A workload endpoint needs its controllers' list besides.
	workloads := netpol.EndpointKinds(c.src, c.dst)
	kinds := append(append(append([]inventory.Kind{inventory.Namespaces, inventory.Pods, inventory.NetworkPolicies, inventory.DaemonSets}, netpol.TierKinds()...), netpol.CNIKinds()...), workloads...)
	inv, err := c.LoadInventory(cmd.Context(), kinds)
	if err != nil {
		return err
	}
	// DaemonSets only help recognise the network plugin (unless an endpoint
	// names one); the rest decide the answer.
	need := append(append(append([]inventory.Kind{inventory.Namespaces, inventory.Pods, inventory.NetworkPolicies}, netpol.TierKinds()...), netpol.CNIKinds()...), workloads...)
	if err := requireKinds(inv, need, "can-reach needs every pod, namespace and NetworkPolicy, and the workloads it is asked about"); err != nil {
		return err
	}
	reaches, err := netpol.CanReach(inv, c.src, c.dst, c.port)
	if err != nil {
		return err
	}
	list := CanReachList{Source: c.src.String(), Destination: c.dst.String(), Items: reaches}
	if c.port != nil {
		list.Port = c.port.String()
	}
	// -o name: one line a pair, SOURCE DESTINATION, as the table's first columns.
	names := make([]string, len(reaches))
	for i, r := range reaches {
		names[i] = r.Source + " " + r.Destination
	}
	if done, err := printList(c.Out, "netpol can-reach", c.Output, output.List{Document: list, Names: names}); done || err != nil {
		return err
	}
	return c.printTable(reaches)
}

func (c *CanReachOptions) printTable(reaches []netpol.Reach) error {
	wide := c.Output == "wide"
	headers := []string{"SOURCE", "DESTINATION", "PORT", "ALLOWED", "EGRESS", "INGRESS"}
	if wide {
		headers = append(headers, "EGRESS REASON", "INGRESS REASON")
	}
	rows := make([][]string, 0, len(reaches))
	notes := map[string]bool{}
	for _, r := range reaches {
		port := r.Port
		if port == "" {
			port = strings.Join(r.AllowedPorts, ",")
			if len(r.UnknownPorts) > 0 {
				port = strings.TrimPrefix(port+",unknown: "+strings.Join(r.UnknownPorts, ","), ",")
			}
			if port == "" {
				port = "none"
			}
		}
		allowed := yesNo(r.Allowed)
		if r.Unknown {
			allowed = "unknown"
		}
		row := []string{r.Source, r.Destination, port, allowed, sideCell(r.Egress), sideCell(r.Ingress)}
		if wide {
			row = append(row, r.Egress.Reason, r.Ingress.Reason)
		}
		rows = append(rows, row)
		for _, n := range r.Notes {
			notes[n] = true
		}
	}
	if err := output.Columns(c.Out, headers, rows); err != nil {
		return err
	}
	var ns []string
	for n := range notes {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	for _, n := range ns {
		fmt.Fprintln(c.ErrOut, "Note: "+n)
	}
	return nil
}

// sideCell summarises one direction: open, or the rules that allow, or the policies that deny.
func sideCell(s netpol.Side) string {
	switch {
	case s.Unknown:
		return "unknown: " + s.DecidedBy
	case s.DecidedBy == "default":
		return "allowed by default"
	case s.DecidedBy != "" && s.DecidedBy != "NetworkPolicy" && !s.Allowed:
		return "denied by " + s.DecidedBy
	case !s.Isolated:
		return "not isolated"
	case s.Allowed:
		return "allowed by " + strings.Join(s.Allowing, ", ")
	}
	return "denied by " + strings.Join(s.Policies, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
