package psa

import (
	"fmt"

	"k8s.io/pod-security-admission/api"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Impact says what giving the namespace these labels (all of them, as the
// object a server-side apply leaves) may break: the workloads whose new pods
// the enforce level they set would reject, the way a remedy's Breaks says it.
// A warn or audit level rejects nothing.
func Impact(inv *inventory.Inventory, namespace string, labels map[string]string) []string {
	a := Analyze(inv)
	a.mu.Lock()
	defer a.mu.Unlock()
	st, ok := a.byNS[namespaceOf(namespace)]
	if !ok {
		return nil
	}
	def := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	policy, errs := api.PolicyToEvaluate(labels, api.Policy{Enforce: def, Audit: def, Warn: def})
	if len(errs) > 0 {
		return []string{fmt.Sprintf("the Pod Security labels do not parse (%v): the API server rejects the change", errs)}
	}
	var out []string
	for _, w := range st.workloads {
		for _, b := range a.failing(w, policy.Enforce) {
			out = append(out, fmt.Sprintf("new pods of %s would be rejected: %s", b.Object, b.Reason))
		}
	}
	return out
}
