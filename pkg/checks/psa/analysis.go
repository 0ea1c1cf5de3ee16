package psa

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/pod-security-admission/api"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// Object names an evaluated object: a Pod or an object holding a pod template.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
}

func (o Object) String() string { return o.Kind + " " + o.Namespace + "/" + o.Name }

// Resource is the object as a finding names it.
func (o Object) Resource() finding.Resource {
	return finding.Resource{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// Verdict is a pod spec judged at baseline and restricted at one policy version.
type Verdict struct {
	Object  Object `json:"object"`
	Version string `json:"version"`
	// Level is the strictest level the pod spec satisfies.
	Level      api.Level   `json:"level"`
	Baseline   []Violation `json:"baseline,omitempty"`
	Restricted []Violation `json:"restricted,omitempty"`
}

// NamespaceSummary is a namespace's Pod Security standing, for the report's coverage table.
type NamespaceSummary struct {
	Name string `json:"name"`
	// Known says the Namespace object was read, so its labels are known. Manifests
	// often name a namespace without defining it; its labels are then unknown.
	Known bool `json:"known"`
	// System namespaces (kube-system, kube-public, kube-node-lease) host the
	// control plane's own privileged pods; their findings are left out unless asked for.
	System     bool     `json:"system,omitempty"`
	Production bool     `json:"production,omitempty"`
	Labels     Labels   `json:"labels"`
	Invalid    []string `json:"invalidLabels,omitempty"`
	// Effective is the policy the API server applies, as level:version, after
	// defaults (privileged when unlabelled) and fail-closed/fail-open rules for invalid values.
	Effective Modes `json:"effective"`
	// Version is the policy version the namespace's pods and templates were judged at.
	Version string `json:"version"`
	// Strictest is the strictest level every pod and template satisfies today.
	Strictest api.Level `json:"strictest"`
	// Next is the level above Strictest, and Blocking what stands in its way.
	Next     api.Level `json:"next,omitempty"`
	Blocking []Blocker `json:"blocking,omitempty"`
	Counts   Counts    `json:"counts"`
	// Proposal is the staged label change, when the labels are not already what it proposes.
	Proposal *Proposal `json:"proposal,omitempty"`
	// DryRun holds the server's answers to the proposal, with --server-dry-run.
	DryRun []ServerCheck `json:"serverDryRun,omitempty"`
}

// Labels are a namespace's pod-security.kubernetes.io labels as written.
type Labels struct {
	Enforce        string `json:"enforce,omitempty"`
	EnforceVersion string `json:"enforceVersion,omitempty"`
	Audit          string `json:"audit,omitempty"`
	AuditVersion   string `json:"auditVersion,omitempty"`
	Warn           string `json:"warn,omitempty"`
	WarnVersion    string `json:"warnVersion,omitempty"`
}

// Modes are the effective enforce, audit and warn policies as level:version.
type Modes struct {
	Enforce string `json:"enforce"`
	Audit   string `json:"audit"`
	Warn    string `json:"warn"`
}

// Blocker is a violation that keeps a namespace from the next level.
type Blocker struct {
	Object Object `json:"object"`
	// Pods is how many pods the object stands for (a Deployment's replicas found in the inventory).
	Pods int `json:"pods,omitempty"`
	Violation
}

// Counts sums up a namespace's workloads. A workload is a top-level object
// with everything it owns: a Deployment with its ReplicaSets and their Pods
// counts once; a Pod nobody owns is a workload of its own.
type Counts struct {
	Workloads  int `json:"workloads"`
	Pods       int `json:"pods"`
	Templates  int `json:"templates"`
	Privileged int `json:"privileged"`
	Baseline   int `json:"baseline"`
	Restricted int `json:"restricted"`
}

// Proposal is the recommended label change: warn and audit at Target first,
// then enforce at the strictest level already satisfied, all pinned to Version.
type Proposal struct {
	Target  api.Level `json:"target"`
	Enforce api.Level `json:"enforce"`
	Version string    `json:"version"`
	// Labels are the pod-security labels once both stages are applied.
	Labels map[string]string `json:"labels"`
}

// subject is one pod spec the analysis judges: a Pod's, or a template's.
type subject struct {
	Object
	meta     *metav1.ObjectMeta
	spec     *corev1.PodSpec
	metaPath *field.Path
	specPath *field.Path
	pod      bool
	// canPatch says the plugin may offer a change to the template (false for
	// Pods, whose spec is immutable, Jobs, whose template is, and custom
	// workloads, whose schema decides how a patch's lists merge).
	canPatch bool
	// custom is set for a custom resource carrying a pod template (an Argo Rollout).
	custom bool
	// alike is the same for subjects the checks cannot tell apart (the pods
	// of one ReplicaSet, a Deployment and its ReplicaSets): the index of the
	// first subject with the same content, paths included.
	alike int
}

// workload is a top-level subject and the subjects it owns.
type workload struct {
	top     *subject
	members []*subject
	pods    int
}

// nsState is the analysis of one namespace.
type nsState struct {
	summary   *NamespaceSummary
	labels    map[string]string
	policy    api.Policy
	version   api.Version // judged at
	workloads []*workload
	pods      []*subject // every pod, owned or not, as the API server checks them
}

// Analysis is the Pod Security analysis of an inventory, built once per run
// (inventory.Memo) and shared by every psa check.
type Analysis struct {
	Namespaces []NamespaceSummary `json:"namespaces"`
	// Notes say what limits the analysis (an unknown server version, a server newer than the policy library).
	Notes []string `json:"notes,omitempty"`

	eval *evaluator
	// server is the version "latest" stands for: the server's minor, else the library's newest.
	server api.Version
	// pin is the version proposed labels are pinned to.
	pin      api.Version
	complete bool // every kind holding pod specs was read
	byNS     map[string]*nsState
	// objects are the subjects by Kind, namespace and name (byObject), for Verdict.
	objects []*subject
	// findings are every psa check's findings, built at once; taken are
	// the checks whose findings were handed over since (take).
	findings      map[string][]finding.Finding
	taken         map[string]bool
	includeSystem bool
	// judged holds the judgements [baseline, restricted] of alike subjects at a version.
	judged map[judgedKey]*[2]judgement
	shared *shared
	// patches caches restrictedPatch while the findings are built.
	patches map[judgedKey]*securityPatch
	// mu guards the judgement caches for queries after the analysis (Verdict, PredictedWarnings).
	mu sync.Mutex
}

type judgedKey struct {
	alike   int
	version api.Version
}

// Label keys of the Pod Security admission.
const (
	EnforceLabel        = api.EnforceLevelLabel
	EnforceVersionLabel = api.EnforceVersionLabel
	AuditLabel          = api.AuditLevelLabel
	AuditVersionLabel   = api.AuditVersionLabel
	WarnLabel           = api.WarnLevelLabel
	WarnVersionLabel    = api.WarnVersionLabel
)

// podSpecKinds are the kinds whose pod specs the analysis reads: every kind
// that carries one, custom workloads included.
func podSpecKinds() []inventory.Kind { return inventory.PodSpecKinds() }

// Needs are the kinds the full analysis reads.
func Needs() []inventory.Kind {
	return append([]inventory.Kind{inventory.Namespaces}, podSpecKinds()...)
}

// Analyze returns the inventory's Pod Security analysis, computed once per inventory.
func Analyze(inv *inventory.Inventory) *Analysis {
	return inv.Memo("psa", func() any { return analyze(inv) }).(*Analysis)
}

func analyze(inv *inventory.Inventory) *Analysis {
	ev, err := newEvaluator()
	if err != nil {
		// The library rejecting its own default checks is a build problem, not a cluster's.
		panic(err)
	}
	a := &Analysis{eval: ev, byNS: map[string]*nsState{}, judged: map[judgedKey]*[2]judgement{}, shared: newShared(), complete: true}
	a.server, err = PolicyVersion(inv.ServerVersion)
	if err != nil {
		a.server = api.LatestVersion()
		a.Notes = append(a.Notes, fmt.Sprintf("%v; judged at the newest policy the plugin knows (%s)", err, ev.newest))
	}
	a.pin = a.server
	if a.server.Latest() {
		a.pin = ev.newest
	} else if ev.newest.Older(a.server) {
		a.Notes = append(a.Notes, fmt.Sprintf("the server (%s) is newer than the plugin's Pod Security policy (%s): checks added since are not evaluated", a.server, ev.newest))
	}
	// Offline, a kind of workload absent from manifests that hold others is none, not unknown.
	if checks.MissingReason(inv, podSpecKinds()) != "" {
		a.complete = false
	}

	specs := inventory.PodSpecs(inv)
	a.link(a.collect(specs), specs)
	for _, n := range inv.NamespaceNames() {
		a.namespace(n)
	}
	for _, ns := range inv.Namespaces {
		st := a.namespace(ns.Name)
		st.summary.Known = true
		st.labels = ns.Labels
	}
	names := make([]string, 0, len(a.byNS))
	for n := range a.byNS {
		names = append(names, n)
	}
	sort.Strings(names)
	a.Namespaces = make([]NamespaceSummary, len(names))
	for i, n := range names {
		st := a.byNS[n]
		a.summarize(st)
		// The namespace's state reads its summary where the report does.
		a.Namespaces[i] = *st.summary
		st.summary = &a.Namespaces[i]
	}
	a.includeSystem = inv.Settings.IncludeSystem
	a.findings, a.taken = a.buildFindings(a.includeSystem), map[string]bool{}
	return a
}

// take hands a check's findings over to the run that asks for them: the run
// owns them (checks.Run fills them in) and the analysis keeps no copy. A
// check whose findings were taken already (a second audit of the same
// inventory) gets them built again, as equal as the first ones.
func (a *Analysis) take(id string) []finding.Finding {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.taken[id] {
		a.findings, a.taken = a.buildFindings(a.includeSystem), map[string]bool{}
	}
	fs := a.findings[id]
	delete(a.findings, id)
	a.taken[id] = true
	return fs
}

// namespaceOf is where an object lives; manifests without a namespace go to
// "default", as kubectl apply would put them with a default kubeconfig.
func namespaceOf(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

func (a *Analysis) namespace(name string) *nsState {
	name = namespaceOf(name)
	st, ok := a.byNS[name]
	if !ok {
		st = &nsState{summary: &NamespaceSummary{Name: name, System: isSystemNamespace(name)}}
		a.byNS[name] = st
	}
	return st
}

// collect makes a subject of every pod spec in the inventory, in the order
// of inventory.PodSpecs.
func (a *Analysis) collect(specs []inventory.PodSpec) []*subject {
	subjects := make([]*subject, len(specs))
	paths := map[string]*field.Path{}
	fieldPath := func(p string) *field.Path {
		fp, ok := paths[p]
		if !ok {
			fp = parseFieldPath(p)
			paths[p] = fp
		}
		return fp
	}
	// Subjects are alike when their content is; the contents are dropped
	// once compared: they hold whole pod specs.
	alike := map[string]int{}
	c := newContent()
	for i := range specs {
		ps := &specs[i]
		_, custom := ps.Object.(*inventory.CustomWorkload)
		_, job := ps.Object.(*batchv1.Job)
		s := &subject{
			Object:   Object{APIVersion: ps.Ref.APIVersion, Kind: ps.Ref.Kind, Namespace: namespaceOf(ps.Ref.Namespace), Name: ps.Ref.Name},
			meta:     ps.Template,
			spec:     defaulted(ps.Spec, ps.Pod),
			metaPath: fieldPath(ps.MetaPath),
			specPath: fieldPath(ps.Path),
			pod:      ps.Pod,
			canPatch: !ps.Pod && !job && !custom,
			custom:   custom,
			alike:    i,
		}
		if b, ok := c.of(s.meta, s.spec, ps.MetaPath, ps.Path); ok {
			if first, seen := alike[string(b)]; seen {
				s.alike = first
			} else {
				alike[string(b)] = i
			}
		}
		subjects[i] = s
		if s.pod {
			st := a.namespace(s.Namespace)
			st.pods = append(st.pods, s)
		}
	}
	a.objects = byObject(subjects)
	return subjects
}

// byObject returns the subjects sorted by Kind, namespace and name, one for
// each: Verdict finds objects by Kind, and a custom resource sharing a Kind
// and name with a built-in object (a Kruise StatefulSet) leaves it the
// place. Among built-in objects of one name the last counts, else the first
// custom resource.
func byObject(subjects []*subject) []*subject {
	sorted := slices.Clone(subjects)
	slices.SortStableFunc(sorted, func(x, y *subject) int { return compareObject(x.Object, y.Kind, y.Namespace, y.Name) })
	out := sorted[:0]
	for i := 0; i < len(sorted); {
		j, pick := i, i
		for ; j < len(sorted) && compareObject(sorted[j].Object, sorted[i].Kind, sorted[i].Namespace, sorted[i].Name) == 0; j++ {
			if !sorted[j].custom {
				pick = j
			}
		}
		out = append(out, sorted[pick])
		i = j
	}
	return slices.Clip(out)
}

func compareObject(o Object, kind, namespace, name string) int {
	return cmp.Or(strings.Compare(o.Kind, kind), strings.Compare(o.Namespace, namespace), strings.Compare(o.Name, name))
}

// object returns the subject of Kind kind named namespace/name, or nil.
func (a *Analysis) object(kind, namespace, name string) *subject {
	i, ok := slices.BinarySearchFunc(a.objects, Object{Kind: kind, Namespace: namespace, Name: name}, func(s *subject, o Object) int {
		return compareObject(s.Object, o.Kind, o.Namespace, o.Name)
	})
	if !ok {
		return nil
	}
	return a.objects[i]
}

// parseFieldPath parses a dotted field path such as spec.template.spec.
func parseFieldPath(p string) *field.Path {
	parts := strings.Split(p, ".")
	return field.NewPath(parts[0], parts[1:]...)
}

// link groups the subjects of each namespace into workloads: each subject
// under the outermost controller inventory.PodSpecs finds above it (a Pod
// under its ReplicaSet's Deployment, an Argo Rollout's ReplicaSets and pods
// under the Rollout), the same owners every domain counts by.
func (a *Analysis) link(subjects []*subject, specs []inventory.PodSpec) {
	names := make([]string, len(subjects))
	order := make([]int, len(subjects))
	for i, s := range subjects {
		names[i] = inventory.Key{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}.String()
		order[i] = i
	}
	// Members in name order, so that a workload's blockers come out the same from any input order.
	sort.SliceStable(order, func(x, y int) bool { return names[order[x]] < names[order[y]] })
	tops := map[*subject]*workload{}
	for _, i := range order {
		s := subjects[i]
		top := s
		if o := specs[i].Owner; o >= 0 {
			top = subjects[o]
		}
		w, ok := tops[top]
		if !ok {
			w = &workload{top: top}
			tops[top] = w
			st := a.namespace(top.Namespace)
			st.workloads = append(st.workloads, w)
		}
		if s != top {
			w.members = append(w.members, s)
		}
		if s.pod {
			w.pods++
		}
	}
}

// resolve maps a label's "latest" to the version the server means by it.
func (a *Analysis) resolve(v api.Version) api.Version {
	if v.Latest() {
		return a.server
	}
	return v
}

// judge returns a subject's judgements at baseline and restricted at a
// version, computed once for subjects alike and shared with every equal one.
func (a *Analysis) judge(s *subject, v api.Version) *[2]judgement {
	k := judgedKey{s.alike, a.resolve(v)}
	if j, ok := a.judged[k]; ok {
		return j
	}
	j := a.shared.judgement(&[2]judgement{
		a.eval.judge(api.LevelVersion{Level: api.LevelBaseline, Version: k.version}, s.meta, s.spec, s.metaPath, s.specPath),
		a.eval.judge(api.LevelVersion{Level: api.LevelRestricted, Version: k.version}, s.meta, s.spec, s.metaPath, s.specPath),
	})
	a.judged[k] = j
	return j
}

// at returns a subject's judgement at one level; privileged allows everything.
func (a *Analysis) at(s *subject, lv api.LevelVersion) judgement {
	switch lv.Level {
	case api.LevelBaseline:
		return a.judge(s, lv.Version)[0]
	case api.LevelRestricted:
		return a.judge(s, lv.Version)[1]
	}
	return judgement{allowed: true}
}

func (a *Analysis) level(s *subject, v api.Version) api.Level {
	j := a.judge(s, v)
	switch {
	case j[1].allowed:
		return api.LevelRestricted
	case j[0].allowed:
		return api.LevelBaseline
	}
	return api.LevelPrivileged
}

// workloadLevel is the strictest level the workload's template and every object it owns satisfy.
func (a *Analysis) workloadLevel(w *workload, v api.Version) api.Level {
	l := a.level(w.top, v)
	for _, m := range w.members {
		if ml := a.level(m, v); api.CompareLevels(ml, l) < 0 {
			l = ml
		}
	}
	return l
}

// strictest is the strictest level every workload of a namespace satisfies.
func (a *Analysis) strictest(st *nsState, v api.Version) api.Level {
	l := api.LevelRestricted
	for _, w := range st.workloads {
		if wl := a.workloadLevel(w, v); api.CompareLevels(wl, l) < 0 {
			l = wl
		}
	}
	return l
}

// failing returns the violations of a workload at a level: the top object's,
// then those of owned objects for checks the top object passes (a pod
// created before its template was fixed, a ReplicaSet of an old revision).
func (a *Analysis) failing(w *workload, lv api.LevelVersion) []Blocker {
	var out []Blocker
	seen := map[string]bool{}
	top := a.at(w.top, lv)
	for _, v := range top.violations {
		seen[v.Check] = true
		out = append(out, Blocker{Object: w.top.Object, Pods: w.pods, Violation: v})
	}
	for _, m := range w.members {
		for _, v := range a.at(m, lv).violations {
			if !seen[v.Check] {
				seen[v.Check] = true
				out = append(out, Blocker{Object: m.Object, Violation: v})
			}
		}
	}
	return out
}

func nextLevel(l api.Level) api.Level {
	switch l {
	case api.LevelPrivileged:
		return api.LevelBaseline
	case api.LevelBaseline:
		return api.LevelRestricted
	}
	return ""
}

// summarize fills a namespace's summary.
func (a *Analysis) summarize(st *nsState) {
	sum := st.summary
	sum.Production = isProduction(sum.Name, st.labels)
	sum.Labels = Labels{
		Enforce: st.labels[EnforceLabel], EnforceVersion: st.labels[EnforceVersionLabel],
		Audit: st.labels[AuditLabel], AuditVersion: st.labels[AuditVersionLabel],
		Warn: st.labels[WarnLabel], WarnVersion: st.labels[WarnVersionLabel],
	}
	// Unlabelled modes default to privileged:latest: the API cannot show an
	// AdmissionConfiguration default, and privileged is the built-in one.
	def := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	pol, errs := api.PolicyToEvaluate(st.labels, api.Policy{Enforce: def, Audit: def, Warn: def})
	st.policy = pol
	for _, e := range errs {
		key := strings.TrimSuffix(strings.TrimPrefix(e.Field, "metadata.labels["), "]")
		sum.Invalid = append(sum.Invalid, fmt.Sprintf("%s=%v: %s", key, e.BadValue, e.Detail))
	}
	sum.Effective = Modes{Enforce: pol.Enforce.String(), Audit: pol.Audit.String(), Warn: pol.Warn.String()}
	st.version = a.resolve(pol.Enforce.Version)
	sum.Version = st.version.String()

	sort.Slice(st.workloads, func(i, j int) bool { return st.workloads[i].top.Object.String() < st.workloads[j].top.Object.String() })
	for _, w := range st.workloads {
		sum.Counts.Workloads++
		sum.Counts.Pods += w.pods
		if !w.top.pod {
			sum.Counts.Templates++
		}
		for _, s := range w.members {
			if !s.pod {
				sum.Counts.Templates++
			}
		}
		switch a.workloadLevel(w, st.version) {
		case api.LevelPrivileged:
			sum.Counts.Privileged++
		case api.LevelBaseline:
			sum.Counts.Baseline++
		default:
			sum.Counts.Restricted++
		}
	}
	sum.Strictest = a.strictest(st, st.version)
	sum.Next = nextLevel(sum.Strictest)
	if sum.Next != "" {
		for _, w := range st.workloads {
			if a.workloadLevel(w, st.version) == sum.Strictest {
				sum.Blocking = append(sum.Blocking, a.failing(w, api.LevelVersion{Level: sum.Next, Version: st.version})...)
			}
		}
		// Kept for the whole run: without the room append left.
		sum.Blocking = slices.Clone(sum.Blocking)
	}
	sum.Proposal = a.propose(st)
}

// Verdict returns an object's judgement at its namespace's policy version.
// kind is the object's Kind (Pod, Deployment, ...); an object without a
// namespace in manifests is in "default".
func (a *Analysis) Verdict(kind, namespace, name string) (Verdict, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.object(kind, namespaceOf(namespace), name)
	if s == nil {
		return Verdict{}, false
	}
	v := a.byNS[s.Namespace].version
	j := a.judge(s, v)
	return Verdict{Object: s.Object, Version: v.String(), Level: a.level(s, v), Baseline: j[0].violations, Restricted: j[1].violations}, true
}

// PredictedWarnings returns the warnings the API server answers a change of
// the namespace's enforce policy to lv with, in its own words and order: a
// header, then for each distinct set of forbidden reasons the first pod by
// name, how many others share it, and the reasons. Like the server it judges
// every Pod, owned or not, and not templates; it does not model the server's
// cap on pods checked (3000 by default) nor its time limit.
func (a *Analysis) PredictedWarnings(namespace string, lv api.LevelVersion) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, ok := a.byNS[namespaceOf(namespace)]
	if !ok || lv.Level == api.LevelPrivileged {
		return nil
	}
	type group struct {
		first string
		count int
	}
	groups := map[string]*group{}
	var reasons []string
	for _, p := range st.pods {
		j := a.at(p, lv)
		if j.allowed {
			continue
		}
		g, ok := groups[j.reason]
		if !ok {
			g = &group{first: p.Name}
			groups[j.reason] = g
			reasons = append(reasons, j.reason)
		} else if p.Name < g.first {
			g.first = p.Name
		}
		g.count++
	}
	if len(reasons) == 0 {
		return nil
	}
	out := make([]string, 0, len(reasons))
	for _, r := range reasons {
		g := groups[r]
		switch g.count {
		case 1:
			out = append(out, fmt.Sprintf("%s: %s", g.first, r))
		case 2:
			out = append(out, fmt.Sprintf("%s (and 1 other pod): %s", g.first, r))
		default:
			out = append(out, fmt.Sprintf("%s (and %d other pods): %s", g.first, g.count-1, r))
		}
	}
	sort.Strings(out)
	header := fmt.Sprintf("existing pods in namespace %q violate the new PodSecurity enforce level %q", namespaceOf(namespace), lv.String())
	return append([]string{header}, out...)
}

// ComputeCoverage is the analysis of inv as the report's psa coverage.
func ComputeCoverage(inv *inventory.Inventory) *Coverage { return Analyze(inv).Coverage() }

// Coverage is the psa document of a report's coverage: each namespace's
// labels, the strictest level it satisfies, what blocks the next and the
// proposed labels, and what limits the analysis. It is plain data (the
// analysis behind it keeps its caches to itself); the namespaces are the
// analysis's own, so server dry-run answers recorded later show in it.
type Coverage struct {
	Namespaces []NamespaceSummary `json:"namespaces"`
	Notes      []string           `json:"notes,omitempty"`
}

// CoverageDomain makes Coverage the psa document of a report's coverage.
func (*Coverage) CoverageDomain() string { return Domain }

// Coverage returns the analysis's document.
func (a *Analysis) Coverage() *Coverage { return &Coverage{Namespaces: a.Namespaces, Notes: a.Notes} }

// defaulted returns the pod spec as the API server stores it, for the
// defaults PodSecurity checks can see: a volume with no source becomes an
// emptyDir, and (for Pods only, since v1.28) a hostNetwork pod's container
// ports get hostPort = containerPort. Objects read from a server already have
// them; manifests do not. The inventory is shared, so a spec needing a
// default is copied, never changed.
func defaulted(spec *corev1.PodSpec, pod bool) *corev1.PodSpec {
	needs := false
	for _, v := range spec.Volumes {
		if v.VolumeSource == (corev1.VolumeSource{}) {
			needs = true
		}
	}
	hostPorts := func(cs []corev1.Container) bool {
		for _, c := range cs {
			for _, p := range c.Ports {
				if p.HostPort == 0 {
					return true
				}
			}
		}
		return false
	}
	if pod && spec.HostNetwork && (hostPorts(spec.Containers) || hostPorts(spec.InitContainers)) {
		needs = true
	}
	if !needs {
		return spec
	}
	out := spec.DeepCopy()
	for i := range out.Volumes {
		if out.Volumes[i].VolumeSource == (corev1.VolumeSource{}) {
			out.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
	if pod && out.HostNetwork {
		for _, cs := range [][]corev1.Container{out.Containers, out.InitContainers} {
			for i := range cs {
				for j := range cs[i].Ports {
					if cs[i].Ports[j].HostPort == 0 {
						cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
					}
				}
			}
		}
	}
	return out
}
