package finding

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Alike is an object with the very finding of the item it is listed in, but
// for its own name: an object of the same kind whose finding, written with
// this object's namespace and name where the item has its own, is the item.
// The workloads of one chart, the namespaces made by one template: a big
// cluster has thousands, and the report document writes each such finding
// once with the objects it is about (see Group).
type Alike struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// File is where the object was read when not in the item's file; Line
	// is the line of its document (Source).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Markers stand for the object's namespace and name in a finding's JSON
// while it is compared with others. They are control characters, which
// encoding/json always escapes inside strings and never writes outside
// them, so a marshalled finding holds none of its own.
const (
	markQualified byte = 1 // namespace/name, or "Kind name" for a cluster-scoped object, within any string
	markName      byte = 2 // a string that is the object's name, or a quoted name within one
	markNamespace byte = 3 // a string that is the object's namespace
)

// groupKey is what findings of one group share: their check and everything
// else of them (in sum) once the object's namespace and name are markers.
type groupKey struct {
	apiVersion, kind string
	namespaced       bool
	source           bool
	sum              [sha256.Size]byte
}

// Group returns the findings as the report document writes them: findings
// that are the same but for the object they are about (same check, kind,
// message, evidence, remediation and state, the object's namespace and name
// aside) become one item, the first of them, listing the others in its
// alike. Which findings group is decided on their JSON: each is marshalled
// with its object's namespace and name replaced by markers, and those equal
// byte for byte group; Ungroup puts each object's names back in the first
// one's JSON, so the findings it returns are, field for field, the ones
// grouped. A name in a field that is not about the object (a container
// called as its Deployment) takes part in the template too: the grouped
// findings then agree on it, which Ungroup restores as well.
func Group(items []Finding) []Finding {
	if len(items) < 2 {
		return items
	}
	keys := keysOf(items)
	index := make(map[groupKey]int)
	out := make([]Finding, 0, len(items))
	for n, f := range items {
		if k := keys[n]; k.ok {
			if i, seen := index[k.groupKey]; seen {
				out[i].Alike = append(out[i].Alike, alikeOf(out[i], f))
				continue
			}
			index[k.groupKey] = len(out)
		}
		out = append(out, f)
	}
	if len(out) == len(items) {
		return items
	}
	return out
}

type maybeKey struct {
	groupKey
	ok bool
}

// keysOf is the group key of each finding, marshalled on every core.
func keysOf(items []Finding) []maybeKey {
	keys := make([]maybeKey, len(items))
	workers := min(runtime.GOMAXPROCS(0), 1+len(items)/64)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				start := int(next.Add(64)) - 64
				if start >= len(items) {
					return
				}
				for n := start; n < min(start+64, len(items)); n++ {
					keys[n].groupKey, keys[n].ok = keyOf(items[n])
				}
			}
		})
	}
	wg.Wait()
	return keys
}

// keyOf is the group key of a finding; false when it cannot group (no
// object name, already grouped, not marshallable: the printer says why).
func keyOf(f Finding) (groupKey, bool) {
	if f.Resource.Name == "" || len(f.Alike) > 0 {
		return groupKey{}, false
	}
	b, ok := templateOf(f)
	if !ok {
		return groupKey{}, false
	}
	return groupKey{f.Resource.APIVersion, f.Resource.Kind, f.Resource.Namespace != "", f.Source != nil, sha256.Sum256(b)}, true
}

// templateOf is the finding's JSON without its object's namespace, name and
// source, and with the markers where they were.
func templateOf(f Finding) ([]byte, bool) {
	r := f.Resource
	f.Resource.Namespace, f.Resource.Name = "", ""
	f.Source, f.Alike = nil, nil
	b, err := json.Marshal(&f)
	if err != nil {
		return nil, false
	}
	t := tokensOf(r)
	b = bytes.ReplaceAll(b, t.qualified, []byte{markQualified})
	// The name as a word of any string: a value of its own, quoted in a
	// message, or within a text ("every pod of shop", "shop/web" where the
	// object is the Namespace shop).
	b = replaceWord(b, t.name, markName)
	if r.Namespace != "" {
		b = replaceWord(b, t.namespace, markNamespace)
	}
	return b, true
}

// replaceWord replaces each occurrence of word in b that no name character
// continues on either side with marker. Whatever it replaces, fill puts
// back: a finding's JSON holds no marker of its own, so only equal findings
// but for the names give equal templates.
func replaceWord(b, word []byte, marker byte) []byte {
	if len(word) == 0 {
		return b
	}
	var out []byte
	last := 0
	for i := 0; i+len(word) <= len(b); {
		j := bytes.Index(b[i:], word)
		if j < 0 {
			break
		}
		at, end := i+j, i+j+len(word)
		if (at > 0 && nameChar(b[at-1])) || (end < len(b) && nameChar(b[end])) {
			i = at + 1
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b))
		}
		out = append(append(out, b[last:at]...), marker)
		last, i = end, end
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// nameChar reports whether c can continue an object's name (DNS names, and
// the letters, digits, _ and . of RBAC and other names).
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
}

// tokens are an object's names as its finding's JSON writes them.
type tokens struct{ qualified, name, namespace []byte }

func tokensOf(r Resource) tokens {
	q := r.Kind + " " + r.Name
	if r.Namespace != "" {
		q = r.Namespace + "/" + r.Name
	}
	return tokens{qualified: inString(q), name: inString(r.Name), namespace: inString(r.Namespace)}
}

// inString is s as encoding/json writes it inside a string.
func inString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b[1 : len(b)-1]
}

// fill puts an object's names in the place of the markers of a template.
func fill(template []byte, r Resource) []byte {
	t := tokensOf(r)
	n := 0
	for _, c := range template {
		if c >= markQualified && c <= markNamespace {
			n++
		}
	}
	out := make([]byte, 0, len(template)+n*len(t.qualified))
	for _, c := range template {
		switch c {
		case markQualified:
			out = append(out, t.qualified...)
		case markName:
			out = append(out, t.name...)
		case markNamespace:
			out = append(out, t.namespace...)
		default:
			out = append(out, c)
		}
	}
	return out
}

func alikeOf(first, f Finding) Alike {
	a := Alike{Namespace: f.Resource.Namespace, Name: f.Resource.Name}
	if f.Source != nil {
		a.Line = f.Source.Line
		if first.Source == nil || f.Source.File != first.Source.File {
			a.File = f.Source.File
		}
	}
	return a
}

// Ungroup turns the alike objects of a report read from a document back into
// findings of their own, in the report's order (see Group).
func Ungroup(items []Finding) ([]Finding, error) {
	n := 0
	for _, f := range items {
		n += len(f.Alike)
	}
	if n == 0 {
		return items, nil
	}
	out := make([]Finding, 0, len(items)+n)
	for _, f := range items {
		alike := f.Alike
		f.Alike = nil
		out = append(out, f)
		if len(alike) == 0 {
			continue
		}
		t, ok := templateOf(f)
		if !ok {
			return nil, fmt.Errorf("finding %s of %s: cannot write its alike objects", f.Check, f.Resource)
		}
		for _, a := range alike {
			if a.Name == "" {
				return nil, fmt.Errorf("finding %s of %s: an alike object has no name", f.Check, f.Resource)
			}
			if (a.Namespace == "") != (f.Resource.Namespace == "") {
				return nil, fmt.Errorf("finding %s of %s: alike object %q is not scoped as the finding's", f.Check, f.Resource, a.Name)
			}
			r := Resource{APIVersion: f.Resource.APIVersion, Kind: f.Resource.Kind, Namespace: a.Namespace, Name: a.Name}
			var g Finding
			if err := json.Unmarshal(fill(t, r), &g); err != nil {
				return nil, fmt.Errorf("finding %s of %s: %w", f.Check, r, err)
			}
			g.Resource = r
			if f.Source != nil {
				g.Source = &Source{File: cmp.Or(a.File, f.Source.File), Line: a.Line}
			}
			out = append(out, g)
		}
	}
	Sort(out)
	return out, nil
}
