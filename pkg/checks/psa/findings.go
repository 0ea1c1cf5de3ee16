package psa

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/pod-security-admission/api"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// violationKind is a per-workload check: the upstream checks it reports.
type violationKind struct {
	id          string
	title       string
	description string
	remediation string
	severity    finding.Severity
	severities  [2]finding.Severity // when findings can differ from severity (see checks.Check.Range)
	upstream    []string
	// facets are the parts of the check the catalogues map to controls of their own (refine sets them).
	facets []string
}

// violationKinds lists the per-workload checks. Every upstream check belongs to one;
// a check the library adds later is reported under psa/unsafe-options.
func violationKinds() []violationKind {
	return []violationKind{
		{id: IDPrivileged, severity: finding.High, facets: []string{"privileged", "windows-host-process"}, upstream: []string{"privileged", "windowsHostProcess"},
			title:       "Privileged container",
			description: "A privileged (or Windows HostProcess) container has every capability and the host's devices: whoever runs code in it controls the node.",
			remediation: "Remove securityContext.privileged (and windowsOptions.hostProcess); grant only the capability the workload needs."},
		{id: IDHostNamespaces, severity: finding.High, facets: []string{"host-pid", "host-ipc", "host-network"}, upstream: []string{"hostNamespaces"},
			title:       "Pod shares the host's network, PID or IPC namespace",
			description: "hostNetwork, hostPID or hostIPC lets the pod see and reach the node's processes, traffic or shared memory.",
			remediation: "Remove hostNetwork, hostPID and hostIPC from the pod spec."},
		{id: IDHostPath, severity: finding.High, upstream: []string{"hostPathVolumes"},
			title:       "Pod mounts a hostPath volume",
			description: "A hostPath volume exposes the node's filesystem; writable, it is a path to the node.",
			remediation: "Use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume instead of hostPath."},
		{id: IDHostPorts, severity: finding.Medium, upstream: []string{"hostPorts"},
			title:       "Container binds a host port",
			description: "A hostPort opens the port on the node's address, outside Service and NetworkPolicy control.",
			remediation: "Remove ports[].hostPort and expose the container through a Service."},
		{id: IDCapabilities, severity: finding.Low, facets: []string{"added"}, severities: [2]finding.Severity{finding.Low, finding.High}, upstream: []string{"capabilities_baseline", "capabilities_restricted"},
			title:       "Container keeps or adds Linux capabilities",
			description: "Capabilities beyond the default set (SYS_ADMIN, NET_ADMIN, ...) break container isolation; the restricted level also wants ALL dropped.",
			remediation: "Set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE if needed."},
		{id: IDSeccomp, severity: finding.Low, upstream: []string{"seccompProfile_baseline", "seccompProfile_restricted"},
			title:       "Container runs without a seccomp profile",
			description: "Without seccomp (Unconfined, or unset at the restricted level) every system call reaches the kernel.",
			remediation: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod."},
		{id: IDRunAsRoot, severity: finding.Medium, upstream: []string{"runAsNonRoot", "runAsUser"},
			title:       "Container may run as root",
			description: "Without runAsNonRoot=true (or with runAsUser=0) the container's processes can run as UID 0.",
			remediation: "Set securityContext.runAsNonRoot: true and a non-zero runAsUser, with an image that runs as that user."},
		{id: IDPrivilegeEscalation, severity: finding.Medium, upstream: []string{"allowPrivilegeEscalation"},
			title:       "Container allows privilege escalation",
			description: "Unless allowPrivilegeEscalation is false, setuid binaries and file capabilities can raise a process's privileges.",
			remediation: "Set securityContext.allowPrivilegeEscalation: false on every container."},
		{id: IDRestrictedVolumes, severity: finding.Low, upstream: []string{"restrictedVolumes"},
			title:       "Pod uses a volume type the restricted level forbids",
			description: "The restricted level allows only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes.",
			remediation: "Replace the volume with a PersistentVolumeClaim or one of the allowed types."},
		{id: IDUnsafeOptions, severity: finding.Medium, upstream: []string{"appArmorProfile", "procMount", "procMount_restricted", "seLinuxOptions", "sysctls", "hostProbesAndHostLifecycle"},
			title:       "Pod sets an unsafe AppArmor, SELinux, procMount, sysctl or probe host option",
			description: "Unconfined AppArmor, custom SELinux users or types, unmasked /proc, unsafe sysctls and probes aimed at other hosts weaken isolation.",
			remediation: "Remove the option the finding names or set it to the runtime default."},
	}
}

// blockerSummarizes are the checks whose findings about a workload its
// psa/restricted-blocker finding names (every violation at restricted): the
// report document writes them inside it (finding.Fold). Shared, read-only.
var blockerSummarizes = func() []string {
	var ids []string
	for _, k := range violationKinds() {
		ids = append(ids, k.id)
	}
	return ids
}()

func violationChecks(needs []inventory.Kind) []checks.Check {
	var out []checks.Check
	for _, k := range violationKinds() {
		out = append(out, checks.Check{
			ID: k.id, Domain: Domain, Severity: k.severity, Title: k.title, Description: k.description,
			Remediation: k.remediation, Facets: k.facets, Needs: needs, Range: k.severities, Run: run(k.id),
		})
	}
	return out
}

func kindOf(kinds []violationKind, upstream string) *violationKind {
	for i := range kinds {
		for _, u := range kinds[i].upstream {
			if u == upstream {
				return &kinds[i]
			}
		}
	}
	return &kinds[len(kinds)-1]
}

func namespaceResource(name string) finding.Resource {
	return finding.Resource{APIVersion: "v1", Kind: "Namespace", Name: name}
}

// describe renders violations as the API server does: reason (detail), ...
func describe(vs []Violation) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		p := v.Reason
		if v.Detail != "" {
			p += " (" + v.Detail + ")"
		}
		// A baseline check and the restricted one replacing it can say the same thing.
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// describeBlockers is describe, naming the object of each violation that is not the workload's own template.
func describeBlockers(bs []Blocker, top *subject) string {
	var parts []string
	for i := 0; i < len(bs); {
		j := i
		for j < len(bs) && bs[j].Object == bs[i].Object {
			j++
		}
		d := describe(blockerViolations(bs[i:j]))
		if bs[i].Object != top.Object {
			d = bs[i].Object.String() + ": " + d
		}
		parts = append(parts, d)
		i = j
	}
	return strings.Join(parts, "; ")
}

func blockerViolations(bs []Blocker) []Violation {
	out := make([]Violation, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Violation)
	}
	return out
}

func fieldsOf(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Fields...)
	}
	sort.Strings(out)
	return compact(out)
}

// fixFields is a remediation summary naming the fields to change.
func fixFields(vs []Violation) string {
	f := fieldsOf(vs)
	if len(f) == 0 {
		return "Change the pod spec so that it passes: " + describe(vs) + "."
	}
	return "Change " + strings.Join(f, ", ") + "."
}

// findings computes every psa finding once, in a single goroutine.
func (a *Analysis) buildFindings(includeSystem bool) map[string][]finding.Finding {
	out := byCheck{}
	add := func(id string, f finding.Finding) {
		f.Check = id
		out.add(id, f)
	}
	kinds := violationKinds()
	a.patches = map[judgedKey]*securityPatch{}
	defer func() { a.patches = nil }()
	for i := range a.Namespaces {
		st := a.byNS[a.Namespaces[i].Name]
		sum := st.summary
		if sum.System && !includeSystem {
			continue
		}
		a.namespaceFindings(st, add)
		a.workloadFindings(st, kinds, add)
	}
	return out.lists()
}

// byCheck gathers findings by check. A list grows as append grows it up to
// a block, then by blocks, so that a check with tens of thousands of
// findings is not copied at every growth: its blocks are joined once, into a
// list of the exact length.
type byCheck map[string][][]finding.Finding

const findingBlock = 256

func (b byCheck) add(id string, f finding.Finding) {
	blocks := b[id]
	switch n := len(blocks); {
	case n == 0:
		blocks = [][]finding.Finding{nil}
	case len(blocks[n-1]) == cap(blocks[n-1]) && cap(blocks[n-1]) >= findingBlock:
		blocks = append(blocks, make([]finding.Finding, 0, findingBlock))
	}
	last := len(blocks) - 1
	blocks[last] = append(blocks[last], f)
	b[id] = blocks
}

func (b byCheck) lists() map[string][]finding.Finding {
	out := make(map[string][]finding.Finding, len(b))
	for id, blocks := range b {
		if len(blocks) == 1 {
			out[id] = blocks[0]
			continue
		}
		n := 0
		for _, bl := range blocks {
			n += len(bl)
		}
		l := make([]finding.Finding, 0, n)
		for _, bl := range blocks {
			l = append(l, bl...)
		}
		out[id] = l
	}
	return out
}

// labelRemediation is the staged label change as a remediation.
func (a *Analysis) labelRemediation(st *nsState) *remedy.Remediation {
	p := st.summary.Proposal
	if p == nil {
		return nil
	}
	r := &remedy.Remediation{Changes: a.labelChanges(st, p)}
	switch {
	case p.Enforce == "":
		r.Summary = fmt.Sprintf("Label the namespace warn=%s and audit=%s (version %s); the workloads could not all be read, so no safe enforce level is proposed.", p.Target, p.Target, p.Version)
	case p.Enforce == p.Target:
		r.Summary = fmt.Sprintf("Every pod and template already passes %s: label the namespace enforce, audit and warn=%s, version %s.", p.Target, p.Target, p.Version)
	default:
		r.Summary = fmt.Sprintf("First warn and audit at %s (version %s) to see what would break, then enforce %s, the strictest level every pod and template already passes.", p.Target, p.Version, p.Enforce)
	}
	return r
}

// namespaceFindings reports a namespace's labels. Several findings may
// share the one remedy, the staged label change: the most severe carries its
// changes, so a plan applies them once; the others only say what it does.
func (a *Analysis) namespaceFindings(st *nsState, emit func(string, finding.Finding)) {
	sum := st.summary
	if !sum.Known {
		return
	}
	type pending struct {
		id string
		f  finding.Finding
	}
	var found []pending
	add := func(id string, f finding.Finding) { found = append(found, pending{id, f}) }
	defer func() {
		carrier := -1
		for i, p := range found {
			if carrier < 0 || severityOf(p.id, p.f) > severityOf(found[carrier].id, found[carrier].f) {
				carrier = i
			}
		}
		for i, p := range found {
			if p.f.Remediation != nil && i != carrier {
				r := *p.f.Remediation
				r.Changes = nil
				r.Summary += fmt.Sprintf(" The label changes are on the %s finding of this namespace.", found[carrier].id)
				p.f.Remediation = &r
			}
			emit(p.id, p.f)
		}
	}()
	res := namespaceResource(sum.Name)
	// One label remedy for all: the carrier keeps it, the others get copies.
	var labels *remedy.Remediation
	labelRemedy := func() *remedy.Remediation {
		if labels == nil {
			labels = a.labelRemediation(st)
		}
		return labels
	}
	_, hasEnforce := st.labels[EnforceLabel]
	cur, curOK := currentEnforce(st.labels)
	evidence := map[string]any{"labels": sum.Labels, "effective": sum.Effective, "strictest": sum.Strictest, "version": sum.Version}

	if !hasEnforce {
		f := finding.Finding{
			Resource:    res,
			Message:     fmt.Sprintf("Namespace %s has no %s label: pods are admitted at the cluster default (privileged unless the admission configuration sets one)", sum.Name, EnforceLabel),
			Evidence:    evidence,
			Remediation: labelRemedy(),
		}
		if a.complete {
			f.Message += "; " + standing(sum)
		}
		if sum.Production {
			f.Severity = finding.High
			f.Message += "; the namespace looks like production"
		}
		add(IDEnforceMissing, f)
	}
	if len(sum.Invalid) > 0 {
		f := finding.Finding{
			Resource:    res,
			Message:     fmt.Sprintf("Namespace %s has invalid Pod Security labels: %s", sum.Name, strings.Join(sum.Invalid, "; ")),
			Evidence:    map[string]any{"invalid": sum.Invalid, "effective": sum.Effective},
			Remediation: labelRemedy(),
		}
		if _, ok := currentEnforce(st.labels); !ok && hasEnforce {
			f.Message += fmt.Sprintf(" (enforce fails closed: pods are judged %s)", sum.Effective.Enforce)
		} else {
			f.Severity = finding.Low
			f.Message += " (audit and warn fail open: nothing is reported)"
		}
		add(IDInvalidLabel, f)
	}
	if curOK && cur == api.LevelPrivileged && sum.Production {
		add(IDPrivilegedProduction, finding.Finding{
			Resource:    res,
			Message:     fmt.Sprintf("Namespace %s looks like production but enforces privileged: privileged containers and host access are admitted", sum.Name),
			Evidence:    evidence,
			Remediation: labelRemedy(),
		})
	}
	if curOK && cur != api.LevelPrivileged {
		var weak []string
		if api.CompareLevels(st.policy.Audit.Level, st.policy.Enforce.Level) < 0 {
			weak = append(weak, "audit="+string(st.policy.Audit.Level))
		}
		if api.CompareLevels(st.policy.Warn.Level, st.policy.Enforce.Level) < 0 {
			weak = append(weak, "warn="+string(st.policy.Warn.Level))
		}
		if len(weak) > 0 {
			add(IDAuditWarnWeaker, finding.Finding{
				Resource:    res,
				Message:     fmt.Sprintf("Namespace %s enforces %s but %s: nothing is reported that enforce does not already reject", sum.Name, cur, strings.Join(weak, " and ")),
				Evidence:    evidence,
				Remediation: labelRemedy(),
			})
		}
	}
	if curOK && a.complete {
		if safe := a.strictest(st, a.pin); api.CompareLevels(safe, cur) > 0 {
			add(IDFreeWin, finding.Finding{
				Resource:    res,
				Message:     fmt.Sprintf("Namespace %s enforces %s, but %s at %s", sum.Name, cur, satisfied(sum.Counts.Workloads, safe), a.pin),
				Evidence:    evidence,
				Remediation: labelRemedy(),
			})
		}
	}
}

func (a *Analysis) workloadFindings(st *nsState, kinds []violationKind, add func(string, finding.Finding)) {
	enforce := st.policy.Enforce
	for _, w := range st.workloads {
		top := w.top

		// The next rollout: enforce judges every new pod by its template.
		rejected := false
		if enforce.Level != api.LevelPrivileged && !top.pod && top.Kind != "PodTemplate" {
			if j := a.at(top, enforce); !j.allowed {
				rejected = true
				t := a.shared.text(j.violations)
				f := finding.Finding{
					Resource:    top.Resource(),
					Message:     fmt.Sprintf("%s: new pods would be rejected by enforce=%s: %s", top.Object, a.resolvedString(enforce), t.described),
					Evidence:    a.rejectedEvidence(t, w.pods),
					Remediation: t.fix,
				}
				if enforce.Level == api.LevelRestricted {
					f.Remediation = a.restrictedRemediation(w, a.resolve(enforce.Version), j.violations)
				}
				add(IDRolloutRejected, f)
			}
		}

		// The namespace's own audit and warn labels, where it sets them.
		// staged: every one set is stricter than enforce, as the staged remedy leaves it.
		staged := true
		var modes []string
		var broken []Blocker
		seen := map[string]bool{}
		for _, m := range []struct {
			name, label string
			lv          api.LevelVersion
		}{{"audit", AuditLabel, st.policy.Audit}, {"warn", WarnLabel, st.policy.Warn}} {
			if _, set := st.labels[m.label]; !set || m.lv.Level == api.LevelPrivileged {
				continue
			}
			bs := a.failing(w, m.lv)
			if len(bs) == 0 {
				continue
			}
			staged = staged && api.CompareLevels(m.lv.Level, enforce.Level) > 0
			modes = append(modes, m.name+"="+a.resolvedString(m.lv))
			for _, b := range bs {
				if !seen[b.Object.String()+b.Check] {
					seen[b.Object.String()+b.Check] = true
					broken = append(broken, b)
				}
			}
		}
		if len(modes) > 0 {
			msg := fmt.Sprintf("%s violates the namespace's %s: %s", top.Object, strings.Join(modes, " and "), describeBlockers(broken, top))
			stage := ""
			sev := finding.Severity(0)
			if staged && !rejected {
				// The first stage of the label remedy (warn and audit above
				// enforce) is there to show exactly these: what it found, not a fault.
				stage = a.resolvedString(enforce)
				sev = finding.Low
				msg += fmt.Sprintf("; expected while the namespace is staged (warn and audit above enforce=%s, the first stage of the Pod Security label remedy of psa/enforce-missing): change these before enforcing the stricter level", stage)
			}
			add(IDAuditWarnViolation, finding.Finding{
				Resource:    top.Resource(),
				Severity:    sev,
				Message:     msg,
				Evidence:    a.blockersEvidence(IDAuditWarnViolation, broken, top, w.pods, stage),
				Remediation: a.shared.text(blockerViolations(broken)).fix,
			})
		}

		// What keeps the namespace from restricted, with the patch that would
		// clear it (already said by rollout-rejected when restricted is enforced).
		if a.workloadLevel(w, st.version) != api.LevelRestricted && !(rejected && enforce.Level == api.LevelRestricted) {
			bs := a.failing(w, api.LevelVersion{Level: api.LevelRestricted, Version: st.version})
			add(IDRestrictedBlocker, finding.Finding{
				Resource:    top.Resource(),
				Message:     fmt.Sprintf("%s does not pass restricted:%s: %s", top.Object, st.version, describeBlockers(bs, top)),
				Evidence:    a.blockersEvidence(IDRestrictedBlocker, bs, top, w.pods, ""),
				Remediation: a.restrictedRemediation(w, st.version, blockerViolations(bs)),
				Summarizes:  blockerSummarizes,
			})
		}

		// One finding per kind of violation and object, with the fields to change.
		for _, g := range a.groups(w, st.version, kinds) {
			add(g.kind.id, finding.Finding{
				Resource:    g.object.Resource(),
				Message:     g.object.String() + ": " + g.text.described + g.at + podCount(g.pods),
				Severity:    g.severity,
				Facets:      g.facets,
				Evidence:    a.groupEvidence(g, st.version),
				Remediation: g.text.fix,
			})
		}
	}
}

// podCount ends a finding's message with how many pods it is about, when more than one.
func podCount(n int) string {
	if n > 1 {
		return " (" + strconv.Itoa(n) + " pods)"
	}
	return ""
}

// rejectedEvidence is the evidence of a template the enforce level rejects.
func (a *Analysis) rejectedEvidence(t *violationText, pods int) map[string]any {
	k := a.shared.key.reset().str(IDRolloutRejected).violations(t.violations).int(pods)
	return intern(a.shared.evidence, k, func() map[string]any {
		return map[string]any{"violations": t.violations, "pods": pods}
	})
}

// groupEvidence is the evidence of a group's finding.
func (a *Analysis) groupEvidence(g *group, v api.Version) map[string]any {
	k := a.shared.key.reset().str("group").violations(g.violations).strs(g.fields).int(g.pods).version(v)
	return intern(a.shared.evidence, k, func() map[string]any {
		return map[string]any{"violations": g.violations, "fields": g.fields, "pods": g.pods, "version": v.String()}
	})
}

// blockersEvidence is the evidence of a workload's blockers, with the stage
// its namespace is in when staged is set. It names no object when every
// blocker is the workload's own, and is then shared with every equal one.
func (a *Analysis) blockersEvidence(check string, bs []Blocker, top *subject, pods int, stage string) map[string]any {
	build := func() map[string]any {
		ev := map[string]any{"violations": compactBlockers(bs, top, pods), "pods": pods}
		if stage != "" {
			ev["stage"] = map[string]any{"enforce": stage, "remedy": IDEnforceMissing}
		}
		return ev
	}
	k := a.shared.key.reset().str(check).str(stage).int(pods).int(len(bs))
	for _, b := range bs {
		if b.Object != top.Object {
			return build()
		}
		k.int(b.Pods).violation(b.Violation)
	}
	return intern(a.shared.evidence, k, build)
}

// blockerEvidence is a Blocker in a finding's evidence: its object and pods
// are named only where they are not the finding's own (an old ReplicaSet, a
// pod that differs from its template), so a workload's evidence does not
// repeat its name and replicas for every violation.
type blockerEvidence struct {
	Object *Object `json:"object,omitempty"`
	Pods   int     `json:"pods,omitempty"`
	Violation
}

func compactBlockers(bs []Blocker, top *subject, pods int) []blockerEvidence {
	out := make([]blockerEvidence, len(bs))
	for i, b := range bs {
		out[i].Violation = b.Violation
		if b.Object != top.Object {
			o := b.Object
			out[i].Object = &o
		}
		if b.Pods != pods || out[i].Object != nil {
			out[i].Pods = b.Pods
		}
	}
	return out
}

// restrictedRemediation offers the risky securityContext patch when it makes
// the workload's template pass restricted, else names the fields to change.
func (a *Analysis) restrictedRemediation(w *workload, v api.Version, vs []Violation) *remedy.Remediation {
	top := w.top
	t := a.shared.text(vs)
	if a.at(top, api.LevelVersion{Level: api.LevelRestricted, Version: v}).allowed {
		return &remedy.Remediation{Summary: fmt.Sprintf("The template of %s passes restricted, but objects made from an older template do not (%s): replace them, for example with kubectl rollout restart, or delete the old ReplicaSet.", top.Object, strings.Join(t.fields, ", "))}
	}
	if c, ok := a.restrictedPatch(top, v); ok {
		return &remedy.Remediation{Summary: t.risky(len(w.members) > 0), Changes: []remedy.Change{c}}
	}
	switch {
	case top.custom:
		return &remedy.Remediation{Summary: t.fix.Summary + fmt.Sprintf(" Change %s of %s by hand: how its custom resource merges container lists is not known here, so no patch is offered.", top.specPath, top.Object)}
	case !top.canPatch:
		k := a.shared.key.reset().str("recreate").str(top.Kind).violations(t.violations)
		return intern(a.shared.remedies, k, func() *remedy.Remediation {
			return &remedy.Remediation{Summary: t.fix.Summary + fmt.Sprintf(" A %s's pod spec cannot be changed in place: recreate it with the fields set.", top.Kind)}
		})
	}
	return t.fix
}

// severityOf is a namespace finding's severity, its check's when it sets none.
func severityOf(id string, f finding.Finding) finding.Severity {
	if f.Severity != 0 {
		return f.Severity
	}
	for _, c := range Checks() {
		if c.ID == id {
			return c.Severity
		}
	}
	return 0
}

// standing says where a namespace's workloads stand.
func standing(sum *NamespaceSummary) string {
	if sum.Strictest == api.LevelPrivileged {
		return fmt.Sprintf("%d of its %d workloads need privileged (they fail baseline)", sum.Counts.Privileged, sum.Counts.Workloads)
	}
	return satisfied(sum.Counts.Workloads, sum.Strictest)
}

func satisfied(workloads int, l api.Level) string {
	switch workloads {
	case 0:
		return fmt.Sprintf("it has no pods or templates, so %s costs nothing", l)
	case 1:
		return fmt.Sprintf("its only workload already satisfies %s", l)
	}
	return fmt.Sprintf("all its %d workloads already satisfy %s", workloads, l)
}

func (a *Analysis) resolvedString(lv api.LevelVersion) string {
	if lv.Version.Latest() {
		return fmt.Sprintf("%s:latest (%s)", lv.Level, a.resolve(lv.Version))
	}
	return lv.String()
}

// group is the violations of one kind on one object.
type group struct {
	kind       *violationKind
	object     Object
	pods       int
	violations []Violation
	// text is what findings say about the violations; fields and at are its
	// own unless some fields are reported by another group.
	text     *violationText
	fields   []string
	at       string
	severity finding.Severity
	facets   []string
}

// groups collects a workload's violations at both levels by kind and object:
// the top object's, then those of owned objects for checks the top passes.
func (a *Analysis) groups(w *workload, v api.Version, kinds []violationKind) []*group {
	byKey := map[string]*group{}
	var order []*group
	seen := map[string]bool{}
	for _, s := range append([]*subject{w.top}, w.members...) {
		j := a.judge(s, v)
		mine := map[string]bool{}
		for _, vs := range [][]Violation{j[0].violations, j[1].violations} {
			for _, vi := range vs {
				if seen[vi.Check] || mine[vi.Check] {
					continue
				}
				mine[vi.Check] = true
				k := kindOf(kinds, vi.Check)
				key := k.id + "\x00" + s.Object.String()
				g, ok := byKey[key]
				if !ok {
					g = &group{kind: k, object: s.Object}
					if s == w.top {
						g.pods = w.pods
					} else if s.pod {
						g.pods = 1
					}
					byKey[key] = g
					order = append(order, g)
				}
				g.violations = append(g.violations, vi)
			}
		}
		for c := range mine {
			seen[c] = true
		}
	}
	// hostPath volumes are reported by psa/host-path; restricted-volumes keeps the other types.
	hostPath := map[string]bool{}
	for _, g := range order {
		g.text = a.shared.text(g.violations)
		g.violations, g.fields, g.at = g.text.violations, g.text.fields, g.text.at
		if g.kind.id == IDHostPath {
			for _, f := range g.fields {
				hostPath[g.object.String()+"\x00"+f] = true
			}
		}
	}
	var out []*group
	for _, g := range order {
		if g.kind.id == IDRestrictedVolumes {
			var rest []string
			for _, f := range g.fields {
				if !hostPath[g.object.String()+"\x00"+f] {
					rest = append(rest, f)
				}
			}
			if len(rest) == 0 && len(g.fields) > 0 {
				continue
			}
			if len(rest) < len(g.fields) {
				g.fields, g.at = rest, " at "+strings.Join(rest, ", ")
			}
		}
		g.severity = g.kind.severity
		a.refine(g)
		g.facets = a.shared.list(g.facets)
		out = append(out, g)
	}
	return out
}

// refine sets a group's severity and facets from what exactly it violates.
func (a *Analysis) refine(g *group) {
	has := func(id string) bool {
		for _, v := range g.violations {
			if v.Check == id {
				return true
			}
		}
		return false
	}
	hasField := func(suffix string) bool {
		for _, f := range g.fields {
			if strings.HasSuffix(f, suffix) {
				return true
			}
		}
		return false
	}
	switch g.kind.id {
	case IDPrivileged:
		if has("privileged") {
			g.facets = append(g.facets, "privileged")
		}
		if has("windowsHostProcess") {
			g.facets = append(g.facets, "windows-host-process")
		}
	case IDHostNamespaces:
		for _, h := range []struct{ field, facet string }{{".hostPID", "host-pid"}, {".hostIPC", "host-ipc"}, {".hostNetwork", "host-network"}} {
			if hasField(h.field) {
				g.facets = append(g.facets, h.facet)
			}
		}
	case IDCapabilities:
		// Adding capabilities beyond the default set breaks baseline: much worse than not dropping ALL.
		if has("capabilities_baseline") {
			g.severity = finding.High
			g.facets = append(g.facets, "added")
		}
	case IDSeccomp:
		if has("seccompProfile_baseline") {
			g.severity = finding.Medium
		}
	}
}
