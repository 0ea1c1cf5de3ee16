package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

const demo = "../../test/testdata/demo"

func registry(t *testing.T) *checks.Registry {
	t.Helper()
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func audit(t *testing.T, cfg Config, paths ...string) *finding.Report {
	t.Helper()
	r, _, err := Run(context.Background(), registry(t), Files{Paths: paths}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fingerprints(items []finding.Finding) []string {
	out := make([]string, len(items))
	for i, f := range items {
		out[i] = f.Fingerprint()
	}
	slices.Sort(out)
	return out
}

// unrelated is a change to the sample cluster that concerns none of its
// findings: a new namespace with a pod, and a pod added beside the others of
// a namespace (which changes counts in messages and pod lists in evidence).
const unrelated = `---
apiVersion: v1
kind: Namespace
metadata: {name: newcomer}
---
apiVersion: v1
kind: Pod
metadata: {name: batch-7f9c2, namespace: newcomer}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: reports-2, namespace: legacy, labels: {app: reports-2}}
spec:
  containers: [{name: reports, image: busybox}]
`

func TestFingerprintsAreStable(t *testing.T) {
	first := audit(t, Config{}, demo)
	second := audit(t, Config{}, demo)
	if len(first.Items) < 20 {
		t.Fatalf("only %d findings in the sample cluster", len(first.Items))
	}
	a, b := fingerprints(first.Items), fingerprints(second.Items)
	if !slices.Equal(a, b) {
		t.Fatal("the same cluster read twice gives other fingerprints")
	}
	// Each finding of the sample has its own fingerprint.
	if c := slices.Compact(slices.Clone(a)); len(c) != len(a) {
		t.Errorf("%d findings share fingerprints with others", len(a)-len(c))
	}
	// Through the report's JSON, as --baseline reads it.
	js, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	var back finding.Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fingerprints(back.Items), a) {
		t.Error("fingerprints change when the report is read back from JSON")
	}

	// After an unrelated change every finding keeps its fingerprint, though
	// some messages (pod counts) changed.
	dir := t.TempDir()
	copyDir(t, demo, dir)
	if err := os.WriteFile(filepath.Join(dir, "90-unrelated.yaml"), []byte(unrelated), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := audit(t, Config{}, dir)
	have := map[string]bool{}
	msgs := map[string]string{}
	for _, f := range changed.Items {
		have[f.Fingerprint()] = true
		msgs[f.Fingerprint()] = f.Message
	}
	reworded := 0
	for _, f := range first.Items {
		fp := f.Fingerprint()
		if !have[fp] {
			t.Errorf("after an unrelated change, %s on %s has another fingerprint (%s)", f.Check, f.Resource, f.Message)
		}
		if msgs[fp] != "" && msgs[fp] != f.Message {
			reworded++
		}
	}
	if reworded == 0 {
		t.Error("no message changed: the unrelated change does not test that messages stay out of the fingerprint")
	}

	// A baseline of the same report leaves nothing new.
	r := audit(t, Config{Baseline: &back, BaselineFile: "base.json"}, demo)
	if s := r.Summary.Baseline; s == nil || s.New.Total() != 0 || s.Fixed != 0 || s.Unchanged != len(first.Items) {
		t.Errorf("baseline of the same report: %+v", s)
	}
	if (Gate{FailOn: finding.Info, AllowSkipped: true}).Judge(r.Summary) != Pass {
		t.Error("--fail-on info fails with nothing new")
	}
	if (Gate{FailOn: finding.Info, AllowSkipped: true}).Judge(first.Summary) != Failed {
		t.Error("without the baseline, --fail-on info passes")
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const labelled = `apiVersion: v1
kind: Namespace
metadata: {name: exc}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: exc
  labels: {team: shop, tier: front}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: exc
  labels: {team: shop, tier: back}
  annotations:
    kubectl-harden.io/accept: |
      psa/privileged: the api needs raw sockets; owner=net-team; expires=2026-06-30
      psa/privileged no reason here
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: nginx:1.27, securityContext: {privileged: true}}]
`

func TestExceptionsInTheEngine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(path, []byte(labelled), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	entries, err := exceptions.Parse("ex.yaml", []byte(`apiVersion: kubectl-harden.io/v1alpha1
kind: Exceptions
exceptions:
- check: psa/privileged
  resource:
    selector: {matchLabels: {tier: front}}
  reason: the web tier is being rebuilt
  owner: shop-team
  expires: 2026-04-30
`), exceptions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sel := finding.Filter{Checks: []string{"psa/privileged"}}
	privileged := func(r *finding.Report) map[string]*finding.Acceptance {
		out := map[string]*finding.Acceptance{}
		for _, f := range r.Items {
			if f.Check == "psa/privileged" {
				out[f.Resource.Name] = f.Accepted
			}
		}
		return out
	}
	gate := Gate{FailOn: finding.High, AllowSkipped: true}

	plain := audit(t, Config{Select: sel, Now: now}, path)
	if got := privileged(plain); len(got) != 2 || got["web"] != nil || got["api"] != nil {
		t.Fatalf("without exceptions: %v", got)
	}
	if gate.Judge(plain.Summary) != Failed {
		t.Fatal("--fail-on high passes without exceptions")
	}

	// The label selector matches the labels of the finding's object.
	r, inv, err := Run(context.Background(), registry(t), Files{Paths: []string{path}}, Config{Select: sel, Now: now, Exceptions: entries})
	if err != nil {
		t.Fatal(err)
	}
	got := privileged(r)
	if got["web"] == nil || got["web"].By != "ex.yaml:4" || got["web"].Owner != "shop-team" || got["api"] != nil {
		t.Errorf("with the file: %v", got)
	}
	if r.Summary.Accepted != 1 || r.Summary.High != plain.Summary.High-1 {
		t.Errorf("summary %+v", r.Summary)
	}
	// Without --accept-annotations, the annotation is named on stderr and accepts nothing.
	if !slices.ContainsFunc(inv.Warnings, func(w string) bool {
		return strings.Contains(w, "1 object carries the kubectl-harden.io/accept annotation, not honoured")
	}) {
		t.Errorf("no warning about the ignored annotation: %q", inv.Warnings)
	}

	// With it, the annotation accepts its object's finding; its broken line is a finding.
	r = audit(t, Config{Select: sel, Now: now, Exceptions: entries, AcceptAnnotations: true}, path)
	got = privileged(r)
	if got["web"] == nil || got["api"] == nil || got["api"].By != exceptions.ByAnnotation || got["api"].Expires != "2026-06-30" {
		t.Errorf("with annotations: %v", got)
	}
	var invalid []finding.Finding
	for _, f := range r.Items {
		if f.Check == exceptions.CheckInvalid {
			invalid = append(invalid, f)
		}
	}
	if len(invalid) != 1 || invalid[0].Resource.Name != "api" || invalid[0].Source == nil || !strings.Contains(invalid[0].Message, "line 2") {
		t.Errorf("invalid annotation findings %+v", invalid)
	}
	if gate.Judge(r.Summary) != Pass {
		t.Errorf("--fail-on high fails with both findings accepted: %+v", r.Summary)
	}
	if r.Summary.Score <= plain.Summary.Score {
		t.Errorf("score %d, without exceptions %d: accepted findings must leave the score", r.Summary.Score, plain.Summary.Score)
	}

	// Two months later the file's entry expired: the finding is back, with one about the entry.
	later := audit(t, Config{Select: sel, Now: now.AddDate(0, 2, 0), Exceptions: entries, AcceptAnnotations: true}, path)
	if got := privileged(later); got["web"] != nil || got["api"] == nil {
		t.Errorf("after expiry: %v", got)
	}
	var expired []string
	for _, f := range later.Items {
		if f.Check == exceptions.CheckExpired {
			expired = append(expired, f.Resource.String()+" "+f.Source.File)
		}
	}
	if len(expired) != 1 || expired[0] != "exceptions/ex.yaml ex.yaml" {
		t.Errorf("expired findings %v", expired)
	}
	if gate.Judge(later.Summary) != Failed {
		t.Error("an expired exception still passes the gate")
	}

	// An entry for a check that ran and matched nothing is stale; -n elsewhere is not looked at.
	stale, _ := exceptions.Parse("ex.yaml", []byte("apiVersion: kubectl-harden.io/v1alpha1\nkind: Exceptions\nexceptions:\n"+
		"- {check: psa/privileged, resource: {namespace: gone, name: x}, reason: r, owner: o, expires: 2026-12-31}\n"), exceptions.Options{})
	r = audit(t, Config{Select: sel, Now: now, Exceptions: stale}, path)
	if n := count(r.Items, exceptions.CheckStale); n != 1 {
		t.Errorf("%d stale findings, want 1", n)
	}
	r = audit(t, Config{Select: sel, Now: now, Exceptions: stale, Namespace: "exc"}, path)
	if n := count(r.Items, exceptions.CheckStale); n != 0 {
		t.Errorf("with -n exc, an entry about namespace gone is stale")
	}
	r = audit(t, Config{Select: finding.Filter{Checks: []string{"workload/"}}, Now: now, Exceptions: stale}, path)
	if n := count(r.Items, exceptions.CheckStale); n != 0 {
		t.Errorf("an entry of a check that did not run is stale")
	}
}

func count(items []finding.Finding, check string) int {
	n := 0
	for _, f := range items {
		if f.Check == check {
			n++
		}
	}
	return n
}
