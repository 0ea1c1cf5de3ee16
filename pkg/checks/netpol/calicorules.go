package netpol

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// calicoRules reads a Calico policy's order, tier and rules into part (the
// policy's one selecting unit) and returns what the tool does not model,
// per direction. Rules are those of projectcalico/api v3 Rule and
// EntityRule: action, protocol, source and destination with selector and
// namespaceSelector, destination ports and notPorts (numbers, "a:b" ranges,
// named ports).
func (p *CNIPolicy) calicoRules(part *cniPart, spec map[string]any, global bool) (notModelled [2][]string) {
	both := func(why string) {
		notModelled[0] = append(notModelled[0], why)
		notModelled[1] = append(notModelled[1], why)
	}
	if t, _ := spec["tier"].(string); t != "" && t != "default" {
		both(fmt.Sprintf("tier %q, whose order against the default tier the tool does not read", t))
	}
	if s, _ := spec["serviceAccountSelector"].(string); strings.TrimSpace(s) != "" {
		both("serviceAccountSelector")
	}
	for _, k := range []string{"doNotTrack", "preDNAT", "applyOnForward"} {
		if v, _ := spec[k].(bool); v {
			both(k)
		}
	}
	if o, ok := toFloat(spec["order"]); ok {
		p.order = &o
	}
	part.defaultDeny = [2]bool{p.Ingress, p.Egress}
	for _, sec := range []struct {
		key string
		dir networkingv1.PolicyType
	}{{"ingress", networkingv1.PolicyTypeIngress}, {"egress", networkingv1.PolicyTypeEgress}} {
		di := dirIndex(sec.dir)
		if !part.defaultDeny[di] {
			continue // rules of a direction not in types are inert
		}
		list, _ := spec[sec.key].([]any)
		for i, x := range list {
			name := fmt.Sprintf("%s rule %d", sec.key, i)
			m, _ := x.(map[string]any)
			r, why := p.calicoRule(name, sec.dir, m, global)
			if len(why) > 0 {
				notModelled[di] = append(notModelled[di], name+": "+strings.Join(why, ", "))
				continue
			}
			part.allow[di] = append(part.allow[di], r)
		}
	}
	return notModelled
}

// calicoRule reads one Calico rule; why lists what the tool does not model in it.
func (p *CNIPolicy) calicoRule(name string, dir networkingv1.PolicyType, m map[string]any, global bool) (cniRule, []string) {
	r := cniRule{name: name}
	var why []string
	for k := range m {
		switch k {
		case "action", "protocol", "source", "destination", "metadata":
		default: // notProtocol, icmp, notICMP, ipVersion, http
			why = append(why, k)
		}
	}
	action, _ := m["action"].(string)
	switch strings.ToLower(action) {
	case "allow", "deny", "pass", "log":
		r.action = strings.ToUpper(action[:1]) + strings.ToLower(action[1:])
	default:
		why = append(why, fmt.Sprintf("action %q", action))
	}
	protos := protocols()
	hasProto := false
	if raw, ok := m["protocol"]; ok && raw != nil {
		hasProto = true
		proto, ok := calicoProtocol(raw)
		if !ok {
			why = append(why, fmt.Sprintf("protocol %v", raw))
		}
		protos = []corev1.Protocol{proto}
	}
	src, _ := m["source"].(map[string]any)
	dst, _ := m["destination"].(map[string]any)
	other, self := src, dst
	if dir == networkingv1.PolicyTypeEgress {
		other, self = dst, src
	}
	peer, w := p.calicoEntity(other, global, true)
	why = append(why, w...)
	selfMatch, w := p.calicoEntity(self, global, false)
	why = append(why, w...)
	r.peer = peer
	if selfMatch != nil {
		r.self = func(e *cniEndpoint) bool {
			return selfMatch(&Peer{Namespace: e.namespace, Labels: e.labels, NamespaceLabels: e.namespaceLabel, ServiceAccount: e.serviceAccount}) == triYes
		}
	}
	for _, k := range []string{"ports", "notPorts"} {
		if _, ok := src[k]; ok {
			why = append(why, "source "+k)
		}
	}
	ports, w := calicoPorts(dst["ports"])
	why = append(why, w...)
	notPorts, w := calicoPorts(dst["notPorts"])
	why = append(why, w...)
	if (ports != nil || notPorts != nil) && !hasProto {
		why = append(why, "ports without a protocol (rejected by Calico)")
	}
	r.ports = func(d *Peer) PortSet {
		s := PortSet{}
		for _, proto := range protos {
			if ports == nil {
				s[proto] = []PortRange{{1, 65535}}
				continue
			}
			s[proto] = ports(d, proto)
		}
		if notPorts != nil {
			for _, proto := range protos {
				s[proto] = subtractRanges(s[proto], notPorts(d, proto))
			}
		}
		return s
	}
	return r, why
}

// calicoProtocol reads a rule's protocol: a name or a number; only TCP,
// UDP and SCTP carry the ports the tool answers about.
func calicoProtocol(raw any) (corev1.Protocol, bool) {
	if n, ok := toInt(raw); ok {
		raw = strconv.Itoa(n)
	}
	switch strings.ToUpper(fmt.Sprint(raw)) {
	case "TCP", "6":
		return corev1.ProtocolTCP, true
	case "UDP", "17":
		return corev1.ProtocolUDP, true
	case "SCTP", "132":
		return corev1.ProtocolSCTP, true
	}
	return "", false
}

// calicoEntity reads the selector part of a source or destination: the
// endpoints it matches, nil when it does not restrict them. For the other
// end (peer), a selector against an address or a host-network pod may match
// a NetworkSet or host endpoint the tool does not read: unknown.
func (p *CNIPolicy) calicoEntity(ent map[string]any, global, peer bool) (func(o *Peer) tri, []string) {
	var why []string
	for k := range ent {
		switch k {
		case "selector", "namespaceSelector", "ports", "notPorts":
		default: // nets, notNets, notSelector, serviceAccounts, services, domains
			why = append(why, k)
		}
	}
	_, hasSel := ent["selector"]
	_, hasNS := ent["namespaceSelector"]
	if !hasSel && !hasNS {
		return nil, why
	}
	var sel, ns func(e *cniEndpoint) bool
	if hasSel {
		m, w := calicoMatcher(ent, "selector", false)
		if w != "" {
			return nil, append(why, w)
		}
		sel = m
	}
	if hasNS {
		m, w := calicoMatcher(ent, "namespaceSelector", true)
		if w != "" {
			return nil, append(why, w)
		}
		ns = m
	}
	policyNS := p.Namespace
	return func(o *Peer) tri {
		if !o.IsPod() || o.HostNetwork {
			if peer {
				return triMaybe
			}
			return triNo
		}
		e := peerEndpoint(o)
		switch {
		case ns != nil && !ns(e):
			return triNo
		case ns == nil && !global && o.Namespace != policyNS:
			return triNo
		case sel != nil && !sel(e):
			return triNo
		}
		return triYes
	}, why
}

// calicoPorts reads a ports list: numbers, "a:b" ranges and named ports
// (resolved among the destination's container ports of the protocol). It
// returns nil when the list is absent.
func calicoPorts(raw any) (func(dst *Peer, proto corev1.Protocol) []PortRange, []string) {
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, []string{"ports is not a list"}
	}
	var why []string
	var ranges []PortRange
	var names []string
	for _, x := range list {
		if n, ok := toInt(x); ok {
			ranges = append(ranges, PortRange{int32(n), int32(n)})
			continue
		}
		s, _ := x.(string)
		if lo, hi, found := strings.Cut(s, ":"); found {
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a > b {
				why = append(why, fmt.Sprintf("port %q", s))
				continue
			}
			ranges = append(ranges, PortRange{int32(a), int32(b)})
			continue
		}
		if n, err := strconv.Atoi(s); err == nil {
			ranges = append(ranges, PortRange{int32(n), int32(n)})
			continue
		}
		if s == "" {
			why = append(why, fmt.Sprintf("port %v", x))
			continue
		}
		names = append(names, s)
	}
	return func(dst *Peer, proto corev1.Protocol) []PortRange {
		out := append([]PortRange(nil), ranges...)
		for _, n := range names {
			if port, ok := namedPort(dst, n, proto); ok {
				out = append(out, PortRange{port, port})
			}
		}
		return merge(out)
	}, why
}

// subtractRanges returns the ports of a not in b.
func subtractRanges(a, b []PortRange) []PortRange {
	out := append([]PortRange(nil), a...)
	for _, cut := range b {
		var next []PortRange
		for _, r := range out {
			if cut.To < r.From || cut.From > r.To {
				next = append(next, r)
				continue
			}
			if r.From < cut.From {
				next = append(next, PortRange{r.From, cut.From - 1})
			}
			if r.To > cut.To {
				next = append(next, PortRange{cut.To + 1, r.To})
			}
		}
		out = next
	}
	return out
}

// toFloat reads a Calico order (a float) from unstructured content.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}
