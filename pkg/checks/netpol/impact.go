package netpol

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Impact says what a change to a namespace's NetworkPolicies may break,
// comparing the inventory before it with the inventory after (the changed
// policy in place): the running workloads it isolates in a direction no
// policy isolated before lose all traffic that way, except what the rules of
// the policies now selecting them admit. It is what a default-deny remedy's
// Breaks says, for any policy, so an edited remedy is judged as it is.
// Workloads isolated before are not judged again (their reach may still shrink).
func Impact(before, after *inventory.Inventory, ns string) []string {
	a, b := Analyze(before), Analyze(after)
	was := map[string]*Workload{}
	for _, i := range a.NamespaceWorkloads(ns) {
		w := &a.Workloads[i]
		was[w.Kind+"/"+w.Name] = w
	}
	var out []string
	for _, i := range b.NamespaceWorkloads(ns) {
		w := &b.Workloads[i]
		if w.Bucket != Judged {
			continue
		}
		old := was[w.Kind+"/"+w.Name]
		for _, dir := range []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress} {
			if !w.Isolated(dir) || (old != nil && old.Isolated(dir)) {
				continue
			}
			var admitting []int
			for _, pi := range w.In(dir) {
				if len(rulesOf(&b.Policies[pi], dir)) > 0 {
					admitting = append(admitting, pi)
				}
			}
			line := strings.ToLower(w.Kind) + " " + w.Namespace + "/" + w.Name + " loses all " + strings.ToLower(string(dir))
			if len(admitting) > 0 {
				line += " except what " + strings.Join(b.policyRefs(admitting), ", ") + " admits"
			}
			out = append(out, line)
		}
	}
	return out
}
