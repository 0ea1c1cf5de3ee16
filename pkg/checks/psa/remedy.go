package psa

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/utils/ptr"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// isSystemNamespace: see inventory.IsSystemNamespace; psa's findings about
// them are reported only with --include-system.
var isSystemNamespace = inventory.IsSystemNamespace

// isProduction guesses from a namespace's name or environment label that it runs production workloads.
func isProduction(name string, labels map[string]string) bool {
	prod := func(s string) bool {
		switch strings.ToLower(s) {
		case "prod", "production", "prd", "live":
			return true
		}
		return false
	}
	for _, tok := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		if prod(tok) {
			return true
		}
	}
	for _, k := range []string{"environment", "env", "stage", "tier", "app.kubernetes.io/environment"} {
		if prod(labels[k]) {
			return true
		}
	}
	return false
}

// propose works out the staged label change for a namespace: warn and audit
// at restricted, then enforce at the strictest level every pod and template
// already satisfies at the pinned version, so the change rejects nothing
// that runs or is templated today. An enforce level already stricter than
// that is left alone: lowering it would weaken the namespace.
func (a *Analysis) propose(st *nsState) *Proposal {
	target := api.LevelRestricted
	pin := a.pin.String()
	p := &Proposal{Target: target, Version: pin, Labels: map[string]string{}}
	for _, k := range []string{EnforceLabel, EnforceVersionLabel, AuditLabel, AuditVersionLabel, WarnLabel, WarnVersionLabel} {
		if v, ok := st.labels[k]; ok {
			p.Labels[k] = v
		}
	}
	p.Labels[WarnLabel], p.Labels[WarnVersionLabel] = string(target), pin
	p.Labels[AuditLabel], p.Labels[AuditVersionLabel] = string(target), pin

	if a.complete {
		safe := a.strictest(st, a.pin)
		cur, curOK := currentEnforce(st.labels)
		if !curOK || api.CompareLevels(safe, cur) >= 0 {
			p.Enforce = safe
			p.Labels[EnforceLabel], p.Labels[EnforceVersionLabel] = string(safe), pin
		} else {
			p.Enforce = cur
		}
	}
	same := true
	for k, v := range p.Labels {
		if st.labels[k] != v {
			same = false
		}
	}
	if same {
		return nil
	}
	p.Labels = a.shared.labelSet(p.Labels)
	return p
}

// currentEnforce returns the enforce level when its labels are present and valid.
func currentEnforce(labels map[string]string) (api.Level, bool) {
	l, ok := labels[EnforceLabel]
	if !ok {
		return "", false
	}
	lvl, err := api.ParseLevel(l)
	if err != nil {
		return "", false
	}
	if v, ok := labels[EnforceVersionLabel]; ok {
		if _, err := api.ParseVersion(v); err != nil {
			return "", false
		}
	}
	return lvl, true
}

// labelChanges turns a proposal into server-side apply changes of a partial
// Namespace, in the order to apply them. Each stage carries every label of
// the stages before it: server-side apply removes a label this field manager
// set before and leaves out now.
func (a *Analysis) labelChanges(st *nsState, p *Proposal) []remedy.Change {
	ns := st.summary.Name
	var out []remedy.Change
	stage1 := map[string]string{
		WarnLabel: p.Labels[WarnLabel], WarnVersionLabel: p.Labels[WarnVersionLabel],
		AuditLabel: p.Labels[AuditLabel], AuditVersionLabel: p.Labels[AuditVersionLabel],
	}
	if changes(st.labels, stage1) {
		out = append(out, remedy.NewApply(
			fmt.Sprintf("Warn and audit at %s:%s in namespace %s: nothing is rejected; users see a warning and the audit log an annotation for each pod that would not pass", p.Target, p.Version, ns),
			namespaceObject(ns, a.shared.labelObject(stage1))))
	}
	if p.Labels[EnforceLabel] != "" && (st.labels[EnforceLabel] != p.Labels[EnforceLabel] || st.labels[EnforceVersionLabel] != p.Labels[EnforceVersionLabel]) {
		all := map[string]string{}
		for k, v := range stage1 {
			all[k] = v
		}
		all[EnforceLabel], all[EnforceVersionLabel] = p.Labels[EnforceLabel], p.Labels[EnforceVersionLabel]
		c := remedy.NewApply(
			fmt.Sprintf("Enforce %s:%s in namespace %s, the strictest level every pod and template in it already satisfies", p.Enforce, p.Version, ns),
			namespaceObject(ns, a.shared.labelObject(all)))
		lv := api.LevelVersion{Level: p.Enforce, Version: a.pin}
		for _, w := range st.workloads {
			for _, b := range a.failing(w, lv) {
				c.Breaks = append(c.Breaks, fmt.Sprintf("new pods of %s would be rejected: %s", b.Object, b.Reason))
			}
		}
		out = append(out, c)
	}
	return out
}

func changes(cur, want map[string]string) bool {
	for k, v := range want {
		if cur[k] != v {
			return true
		}
	}
	return false
}

func namespaceObject(name string, labels map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata":   map[string]any{"name": name, "labels": labels},
	}
}

// restrictedPatch returns the server-side apply change that sets the
// securityContext fields the restricted level asks for on a workload's
// template (runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation
// false, drop ALL), and whether the template then passes restricted. It is
// risky: it changes how the workload runs, and images built to run as root or
// to use capabilities stop working.
func (a *Analysis) restrictedPatch(s *subject, v api.Version) (remedy.Change, bool) {
	if !s.canPatch {
		return remedy.Change{}, false
	}
	k := judgedKey{s.alike, a.resolve(v)}
	p, ok := a.patches[k]
	if !ok {
		p = a.securityPatch(s, k.version)
		if a.patches != nil {
			a.patches[k] = p
		}
	}
	if p == nil {
		return remedy.Change{}, false
	}
	// The pod spec nested at the template's place in the object.
	o := map[string]any{p.root: p.tree}
	o["apiVersion"], o["kind"] = s.APIVersion, s.Kind
	o["metadata"] = map[string]any{"name": s.Name, "namespace": s.Namespace}
	c := remedy.NewApply(fmt.Sprintf("Set the securityContext the restricted level asks for on %s (runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation=false, drop ALL capabilities); its pods then pass restricted", s.Object), o)
	c.Risky = true
	c.Breaks = p.breaks
	return c, true
}

// securityPatch is the part of restrictedPatch's change that depends only on
// the template: the same for templates alike, and shared with every equal one.
type securityPatch struct {
	// root is the first field of the template's path and tree what goes under it.
	root   string
	tree   any
	breaks []string
}

// securityPatch works out restrictedPatch's change for a template at a
// resolved version, or nil when none makes it pass restricted.
func (a *Analysis) securityPatch(s *subject, v api.Version) *securityPatch {
	spec := s.spec.DeepCopy()
	podSC := map[string]any{}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	psc := spec.SecurityContext
	relaxed := spec.HostUsers != nil && !*spec.HostUsers
	if !relaxed && (psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot) {
		psc.RunAsNonRoot = ptr.To(true)
		podSC["runAsNonRoot"] = true
	}
	windows := spec.OS != nil && spec.OS.Name == corev1.Windows
	if !windows && (psc.SeccompProfile == nil || !validSeccomp(psc.SeccompProfile.Type)) {
		psc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		podSC["seccompProfile"] = map[string]any{"type": string(corev1.SeccompProfileTypeRuntimeDefault)}
	}
	var setAPE, setDrop bool
	patchContainers := func(list []corev1.Container) []any {
		var out []any
		for i := range list {
			c := &list[i]
			if c.SecurityContext == nil {
				c.SecurityContext = &corev1.SecurityContext{}
			}
			sc := c.SecurityContext
			csc := map[string]any{}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot && !relaxed {
				sc.RunAsNonRoot = ptr.To(true)
				csc["runAsNonRoot"] = true
			}
			if !windows {
				if sc.SeccompProfile != nil && !validSeccomp(sc.SeccompProfile.Type) {
					sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
					csc["seccompProfile"] = map[string]any{"type": string(corev1.SeccompProfileTypeRuntimeDefault)}
				}
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					sc.AllowPrivilegeEscalation = ptr.To(false)
					csc["allowPrivilegeEscalation"] = false
					setAPE = true
				}
				if sc.Capabilities == nil {
					sc.Capabilities = &corev1.Capabilities{}
				}
				if !containsCapability(sc.Capabilities.Drop, "ALL") {
					// drop is an atomic list: send the whole list, keeping what was dropped before.
					sc.Capabilities.Drop = append(sc.Capabilities.Drop, "ALL")
					drop := make([]any, 0, len(sc.Capabilities.Drop))
					for _, d := range sc.Capabilities.Drop {
						drop = append(drop, string(d))
					}
					csc["capabilities"] = map[string]any{"drop": drop}
					setDrop = true
				}
			}
			if len(csc) > 0 {
				out = append(out, map[string]any{"name": c.Name, "securityContext": csc})
			}
		}
		return out
	}
	podSpec := map[string]any{}
	if len(podSC) > 0 {
		podSpec["securityContext"] = podSC
	}
	if cs := patchContainers(spec.InitContainers); len(cs) > 0 {
		podSpec["initContainers"] = cs
	}
	if cs := patchContainers(spec.Containers); len(cs) > 0 {
		podSpec["containers"] = cs
	}
	if len(podSpec) == 0 {
		return nil
	}
	after := a.eval.judge(api.LevelVersion{Level: api.LevelRestricted, Version: v}, s.meta, spec, s.metaPath, s.specPath)
	if !after.allowed {
		return nil
	}

	var tree any = podSpec
	parts := strings.Split(s.specPath.String(), ".")
	for i := len(parts) - 1; i >= 1; i-- {
		tree = map[string]any{parts[i]: tree}
	}
	p := &securityPatch{root: parts[0], breaks: a.shared.list(restrictedPatchBreaks(podSC, setAPE, setDrop))}
	// The tree holds only maps, lists, strings and booleans: its JSON is canonical.
	if b, err := json.Marshal(tree); err == nil {
		p.tree = intern(a.shared.trees, a.shared.key.reset().str(p.root).bytes(b), func() any { return tree })
	} else {
		p.tree = tree
	}
	return p
}

// restrictedPatchBreaks says what the securityContext patch can stop from working.
func restrictedPatchBreaks(podSC map[string]any, setAPE, setDrop bool) []string {
	var out []string
	if _, ok := podSC["runAsNonRoot"]; ok {
		out = append(out, "containers whose image runs as root (UID 0) and that set no runAsUser fail to start (CreateContainerConfigError)")
	}
	if setDrop {
		out = append(out, "processes that need a capability (chown, setuid, binding ports below 1024 without NET_BIND_SERVICE) fail once ALL are dropped")
	}
	if setAPE {
		out = append(out, "setuid binaries (sudo, ping) no longer gain privileges with allowPrivilegeEscalation=false")
	}
	if _, ok := podSC["seccompProfile"]; ok {
		out = append(out, "system calls outside the container runtime's default seccomp profile are refused")
	}
	sort.Strings(out)
	return out
}

func validSeccomp(t corev1.SeccompProfileType) bool {
	return t == corev1.SeccompProfileTypeRuntimeDefault || t == corev1.SeccompProfileTypeLocalhost
}
