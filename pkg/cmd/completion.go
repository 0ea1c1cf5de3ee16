package cmd

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// completionTimeout bounds the API call behind a namespace completion: a
// shell waiting on <TAB> for an unreachable cluster is worse than no answer.
const completionTimeout = 5 * time.Second

// registerCompletions completes the values of the flags that name things:
// check IDs from the registry, and namespaces, contexts, clusters and users
// read through the kubeconfig flags given so far on the command line (so
// `--context prod -n <TAB>` lists prod's namespaces). cobra's __complete,
// which the kubectl_complete-harden shim calls, already completes commands
// and flag names.
func registerCompletions(cmd *cobra.Command, o *AuditOptions) {
	// cobra's `completion bash|zsh|...` scripts complete the kubectl-harden
	// binary, not `kubectl harden`; under kubectl the shim is the way, so the
	// command stays available but out of the help.
	cmd.CompletionOptions.HiddenDefaultCmd = true
	_ = cmd.RegisterFlagCompletionFunc("namespace", o.completeNamespaces)
	_ = cmd.RegisterFlagCompletionFunc("context", o.completeKubeconfig(func(c *clientcmdapi.Config) []string { return slices.Collect(maps.Keys(c.Contexts)) }))
	_ = cmd.RegisterFlagCompletionFunc("cluster", o.completeKubeconfig(func(c *clientcmdapi.Config) []string { return slices.Collect(maps.Keys(c.Clusters)) }))
	_ = cmd.RegisterFlagCompletionFunc("user", o.completeKubeconfig(func(c *clientcmdapi.Config) []string { return slices.Collect(maps.Keys(c.AuthInfos)) }))
}

// completeCheckIDs offers every check ID (with its title as the description)
// and every domain prefix like "rbac/". The flags take comma-separated lists,
// so only the word after the last comma is completed, and IDs already chosen
// are not offered again.
func (o *AuditOptions) completeCheckIDs(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	reg, err := o.Registry()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	done, word := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, word = toComplete[:i+1], toComplete[i+1:]
	}
	chosen := append(append([]string(nil), o.Checks...), o.SkipChecks...)
	chosen = append(chosen, strings.Split(done, ",")...)
	var out []string
	offer := func(id, description string) {
		if strings.HasPrefix(id, word) && !slices.Contains(chosen, id) {
			out = append(out, done+id+"\t"+description)
		}
	}
	for _, d := range reg.Domains() {
		offer(d+"/", "every "+d+" check")
	}
	for _, c := range reg.All() {
		offer(c.ID, c.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces lists the cluster's namespaces, as `kubectl get -n <TAB>`
// does. Any error (no kubeconfig, unreachable server, forbidden) completes
// nothing rather than printing into the user's prompt.
func (o *AuditOptions) completeNamespaces(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if cfg.Timeout == 0 || cfg.Timeout > completionTimeout {
		cfg.Timeout = completionTimeout
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(commandContext(cmd), completionTimeout)
	defer cancel()
	list, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, ns := range list.Items {
		if strings.HasPrefix(ns.Name, toComplete) {
			out = append(out, ns.Name)
		}
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeKubeconfig lists names from the kubeconfig (--kubeconfig, else
// KUBECONFIG, else ~/.kube/config): contexts, clusters or users, as names
// picks them. It reads only the file and never contacts a server.
func (o *AuditOptions) completeKubeconfig(names func(*clientcmdapi.Config) []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, name := range names(&raw) {
			if strings.HasPrefix(name, toComplete) {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// commandContext is the command's context, or a background one when the
// command runs without one (cobra's __complete through Execute has one).
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// completeDomains completes the domain arguments of checks and fix.
func (o *AuditOptions) completeDomains(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	reg, err := o.Registry()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return reg.Domains(), cobra.ShellCompDirectiveNoFileComp
}
