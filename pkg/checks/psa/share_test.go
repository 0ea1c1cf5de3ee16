package psa

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/utils/ptr"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Different sequences of parts of the same kinds never give the same key.
func TestCanonicalKeys(t *testing.T) {
	v := func(level api.Level, fields []string) Violation {
		return Violation{Check: "privileged", Level: level, Reason: "privileged", Fields: fields}
	}
	for kinds, builds := range map[string]map[string]func(k *canonical){
		"two strings": {
			"ab,c":       func(k *canonical) { k.str("ab").str("c") },
			"a,bc":       func(k *canonical) { k.str("a").str("bc") },
			"1:a,":       func(k *canonical) { k.str("1:a").str("") },
			",1:a":       func(k *canonical) { k.str("").str("1:a") },
			"abc, empty": func(k *canonical) { k.str("abc").str("") },
		},
		"a list and a number": {
			"nil, 1":   func(k *canonical) { k.strs(nil).int(1) },
			"[], 1":    func(k *canonical) { k.strs([]string{}).int(1) },
			"[a], 1":   func(k *canonical) { k.strs([]string{"a"}).int(1) },
			"[a b], 1": func(k *canonical) { k.strs([]string{"a", "b"}).int(1) },
			"[ab], 1":  func(k *canonical) { k.strs([]string{"ab"}).int(1) },
			"[a], 11":  func(k *canonical) { k.strs([]string{"a"}).int(11) },
		},
		"violations": {
			"nil":        func(k *canonical) { k.violations(nil) },
			"none":       func(k *canonical) { k.violations([]Violation{}) },
			"baseline":   func(k *canonical) { k.violations([]Violation{v(api.LevelBaseline, nil)}) },
			"restricted": func(k *canonical) { k.violations([]Violation{v(api.LevelRestricted, nil)}) },
			"no fields":  func(k *canonical) { k.violations([]Violation{v(api.LevelBaseline, []string{})}) },
			"a field":    func(k *canonical) { k.violations([]Violation{v(api.LevelBaseline, []string{"spec"})}) },
			"twice":      func(k *canonical) { k.violations([]Violation{v(api.LevelBaseline, nil), v(api.LevelBaseline, nil)}) },
			"a field, then not": func(k *canonical) {
				k.violations([]Violation{v(api.LevelBaseline, []string{"spec"}), v(api.LevelBaseline, nil)})
			},
		},
	} {
		seen := map[string]string{}
		for name, b := range builds {
			var k canonical
			b(&k)
			if other, ok := seen[string(k.b)]; ok {
				t.Errorf("%s: %s and %s give the same key %q", kinds, name, other, k.b)
			}
			seen[string(k.b)] = name
			var again canonical
			again.str("left over")
			b(again.reset())
			if string(again.b) != string(k.b) {
				t.Errorf("%s: %s: a reset key gives %q, a new one %q", kinds, name, again.b, k.b)
			}
		}
	}
}

// assertJudgedAlone checks that every subject's shared judgements are equal
// to the judgements of the subject on its own, at the versions the analysis
// judged at and some others.
func assertJudgedAlone(t *testing.T, a *Analysis) {
	t.Helper()
	versions := []api.Version{a.pin, api.LatestVersion(), api.MajorMinorVersion(1, 0), api.MajorMinorVersion(1, 22), api.MajorMinorVersion(1, 30)}
	for _, st := range a.byNS {
		vs := append([]api.Version{st.version}, versions...)
		for _, w := range st.workloads {
			for _, s := range append([]*subject{w.top}, w.members...) {
				for _, v := range vs {
					v = a.resolve(v)
					got := a.judge(s, v)
					want := [2]judgement{
						a.eval.judge(api.LevelVersion{Level: api.LevelBaseline, Version: v}, s.meta, s.spec, s.metaPath, s.specPath),
						a.eval.judge(api.LevelVersion{Level: api.LevelRestricted, Version: v}, s.meta, s.spec, s.metaPath, s.specPath),
					}
					if !reflect.DeepEqual(*got, want) {
						t.Errorf("%s at %s: shared judgements\n%+v\nwant, judged alone,\n%+v", s.Object, v, *got, want)
					}
				}
			}
		}
	}
}

func TestSharedJudgementsAreTheSubjectsOwn(t *testing.T) {
	for _, file := range []string{"customworkloads.yaml", "defaults.yaml", "freewin.yaml", "labels.yaml", "options.yaml", "rollout.yaml", "shared.yaml", "stale.yaml", "unlabelled.yaml", "versions.yaml"} {
		for _, server := range []string{"", "v1.37.2", "v1.25.3"} {
			t.Run(file+"@"+server, func(t *testing.T) {
				assertJudgedAlone(t, Analyze(load(t, file, server)))
			})
		}
	}
}

// Pods the checks cannot tell apart are alike; a difference a check can see makes them not.
func TestAlike(t *testing.T) {
	pod := func(node, token string, change func(*corev1.PodSpec)) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + token, Annotations: map[string]string{"team": "a"}},
			Spec: corev1.PodSpec{
				NodeName: node,
				Containers: []corev1.Container{{
					Name: "app", Image: "web:1",
					VolumeMounts: []corev1.VolumeMount{{Name: "kube-api-access-" + token, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}},
				}},
				Volumes: []corev1.Volume{
					{Name: "kube-api-access-" + token, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}},
					{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				},
			},
		}
		if change != nil {
			change(&p.Spec)
		}
		return p
	}
	c := newContent()
	contentOf := func(p *corev1.Pod, specPath string) string {
		before := p.DeepCopy()
		b, ok := c.of(&p.ObjectMeta, &p.Spec, "metadata", specPath)
		if !ok {
			t.Fatalf("no content for %s", p.Name)
		}
		if !reflect.DeepEqual(before, p) {
			t.Fatalf("computing the content changed the pod: %+v", p)
		}
		return string(b)
	}
	first := contentOf(pod("node-1", "aaaaa", nil), "spec")
	if got := contentOf(pod("node-2", "bbbbb", nil), "spec"); got != first {
		t.Errorf("pods differing only in node and token volume are not alike:\n%s\n%s", first, got)
	}
	for name, other := range map[string]string{
		"privileged": contentOf(pod("node-1", "aaaaa", func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
		}), "spec"),
		"volume name": contentOf(pod("node-1", "aaaaa", func(s *corev1.PodSpec) { s.Volumes[1].Name = "tmp" }), "spec"),
		"host path": contentOf(pod("node-1", "aaaaa", func(s *corev1.PodSpec) {
			s.Volumes[1].VolumeSource = corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}
		}), "spec"),
		"path":        contentOf(pod("node-1", "aaaaa", nil), "spec.template.spec"),
		"annotations": contentOf(func() *corev1.Pod { p := pod("node-1", "aaaaa", nil); p.Annotations["team"] = "b"; return p }(), "spec"),
	} {
		if other == first {
			t.Errorf("%s: pods a check tells apart are alike", name)
		}
	}
}

func TestSharedTexts(t *testing.T) {
	sh := newShared()
	vs := func() []Violation {
		return []Violation{
			{Check: "runAsNonRoot", Level: api.LevelRestricted, Reason: "runAsNonRoot != true", Detail: `pod or container "app" must set securityContext.runAsNonRoot=true`, Fields: []string{"spec.securityContext.runAsNonRoot"}},
			{Check: "seccompProfile_restricted", Level: api.LevelRestricted, Reason: "seccompProfile", Fields: []string{"spec.securityContext.seccompProfile"}},
		}
	}
	one, two := sh.text(vs()), sh.text(vs())
	if one != two {
		t.Error("equal violations get texts of their own")
	}
	if sh.text(vs()[:1]) == one {
		t.Error("different violations share a text")
	}
	v := vs()
	if !reflect.DeepEqual(one.violations, v) || one.described != describe(v) || !slices.Equal(one.fields, fieldsOf(v)) ||
		one.fix.Summary != fixFields(v) || one.at != " at spec.securityContext.runAsNonRoot, spec.securityContext.seccompProfile" {
		t.Errorf("shared text %+v differs from the text built alone", one)
	}
	for _, older := range []bool{false, true} {
		want := "Risky: set the restricted securityContext on the template, after checking the image runs as a non-root user without extra capabilities. " + fixFields(v)
		if older {
			want += " Pods made before the change keep running until they are replaced."
		}
		if got := one.risky(older); got != want {
			t.Errorf("risky(%v) = %q, want %q", older, got, want)
		}
	}

	j := func(allowed bool) *[2]judgement {
		return &[2]judgement{{allowed: true}, {allowed: allowed, reason: "seccompProfile", violations: vs()[1:]}}
	}
	if a, b := sh.judgement(j(false)), sh.judgement(j(false)); a != b || !reflect.DeepEqual(*a, *j(false)) {
		t.Errorf("equal judgements: %p %p, %+v", a, b, *a)
	}
	if sh.judgement(j(true)) == sh.judgement(j(false)) {
		t.Error("different judgements are shared")
	}

	if a, b := sh.list([]string{"x", "y"}), sh.list([]string{"x", "y"}); &a[0] != &b[0] || !slices.Equal(a, []string{"x", "y"}) {
		t.Errorf("equal lists %v %v are not shared", a, b)
	}
	labels := func() map[string]string { return map[string]string{WarnLabel: "restricted", WarnVersionLabel: "v1.37"} }
	if a, b := sh.labelSet(labels()), sh.labelSet(labels()); fmt.Sprintf("%p", a) != fmt.Sprintf("%p", b) || !reflect.DeepEqual(a, labels()) {
		t.Errorf("equal labels %v %v are not shared", a, b)
	}
	if a, b := sh.labelObject(labels()), sh.labelObject(labels()); fmt.Sprintf("%p", a) != fmt.Sprintf("%p", b) ||
		!reflect.DeepEqual(a, map[string]any{WarnLabel: "restricted", WarnVersionLabel: "v1.37"}) {
		t.Errorf("equal label objects %v %v are not shared", a, b)
	}
}

// The same Deployment in two namespaces: its findings in each share every
// part that does not name it, and are the ones built alone.
func TestSharedFindingParts(t *testing.T) {
	inv := load(t, "shared.yaml", "v1.37.2")
	a := Analyze(inv)
	assertJudgedAlone(t, a)
	byNS := map[string]map[string]finding.Finding{}
	for _, f := range findingsOf(t, inv) {
		if byNS[f.Check] == nil {
			byNS[f.Check] = map[string]finding.Finding{}
		}
		byNS[f.Check][f.Resource.Namespace+"/"+f.Resource.Name] = f
	}
	for _, id := range []string{IDCapabilities, IDSeccomp, IDRunAsRoot, IDPrivilegeEscalation, IDRestrictedBlocker} {
		fa, fb := byNS[id]["team-a/web"], byNS[id]["team-b/web"]
		if fa.Check == "" || fb.Check == "" {
			t.Fatalf("%s: want a finding in each namespace, got %v", id, byNS[id])
		}
		if fmt.Sprintf("%p", fa.Evidence) != fmt.Sprintf("%p", fb.Evidence) || !reflect.DeepEqual(fa.Evidence, fb.Evidence) {
			t.Errorf("%s: evidence %v and %v is not shared", id, fa.Evidence, fb.Evidence)
		}
		if pods := fa.Evidence["pods"]; pods != 2 {
			t.Errorf("%s: evidence names %v pods, want 2", id, pods)
		}
	}
	for _, id := range []string{IDCapabilities, IDSeccomp, IDRunAsRoot, IDPrivilegeEscalation} {
		fa, fb := byNS[id]["team-a/web"], byNS[id]["team-b/web"]
		if fa.Remediation != fb.Remediation {
			t.Errorf("%s: remediations %+v and %+v are not shared", id, fa.Remediation, fb.Remediation)
		}
		g := fa.Evidence["violations"].([]Violation)
		want := map[string]any{"violations": g, "fields": fieldsOf(g), "pods": 2, "version": "v1.37"}
		if !reflect.DeepEqual(fa.Evidence, want) || fa.Remediation.Summary != fixFields(g) {
			t.Errorf("%s: shared evidence %v, remediation %q; built alone %v, %q", id, fa.Evidence, fa.Remediation.Summary, want, fixFields(g))
		}
	}

	// The securityContext patch: its own object, the template's part shared.
	ca, cb := byNS[IDRestrictedBlocker]["team-a/web"].Remediation.Changes, byNS[IDRestrictedBlocker]["team-b/web"].Remediation.Changes
	if len(ca) != 1 || len(cb) != 1 {
		t.Fatalf("want the securityContext patch on both Deployments, got %+v and %+v", ca, cb)
	}
	if ca[0].Target.Namespace != "team-a" || cb[0].Target.Namespace != "team-b" || ca[0].Object.GetNamespace() != "team-a" || cb[0].Object.GetNamespace() != "team-b" {
		t.Errorf("patches aimed at %s and %s", ca[0].Target, cb[0].Target)
	}
	if fmt.Sprintf("%p", ca[0].Object.Object["spec"]) != fmt.Sprintf("%p", cb[0].Object.Object["spec"]) || !reflect.DeepEqual(ca[0].Object.Object["spec"], cb[0].Object.Object["spec"]) {
		t.Errorf("the patches' specs are not shared: %v, %v", ca[0].Object.Object["spec"], cb[0].Object.Object["spec"])
	}
	spec := a.object("Deployment", "team-b", "web")
	p := a.securityPatch(spec, a.resolve(a.pin))
	if p == nil || !reflect.DeepEqual(p.tree, ca[0].Object.Object["spec"]) || !slices.Equal(p.breaks, ca[0].Breaks) {
		t.Errorf("shared patch %v (breaks %q) differs from the one built alone %+v", ca[0].Object.Object["spec"], ca[0].Breaks, p)
	}

	// The pods of each ReplicaSet are alike, and the ReplicaSet and its Deployment.
	pa, pb := a.object("Pod", "team-a", "web-7c9d-aaaaa"), a.object("Pod", "team-a", "web-7c9d-bbbbb")
	if pa == nil || pb == nil || pa.alike != pb.alike {
		t.Errorf("the pods of ReplicaSet team-a/web-7c9d are not alike: %+v %+v", pa, pb)
	}
	if d, rs := a.object("Deployment", "team-a", "web"), a.object("ReplicaSet", "team-a", "web-7c9d"); d.alike != rs.alike || d.alike == pa.alike {
		t.Errorf("Deployment %d, ReplicaSet %d, pod %d: want the templates alike, not the pod", d.alike, rs.alike, pa.alike)
	}
}

// Each run of the checks owns its findings: a second run of the same
// inventory gets equal ones, whatever the first did to its own.
func TestFindingsOfEveryRun(t *testing.T) {
	for _, file := range []string{"shared.yaml", "unlabelled.yaml", "rollout.yaml"} {
		inv := load(t, file, "v1.37.2")
		first := checks.Run(inv, Checks()).Findings
		want, err := json.Marshal(first)
		if err != nil {
			t.Fatal(err)
		}
		for i := range first {
			first[i].Title, first[i].Message, first[i].Severity = "changed", "changed", finding.Critical
		}
		for run := 2; run <= 3; run++ {
			got, err := json.Marshal(checks.Run(inv, Checks()).Findings)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s: run %d found\n%s\nwant\n%s", file, run, got, want)
			}
		}
	}
}

// Verdict finds a built-in object before a custom resource of the same Kind and name.
func TestByObject(t *testing.T) {
	s := func(kind, name string, custom bool) *subject {
		return &subject{Object: Object{Kind: kind, Namespace: "db", Name: name}, custom: custom}
	}
	kruise, apps := s("StatefulSet", "pg", true), s("StatefulSet", "pg", false)
	first, second := s("Widget", "w", true), s("Widget", "w", true)
	pod := s("Pod", "pg-0", false)
	a := &Analysis{objects: byObject([]*subject{kruise, first, pod, apps, second})}
	for _, tc := range []struct {
		kind, name string
		want       *subject
	}{{"StatefulSet", "pg", apps}, {"Widget", "w", first}, {"Pod", "pg-0", pod}, {"Pod", "pg-1", nil}, {"Deployment", "pg", nil}} {
		if got := a.object(tc.kind, "db", tc.name); got != tc.want {
			t.Errorf("%s db/%s: got %+v, want %+v", tc.kind, tc.name, got, tc.want)
		}
	}
	if len(a.objects) != 3 {
		t.Errorf("want one subject per object, got %d", len(a.objects))
	}
}
