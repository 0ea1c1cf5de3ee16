package cmd

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// The dump lists what the server serves: an add-on's kinds only where
// installed, Calico's policies from one of its two groups, Secrets only when
// asked, and the CRDs last.
func TestDumpResources(t *testing.T) {
	gr := func(s string) schema.GroupResource { return schema.ParseGroupResource(s) }
	served := map[schema.GroupResource]bool{}
	for _, s := range []string{"pods", "secrets", "namespaces", "deployments.apps", "networkpolicies.networking.k8s.io",
		"networkpolicies.projectcalico.org", "networkpolicies.crd.projectcalico.org", "customresourcedefinitions.apiextensions.k8s.io"} {
		served[gr(s)] = true
	}
	kinds := []inventory.Kind{inventory.Namespaces, inventory.Pods, inventory.Secrets, inventory.Deployments, inventory.NetworkPolicies,
		inventory.ClusterNetworkPolicies, inventory.CiliumNetworkPolicies, inventory.CalicoNetworkPolicies, inventory.AnonymousAccess}
	got := strings.Join(DumpResources(kinds, served, false), ",")
	want := "namespaces,pods,deployments.apps,networkpolicies.networking.k8s.io,networkpolicies.projectcalico.org,customresourcedefinitions.apiextensions.k8s.io"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !slices.Contains(DumpResources(kinds, served, true), "secrets") {
		t.Error("--with-secrets: no secrets")
	}
}
