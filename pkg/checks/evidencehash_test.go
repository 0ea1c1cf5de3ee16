package checks

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

type hashProbe struct {
	Name  string
	Count int
	Tags  []string
	Next  *hashProbe
	inner bool
}

// randomEvidence builds an evidence-like value from r; the same seed gives
// values reflect.DeepEqual calls equal, their maps filled in another order
// when shuffle is set.
func randomEvidence(r *rand.Rand, depth int, shuffle bool) any {
	kind := r.IntN(9)
	if depth > 3 {
		kind = r.IntN(4)
	}
	switch kind {
	case 0:
		return fmt.Sprintf("s%d", r.IntN(5))
	case 1:
		return r.IntN(4)
	case 2:
		return float64(r.IntN(4))
	case 3:
		return r.IntN(2) == 0
	case 4:
		n := r.IntN(4)
		l := make([]any, n)
		for i := range l {
			l[i] = randomEvidence(r, depth+1, shuffle)
		}
		return l
	case 5:
		n := r.IntN(3)
		l := make([]string, n)
		for i := range l {
			l[i] = fmt.Sprintf("t%d", r.IntN(3))
		}
		return l
	case 6:
		n := r.IntN(5)
		keys := make([]string, n)
		vals := make([]any, n)
		for i := range keys {
			keys[i], vals[i] = fmt.Sprintf("k%d", i), randomEvidence(r, depth+1, shuffle)
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		if shuffle {
			for i := len(order) - 1; i > 0; i-- {
				j := (i*7 + 3) % (i + 1)
				order[i], order[j] = order[j], order[i]
			}
		}
		m := make(map[string]any, n)
		for _, i := range order {
			m[keys[i]] = vals[i]
		}
		return m
	case 7:
		p := &hashProbe{Name: fmt.Sprintf("p%d", r.IntN(3)), Count: r.IntN(3), inner: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			p.Tags = []string{"a", fmt.Sprint(r.IntN(2))}
		}
		if r.IntN(3) == 0 {
			p.Next = &hashProbe{Name: "next"}
		}
		return p
	default:
		return nil
	}
}

func randomEvidenceMap(seed uint64, shuffle bool) map[string]any {
	r := rand.New(rand.NewPCG(seed, 7))
	m := map[string]any{}
	for i := range 1 + r.IntN(5) {
		m[fmt.Sprintf("f%d", i)] = randomEvidence(r, 0, shuffle)
	}
	return m
}

// Values reflect.DeepEqual calls equal hash equally, whatever order their
// maps were filled in; values that differ seldom collide.
func TestEvidenceHashFollowsDeepEqual(t *testing.T) {
	const n = 3000
	hashes := make([]uint64, n)
	values := make([]map[string]any, n)
	for seed := range uint64(n) {
		a, b := randomEvidenceMap(seed, false), randomEvidenceMap(seed, true)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: the generator is not deterministic", seed)
		}
		if ha, hb := evidenceHash(a), evidenceHash(b); ha != hb {
			t.Fatalf("seed %d: equal values hash apart: %v", seed, a)
		}
		hashes[seed], values[seed] = evidenceHash(a), a
	}
	pairs, collisions := 0, 0
	for i := range n {
		for j := i + 1; j < n && j < i+50; j++ {
			if reflect.DeepEqual(values[i], values[j]) {
				if hashes[i] != hashes[j] {
					t.Fatalf("seeds %d and %d: equal values hash apart", i, j)
				}
				continue
			}
			pairs++
			if hashes[i] == hashes[j] {
				collisions++
				t.Logf("%v\n%v", values[i], values[j])
			}
		}
	}
	if pairs < n || collisions > 0 {
		t.Errorf("%d of %d unequal pairs collide", collisions, pairs)
	}
	// Values equal only as JSON, or that differ in one place, hash apart.
	for _, c := range [][2]any{
		{map[string]any{"n": 1}, map[string]any{"n": 1.0}},
		{map[string]any{"a": "x", "b": "y"}, map[string]any{"a": "y", "b": "x"}},
		{[]any{"a", "b"}, []any{"b", "a"}},
		{map[string]any{"l": []string{"ab"}}, map[string]any{"l": []string{"a", "b"}}},
		{&hashProbe{inner: true}, &hashProbe{}},
	} {
		if evidenceHash(c[0]) == evidenceHash(c[1]) {
			t.Errorf("%#v and %#v hash equally", c[0], c[1])
		}
	}
}

// The types evidence is made of hash without allocating.
func TestEvidenceHashAllocatesNothing(t *testing.T) {
	ev := map[string]any{
		"container": "web", "pods": 3, "count": int64(2), "ratio": 0.5, "ok": true,
		"violations": []any{map[string]any{"field": "runAsNonRoot", "values": []string{"a", "b"}}},
		"labels":     map[string]string{"app": "web"}, "objects": []map[string]any{{"kind": "Pod"}}, "none": nil,
	}
	if n := testing.AllocsPerRun(100, func() { evidenceHash(ev) }); n != 0 {
		t.Errorf("%v allocations per hash", n)
	}
}
