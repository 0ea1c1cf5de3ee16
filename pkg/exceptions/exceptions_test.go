package exceptions

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

func known() Options {
	ids := map[string]bool{"workload/privileged": true, "workload/no-resource-limits": true, "rbac/cluster-admin-binding": true, "psa/privileged": true}
	return Options{
		KnownCheck:  func(id string) bool { return ids[id] },
		KnownDomain: func(d string) bool { return d == "workload" || d == "rbac" || d == "psa" },
	}
}

const header = "apiVersion: kubectl-harden.io/v1alpha1\nkind: Exceptions\nexceptions:\n"

func TestParseValid(t *testing.T) {
	doc := header + `# the legacy shop
- check: workload/
  resource:
    kind: Deployment
    namespace: shop-*
    name: web
    selector:
      matchLabels: {tier: front}
      matchExpressions: [{key: team, operator: In, values: [a, b]}]
  reason: replaced in Q3
  owner: shop-team@example.com
  expires: 2026-09-30
- check: rbac/cluster-admin-binding
  subject: {kind: ServiceAccount, namespace: ci, name: deployer}
  reason: "the CI deployer installs CRDs"
  owner: platform
  expires: "2026-12-31"
`
	es, err := Parse("ex.yaml", []byte(doc), known())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("%d entries", len(es))
	}
	if es[0].By() != "ex.yaml:5" || es[1].By() != "ex.yaml:16" {
		t.Errorf("by %q %q", es[0].By(), es[1].By())
	}
	if es[0].Resource.Selector == nil || es[0].Resource.Selector.MatchLabels["tier"] != "front" || len(es[0].Resource.Selector.MatchExpressions) != 1 {
		t.Errorf("selector %+v", es[0].Resource.Selector)
	}
	if es[1].Subject == nil || es[1].Subject.Name != "deployer" || es[1].Expires != "2026-12-31" {
		t.Errorf("entry %+v", es[1])
	}
	if es, err := Parse("empty.yaml", []byte("apiVersion: kubectl-harden.io/v1alpha1\nkind: Exceptions\n"), known()); err != nil || len(es) != 0 {
		t.Errorf("a file without entries: %v %v", es, err)
	}
}

// A malformed file is one error naming the file, the line and the field.
func TestParseErrors(t *testing.T) {
	entry := func(lines ...string) string { return header + strings.Join(lines, "\n") + "\n" }
	ok := []string{"- check: workload/privileged", "  reason: r", "  owner: o", "  expires: 2026-01-01"}
	with := func(i int, line string) []string {
		out := append([]string(nil), ok...)
		out[i] = line
		return out
	}
	tests := []struct {
		name, doc, want string
		opts            func(*Options)
	}{
		{"empty", "", "x.yaml: empty", nil},
		{"not yaml", "apiVersion: [", "x.yaml:1: not valid YAML", nil},
		{"wrong apiVersion", "apiVersion: v1\nkind: Exceptions\n", `x.yaml:1: apiVersion: "v1" is not kubectl-harden.io/v1alpha1`, nil},
		{"wrong kind", "apiVersion: kubectl-harden.io/v1alpha1\nkind: Report\n", `x.yaml:2: kind: "Report" is not Exceptions`, nil},
		{"no kind", "apiVersion: kubectl-harden.io/v1alpha1\nexceptions: []\n", "x.yaml:1: kind: required", nil},
		{"unknown top field", header[:len(header)-len("exceptions:\n")] + "exception: []\n", `x.yaml:3: exception: unknown field`, nil},
		{"two documents", entry(ok...) + "---\nkind: x\n", "x.yaml:8: a second YAML document", nil},
		{"entry not a mapping", entry("- workload/privileged"), "x.yaml:4: exceptions[0]: must be a mapping", nil},
		{"missing owner", entry(ok[0], ok[1], ok[3]), "x.yaml:4: exceptions[0].owner: required", nil},
		{"missing reason", entry(ok[0], ok[2], ok[3]), "x.yaml:4: exceptions[0].reason: required", nil},
		{"missing expires", entry(ok[0], ok[1], ok[2]), "x.yaml:4: exceptions[0].expires: required", nil},
		{"missing check", entry("- reason: r", ok[2], ok[3]), "x.yaml:4: exceptions[0].check: required", nil},
		{"bad date", entry(with(3, "  expires: next year")...), `x.yaml:7: exceptions[0].expires: "next year" is not a date`, nil},
		{"unknown check", entry(with(0, "- check: workload/privileged-typo")...), `x.yaml:4: exceptions[0].check: unknown check "workload/privileged-typo"`, nil},
		{"unknown domain", entry(with(0, "- check: nope/")...), `x.yaml:4: exceptions[0].check: unknown domain "nope/"`, nil},
		{"misspelt field", entry(append(ok, "  namespce: shop")...), `x.yaml:8: exceptions[0].namespce: unknown field`, nil},
		{"misspelt resource field", entry(append(ok, "  resource: {namespce: shop}")...), `x.yaml:8: exceptions[0].resource.namespce: unknown field (want kind, namespace, name, selector)`, nil},
		{"bad glob", entry(append(ok, "  resource:", "    name: 'web['")...), `x.yaml:9: exceptions[0].resource.name: bad glob "web["`, nil},
		{"bad selector", entry(append(ok, "  resource:", "    selector: {matchExpressions: [{key: a, operator: Maybe}]}")...), `x.yaml:9: exceptions[0].resource.selector:`, nil},
		{"selector typo", entry(append(ok, "  resource:", "    selector: {matchLabel: {a: b}}")...), `x.yaml:9: exceptions[0].resource.selector: not a label selector`, nil},
		{"subject not a mapping", entry(append(ok, "  subject: deployer")...), `x.yaml:8: exceptions[0].subject: must be a mapping`, nil},
		{"second entry", entry(append(ok, "- check: workload/privileged", "  reason: r", "  owner: ''", "  expires: 2026-01-01")...), "x.yaml:10: exceptions[1].owner: required", nil},
		{"too far", entry(with(3, "  expires: 2027-01-01")...), "x.yaml:7: exceptions[0].expires: 2027-01-01 is more than 90 days away (--max-exception-days): the latest allowed is 2026-04-01",
			func(o *Options) { o.Now, o.MaxDays = time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC), 90 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := known()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			es, err := Parse("x.yaml", []byte(tt.doc), opts)
			if err == nil {
				t.Fatalf("no error; entries %+v", es)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n  %s\nwant it to start with\n  %s", err, tt.want)
			}
			var fe *Error
			if !errors.As(err, &fe) || fe.File != "x.yaml" {
				t.Errorf("not an *Error naming the file: %#v", err)
			}
			if es != nil {
				t.Errorf("entries returned with the error: nothing may be applied")
			}
		})
	}
	// Exactly at the limit is allowed.
	opts := known()
	opts.Now, opts.MaxDays = time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC), 90
	if _, err := Parse("x.yaml", []byte(entry(with(3, "  expires: 2026-04-01")...)), opts); err != nil {
		t.Errorf("an entry at the limit: %v", err)
	}
}

func deployment(ns, name string) finding.Finding {
	return finding.Finding{Check: "workload/privileged", Severity: finding.High,
		Resource: finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}}
}

func binding(subj *finding.Subject) finding.Finding {
	return finding.Finding{Check: "rbac/cluster-admin-binding", Severity: finding.Critical,
		Resource: finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci-admin"}, Subject: subj}
}

func TestMatching(t *testing.T) {
	sa := &finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"}
	user := &finding.Subject{Kind: "User", Name: "alice"}
	sel := func(s string) *metav1.LabelSelector {
		ls, err := metav1.ParseToLabelSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		return ls
	}
	tests := []struct {
		name   string
		entry  Entry
		f      finding.Finding
		labels map[string]string
		found  bool
		want   bool
	}{
		{"exact check, any object", Entry{Check: "workload/privileged"}, deployment("shop", "web"), nil, false, true},
		{"other check", Entry{Check: "workload/no-resource-limits"}, deployment("shop", "web"), nil, false, false},
		{"domain prefix", Entry{Check: "workload/"}, deployment("shop", "web"), nil, false, true},
		{"other domain", Entry{Check: "rbac/"}, deployment("shop", "web"), nil, false, false},
		{"prefix is not a domain", Entry{Check: "work/"}, deployment("shop", "web"), nil, false, false},
		{"name glob", Entry{Check: "workload/", Resource: &ResourceMatch{Name: "web-*"}}, deployment("shop", "web-1"), nil, false, true},
		{"name glob misses", Entry{Check: "workload/", Resource: &ResourceMatch{Name: "web-*"}}, deployment("shop", "api"), nil, false, false},
		{"namespace glob", Entry{Check: "workload/", Resource: &ResourceMatch{Namespace: "team-?"}}, deployment("team-a", "x"), nil, false, true},
		{"namespace glob misses", Entry{Check: "workload/", Resource: &ResourceMatch{Namespace: "team-?"}}, deployment("team-ab", "x"), nil, false, false},
		{"character class", Entry{Check: "workload/", Resource: &ResourceMatch{Name: "db-[0-2]"}}, deployment("shop", "db-1"), nil, false, true},
		{"kind any case", Entry{Check: "workload/", Resource: &ResourceMatch{Kind: "deployment"}}, deployment("shop", "web"), nil, false, true},
		{"other kind", Entry{Check: "workload/", Resource: &ResourceMatch{Kind: "StatefulSet"}}, deployment("shop", "web"), nil, false, false},
		{"namespaced entry, cluster-scoped object", Entry{Check: "rbac/", Resource: &ResourceMatch{Namespace: "ci"}}, binding(sa), nil, false, false},
		{"selector matches", Entry{Check: "workload/", Resource: &ResourceMatch{Selector: sel("tier=front,team in (a,b)")}}, deployment("shop", "web"),
			map[string]string{"tier": "front", "team": "a", "x": "y"}, true, true},
		{"selector misses", Entry{Check: "workload/", Resource: &ResourceMatch{Selector: sel("tier=front,team in (a,b)")}}, deployment("shop", "web"),
			map[string]string{"tier": "front", "team": "c"}, true, false},
		{"selector: not in", Entry{Check: "workload/", Resource: &ResourceMatch{Selector: sel("tier notin (db)")}}, deployment("shop", "web"),
			map[string]string{"tier": "front"}, true, true},
		{"selector on an object the audit does not hold", Entry{Check: "workload/", Resource: &ResourceMatch{Selector: sel("!tier")}}, deployment("shop", "web"),
			nil, false, false},
		{"empty selector matches a held object", Entry{Check: "workload/", Resource: &ResourceMatch{Selector: &metav1.LabelSelector{}}}, deployment("shop", "web"),
			nil, true, true},
		{"subject", Entry{Check: "rbac/cluster-admin-binding", Subject: &SubjectMatch{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"}}, binding(sa), nil, false, true},
		{"subject glob", Entry{Check: "rbac/", Subject: &SubjectMatch{Namespace: "c*"}}, binding(sa), nil, false, true},
		{"subject kind any case", Entry{Check: "rbac/", Subject: &SubjectMatch{Kind: "serviceaccount"}}, binding(sa), nil, false, true},
		{"other subject", Entry{Check: "rbac/", Subject: &SubjectMatch{Kind: "ServiceAccount", Name: "deployer"}}, binding(user), nil, false, false},
		{"subject on a finding without one", Entry{Check: "workload/", Subject: &SubjectMatch{Name: "*"}}, deployment("shop", "web"), nil, false, false},
		{"no subject in the entry matches any", Entry{Check: "rbac/"}, binding(user), nil, false, true},
		{"resource and subject", Entry{Check: "rbac/", Resource: &ResourceMatch{Kind: "ClusterRoleBinding", Name: "ci-*"}, Subject: &SubjectMatch{Name: "deployer"}}, binding(sa), nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.entry
			e.Reason, e.Owner, e.Expires = "r", "o", "2030-01-01"
			if err := e.Validate(Options{}); err != nil {
				t.Fatal(err)
			}
			if got := e.Matches(tt.f, tt.labels, tt.found); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func entryAt(line int, check string, r *ResourceMatch, expires string) Entry {
	e := Entry{Check: check, Resource: r, Reason: "reason", Owner: "team", Expires: expires, Source: &finding.Source{File: "ex.yaml", Line: line}}
	if err := e.Validate(Options{}); err != nil {
		panic(err)
	}
	return e
}

// Expiry is decided by the clock the audit hands in: no sleeping.
func TestExpiryWithInjectedClock(t *testing.T) {
	entries := []Entry{entryAt(4, "workload/privileged", &ResourceMatch{Namespace: "shop"}, "2026-03-31")}
	ran := []string{"workload/privileged"}
	tests := []struct {
		now      time.Time
		accepted bool
	}{
		{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC), true}, // it holds through the day it names
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.RFC3339), func(t *testing.T) {
			items := []finding.Finding{deployment("shop", "web"), deployment("other", "web")}
			about := Apply(entries, items, Env{Now: tt.now, Ran: ran})
			if got := items[0].Accepted != nil; got != tt.accepted {
				t.Fatalf("accepted = %v, want %v", got, tt.accepted)
			}
			if items[1].Accepted != nil {
				t.Error("a finding outside the entry was accepted")
			}
			if tt.accepted {
				a := items[0].Accepted
				if *a != (finding.Acceptance{By: "ex.yaml:4", Reason: "reason", Owner: "team", Expires: "2026-03-31"}) {
					t.Errorf("acceptance %+v", a)
				}
				if len(about) != 0 {
					t.Errorf("findings about a valid, used exception: %+v", about)
				}
				return
			}
			// An expired exception is a finding of its own, on the file and line.
			if len(about) != 1 || about[0].Check != CheckExpired || about[0].Severity != finding.Low ||
				about[0].Resource != FileResource("ex.yaml") || about[0].Source == nil || about[0].Source.Line != 4 ||
				!strings.Contains(about[0].Message, "expired on 2026-03-31") || !strings.Contains(about[0].Message, "its 1 finding") {
				t.Errorf("about %+v", about)
			}
		})
	}
}

func TestStaleDetection(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	used := entryAt(4, "workload/privileged", &ResourceMatch{Name: "web"}, "2026-12-31")
	unused := entryAt(9, "workload/privileged", &ResourceMatch{Name: "gone"}, "2026-12-31")
	notRun := entryAt(14, "psa/privileged", nil, "2026-12-31")
	shadowed := entryAt(19, "workload/", &ResourceMatch{Name: "web"}, "2026-12-31")
	elsewhere := entryAt(24, "workload/privileged", &ResourceMatch{Namespace: "team-b", Name: "gone"}, "2026-12-31")

	items := []finding.Finding{deployment("team-a", "web")}
	about := Apply([]Entry{used, unused, notRun, shadowed, elsewhere}, items, Env{Now: now, Ran: []string{"workload/privileged"}})
	var stale []string
	for _, f := range about {
		if f.Check != CheckStale || f.Severity != finding.Info {
			t.Errorf("unexpected finding %+v", f)
		}
		stale = append(stale, f.Source.File+":"+strconv.Itoa(f.Source.Line))
	}
	// The entry of a check that did not run was not put to the test; one that
	// matched a finding another entry accepted first was used.
	if got := strings.Join(stale, " "); got != "ex.yaml:9 ex.yaml:24" {
		t.Errorf("stale %q, want ex.yaml:9 ex.yaml:24", got)
	}
	if items[0].Accepted == nil || items[0].Accepted.By != "ex.yaml:4" {
		t.Errorf("the first matching entry accepts: %+v", items[0].Accepted)
	}

	// -n team-a: an entry about team-b was not looked at, so it is not stale.
	items = []finding.Finding{deployment("team-a", "web")}
	about = Apply([]Entry{unused, elsewhere}, items, Env{Now: now, Ran: []string{"workload/privileged"}, Looked: InNamespace("team-a")})
	if len(about) != 0 {
		t.Errorf("with -n team-a: %+v", about)
	}
	about = Apply([]Entry{elsewhere}, items, Env{Now: now, Ran: []string{"workload/privileged"}, Looked: InNamespace("team-*")})
	if len(about) != 0 {
		t.Errorf("InNamespace matches the namespace against the entry's glob, not the reverse: %+v", about)
	}
	about = Apply([]Entry{elsewhere}, items, Env{Now: now, Ran: []string{"workload/privileged"}, Looked: InNamespace("team-b")})
	if len(about) != 1 {
		t.Errorf("with -n team-b: %+v", about)
	}
}

func TestFromAnnotation(t *testing.T) {
	obj := finding.Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	es, errs := FromAnnotation(obj, "workload/privileged: needs raw sockets; owner=net-team; expires=2026-06-30\n\n"+
		"workload/: being replaced ; expires = 2026-02-01 ; owner = shop\n"+
		"workload/privileged no colon\n"+
		"workload/privileged: r; owner=o\n"+
		"workload/privileged: r; owner=o; expires=2026-01-01; color=blue\n"+
		"workload/unknown: r; owner=o; expires=2026-01-01\n", nil, known())
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2 (%v)", len(es), errs)
	}
	if es[0].Check != "workload/privileged" || es[0].Reason != "needs raw sockets" || es[0].Owner != "net-team" || es[0].Expires != "2026-06-30" || es[0].By() != ByAnnotation {
		t.Errorf("entry %+v", es[0])
	}
	if es[1].Check != "workload/" || es[1].Owner != "shop" || es[1].Expires != "2026-02-01" {
		t.Errorf("entry %+v", es[1])
	}
	want := []string{"line 4: want", "line 5: expires: required", `line 6: unknown key "color"`, `line 7: check: unknown check`}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) || !strings.Contains(errs[i].Error(), "deployment/shop/web") {
			t.Errorf("error %d: %v, want %q", i, errs[i], w)
		}
	}
	// The annotation accepts findings of its object only.
	items := []finding.Finding{deployment("shop", "web"), deployment("shop", "api")}
	Apply(es, items, Env{Now: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), Ran: []string{"workload/privileged"}})
	if items[0].Accepted == nil || items[0].Accepted.By != ByAnnotation || items[1].Accepted != nil {
		t.Errorf("accepted: %+v, %+v", items[0].Accepted, items[1].Accepted)
	}
	// --max-exception-days applies to annotations too.
	opts := known()
	opts.Now, opts.MaxDays = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 30
	if _, errs := FromAnnotation(obj, "workload/privileged: r; owner=o; expires=2026-06-30", nil, opts); len(errs) != 1 || !strings.Contains(errs[0].Error(), "more than 30 days") {
		t.Errorf("max days: %v", errs)
	}
}

func TestAppend(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", DefaultFile)
	first := Entry{Check: "workload/privileged", Resource: &ResourceMatch{Kind: "Deployment", Namespace: "shop", Name: "web"},
		Reason: "needs raw sockets", Owner: "net-team", Expires: "2026-06-30"}
	if err := Append(path, first); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "apiVersion: kubectl-harden.io/v1alpha1\nkind: Exceptions\nexceptions:\n") {
		t.Errorf("new file:\n%s", b)
	}
	// A person's comments survive the next append.
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "exceptions:\n", "# reviewed by security\nexceptions:\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	second := Entry{Check: "rbac/cluster-admin-binding", Subject: &SubjectMatch{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
		Resource: &ResourceMatch{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "ci"}}},
		Reason:   "installs CRDs", Owner: "platform", Expires: "2026-12-31"}
	if err := Append(path, second); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if !strings.Contains(string(b), "# reviewed by security") {
		t.Errorf("comment lost:\n%s", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's own 0600", st.Mode().Perm())
	}
	es, err := Load(path, known())
	if err != nil {
		t.Fatalf("the appended file does not load: %v\n%s", err, b)
	}
	if len(es) != 2 || es[0].Check != first.Check || es[0].Resource.Name != "web" || es[1].Subject.Name != "deployer" ||
		es[1].Resource.Selector.MatchLabels["team"] != "ci" || es[1].Expires != "2026-12-31" || es[1].Reason != "installs CRDs" {
		t.Errorf("entries %+v\n%s", es, b)
	}

	// An incomplete entry, or a malformed file, is refused and the file left alone.
	if err := Append(path, Entry{Check: "workload/privileged", Reason: "r", Expires: "2026-01-01"}); err == nil || !strings.Contains(err.Error(), "owner") {
		t.Errorf("entry without owner: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: v1\nkind: Exceptions\n"), 0o644)
	if err := Append(bad, first); err == nil || !strings.Contains(err.Error(), "bad.yaml:1: apiVersion") {
		t.Errorf("malformed file: %v", err)
	}
	if after, _ := os.ReadFile(bad); string(after) != "apiVersion: v1\nkind: Exceptions\n" {
		t.Errorf("malformed file changed:\n%s", after)
	}
	if after, _ := os.ReadFile(path); string(after) != string(b) {
		t.Error("a refused entry changed the file")
	}
}
