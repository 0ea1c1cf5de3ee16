package finding

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// throughDocument writes items as a report document and reads them back.
func throughDocument(t *testing.T, items []Finding) (doc []Finding, back []Finding) {
	t.Helper()
	r := NewReport(Metadata{}, nil, nil, items)
	d := Document(r)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var read Report
	if err := json.Unmarshal(b, &read); err != nil {
		t.Fatal(err)
	}
	return d.Items, read.Items
}

// asJSON is what a document holds of findings, to compare them.
func asJSON(t *testing.T, items []Finding) string {
	t.Helper()
	flat := make([]Finding, len(items))
	copy(flat, items)
	for i := range flat {
		flat[i].Summarizes, flat[i].Facets = nil, nil
	}
	b, err := json.MarshalIndent(flat, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func deployment(ns, name string) Resource {
	return Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}
}

// hostPath is the finding of the workload check the tests group: its object
// named in the message, the remediation's target and object, and its container.
func hostPath(r Resource, container string, pods int, src *Source) Finding {
	return Finding{
		Check: "psa/host-path", Severity: High, Title: "hostPath", Resource: r, Source: src,
		Message:  fmt.Sprintf("%s %s/%s: hostPath volume of container %q (%d pods)", r.Kind, r.Namespace, r.Name, container, pods),
		Evidence: map[string]any{"pods": pods, "container": container},
		Remediation: &remedy.Remediation{Summary: "Remove the volume.", Changes: []remedy.Change{{
			Action: "apply", Target: remedy.Target{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name},
			Object: &unstructured.Unstructured{Object: map[string]any{"apiVersion": r.APIVersion, "kind": r.Kind, "metadata": map[string]any{"name": r.Name, "namespace": r.Namespace}}},
		}}},
	}
}

func TestGroupWritesAlikeFindingsOnce(t *testing.T) {
	file := &Source{File: "a.yaml", Line: 3}
	items := []Finding{
		hostPath(deployment("shop", "web"), "web", 3, file),
		hostPath(deployment("blog", "web"), "web", 3, &Source{File: "a.yaml", Line: 40}),
		// its container is named as it is, as the first one's: alike too
		hostPath(deployment("shop", "api"), "api", 3, &Source{File: "b.yaml", Line: 1}),
		// not alike: named as its namespace, so the template cannot tell them
		// apart, another count, another container name, another kind, read from no file
		hostPath(deployment("shop", "cart"), "cart", 4, &Source{File: "a.yaml", Line: 7}),
		hostPath(deployment("shop", "queue"), "sidecar", 3, &Source{File: "a.yaml", Line: 8}),
		hostPath(Resource{APIVersion: "apps/v1", Kind: "DaemonSet", Namespace: "shop", Name: "agent"}, "agent", 3, file),
		hostPath(deployment("live", "web"), "web", 3, nil),
		hostPath(deployment("db", "db"), "db", 3, &Source{File: "a.yaml", Line: 90}),
	}
	doc, back := throughDocument(t, items)
	var first *Finding
	for i := range doc {
		if doc[i].Resource == deployment("blog", "web") {
			first = &doc[i]
		}
	}
	if first == nil || len(doc) != 6 {
		for _, f := range doc {
			t.Logf("%s %v", f.Resource, f.Alike)
		}
		t.Fatalf("document has %d items", len(doc))
	}
	// in the report's order; the file only when not the first one's
	want := []Alike{{Namespace: "shop", Name: "api", File: "b.yaml", Line: 1}, {Namespace: "shop", Name: "web", Line: 3}}
	if !reflect.DeepEqual(first.Alike, want) {
		t.Errorf("alike = %+v, want %+v", first.Alike, want)
	}
	Sort(items)
	if got, want := asJSON(t, back), asJSON(t, items); got != want {
		t.Errorf("read back\n%s\nwant\n%s", got, want)
	}
}

// Names that are parts of other words, that need escaping in JSON, that are
// the namespace's, cluster-scoped objects: whatever the names, a document
// reads back as the findings written, and findings that differ in more than
// their object's names never group. The names and texts are drawn at random
// from a small alphabet so that they collide often.
func TestGroupReadsBackExactly(t *testing.T) {
	grouped := 0
	for seed := uint64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		words := []string{"a", "web", "web-1", "ns", "a/web", "<&>", "é", "\"q\"", "\\", "1", "kube-system"}
		word := func() string { return words[rng.IntN(len(words))] }
		// A few templates, each a message and evidence made of fixed words
		// and the object's names; the findings of one template differ in
		// their object, and some in one more word.
		type part struct{ kind, word int }
		var templates [][]part
		for range 1 + rng.IntN(3) {
			var ps []part
			for range rng.IntN(6) {
				ps = append(ps, part{rng.IntN(5), rng.IntN(len(words))})
			}
			templates = append(templates, ps)
		}
		var items []Finding
		for range 2 + rng.IntN(12) {
			r := Resource{APIVersion: "v1", Kind: "ServiceAccount", Namespace: word(), Name: word()}
			switch rng.IntN(5) {
			case 0:
				r = Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: word()}
			case 1:
				r = Resource{APIVersion: "v1", Kind: "Namespace", Name: word()}
			}
			tmpl := templates[rng.IntN(len(templates))]
			var msg []string
			names := []any{}
			for _, p := range tmpl {
				switch p.kind {
				case 0:
					msg = append(msg, r.Namespace+"/"+r.Name)
				case 1:
					msg = append(msg, r.Kind+" "+r.Name)
				case 2:
					msg = append(msg, fmt.Sprintf("%q", r.Name))
					names = append(names, r.Name)
				case 3:
					// within a text, as namespace findings name their objects
					msg = append(msg, "pods of "+r.Name+"/"+words[p.word]+","+r.Namespace+".")
				default:
					msg = append(msg, words[p.word])
					names = append(names, words[p.word])
				}
			}
			if rng.IntN(5) == 0 {
				msg = append(msg, word())
			}
			f := Finding{Check: "rbac/x", Severity: Medium, Title: "t", Resource: r, Message: strings.Join(msg, " "),
				Evidence: map[string]any{"names": names, "namespace": r.Namespace}}
			if rng.IntN(4) == 0 {
				f.Source = &Source{File: word() + ".yaml", Line: rng.IntN(3)}
			}
			if rng.IntN(4) == 0 {
				f.Subject = &Subject{Kind: "User", Name: word()}
			}
			items = append(items, f)
		}
		doc, back := throughDocument(t, items)
		grouped += len(items) - len(doc)
		Sort(items)
		if got, want := asJSON(t, back), asJSON(t, items); got != want {
			t.Fatalf("seed %d: read back\n%s\nwant\n%s\ndocument\n%s", seed, got, want, asJSON(t, doc))
		}
	}
	if grouped < 100 {
		t.Errorf("%d findings grouped in all: the names do not collide enough to test it", grouped)
	}
}

// A namespace's findings name it within their texts (its workloads as
// shop/web, "every pod of shop"): namespaces alike but for their name group,
// and a word that only contains the name (shopping) is not the name.
func TestGroupNamespaceFindings(t *testing.T) {
	ns := func(name, extra string) Finding {
		return Finding{Check: "netpol/namespace-without-policy", Severity: Low, Title: "t",
			Resource: Resource{APIVersion: "v1", Kind: "Namespace", Name: name},
			Message:  fmt.Sprintf("namespace %s has no NetworkPolicy: deployment %s/web and every pod of %s are open (%s)", name, name, name, extra),
			Evidence: map[string]any{"workloads": []any{name + "/web"}}}
	}
	items := []Finding{ns("shop", "shopping"), ns("blog", "shopping"), ns("db", "shopping"), ns("shopping", "shopping"), ns("web", "shopping")}
	doc, back := throughDocument(t, items)
	if len(doc) != 3 {
		for _, f := range doc {
			t.Logf("%s %v", f.Resource, f.Alike)
		}
		t.Fatalf("document has %d items, want 3: blog, db and shop alike; shopping and web (a word of the text) apart", len(doc))
	}
	Sort(items)
	if got, want := asJSON(t, back), asJSON(t, items); got != want {
		t.Errorf("read back\n%s\nwant\n%s", got, want)
	}
}

func TestUngroupRejectsBrokenAlike(t *testing.T) {
	f := hostPath(deployment("shop", "web"), "web", 3, nil)
	for _, a := range []Alike{{Namespace: "shop"}, {Name: "api"}} {
		g := f
		g.Alike = []Alike{a}
		if _, err := Ungroup([]Finding{g}); err == nil {
			t.Errorf("Ungroup accepted alike %+v of a namespaced finding", a)
		}
	}
	if got := Group(nil); got != nil {
		t.Errorf("Group(nil) = %v", got)
	}
}
