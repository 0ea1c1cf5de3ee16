package psa

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Equal values are kept once. In a cluster most pod specs are, for what the
// Pod Security checks read, equal to another one (the replicas of a
// ReplicaSet, a Deployment and its ReplicaSets), and most verdicts and parts
// of findings are equal word for word to others (every namespace deployed
// from one chart). So the analysis judges each distinct pod spec once
// (subject.alike, content), and a table maps each value's canonical encoding
// to the one copy that every judgement and finding with an equal value
// holds (shared). Sharing depends only on what a value is, never on where it
// came from, so a shared value is the one that would have been built
// otherwise; values are never changed once built (findings are read-only),
// which is what makes sharing them safe.

// canonical is a canonical encoding under construction. Each part is
// written with its length or as a number, so that two different sequences
// of parts of the same kinds give two different keys; each table's keys
// start with the same kinds of parts (a tag where values of several shapes
// share a table).
type canonical struct{ b []byte }

func (k *canonical) reset() *canonical {
	k.b = k.b[:0]
	return k
}

func (k *canonical) str(s string) *canonical {
	k.b = strconv.AppendInt(k.b, int64(len(s)), 10)
	k.b = append(k.b, ':')
	k.b = append(k.b, s...)
	return k
}

func (k *canonical) bytes(b []byte) *canonical {
	k.b = strconv.AppendInt(k.b, int64(len(b)), 10)
	k.b = append(k.b, ':')
	k.b = append(k.b, b...)
	return k
}

func (k *canonical) int(n int) *canonical {
	k.b = strconv.AppendInt(k.b, int64(n), 10)
	k.b = append(k.b, ';')
	return k
}

func (k *canonical) bool(b bool) *canonical {
	if b {
		return k.int(1)
	}
	return k.int(0)
}

// strs writes a list; a nil list and an empty one differ, as they do to reflect.DeepEqual.
func (k *canonical) strs(ss []string) *canonical {
	if ss == nil {
		return k.int(-1)
	}
	k.int(len(ss))
	for _, s := range ss {
		k.str(s)
	}
	return k
}

func (k *canonical) violations(vs []Violation) *canonical {
	if vs == nil {
		return k.int(-1)
	}
	k.int(len(vs))
	for _, v := range vs {
		k.violation(v)
	}
	return k
}

func (k *canonical) violation(v Violation) *canonical {
	return k.str(v.Check).str(string(v.Level)).str(v.Reason).str(v.Detail).strs(v.Fields)
}

func (k *canonical) version(v api.Version) *canonical { return k.str(v.String()) }

func (k *canonical) labels(labels map[string]string) *canonical {
	k.int(len(labels))
	for _, name := range sortedKeys(labels) {
		k.str(name).str(labels[name])
	}
	return k
}

// intern returns the value table holds under the key k has built, first
// storing the one build makes when there is none. build may use k.
func intern[T any](table map[string]T, k *canonical, build func() T) T {
	if v, ok := table[string(k.b)]; ok {
		return v
	}
	name := string(k.b)
	v := build()
	table[name] = v
	return v
}

// shared holds the one copy of each value the analysis shares: only values
// that many findings repeat, since a table keeps each value's key too.
type shared struct {
	key        canonical
	judgements map[string]*[2]judgement
	texts      map[string]*violationText
	// evidence and remedies are parts of findings that name no object.
	evidence map[string]map[string]any
	remedies map[string]*remedy.Remediation
	lists    map[string][]string
	// trees are the pod spec parts of securityContext patches (securityPatch).
	trees map[string]any
	// labels are proposed label sets, objects label sets to apply.
	labels  map[string]map[string]string
	objects map[string]map[string]any
}

func newShared() *shared {
	return &shared{
		judgements: map[string]*[2]judgement{},
		texts:      map[string]*violationText{},
		evidence:   map[string]map[string]any{},
		remedies:   map[string]*remedy.Remediation{},
		lists:      map[string][]string{},
		trees:      map[string]any{},
		labels:     map[string]map[string]string{},
		objects:    map[string]map[string]any{},
	}
}

// judgement returns the shared judgements equal to j.
func (sh *shared) judgement(j *[2]judgement) *[2]judgement {
	k := sh.key.reset()
	for _, l := range j {
		k.bool(l.allowed).str(l.reason).violations(l.violations)
	}
	return intern(sh.judgements, k, func() *[2]judgement { return j })
}

// list returns the shared list equal to ss.
func (sh *shared) list(ss []string) []string {
	if len(ss) == 0 {
		return ss
	}
	return intern(sh.lists, sh.key.reset().strs(ss), func() []string { return slices.Clip(ss) })
}

// labelSet returns the shared labels equal to labels (many namespaces get the same proposal).
func (sh *shared) labelSet(labels map[string]string) map[string]string {
	return intern(sh.labels, sh.key.reset().labels(labels), func() map[string]string { return labels })
}

// labelObject returns labels as the labels of an object to apply, shared.
func (sh *shared) labelObject(labels map[string]string) map[string]any {
	return intern(sh.objects, sh.key.reset().labels(labels), func() map[string]any {
		l := make(map[string]any, len(labels))
		for name, v := range labels {
			l[name] = v
		}
		return l
	})
}

// violationText is what findings say about one list of violations, built
// once per distinct list.
type violationText struct {
	violations []Violation
	// described is describe(violations), fields fieldsOf(violations) and at
	// " at " and the fields, as a finding's message ends.
	described string
	fields    []string
	at        string
	// fix is the remediation naming the fields to change (fixFields).
	fix *remedy.Remediation
	// patch is the summary of the securityContext patch's remediation,
	// without and with objects made from an older template, once asked for.
	patch [2]string
}

// risky is the summary of a remediation offering the securityContext patch;
// older says the workload has objects made before the change.
func (t *violationText) risky(older bool) string {
	i := 0
	if older {
		i = 1
	}
	if t.patch[i] == "" {
		t.patch[i] = "Risky: set the restricted securityContext on the template, after checking the image runs as a non-root user without extra capabilities. " + t.fix.Summary
		if older {
			t.patch[i] += " Pods made before the change keep running until they are replaced."
		}
	}
	return t.patch[i]
}

// text returns the shared text of a list of violations. The list must not
// change afterwards: the text may keep it.
func (sh *shared) text(vs []Violation) *violationText {
	return intern(sh.texts, sh.key.reset().violations(vs), func() *violationText {
		t := &violationText{
			violations: slices.Clip(vs),
			described:  describe(vs),
			fields:     fieldsOf(vs),
			fix:        &remedy.Remediation{Summary: fixFields(vs)},
		}
		if len(t.fields) > 0 {
			t.at = " at " + strings.Join(t.fields, ", ")
		}
		return t
	})
}

// content writes what the Pod Security checks read of a pod spec to a
// buffer it reuses: the paths its fields are named by, its annotations, and
// its spec without the fields no check reads (the node, the containers'
// volume mounts) and with the names of projected volumes left out (a
// projected volume is allowed at every level, so its name never appears in a
// verdict; the ServiceAccount admission gives each pod's token volume a
// generated one). Two specs with the same content get the same verdict word
// for word. The inventory is shared: fields are cleared on copies.
type content struct {
	key       canonical
	buf       bytes.Buffer
	enc       *json.Encoder
	spec      corev1.PodSpec
	init      []corev1.Container
	regular   []corev1.Container
	ephemeral []corev1.EphemeralContainer
	volumes   []corev1.Volume
}

func newContent() *content {
	c := &content{}
	c.enc = json.NewEncoder(&c.buf)
	return c
}

// of returns the content of a pod spec whose fields are at metaPath and
// specPath, valid until the next call, or false when it cannot be computed.
func (c *content) of(meta *metav1.ObjectMeta, spec *corev1.PodSpec, metaPath, specPath string) ([]byte, bool) {
	c.spec = *spec
	c.spec.NodeName = ""
	c.init = withoutMounts(c.init[:0], spec.InitContainers)
	c.regular = withoutMounts(c.regular[:0], spec.Containers)
	c.spec.InitContainers, c.spec.Containers = c.init, c.regular
	c.ephemeral = append(c.ephemeral[:0], spec.EphemeralContainers...)
	for i := range c.ephemeral {
		c.ephemeral[i].VolumeMounts = nil
	}
	c.spec.EphemeralContainers = c.ephemeral
	c.volumes = append(c.volumes[:0], spec.Volumes...)
	for i := range c.volumes {
		if c.volumes[i].Projected != nil {
			c.volumes[i].Name = ""
		}
	}
	c.spec.Volumes = c.volumes

	c.buf.Reset()
	c.buf.Write(c.key.reset().str(metaPath).str(specPath).b)
	err := c.enc.Encode(struct {
		Annotations map[string]string `json:"a"`
		Spec        *corev1.PodSpec   `json:"s"`
	}{meta.Annotations, &c.spec})
	if err != nil {
		return nil, false
	}
	return c.buf.Bytes(), true
}

func withoutMounts(dst, cs []corev1.Container) []corev1.Container {
	dst = append(dst, cs...)
	for i := range dst {
		dst[i].VolumeMounts = nil
	}
	return dst
}
