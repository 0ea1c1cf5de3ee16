package cluster

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// sigstoreIncludeLabel opts a namespace into sigstore policy-controller:
// namespaces without it are not checked at all, whatever the ClusterImagePolicies say.
const sigstoreIncludeLabel = "policy.sigstore.dev/include"

// imageVerification is what the inventory shows of admission control that
// verifies image signatures.
type imageVerification struct {
	clusterWide []string            // enforcing verifiers that cover every namespace
	namespaces  map[string][]string // enforcing verifiers that cover some namespaces, by namespace
	sigstore    bool                // enforcing ClusterImagePolicies exist (coverage by label)
	anyPolicy   bool                // some verification is configured, enforced or not
	tools       map[string]bool     // tools with image verification configured, for the fail-open webhooks
	findings    []finding.Finding   // non-enforcing or fail-open configuration, Gatekeeper hints
}

func imageSigningNotEnforced(inv *inventory.Inventory) []finding.Finding {
	v := &imageVerification{namespaces: map[string][]string{}, tools: map[string]bool{}}
	v.sigstorePolicies(inv.ClusterImagePolicies)
	for i := range inv.KyvernoClusterPolicies {
		v.kyvernoPolicy(&inv.KyvernoClusterPolicies[i])
	}
	for i := range inv.KyvernoPolicies {
		v.kyvernoPolicy(&inv.KyvernoPolicies[i])
	}
	for i := range inv.ImageValidatingPolicies {
		v.imageValidatingPolicy(&inv.ImageValidatingPolicies[i])
	}
	for i := range inv.ConstraintTemplates {
		v.constraintTemplate(&inv.ConstraintTemplates[i])
	}
	for _, p := range componentPods(inv, "kube-apiserver") {
		for ci := range p.Spec.Containers {
			plugins := strings.Split(flags(&p.Spec.Containers[ci])["--enable-admission-plugins"], ",")
			if slices.Contains(plugins, "ImagePolicyWebhook") {
				// Its defaultAllow (fail open) lives in the admission config file, which the API does not show.
				v.clusterWide = append(v.clusterWide, "the ImagePolicyWebhook admission plugin ("+nodeOf(p)+")")
			}
		}
	}
	v.failOpenWebhooks(inv)

	out := v.findings
	switch {
	case len(v.clusterWide) > 0:
	case len(v.namespaces) > 0 || v.sigstore:
		out = append(out, v.uncovered(inv)...)
	default:
		msg := "no image signature verification recognised: no sigstore ClusterImagePolicy, Kyverno verifyImages rule or ImageValidatingPolicy, nor the ImagePolicyWebhook admission plugin; any image, signed or not, is admitted unless a tool this audit cannot see verifies it"
		if v.anyPolicy {
			msg = "no image signature verification recognised that denies unverified images: the policies found only audit or warn"
		}
		out = append(out, finding.Finding{
			Message:  msg,
			Resource: finding.ClusterResource(),
		})
	}
	return out
}

// sigstorePolicies records ClusterImagePolicies: mode warn only warns.
func (v *imageVerification) sigstorePolicies(ps []unstructured.Unstructured) {
	for i := range ps {
		p := &ps[i]
		v.anyPolicy, v.tools["sigstore"] = true, true
		mode, _, _ := unstructured.NestedString(p.Object, "spec", "mode")
		if mode == "warn" {
			v.findings = append(v.findings, finding.Finding{
				Severity: finding.Low,
				Message:  fmt.Sprintf("ClusterImagePolicy %s is in warn mode: images that fail verification are admitted with a warning", p.GetName()),
				Resource: resourceOf(p),
				Evidence: map[string]any{"mode": mode},
			})
			continue
		}
		v.sigstore = true
	}
}

// kyvernoPolicy records a ClusterPolicy or Policy with verifyImages rules. A
// rule enforces when its failureAction (or the policy's older
// validationFailureAction, whose default is Audit) says Enforce. The
// namespaces a rule matches are read from match resources.namespaces only:
// selectors and exclusions are not evaluated, so a match without a namespace
// list is taken as every namespace.
func (v *imageVerification) kyvernoPolicy(p *unstructured.Unstructured) {
	rules, _, _ := unstructured.NestedSlice(p.Object, "spec", "rules")
	policyAction, _, _ := unstructured.NestedString(p.Object, "spec", "validationFailureAction")
	verifies, enforces := false, false
	var namespaces []string
	allNamespaces := false
	for _, r := range rules {
		rule, ok := r.(map[string]any)
		if !ok {
			continue
		}
		vis, _, _ := unstructured.NestedSlice(rule, "verifyImages")
		if len(vis) == 0 {
			continue
		}
		verifies = true
		for _, vi := range vis {
			action := policyAction
			if m, ok := vi.(map[string]any); ok {
				if a, _ := m["failureAction"].(string); a != "" {
					action = a
				}
			}
			if strings.EqualFold(action, "Enforce") {
				enforces = true
			}
		}
		ns, all := matchedNamespaces(rule)
		namespaces = append(namespaces, ns...)
		allNamespaces = allNamespaces || all
	}
	if !verifies {
		return
	}
	v.anyPolicy, v.tools["kyverno"] = true, true
	name := p.GetKind() + " " + qualified(p)
	if fp, _, _ := unstructured.NestedString(p.Object, "spec", "failurePolicy"); fp == "Ignore" {
		v.findings = append(v.findings, finding.Finding{
			Message:  fmt.Sprintf("%s has failurePolicy Ignore: images are admitted unverified while Kyverno is unavailable", name),
			Resource: resourceOf(p),
			Evidence: map[string]any{"failurePolicy": fp},
		})
	}
	if !enforces {
		v.findings = append(v.findings, finding.Finding{
			Severity: finding.Low,
			Message:  fmt.Sprintf("%s verifies image signatures in Audit mode only: unverified images are admitted and only reported", name),
			Resource: resourceOf(p),
			Evidence: map[string]any{"validationFailureAction": policyAction},
		})
		return
	}
	switch {
	case p.GetNamespace() != "":
		// A namespaced Policy only ever applies in its own namespace.
		v.namespaces[p.GetNamespace()] = append(v.namespaces[p.GetNamespace()], name)
	case allNamespaces:
		v.clusterWide = append(v.clusterWide, name)
	default:
		for _, ns := range namespaces {
			v.namespaces[ns] = append(v.namespaces[ns], name)
		}
	}
}

// matchedNamespaces returns the namespace patterns of a Kyverno rule's match
// blocks (match.resources, match.any[], match.all[]), and whether some block
// names no namespaces (so matches them all).
func matchedNamespaces(rule map[string]any) ([]string, bool) {
	var blocks []map[string]any
	if res, ok, _ := unstructured.NestedMap(rule, "match", "resources"); ok {
		blocks = append(blocks, res)
	}
	for _, key := range []string{"any", "all"} {
		list, _, _ := unstructured.NestedSlice(rule, "match", key)
		for _, it := range list {
			if m, ok := it.(map[string]any); ok {
				res, _ := m["resources"].(map[string]any)
				blocks = append(blocks, res)
			}
		}
	}
	if len(blocks) == 0 {
		return nil, true
	}
	var out []string
	all := false
	for _, b := range blocks {
		ns, _, _ := unstructured.NestedStringSlice(b, "namespaces")
		if len(ns) == 0 || slices.Contains(ns, "*") {
			all = true
		}
		out = append(out, ns...)
	}
	return out, all
}

// imageValidatingPolicy records a Kyverno ImageValidatingPolicy: it denies
// unless its validationActions leave out Deny (Kyverno defaults them to Deny).
func (v *imageVerification) imageValidatingPolicy(p *unstructured.Unstructured) {
	v.anyPolicy, v.tools["kyverno"] = true, true
	name := "ImageValidatingPolicy " + p.GetName()
	if fp, _, _ := unstructured.NestedString(p.Object, "spec", "failurePolicy"); fp == "Ignore" {
		v.findings = append(v.findings, finding.Finding{
			Message:  fmt.Sprintf("%s has failurePolicy Ignore: images are admitted unverified while Kyverno is unavailable", name),
			Resource: resourceOf(p),
			Evidence: map[string]any{"failurePolicy": fp},
		})
	}
	actions, _, _ := unstructured.NestedStringSlice(p.Object, "spec", "validationActions")
	if len(actions) > 0 && !slices.Contains(actions, "Deny") {
		v.findings = append(v.findings, finding.Finding{
			Severity: finding.Low,
			Message:  fmt.Sprintf("%s does not deny (validationActions %s): unverified images are admitted", name, strings.Join(actions, ",")),
			Resource: resourceOf(p),
			Evidence: map[string]any{"validationActions": actions},
		})
		return
	}
	v.clusterWide = append(v.clusterWide, name)
}

// imageVerificationHints are words in a Gatekeeper ConstraintTemplate's name
// that suggest it verifies images (Ratify's template is "ratifyverification").
var imageVerificationHints = []string{"sign", "cosign", "sigstore", "notary", "notation", "ratify", "attest", "verif"}

// constraintTemplate reports a Gatekeeper template that looks like image
// verification, as information: whether it verifies signatures depends on its
// Rego, its constraints and an external data provider the API does not show.
func (v *imageVerification) constraintTemplate(t *unstructured.Unstructured) {
	kind, _, _ := unstructured.NestedString(t.Object, "spec", "crd", "spec", "names", "kind")
	name := strings.ToLower(t.GetName() + " " + kind)
	for _, h := range imageVerificationHints {
		if strings.Contains(name, h) {
			v.findings = append(v.findings, finding.Finding{
				Severity: finding.Info,
				Message:  fmt.Sprintf("Gatekeeper ConstraintTemplate %s looks like image verification: not counted as enforcement, check its constraints and external data provider", t.GetName()),
				Resource: resourceOf(t),
				Evidence: map[string]any{"kind": kind},
			})
			return
		}
	}
}

// failOpenWebhooks reports the admission webhooks of the verifying tools in
// use that fail open; they are recognised by their names.
func (v *imageVerification) failOpenWebhooks(inv *inventory.Inventory) {
	toolOf := func(config, webhook string) string {
		s := config + " " + webhook
		switch {
		case v.tools["sigstore"] && strings.Contains(s, "sigstore.dev"):
			return "sigstore policy-controller"
		case v.tools["kyverno"] && strings.Contains(s, "kyverno"):
			return "Kyverno"
		}
		return ""
	}
	for _, w := range failOpenWebhooks(inv) {
		tool := toolOf(w.Config, w.Name)
		if tool == "" {
			continue
		}
		v.findings = append(v.findings, finding.Finding{
			Message:  fmt.Sprintf("%s %s webhook %s of %s has failurePolicy Ignore: images are admitted unverified while it is unavailable", w.Kind, w.Config, w.Name, tool),
			Resource: finding.Resource{APIVersion: "admissionregistration.k8s.io/v1", Kind: w.Kind, Name: w.Config},
			Evidence: map[string]any{"webhook": w.Name},
		})
	}
}

// uncovered reports each namespace no enforcing verifier covers, when
// verification is enforced only in some namespaces.
func (v *imageVerification) uncovered(inv *inventory.Inventory) []finding.Finding {
	labelled := map[string]bool{}
	for i := range inv.Namespaces {
		ns := &inv.Namespaces[i]
		labelled[ns.Name] = ns.Labels[sigstoreIncludeLabel] == "true"
	}
	var out []finding.Finding
	for _, ns := range inv.NamespaceNames() {
		// policy-controller's own guidance keeps the system namespaces
		// unlabelled so the control plane can start: left out unless --include-system.
		if inv.SkipsSystem(ns) {
			continue
		}
		if v.sigstore && labelled[ns] || v.coveredByPattern(ns) {
			continue
		}
		msg := fmt.Sprintf("namespace %s is not covered by image signature verification", ns)
		if v.sigstore {
			msg += fmt.Sprintf(" (sigstore policy-controller checks only namespaces labelled %s=true)", sigstoreIncludeLabel)
		}
		out = append(out, finding.Finding{
			Message:  msg,
			Resource: finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: ns},
			Evidence: map[string]any{"label": sigstoreIncludeLabel},
		})
	}
	return out
}

// coveredByPattern reports whether a Kyverno policy's namespace pattern
// (Kyverno accepts * and ? wildcards) matches the namespace.
func (v *imageVerification) coveredByPattern(ns string) bool {
	if len(v.namespaces[ns]) > 0 {
		return true
	}
	for pattern := range v.namespaces {
		if ok, _ := path.Match(pattern, ns); ok {
			return true
		}
	}
	return false
}

func resourceOf(u *unstructured.Unstructured) finding.Resource {
	return finding.Resource{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

func qualified(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}
