package netpol

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// FuzzSelectPods checks that the label index selects exactly the pods a
// plain scan with the same selector selects. pods is ";"-separated label
// sets ("a=1,b=2;a=3"), selector is in kubectl's -l syntax.
func FuzzSelectPods(f *testing.F) {
	f.Add("app=web,tier=fe;app=db;app=web;tier=be", "app=web")
	f.Add("a=1;a=2;a=3;b=1", "a in (1,3)")
	f.Add("a=1;a=2;b=1", "!a")
	f.Add("a=1,b=2;a=2;b=1", "a,b!=1")
	f.Add("a=1;a=2", "a notin (1)")
	f.Add("a=1;a=2;c=3", "")
	f.Fuzz(func(t *testing.T, pods, selector string) {
		sel, err := labels.Parse(selector)
		if err != nil {
			return
		}
		inv := inventory.New()
		for i, l := range strings.Split(pods, ";") {
			set, err := labels.ConvertSelectorToLabelsMap(l)
			if err != nil {
				return
			}
			inv.Pods = append(inv.Pods, inventory.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p" + string(rune('a'+i%26)), Labels: set}, Spec: &corev1.PodSpec{}})
		}
		a := analyze(inv)
		got := a.byNamespace["ns"].selectPods(sel, inv.Pods)
		var want []int
		for i := range inv.Pods {
			if sel.Matches(labels.Set(inv.Pods[i].Labels)) {
				want = append(want, i)
			}
		}
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("selector %q over %q: index selects %v, scan selects %v", selector, pods, got, want)
		}
	})
}

// FuzzPeerMatches checks the peer rules against each other: one peer with
// both selectors is the AND of the two, separate peers are the OR, a
// podSelector alone never crosses namespaces, and except always wins over cidr.
func FuzzPeerMatches(f *testing.F) {
	f.Add("team=web", "app=fe", "team=web", "app=fe", "web", "db", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3")
	f.Add("team=web", "app=fe", "", "", "web", "web", "0.0.0.0/0", "", "192.0.2.1")
	f.Add("", "app=fe", "team", "!app", "a", "b", "::/0", "fd00::/8", "fd00::1")
	f.Add("env=prod,team=db", "app=pg", "env in (prod,stage)", "app notin (pg)", "db", "db", "10.0.0.0/24", "10.0.0.0/25", "10.0.0.200")
	f.Fuzz(func(t *testing.T, nsLabels, podLabels, nsSel, podSel, peerNS, policyNS, cidr, except, ip string) {
		nsl, err1 := labels.ConvertSelectorToLabelsMap(nsLabels)
		pl, err2 := labels.ConvertSelectorToLabelsMap(podLabels)
		ns, err3 := metav1.ParseToLabelSelector(nsSel)
		ps, err4 := metav1.ParseToLabelSelector(podSel)
		addr, err5 := netip.ParseAddr(ip)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || peerNS == "" || policyNS == "" {
			return
		}
		p := &Peer{Namespace: peerNS, Labels: pl, NamespaceLabels: nsl, IPs: []netip.Addr{addr}}
		nsOnly := networkingv1.NetworkPolicyPeer{NamespaceSelector: ns}
		podOnly := networkingv1.NetworkPolicyPeer{PodSelector: ps}
		both := networkingv1.NetworkPolicyPeer{NamespaceSelector: ns, PodSelector: ps}
		nsMatch := PeerMatches(nsOnly, policyNS, p)
		podMatch := PeerMatches(podOnly, policyNS, p)
		bothMatch := PeerMatches(both, policyNS, p)
		podLabelsMatch := selectorMatches(ps, pl)
		if bothMatch != (nsMatch && podLabelsMatch) {
			t.Errorf("AND peer = %v, namespaceSelector alone = %v, podSelector on labels = %v", bothMatch, nsMatch, podLabelsMatch)
		}
		if podMatch && peerNS != policyNS {
			t.Errorf("podSelector alone matched a pod of %s for a policy of %s", peerNS, policyNS)
		}
		if podMatch != (peerNS == policyNS && podLabelsMatch) {
			t.Errorf("podSelector alone = %v in the same namespace with matching labels %v", podMatch, podLabelsMatch)
		}
		if or := PeersMatch([]networkingv1.NetworkPolicyPeer{nsOnly, podOnly}, policyNS, p); or != (nsMatch || podMatch) {
			t.Errorf("OR of peers = %v, want %v || %v", or, nsMatch, podMatch)
		}
		if !PeersMatch(nil, policyNS, p) {
			t.Error("an empty peer list must match every peer")
		}
		block := networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}}
		if except != "" {
			block.IPBlock.Except = []string{except}
		}
		m := PeerMatches(block, policyNS, p)
		c, errC := netip.ParsePrefix(cidr)
		e, errE := netip.ParsePrefix(except)
		if m && (errC != nil || !c.Contains(addr)) {
			t.Errorf("ipBlock %s matched %s outside it", cidr, addr)
		}
		if m && except != "" && errE == nil && e.Contains(addr) {
			t.Errorf("ipBlock %s except %s matched %s", cidr, except, addr)
		}
		if !m && errC == nil && c.Contains(addr) && (except == "" || errE != nil || !e.Contains(addr)) {
			t.Errorf("ipBlock %s except %s did not match %s", cidr, except, addr)
		}
	})
}
