package netpol

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Who decided a direction, when no cluster-scoped policy did (Side.DecidedBy).
const (
	decidedByNetworkPolicy = "NetworkPolicy"
	decidedByDefault       = "default"
)

// decide judges one direction for self towards other, through every tier.
// A pod no cluster-scoped policy selects for the direction is judged by
// NetworkPolicy alone, exactly as side does. It returns the verdict and, when
// no port was asked, the ports allowed and the ports whose verdict is unknown.
func (a *Analysis) decide(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, q *PortQuery, number int32) (Side, PortSet, PortSet) {
	if self.iso != nil && a.UnknownIn(&self.iso.Isolation, dir) {
		// A Cilium or Calico policy the tool does not evaluate selects it.
		return a.cniSide(dir, self), nil, AllPorts()
	}
	if self.iso != nil && len(self.iso.CNI(dir)) > 0 {
		// Cilium or Calico policies select it, all of them in the modelled subset.
		return a.cniDecide(dir, self, other, dst, q, number)
	}
	if self.iso == nil || len(self.iso.Tiers(dir)) == 0 {
		sd, ports := a.side(dir, self, other, dst, q, number)
		return sd, ports, nil
	}
	if q != nil {
		return a.tierSide(dir, self, other, dst, q.Protocol, number), nil, nil
	}
	// No port asked: the verdict is the same between two consecutive bounds
	// of any rule's ports, so one port per segment decides the whole segment.
	bounds := map[corev1.Protocol][]int32{}
	addSet := func(s PortSet) {
		for proto, rs := range s {
			for _, r := range rs {
				bounds[proto] = append(bounds[proto], r.From, r.To+1)
			}
		}
	}
	_, v1 := a.side(dir, self, other, dst, nil, 0)
	addSet(v1)
	for _, ci := range self.iso.Tiers(dir) {
		for _, r := range a.ClusterPolicies[ci].rules(dir) {
			addSet(r.portSet(dst))
		}
	}
	sd, allowed, unknown := a.segmented(bounds, func(proto corev1.Protocol, port int32) Side {
		return a.tierSide(dir, self, other, dst, proto, port)
	})
	sd.Isolated = a.IsolatedBy(&self.iso.Isolation, dir)
	return sd, allowed, unknown
}

// tierSide judges one direction on one port in the order Admin tier,
// NetworkPolicy, Baseline tier, default allow.
func (a *Analysis) tierSide(dir networkingv1.PolicyType, self, other *endpointRef, dst *Peer, proto corev1.Protocol, port int32) Side {
	word := strings.ToLower(string(dir))
	tiers := self.iso.Tiers(dir)
	isolated := a.IsolatedBy(&self.iso.Isolation, dir)
	var v1Refs []string
	for _, pi := range self.iso.In(dir) {
		v1Refs = append(v1Refs, a.Policies[pi].Ref())
	}
	what := fmt.Sprintf("%s on %d/%s", other.name, port, proto)

	verdict := func(d tierDecision, after string) (Side, bool) {
		if len(d.ambiguous) > 0 {
			var refs, actions []string
			for _, ci := range d.ambiguous {
				cp := &a.ClusterPolicies[ci]
				refs = append(refs, cp.Ref())
				ri, _ := cp.firstMatch(dir, &other.peer, dst, proto, port)
				actions = append(actions, string(cp.rules(dir)[ri].Action))
			}
			return Side{Isolated: isolated, Unknown: true, DecidedBy: strings.Join(refs, ", "),
				Reason: fmt.Sprintf("unknown: %s match %s with different actions (%s) at equal priority, which the API leaves undefined",
					strings.Join(refs, " and "), what, strings.Join(actions, ", "))}, true
		}
		if d.action != ActionAccept && d.action != ActionDeny {
			return Side{}, false
		}
		cp := &a.ClusterPolicies[d.policy]
		r := cp.rules(dir)[d.rule]
		by := cp.Ref() + " " + r.describe(dir)
		if d.action == ActionAccept {
			return Side{Isolated: isolated, Allowed: true, Allowing: []string{by}, DecidedBy: by, Reason: "allowed by " + by + after}, true
		}
		return Side{Isolated: isolated, Policies: []string{cp.Ref()}, DecidedBy: by, Reason: "denied by " + by + after}, true
	}
	passedBy := func(d tierDecision) string {
		if d.action != ActionPass {
			return ""
		}
		cp := &a.ClusterPolicies[d.policy]
		return "passed by " + cp.Ref() + " " + cp.rules(dir)[d.rule].describe(dir) + ", then "
	}

	before := ""
	if len(v1Refs) > 0 {
		before = " before NetworkPolicy " + strings.Join(v1Refs, ", ")
	}
	admin := a.decideTier(TierAdmin, dir, tiers, &other.peer, dst, proto, port)
	if sd, ok := verdict(admin, before); ok {
		return sd
	}
	passed := passedBy(admin)
	if len(v1Refs) > 0 {
		// NetworkPolicy always decides for the pods it isolates.
		sd, _ := a.side(dir, self, other, dst, &PortQuery{Protocol: proto, Number: port}, port)
		sd.Reason = passed + sd.Reason
		sd.DecidedBy = decidedByNetworkPolicy
		sd.Isolated = true
		return sd
	}
	baseline := a.decideTier(TierBaseline, dir, tiers, &other.peer, dst, proto, port)
	if sd, ok := verdict(baseline, ": no NetworkPolicy selects "+self.name+" for "+word); ok {
		sd.Reason = passed + sd.Reason
		return sd
	}
	passed += passedBy(baseline)
	return Side{Isolated: isolated, Allowed: true, DecidedBy: decidedByDefault,
		Reason: passed + "no rule of any tier matches " + what + " and no NetworkPolicy selects " + self.name + " for " + word + ": allowed by default"}
}

// tierNotes says what of the cluster-scoped policies that select either end
// is read fail-closed because the tool does not model it.
func (a *Analysis) tierNotes(s, d *endpointRef, _ *Reach) []string {
	var out []string
	seen := map[int]bool{}
	add := func(e *endpointRef, dir networkingv1.PolicyType) {
		if e.iso == nil {
			return
		}
		for _, ci := range e.iso.Tiers(dir) {
			cp := &a.ClusterPolicies[ci]
			if seen[ci] || len(cp.NotModelled) == 0 {
				continue
			}
			seen[ci] = true
			out = append(out, cp.Ref()+": "+strings.Join(cp.NotModelled, "; "))
		}
	}
	add(s, networkingv1.PolicyTypeEgress)
	add(d, networkingv1.PolicyTypeIngress)
	return out
}
