package cmd

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// WhoCanOptions are the arguments of `kubectl harden rbac who-can`.
type WhoCanOptions struct {
	*AuditOptions

	Verb        string
	Resource    string // RESOURCE[.GROUP], or a non-resource URL starting with /
	Subresource string
	Name        string
	// Namespace is the request's namespace, or rbac.AnyNamespace without -n.
	Namespace string
}

// WhoCanList is what -o json|yaml prints.
type WhoCanList struct {
	Verb        string        `json:"verb"`
	Resource    string        `json:"resource"`
	Subresource string        `json:"subresource,omitempty"`
	Name        string        `json:"name,omitempty"`
	Namespace   string        `json:"namespace,omitempty"`
	Items       []rbac.Access `json:"items"`
}

func newCmdWhoCan(o *AuditOptions) *cobra.Command {
	w := &WhoCanOptions{AuditOptions: o}
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE[/SUBRESOURCE] [NAME]",
		Short: "List every subject RBAC allows a request, and the binding that allows it",
		Long: templates.LongDesc(`
			List every user, group and service account that RBAC allows to make a request,
			with the binding, role and rule that allow it, the way the API server's
			authorizer decides.

			Without -n, a subject counts when it may make the request in at least one
			namespace; with -n, only in that namespace. RESOURCE may carry its API group
			(deployments.apps); a resource starting with / is a non-resource URL.
			Group system:masters is allowed everything without RBAC, and its members
			cannot be seen through the API.`),
		Example: templates.Examples(`
			# Who can read Secrets in namespace shop
			kubectl harden rbac who-can get secrets -n shop

			# Who can exec into pod web-0 of namespace shop
			kubectl harden rbac who-can create pods/exec web-0 -n shop

			# Who can write admission webhooks, as JSON
			kubectl harden rbac who-can update mutatingwebhookconfigurations.admissionregistration.k8s.io -o json

			# From manifests, offline
			kubectl harden rbac who-can impersonate serviceaccounts -f ./rbac`),
		Args:              cobra.RangeArgs(2, 3),
		ValidArgsFunction: w.completeWhoCan,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := w.Complete(args); err != nil {
				return err
			}
			if err := w.Validate(); err != nil {
				return err
			}
			return w.Run(cmd)
		},
	}
	o.addOutputFlag(cmd, output.ListFormats())
	o.addInputFlags(cmd)
	o.addRefusedFlags(cmd, "contexts")
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Any namespace (the default unless -n is given)")
	return cmd
}

// Complete reads the arguments and the namespace.
func (w *WhoCanOptions) Complete(args []string) error {
	w.Verb = args[0]
	w.Resource, w.Subresource, _ = strings.Cut(args[1], "/")
	if strings.HasPrefix(args[1], "/") {
		w.Resource, w.Subresource = args[1], ""
	}
	if len(args) == 3 {
		w.Name = args[2]
	}
	ns := w.AuditOptions.Namespace()
	w.Namespace = ns
	if ns == "" {
		w.Namespace = rbac.AnyNamespace
	}
	return nil
}

// Validate checks the request before the cluster is read.
func (w *WhoCanOptions) Validate() error {
	if !strings.HasPrefix(w.Resource, "/") {
		if _, _, _, err := rbac.ParseResource(w.Resource); err != nil {
			return err
		}
	}
	return validateListOutput("rbac who-can", w.Output)
}

// rbacKinds are what who-can reads.
var rbacKinds = []inventory.Kind{inventory.ClusterRoleBindings, inventory.RoleBindings, inventory.ClusterRoles, inventory.Roles}

// Run reads the RBAC objects and prints who can.
func (w *WhoCanOptions) Run(cmd *cobra.Command) error {
	inv, err := w.LoadInventory(cmd.Context(), rbacKinds)
	if err != nil {
		return err
	}
	if err := requireKinds(inv, rbacKinds, "who-can needs to read every role and binding"); err != nil {
		return err
	}
	acc, err := rbac.WhoCan(inv, w.Verb, w.Resource, w.Subresource, w.Name, w.Namespace)
	if err != nil {
		return err
	}
	w.warnUnknownScope(inv)
	if err := w.checkVerb(inv); err != nil {
		return err
	}
	list := WhoCanList{Verb: w.Verb, Resource: w.Resource, Subresource: w.Subresource, Name: w.Name, Items: acc}
	if w.Namespace != rbac.AnyNamespace {
		list.Namespace = w.Namespace
	}
	if list.Items == nil {
		list.Items = []rbac.Access{}
	}
	names := make([]string, len(acc))
	for i, a := range acc {
		names[i] = subjectName(a.Subject)
	}
	if done, err := printList(w.Out, "rbac who-can", w.Output, output.List{Document: list, Names: names}); done || err != nil {
		return err
	}
	if len(acc) == 0 {
		fmt.Fprintf(w.ErrOut, "No subject can %s (apart from group system:masters, which bypasses RBAC).\n", w.describe())
		return nil
	}
	headers := []string{"SUBJECT", "SCOPE", "BINDING", "ROLE"}
	if w.Output == "wide" {
		headers = append(headers, "RULES")
	}
	rows := make([][]string, 0, len(acc))
	for _, a := range acc {
		row := []string{a.Subject.String(), a.Scope, a.Binding, a.Role}
		if w.Output == "wide" {
			row = append(row, strings.Join(a.Rules, "; "))
		}
		rows = append(rows, row)
	}
	if err := output.Columns(w.Out, headers, rows); err != nil {
		return err
	}
	fmt.Fprintln(w.ErrOut, "Group system:masters can also do this: it bypasses RBAC, and its members cannot be listed through the API.")
	return nil
}

// authorizationVerbs are verbs RBAC checks that no API resource serves:
// discovery never lists them, so they are not refused.
var authorizationVerbs = map[string]bool{"*": true, "escalate": true, "bind": true, "impersonate": true,
	"approve": true, "sign": true, "attest": true, "use": true}

// checkVerb refuses, live, a verb the resource does not serve, as the question
// would then have no request behind it: "who can exec pods" is "create pods/exec".
func (w *WhoCanOptions) checkVerb(inv *inventory.Inventory) error {
	if strings.HasPrefix(w.Resource, "/") || authorizationVerbs[w.Verb] {
		return nil
	}
	group, resource, sub, err := rbac.ParseResource(w.Resource)
	if err != nil || resource == "*" {
		return nil
	}
	if w.Subresource != "" {
		sub = w.Subresource
	}
	name := resource
	if sub != "" {
		name += "/" + sub
	}
	verbs, known := inv.Verbs[schema.GroupResource{Group: group, Resource: name}]
	if !known || len(verbs) == 0 || slices.Contains(verbs, w.Verb) {
		return nil
	}
	what := resource
	if group != "" {
		what += "." + group
	}
	if sub != "" {
		what += "/" + sub
	}
	return fmt.Errorf("%s does not serve the verb %q (the API server serves %s for it), so no request asks it: no subject can", what, w.Verb, strings.Join(verbs, ", "))
}

// warnUnknownScope says when whether the resource is namespaced is not known,
// since a RoleBinding grants a namespaced resource but never a cluster-scoped one.
func (w *WhoCanOptions) warnUnknownScope(inv *inventory.Inventory) {
	if strings.HasPrefix(w.Resource, "/") {
		return
	}
	group, resource, _, err := rbac.ParseResource(w.Resource)
	if err != nil || rbac.Analyze(inv).ScopeKnown(group, resource) {
		return
	}
	why := "the API server does not serve it"
	if inv.Offline {
		why = "no CustomResourceDefinition for it in the input"
	}
	fmt.Fprintf(w.ErrOut, "Warning: whether %s is namespaced is unknown (%s): RoleBindings are counted as granting it in their namespace, which they would not for a cluster-scoped resource.\n", w.Resource, why)
}

func (w *WhoCanOptions) describe() string {
	s := w.Verb + " " + w.Resource
	if w.Subresource != "" {
		s += "/" + w.Subresource
	}
	if w.Name != "" {
		s += " " + w.Name
	}
	if w.Namespace != rbac.AnyNamespace && w.Namespace != "" {
		s += " in namespace " + w.Namespace
	}
	return s
}

// whoCanVerbs are the verbs who-can completes: the API's own, RBAC's
// escalation verbs, impersonation and the certificate signers'.
var whoCanVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
	"escalate", "bind", "impersonate", "approve", "sign", "attest", "use", "*"}

// completeWhoCan offers verbs for the first argument and resources for the
// second: from the server's discovery when a cluster is reachable (and -f
// is not given), else from the table of built-in resources.
func (w *WhoCanOptions) completeWhoCan(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return filterPrefix(whoCanVerbs, toComplete), cobra.ShellCompDirectiveNoFileComp
	case 1:
		var names []string
		if len(w.Filenames) == 0 {
			names = w.discoveredResources()
		}
		if names == nil {
			names = rbac.BuiltinResourceNames()
		}
		return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// discoveredResources are the server's resources and subresources as
// who-can takes them (pods, pods/exec, deployments.apps); nil when the
// server cannot be asked.
func (w *WhoCanOptions) discoveredResources() []string {
	// Not kubectl's cached discovery: a CRD installed a minute ago is offered.
	cfg, err := w.RESTConfig()
	if err != nil {
		cobra.CompDebugln("who-can: "+err.Error(), true)
		return nil
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		cobra.CompDebugln("who-can: "+err.Error(), true)
		return nil
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		cobra.CompDebugln("who-can: "+err.Error(), true)
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		group, _, found := strings.Cut(l.GroupVersion, "/")
		if !found {
			group = ""
		}
		for _, r := range l.APIResources {
			name, sub, _ := strings.Cut(r.Name, "/")
			if group != "" {
				name += "." + group
			}
			if sub != "" {
				name += "/" + sub
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func filterPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
