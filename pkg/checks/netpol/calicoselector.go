package netpol

import (
	"fmt"
	"strings"
)

// calicoSelector is a parsed Calico selector expression (the `selector`,
// `namespaceSelector` and `serviceAccountSelector` of Calico policies), as
// the v3 API documents it (projectcalico/api, NetworkPolicySpec.Selector):
//
//	label == "v"   label != "v" (also true when label is absent)
//	label in {"a", "b"}   label not in {...} (also true when absent)
//	label contains "s"   label starts with "s"   label ends with "s"
//	has(label)   !expr   expr && expr   expr || expr   (expr)
//	all(), or the empty selector: every endpoint
//
// && binds tighter than ||; ! binds tightest. String literals are in single
// or double quotes without escapes. global() (non-namespaced endpoints only)
// parses, and matches no pod.
type calicoSelector interface {
	matches(labels map[string]string) bool
	// keys adds the label keys the expression reads.
	keys(add func(string))
}

type (
	calicoAll    struct{}
	calicoGlobal struct{}
	calicoHas    struct{ key string }
	calicoNot    struct{ x calicoSelector }
	calicoAnd    struct{ l, r calicoSelector }
	calicoOr     struct{ l, r calicoSelector }
	calicoCmp    struct {
		key, op string // ==, !=, contains, starts with, ends with
		value   string
	}
	calicoIn struct {
		key    string
		values []string
		not    bool
	}
)

func (calicoAll) matches(map[string]string) bool    { return true }
func (calicoGlobal) matches(map[string]string) bool { return false }
func (s calicoHas) matches(l map[string]string) bool {
	_, ok := l[s.key]
	return ok
}
func (s calicoNot) matches(l map[string]string) bool { return !s.x.matches(l) }
func (s calicoAnd) matches(l map[string]string) bool { return s.l.matches(l) && s.r.matches(l) }
func (s calicoOr) matches(l map[string]string) bool  { return s.l.matches(l) || s.r.matches(l) }
func (s calicoCmp) matches(l map[string]string) bool {
	v, ok := l[s.key]
	switch s.op {
	case "==":
		return ok && v == s.value
	case "!=":
		return !ok || v != s.value
	case "contains":
		return ok && strings.Contains(v, s.value)
	case "starts with":
		return ok && strings.HasPrefix(v, s.value)
	case "ends with":
		return ok && strings.HasSuffix(v, s.value)
	}
	return false
}
func (s calicoIn) matches(l map[string]string) bool {
	v, ok := l[s.key]
	found := false
	for _, x := range s.values {
		if ok && v == x {
			found = true
			break
		}
	}
	return found != s.not
}

func (calicoAll) keys(func(string))       {}
func (calicoGlobal) keys(func(string))    {}
func (s calicoHas) keys(add func(string)) { add(s.key) }
func (s calicoNot) keys(add func(string)) { s.x.keys(add) }
func (s calicoAnd) keys(add func(string)) { s.l.keys(add); s.r.keys(add) }
func (s calicoOr) keys(add func(string))  { s.l.keys(add); s.r.keys(add) }
func (s calicoCmp) keys(add func(string)) { add(s.key) }
func (s calicoIn) keys(add func(string))  { add(s.key) }

// usesGlobal reports whether the expression contains global().
func usesGlobal(s calicoSelector) bool {
	switch x := s.(type) {
	case calicoGlobal:
		return true
	case calicoNot:
		return usesGlobal(x.x)
	case calicoAnd:
		return usesGlobal(x.l) || usesGlobal(x.r)
	case calicoOr:
		return usesGlobal(x.l) || usesGlobal(x.r)
	}
	return false
}

// parseCalicoSelector parses a selector expression; the empty string is all().
func parseCalicoSelector(s string) (calicoSelector, error) {
	p := &calicoParser{in: s}
	p.skip()
	if p.eof() {
		return calicoAll{}, nil
	}
	x, err := p.or()
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", s, err)
	}
	p.skip()
	if !p.eof() {
		return nil, fmt.Errorf("selector %q: unexpected %q at offset %d", s, p.rest(), p.pos)
	}
	return x, nil
}

type calicoParser struct {
	in  string
	pos int
}

func (p *calicoParser) eof() bool    { return p.pos >= len(p.in) }
func (p *calicoParser) rest() string { return p.in[p.pos:] }

func (p *calicoParser) skip() {
	for !p.eof() && strings.ContainsRune(" \t\r\n", rune(p.in[p.pos])) {
		p.pos++
	}
}

// accept consumes tok (after blanks) when it comes next.
func (p *calicoParser) accept(tok string) bool {
	p.skip()
	if strings.HasPrefix(p.rest(), tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

// acceptWord consumes a keyword that is not the start of a longer label.
func (p *calicoParser) acceptWord(w string) bool {
	p.skip()
	if !strings.HasPrefix(p.rest(), w) {
		return false
	}
	if end := p.pos + len(w); end < len(p.in) && isLabelChar(p.in[end]) {
		return false
	}
	p.pos += len(w)
	return true
}

func isLabelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./", c) >= 0
}

func (p *calicoParser) or() (calicoSelector, error) {
	x, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.accept("||") {
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		x = calicoOr{x, y}
	}
	return x, nil
}

func (p *calicoParser) and() (calicoSelector, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.accept("&&") {
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		x = calicoAnd{x, y}
	}
	return x, nil
}

func (p *calicoParser) unary() (calicoSelector, error) {
	p.skip()
	if strings.HasPrefix(p.rest(), "!") && !strings.HasPrefix(p.rest(), "!=") {
		p.pos++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return calicoNot{x}, nil
	}
	if p.accept("(") {
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, fmt.Errorf("missing ) at offset %d", p.pos)
		}
		return x, nil
	}
	for _, fn := range []string{"all", "global"} {
		save := p.pos
		if p.acceptWord(fn) {
			if p.accept("(") && p.accept(")") {
				if fn == "all" {
					return calicoAll{}, nil
				}
				return calicoGlobal{}, nil
			}
			p.pos = save
		}
	}
	save := p.pos
	if p.acceptWord("has") && p.accept("(") {
		key, err := p.label()
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, fmt.Errorf("missing ) after has(%s", key)
		}
		return calicoHas{key}, nil
	}
	p.pos = save
	key, err := p.label()
	if err != nil {
		return nil, err
	}
	switch {
	case p.accept("=="):
		v, err := p.literal()
		return calicoCmp{key: key, op: "==", value: v}, err
	case p.accept("!="):
		v, err := p.literal()
		return calicoCmp{key: key, op: "!=", value: v}, err
	case p.acceptWord("contains"):
		v, err := p.literal()
		return calicoCmp{key: key, op: "contains", value: v}, err
	case p.acceptPhrase("starts", "with"):
		v, err := p.literal()
		return calicoCmp{key: key, op: "starts with", value: v}, err
	case p.acceptPhrase("ends", "with"):
		v, err := p.literal()
		return calicoCmp{key: key, op: "ends with", value: v}, err
	case p.acceptPhrase("not", "in"):
		vs, err := p.set()
		return calicoIn{key: key, values: vs, not: true}, err
	case p.acceptWord("in"):
		vs, err := p.set()
		return calicoIn{key: key, values: vs}, err
	}
	if p.eof() {
		return nil, fmt.Errorf("label %s is not compared to anything", key)
	}
	return nil, fmt.Errorf("unexpected %q after label %s", p.rest(), key)
}

// acceptPhrase consumes two keywords separated by blanks.
func (p *calicoParser) acceptPhrase(a, b string) bool {
	save := p.pos
	if p.acceptWord(a) && p.acceptWord(b) {
		return true
	}
	p.pos = save
	return false
}

func (p *calicoParser) label() (string, error) {
	p.skip()
	start := p.pos
	for !p.eof() && isLabelChar(p.in[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		if p.eof() {
			return "", fmt.Errorf("expected a label at the end")
		}
		return "", fmt.Errorf("expected a label at %q", p.rest())
	}
	return p.in[start:p.pos], nil
}

func (p *calicoParser) literal() (string, error) {
	p.skip()
	if p.eof() || (p.in[p.pos] != '"' && p.in[p.pos] != '\'') {
		return "", fmt.Errorf("expected a quoted string at offset %d", p.pos)
	}
	q := p.in[p.pos]
	end := strings.IndexByte(p.in[p.pos+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.pos)
	}
	v := p.in[p.pos+1 : p.pos+1+end]
	p.pos += end + 2
	return v, nil
}

func (p *calicoParser) set() ([]string, error) {
	if !p.accept("{") {
		return nil, fmt.Errorf("expected { at offset %d", p.pos)
	}
	var out []string
	if p.accept("}") {
		return out, nil
	}
	for {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if p.accept("}") {
			return out, nil
		}
		if !p.accept(",") {
			return nil, fmt.Errorf("expected , or } at offset %d", p.pos)
		}
	}
}
