package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// namedSA is an object through which a ServiceAccount acts: a pod that mounts
// its token, or a legacy token Secret of it.
type namedSA struct {
	name string
	sa   finding.Subject
}

// tokenSecretsByNamespace finds the legacy ServiceAccount token Secrets whose
// token the authenticator accepts: by their annotation (Secrets are listed as
// metadata only, so the type is not known), not marked invalid, and of a
// ServiceAccount that exists (the authenticator checks it does).
func tokenSecretsByNamespace(a *Analysis) map[string][]namedSA {
	out := map[string][]namedSA{}
	for _, t := range a.inv.TokenSecrets() {
		if t.InvalidSince != "" {
			continue
		}
		ns := t.Secret.Namespace
		sa := finding.Subject{Kind: kindServiceAccount, Namespace: ns, Name: t.ServiceAccount}
		if a.mayExist(sa) {
			out[ns] = append(out[ns], namedSA{name: t.Secret.Name, sa: sa})
		}
	}
	return out
}

// reachable returns the objects of byNS (keys sorted in namespaces) a grant
// reaches: in every namespace for a ClusterRoleBinding, else in its own; only
// those named, unless names is nil.
func reachable(g *Grant, byNS map[string][]namedSA, namespaces []string, names []string) []namedSA {
	if !g.Binding.ClusterWide() {
		namespaces = []string{g.Binding.Namespace}
	}
	var out []namedSA
	for _, ns := range namespaces {
		for _, o := range byNS[ns] {
			if names == nil || slices.Contains(names, o.name) {
				out = append(out, o)
			}
		}
	}
	return out
}

// secretHold is a create, or a read, of Secrets of any name that a subject holds through one grant.
type secretHold struct {
	Held
	held *held
	verb string
}

// part is the request the hold allows in namespace ns ("" for every namespace).
func (h secretHold) part(ns string) escPart {
	return escPart{request: Request{Verb: h.verb, Resource: "secrets", Namespace: ns}, grant: h.Grant}
}

// secretHolds returns what a grant gives towards minting a token Secret: a
// create of Secrets, and a get, list or watch of Secrets of any name. A get
// limited to names is left out: the minted Secret can only take a free name,
// which the names may not be.
func (ix *capabilityIndex) secretHolds(h Held) (create, read *secretHold) {
	for _, rc := range ix.heldBy(h.Grant) {
		for i := range rc.held {
			x := &rc.held[i]
			switch {
			case rc.cap.check == IDSecretsWrite && slices.Contains(x.verbs, "create"):
				create = &secretHold{Held: h, held: x, verb: "create"}
			case rc.cap.check == IDSecretsRead && x.names == nil:
				read = &secretHold{Held: h, held: x, verb: x.verbs[0]}
			}
		}
	}
	return create, read
}

// tokenMint is a scope in which a subject can create a Secret of type
// kubernetes.io/service-account-token naming any ServiceAccount there, which
// the token controller fills with a token of it, and read the token back.
type tokenMint struct {
	// namespace is empty when the subject can mint in every namespace.
	namespace    string
	create, read *secretHold
}

func (m tokenMint) action() *escAction {
	scope := "cluster-wide"
	if m.namespace != "" {
		scope = "in namespace " + m.namespace
	}
	parts := []escPart{m.create.part(m.namespace), m.read.part(m.namespace)}
	if m.create.Via != "" && m.read.Via == "" {
		// The first part is the one the remedy cuts: the subject's own grant, not a whole group's.
		parts[0], parts[1] = parts[1], parts[0]
	}
	return &escAction{
		label:   fmt.Sprintf("mint a token Secret (create, %s secrets) %s", m.read.verb, scope),
		parts:   parts,
		system:  allSystem(m.create.Grant, m.create.held.rules) && allSystem(m.read.Grant, m.read.held.rules),
		auditor: m.create.Auditor && m.read.Auditor,
	}
}

// tokenMints returns where subject s can mint ServiceAccount tokens through
// Secrets: cluster-wide, or per namespace. The create and the read may come
// from different grants, its own or its groups'; a scope where one group
// holds both is left to that group's node, which the subject reaches by membership.
func (a *Analysis) tokenMints(s finding.Subject) []tokenMint {
	var creates, reads []*secretHold
	for _, h := range a.GrantsOf(s) {
		c, r := a.caps.secretHolds(h)
		if c != nil {
			creates = append(creates, c)
		}
		if r != nil {
			reads = append(reads, r)
		}
	}
	if len(creates) == 0 || len(reads) == 0 {
		return nil
	}
	// pick returns the hold that applies in ns, preferring the subject's own
	// grant; and the groups that hold one there.
	pick := func(hs []*secretHold, ns string) (best *secretHold, groups map[string]bool) {
		groups = map[string]bool{}
		for _, h := range hs {
			if !h.Binding.ClusterWide() && h.Binding.Namespace != ns {
				continue
			}
			if best == nil || (best.Via != "" && h.Via == "") {
				best = h
			}
			if h.Via != "" {
				groups[h.Via] = true
			}
		}
		return best, groups
	}
	scopes := map[string]bool{"": true}
	for _, h := range append(slices.Clone(creates), reads...) {
		if !h.Binding.ClusterWide() {
			scopes[h.Binding.Namespace] = true
		}
	}
	var out []tokenMint
	everywhere := false
	for _, ns := range slices.Sorted(maps.Keys(scopes)) {
		c, cg := pick(creates, ns)
		r, rg := pick(reads, ns)
		if c == nil || r == nil || (ns != "" && everywhere) {
			continue
		}
		if ns == "" {
			everywhere = true
		}
		groupHoldsBoth := false
		for grp := range cg {
			groupHoldsBoth = groupHoldsBoth || rg[grp]
		}
		if !groupHoldsBoth {
			out = append(out, tokenMint{namespace: ns, create: c, read: r})
		}
	}
	return out
}

// tokenScope is the token Secrets of one scope (a namespace, or all of
// them), with their ServiceAccounts: computed once and shared by every grant
// of that scope, so that the check stays linear in grants plus Secrets.
type tokenScope struct {
	secrets []namedSA
	// sas are the distinct ServiceAccounts "NS/NAME", in the order of secrets.
	sas   []string
	hasSA map[finding.Subject]bool
}

func newTokenScope(secrets []namedSA) *tokenScope {
	ts := &tokenScope{secrets: secrets, hasSA: map[finding.Subject]bool{}}
	for _, s := range secrets {
		if !ts.hasSA[s.sa] {
			ts.hasSA[s.sa] = true
			ts.sas = append(ts.sas, s.sa.Namespace+"/"+s.sa.Name)
		}
	}
	return ts
}

// without returns the scope without the token Secrets of sa: reading its own token gives a ServiceAccount nothing.
func (ts *tokenScope) without(sa finding.Subject) *tokenScope {
	if !ts.hasSA[sa] {
		return ts
	}
	var keep []namedSA
	for _, s := range ts.secrets {
		if s.sa != sa {
			keep = append(keep, s)
		}
	}
	return newTokenScope(keep)
}

// tokenSecretReaders reports subjects that can read existing legacy token
// Secrets of other ServiceAccounts, which hold those ServiceAccounts'
// permissions for as long as the Secrets exist. It needs Secrets listed.
func tokenSecretReaders(inv *inventory.Inventory, opts options) []finding.Finding {
	a := Analyze(inv)
	if len(a.tokenSecrets) == 0 {
		return nil
	}
	byNS := map[string]*tokenScope{}
	var all []namedSA
	for _, ns := range a.tokenNamespaces {
		byNS[ns] = newTokenScope(a.tokenSecrets[ns])
		all = append(all, a.tokenSecrets[ns]...)
	}
	everywhere := newTokenScope(all)
	type hit struct {
		grant  *Grant
		held   held
		tokens *tokenScope
	}
	var hits []hit
	flagged := map[*Binding][]int{}
	for _, g := range a.Grants {
		if a.leftToOtherChecks(g) {
			continue
		}
		for _, rc := range a.caps.heldBy(g) {
			if rc.cap.check != IDSecretsRead {
				continue
			}
			for _, h := range rc.held {
				if !opts.IncludeSystem && allSystem(g, h.rules) {
					continue
				}
				var ts *tokenScope
				switch {
				case h.names != nil:
					ts = newTokenScope(reachable(g, a.tokenSecrets, a.tokenNamespaces, h.names))
				case g.Binding.ClusterWide():
					ts = everywhere
				case byNS[g.Binding.Namespace] != nil:
					ts = byNS[g.Binding.Namespace]
				default:
					continue
				}
				if ts = ts.without(g.Subject); len(ts.secrets) > 0 {
					hits = append(hits, hit{grant: g, held: h, tokens: ts})
					flagged[g.Binding] = append(flagged[g.Binding], g.Index)
				}
			}
		}
	}
	out := make([]finding.Finding, 0, len(hits))
	for _, h := range hits {
		g, ts := h.grant, h.tokens
		listed := ts.secrets[:min(len(ts.secrets), maxListed)]
		secrets := make([]string, len(listed))
		var reqs []Request
		for i, s := range listed {
			secrets[i] = s.sa.Namespace + "/" + s.name
			// One request per Secret read by name, else one per namespace listed.
			r := Request{Verb: h.held.verbs[0], Resource: "secrets", Namespace: s.sa.Namespace}
			if r.Verb == "get" {
				r.Name = s.name
			}
			if !slices.Contains(reqs, r) {
				reqs = append(reqs, r)
			}
		}
		subj := g.Subject
		what := "ServiceAccount"
		if len(ts.sas) > 1 {
			what = "ServiceAccounts"
		}
		f := finding.Finding{
			Message: fmt.Sprintf("%s can %s %s, so it can read the legacy token Secrets of %s %s (%s -> %s)",
				subj, h.held.label(), g.Scope(), what, listNames(ts.sas), g.Binding, g.Binding.RoleString()),
			Resource: g.Binding.Resource(),
			Subject:  &subj,
			Evidence: grantEvidence(g, h.held.rules),
		}
		if g.Binding.ClusterWide() {
			f.Severity = finding.High
		}
		// The lists are capped: a cluster-wide reader reaches every token Secret of the cluster.
		f.Evidence["tokenSecrets"] = secrets
		f.Evidence["tokenSecretCount"] = len(ts.secrets)
		f.Evidence["serviceAccounts"] = ts.sas[:min(len(ts.sas), maxListed)]
		f.Evidence["requests"] = reqs
		f.Remediation = a.bindingRemedy(g, flagged[g.Binding], []held{h.held})
		unused := strings.Join(secrets, ", ")
		if more := len(ts.secrets) - len(secrets); more > 0 {
			unused += fmt.Sprintf(" and %d more", more)
		}
		f.Remediation.Summary += " Delete the token Secrets that are not used: " + unused + "."
		a.judgeAuditorRole(&f, g)
		out = append(out, f)
	}
	return out
}
