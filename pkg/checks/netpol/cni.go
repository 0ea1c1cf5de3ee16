package netpol

import (
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// CNIStatus says what the inventory shows about NetworkPolicy enforcement.
type CNIStatus string

const (
	// CNIEnforcing: a node agent of a plugin that enforces NetworkPolicy runs.
	CNIEnforcing CNIStatus = "enforcing"
	// CNIUnknown: no such agent is visible. The plugin may still enforce
	// policy (a managed dataplane, an unlisted plugin, agents outside the
	// inventory's namespaces), so this is never reported as "not enforcing".
	CNIUnknown CNIStatus = "unknown"
)

// CNI is what the inventory shows of the cluster's network plugins.
type CNI struct {
	Status CNIStatus `json:"status"`
	// Enforcing names the NetworkPolicy-enforcing plugins recognised.
	Enforcing []string `json:"enforcing,omitempty"`
	// Other names recognised plugins that do not enforce NetworkPolicy by themselves.
	Other []string `json:"other,omitempty"`
	// Evidence names the objects the plugins were recognised by.
	Evidence []string `json:"evidence,omitempty"`
}

// cniAgent maps a node agent's DaemonSet name (also its pods' k8s-app label)
// to the plugin it belongs to, and whether that plugin enforces NetworkPolicy.
type cniAgent struct {
	plugin    string
	enforcing bool
}

func cniAgents() map[string]cniAgent {
	return map[string]cniAgent{
		"calico-node":     {"calico", true},
		"canal":           {"canal (calico)", true},
		"cilium":          {"cilium", true},
		"anetd":           {"GKE Dataplane V2 (cilium)", true},
		"antrea-agent":    {"antrea", true},
		"weave-net":       {"weave", true},
		"kube-router":     {"kube-router", true},
		"azure-npm":       {"azure-npm", true},
		"kube-ovn-cni":    {"kube-ovn", true},
		"ovnkube-node":    {"ovn-kubernetes", true},
		"romana-agent":    {"romana", true},
		"kube-flannel-ds": {"flannel", false},
		"kube-flannel":    {"flannel", false},
		// The AWS VPC CNI enforces policy only when its network policy agent is enabled,
		// which its DaemonSet's arguments decide; it is not counted as enforcing.
		"aws-node": {"aws-vpc-cni", false},
	}
}

// DetectCNI recognises network plugins by their node agents: DaemonSets, and
// pods owned by a DaemonSet or labelled k8s-app, in any namespace (operators
// install them outside kube-system, e.g. calico-system).
func DetectCNI(inv *inventory.Inventory) CNI {
	agents := cniAgents()
	enforcing, other, evidence := map[string]bool{}, map[string]bool{}, map[string]bool{}
	note := func(name, what string) {
		ag, ok := agents[name]
		if !ok {
			return
		}
		if ag.enforcing {
			enforcing[ag.plugin] = true
		} else {
			other[ag.plugin] = true
		}
		evidence[what] = true
	}
	for i := range inv.DaemonSets {
		ds := &inv.DaemonSets[i]
		note(ds.Name, "daemonset "+ds.Namespace+"/"+ds.Name)
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if owner := daemonSetOwner(p); owner != "" {
			note(owner, "pods of daemonset "+p.Namespace+"/"+owner)
		}
		if app := p.Labels["k8s-app"]; app != "" {
			note(app, "pods labelled k8s-app="+app+" in "+p.Namespace)
		}
	}
	c := CNI{Status: CNIUnknown, Enforcing: keys(enforcing), Other: keys(other), Evidence: keys(evidence)}
	if len(c.Enforcing) > 0 {
		c.Status = CNIEnforcing
	}
	return c
}

func daemonSetOwner(p *inventory.Pod) string {
	if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == "DaemonSet" {
		return ref.Name
	}
	return ""
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Clip(out)
}

// describe says in a sentence what is known, for messages.
func (c CNI) describe() string {
	if c.Status == CNIEnforcing {
		return "NetworkPolicy is enforced by " + strings.Join(c.Enforcing, ", ")
	}
	if len(c.Other) > 0 {
		return "found " + strings.Join(c.Other, ", ") + ", which does not enforce NetworkPolicy by itself, and no plugin that does: whether NetworkPolicy is enforced is unknown"
	}
	return "no NetworkPolicy-enforcing network plugin (calico, cilium, antrea, weave, kube-router, ...) is visible: whether NetworkPolicy is enforced is unknown"
}
