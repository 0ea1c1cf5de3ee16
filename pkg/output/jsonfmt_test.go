package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

func formatJSON(t *testing.T, v any) (compact, out []byte) {
	t.Helper()
	compact, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := writeJSONValue(v, bw); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	return compact, buf.Bytes()
}

func TestJSONShape(t *testing.T) {
	v := map[string]any{
		"resource": map[string]any{"kind": "Deployment", "namespace": "web", "name": "api"},
		"controls": []string{"CIS-5.2.6", "NSA-CISA-Pod-Security"},
		"empty":    map[string]any{},
		"none":     []any{},
		"nested":   []any{map[string]any{"a": []int{1, 2}}},
		"long":     []string{strings.Repeat("x", 60), strings.Repeat("y", 60)},
		"deep":     map[string]any{strings.Repeat("k", 120): map[string]any{}},
		"tricky":   []string{`a "quoted", {bracketed} [string]: with \ back`, "<&>"},
	}
	_, out := formatJSON(t, v)
	want := `{
  "controls": ["CIS-5.2.6", "NSA-CISA-Pod-Security"],
  "deep": {
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": {}
  },
  "empty": {},
  "long": [
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
  ],
  "nested": [
    {
      "a": [1, 2]
    }
  ],
  "none": [],
  "resource": {"kind": "Deployment", "name": "api", "namespace": "web"},
  "tricky": ["a \"quoted\", {bracketed} [string]: with \\ back", "\u003c\u0026\u003e"]
}
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// Whatever the value, the output is the same JSON (compacting it gives back
// what encoding/json wrote), and a line holding a whole container fits.
func TestJSONShapeIsTheSameValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 0))
	for i := range 2000 {
		v := randomJSON(rng, 0)
		compact, out := formatJSON(t, v)
		var back bytes.Buffer
		if err := json.Compact(&back, out); err != nil {
			t.Fatalf("case %d: output is not JSON: %v\n%s", i, err, out)
		}
		if !bytes.Equal(back.Bytes(), compact) {
			t.Fatalf("case %d: output differs from the value\n%s\n--- want\n%s", i, out, compact)
		}
		for _, l := range strings.Split(string(out), "\n") {
			rest := strings.TrimLeft(l, " ")
			if strings.HasPrefix(rest, `"`) {
				if n := scalarLen([]byte(rest)); strings.HasPrefix(rest[n:], ": ") {
					rest = rest[n+2:]
				}
			}
			oneLine := (strings.HasPrefix(rest, "[") || strings.HasPrefix(rest, "{")) && len(strings.TrimSuffix(rest, ",")) > 1
			if oneLine && len(strings.TrimSuffix(l, ",")) > jsonWidth {
				t.Fatalf("case %d: line of %d columns: %s", i, len(l), l)
			}
		}
	}
}

func randomJSON(rng *rand.Rand, depth int) any {
	k := rng.IntN(8)
	if depth > 4 {
		k = rng.IntN(4)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return rng.IntN(3) == 0
	case 2:
		return rng.NormFloat64() * 1000
	case 3:
		const chars = `ab "\{}[],: <é` + "\n\t"
		var s strings.Builder
		for range rng.IntN(40) {
			s.WriteByte(chars[rng.IntN(len(chars))])
		}
		return s.String()
	case 4, 5:
		a := make([]any, rng.IntN(6))
		for i := range a {
			a[i] = randomJSON(rng, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for i := range rng.IntN(6) {
			m[string(rune('a'+i))+strings.Repeat("k", rng.IntN(20))] = randomJSON(rng, depth+1)
		}
		return m
	}
}
