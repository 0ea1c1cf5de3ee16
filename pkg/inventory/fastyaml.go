package inventory

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fastYAMLToJSON converts the block YAML that kubectl prints, and most
// hand-written manifests, to JSON in one pass over the bytes, without the
// generic tree sigs.k8s.io/yaml builds and marshals again (the two passes
// were half of an offline audit's CPU). It gives the JSON that
// sigs.k8s.io/yaml.YAMLToJSON would, up to key order and duplicate keys that
// decode the same (the later one wins in both), so the typed objects decoded
// from either are equal; ok is false for anything it does not handle exactly
// (flow collections other than {} and [], anchors, aliases, tags, folded or
// multi-line scalars, floats, non-ASCII text, tabs in indentation, ...), and
// the caller then converts the document the general way, which also reports
// its errors. TestFastYAMLAgrees and FuzzFastYAML compare the two.
func fastYAMLToJSON(src []byte) (js []byte, ok bool) {
	for _, c := range src {
		if c >= utf8.RuneSelf || (c < ' ' && c != '\n' && c != '\t') || c == 0x7f {
			return nil, false // non-ASCII, CR, control characters: the general reader's checks apply
		}
	}
	p := fastParser{src: src, out: make([]byte, 0, len(src)+len(src)/4)}
	if !p.next() || p.indent != 0 || p.isDash() {
		return nil, false
	}
	if !p.mapping(0) || p.more {
		return nil, false
	}
	return p.out, true
}

// fastParser walks the source a line at a time. After next, the current line
// starts at start, its content (past the indentation) at content, and it ends
// (before the newline) at end; more is false past the last line.
type fastParser struct {
	src                 []byte
	out                 []byte
	start, content, end int
	indent              int
	more                bool
	keys                []string // keys of the mappings being read, for duplicates
}

// next moves to the next line with content (not blank, not only a comment),
// starting from the current position; it reports whether there is one. A
// tab in the indentation stops the fast path.
func (p *fastParser) next() bool {
	for p.start < len(p.src) {
		end := bytes.IndexByte(p.src[p.start:], '\n')
		if end < 0 {
			end = len(p.src)
		} else {
			end += p.start
		}
		i := p.start
		for i < end && p.src[i] == ' ' {
			i++
		}
		if i < end && p.src[i] == '\t' {
			// A tab where indentation could be, even on a blank line, is
			// an error in some places: left to the general reader.
			return p.stop()
		}
		if i == p.start && end-i >= 3 && (string(p.src[i:i+3]) == "---" || string(p.src[i:i+3]) == "...") {
			// A document marker ends plain scalars and documents: left to the general reader.
			return p.stop()
		}
		if i < end && p.src[i] != '#' {
			p.content, p.end, p.indent, p.more = i, end, i-p.start, true
			return true
		}
		p.start = end + 1
	}
	p.more = false
	return false
}

// advance steps past the current line and to the next line with content.
func (p *fastParser) advance() bool {
	p.start = p.end + 1
	return p.next()
}

// stop makes next fail: what follows is left to the general reader.
func (p *fastParser) stop() bool {
	p.more, p.start = false, -1
	return false
}

// failed reports whether next hit something that stops the fast path.
func (p *fastParser) failed() bool { return p.start < 0 }

func (p *fastParser) isDash() bool {
	return p.src[p.content] == '-' && (p.content+1 == p.end || p.src[p.content+1] == ' ')
}

// mapping reads a block mapping whose keys are at column indent; the current
// line is its first key. It ends at a line indented less, or at a sequence
// entry at its own column (the end of an indentless sequence's parent).
func (p *fastParser) mapping(indent int) bool { return p.mappingFrom(indent, p.content) }

// mappingFrom reads a block mapping whose first key starts at byte at of the
// current line ("- a: 1" starts one after a dash) and whose keys are at column indent.
func (p *fastParser) mappingFrom(indent, at int) bool {
	p.out = append(p.out, '{')
	mark := len(p.keys)
	if !p.entry(indent, at, mark) {
		return false
	}
	for p.more && p.indent == indent && !p.isDash() {
		p.out = append(p.out, ',')
		if !p.entry(indent, p.content, mark) {
			return false
		}
	}
	p.keys = p.keys[:mark]
	if p.failed() || (p.more && p.indent > indent) {
		return false
	}
	p.out = append(p.out, '}')
	return true
}

// entry reads "key: value" starting at byte at of the current line, in a
// mapping at column indent, and leaves the parser on the line after the value.
func (p *fastParser) entry(indent, at, mark int) bool {
	keyEnd, valueAt, ok := p.key(at)
	if !ok {
		return false
	}
	key, ok := p.keyString(at, keyEnd)
	if !ok {
		return false
	}
	for _, k := range p.keys[mark:] {
		if k == key {
			return false // a duplicate key: left to the general reader
		}
	}
	p.keys = append(p.keys, key)
	p.out = appendJSONString(p.out, key)
	p.out = append(p.out, ':')
	return p.value(indent, valueAt, false)
}

// key finds the end of the key starting at byte at of the current line and
// where its value starts (the end of the line when the value is below).
func (p *fastParser) key(at int) (keyEnd, valueAt int, ok bool) {
	line := p.src[:p.end]
	switch line[at] {
	case '"', '\'':
		_, j, ok := p.quoted(at)
		if !ok {
			return 0, 0, false
		}
		k := j
		for k < p.end && line[k] == ' ' {
			k++
		}
		if k >= p.end || line[k] != ':' || (k+1 < p.end && line[k+1] != ' ') {
			return 0, 0, false
		}
		return j, k + 1, true
	}
	if !plainStart(line, at, p.end) || line[at] == '?' {
		return 0, 0, false
	}
	for i := at; i < p.end; i++ {
		switch line[i] {
		case ':':
			if i+1 == p.end || line[i+1] == ' ' {
				j := i
				for j > at && line[j-1] == ' ' {
					j--
				}
				return j, i + 1, true
			}
		case '#':
			if line[i-1] == ' ' {
				return 0, 0, false
			}
		case '\t':
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// keyString is the JSON key of a YAML key: quoted keys as written, plain
// keys resolved as sigs.k8s.io/yaml does (8080 and 0x1f are "8080" and "31",
// true and yes are "true"); null and float keys are left to it.
func (p *fastParser) keyString(at, end int) (string, bool) {
	if end-at > 1000 {
		return "", false // the general reader allows implicit keys of 1024 characters at most
	}
	if c := p.src[at]; c == '"' || c == '\'' {
		s, _, ok := p.quoted(at)
		return s, ok
	}
	raw := p.src[at:end]
	switch kind, text := resolvePlain(raw); kind {
	case scalarString, scalarInt:
		return text, true
	case scalarTrue:
		return "true", true
	case scalarFalse:
		return "false", true
	}
	return "", false
}

// value reads the value that starts at byte at of the current line (or on
// the lines below when nothing is left on it), the node at column indent
// being its mapping's or sequence entry's.
func (p *fastParser) value(indent, at int, inSeq bool) bool {
	for at < p.end && p.src[at] == ' ' {
		at++
	}
	if at >= p.end || p.src[at] == '#' {
		if at < p.end && p.src[at-1] != ' ' {
			return false
		}
		// The value is on the lines below, or null.
		if !p.advance() {
			if p.failed() {
				return false
			}
			p.out = append(p.out, "null"...)
			return true
		}
		switch {
		case p.indent > indent:
			if p.isDash() {
				return p.sequence(p.indent)
			}
			return p.nested(p.indent)
		case p.indent == indent && p.isDash() && !inSeq:
			return p.sequence(indent) // kubectl's indentless sequence under a key
		}
		p.out = append(p.out, "null"...)
		return true
	}
	switch c := p.src[at]; c {
	case '"', '\'':
		s, j, ok := p.quoted(at)
		if !ok || !p.restIsEmpty(j) {
			return false
		}
		p.out = appendJSONString(p.out, s)
		return p.endScalar(indent)
	case '|':
		return p.literal(indent, at)
	case '{', '[':
		j, ok := p.flow(at, 0)
		if !ok || !p.restIsEmpty(j) {
			return false // flow collections over several lines are left to the general reader
		}
		return p.endScalar(indent)
	case '-':
		if at+1 == p.end || p.src[at+1] == ' ' {
			return false // "key: - a" is not YAML; "- - a" (nested sequences) is left to the general reader
		}
	}
	if !plainStart(p.src, at, p.end) {
		return false
	}
	// A plain scalar runs to the end of the line or a comment; inline, it
	// may hold no ": " (that would be a mapping, or an error).
	end := p.end
	for i := at; i < p.end; i++ {
		if p.src[i] == '#' && (p.src[i-1] == ' ' || p.src[i-1] == '\t') {
			end = i
			break
		}
		if p.src[i] == ':' && (i+1 == p.end || p.src[i+1] == ' ' || p.src[i+1] == '\t') {
			if !inSeq {
				return false
			}
			// "- key: value": the entry is a mapping whose column is at.
			return p.seqMapping(at)
		}
	}
	for end > at && (p.src[end-1] == ' ' || p.src[end-1] == '\t') {
		end--
	}
	if !p.plain(p.src[at:end]) {
		return false
	}
	return p.endScalar(indent)
}

// plain writes a plain scalar as JSON; false for what resolves to none of
// string, integer, boolean and null.
func (p *fastParser) plain(b []byte) bool {
	switch kind, text := resolvePlain(b); kind {
	case scalarString:
		p.out = appendJSONString(p.out, text)
	case scalarInt:
		p.out = append(p.out, text...)
	case scalarTrue:
		p.out = append(p.out, "true"...)
	case scalarFalse:
		p.out = append(p.out, "false"...)
	case scalarNull:
		p.out = append(p.out, "null"...)
	default:
		return false
	}
	return true
}

// endScalar moves past a one-line scalar; a line below indented more would
// continue it (a multi-line scalar) or be an error, both left to the general reader.
func (p *fastParser) endScalar(indent int) bool {
	if p.advance() && p.indent > indent {
		return false
	}
	return !p.failed()
}

// restIsEmpty reports whether only spaces or a comment follow byte i.
func (p *fastParser) restIsEmpty(i int) bool {
	if i < p.end && p.src[i] != ' ' {
		return false
	}
	for i < p.end && p.src[i] == ' ' {
		i++
	}
	return i == p.end || p.src[i] == '#'
}

// nested reads a node that starts on its own line at column indent.
func (p *fastParser) nested(indent int) bool {
	if p.isDash() {
		return p.sequence(indent)
	}
	// A mapping, or a scalar on a line of its own.
	if _, _, ok := p.key(p.content); ok {
		return p.mapping(indent)
	}
	return p.value(indent, p.content, false)
}

// sequence reads block sequence entries at column indent.
func (p *fastParser) sequence(indent int) bool {
	p.out = append(p.out, '[')
	first := true
	for p.more && p.indent == indent && p.isDash() {
		if !first {
			p.out = append(p.out, ',')
		}
		first = false
		if !p.value(indent, p.content+1, true) {
			return false
		}
	}
	if p.failed() || (p.more && p.indent > indent) {
		return false
	}
	p.out = append(p.out, ']')
	return true
}

// seqMapping reads a mapping that starts on a sequence entry's line ("- a: 1"),
// its keys at the column of the first.
func (p *fastParser) seqMapping(at int) bool { return p.mappingFrom(at-p.start, at) }

// literal reads a literal block scalar ("|" or "|-") whose header is at byte
// at; its node's column is indent. Indentation indicators, "|+", and a
// block without text are left to the general reader.
func (p *fastParser) literal(indent, at int) bool {
	strip := at+1 < p.end && p.src[at+1] == '-'
	i := at + 1
	if strip {
		i++
	}
	if !p.restIsEmpty(i) {
		return false
	}
	// The text: every following line that is blank or indented more than
	// the node; its indentation is that of the first line with text.
	var text []byte
	contentIndent, breaks, leading := -1, 0, 0
	pos := p.end + 1
	for pos < len(p.src) {
		end := bytes.IndexByte(p.src[pos:], '\n')
		if end < 0 {
			return false // the text runs to the end of the input without a line break
		}
		end += pos
		n := 0
		for pos+n < end && p.src[pos+n] == ' ' {
			n++
		}
		if pos+n < end && p.src[pos+n] == '\t' && (contentIndent < 0 || n < contentIndent) {
			return false
		}
		if pos+n == end && (contentIndent < 0 || n <= contentIndent) {
			// An empty line: a line break, written once text follows it (or kept by clip below).
			if contentIndent < 0 {
				leading = max(leading, n)
			}
			breaks++
			pos = end + 1
			continue
		}
		if contentIndent < 0 {
			if n <= indent || leading > n {
				break
			}
			contentIndent = n
		} else if n < contentIndent {
			break
		}
		if len(text) > 0 {
			breaks++ // the break that ended the previous line of text
		}
		for ; breaks > 0; breaks-- {
			text = append(text, '\n')
		}
		text = append(text, p.src[pos+contentIndent:end]...)
		pos = end + 1
	}
	if contentIndent < 0 {
		return false
	}
	if !strip {
		text = append(text, '\n') // clip: the last line's break, none of the empty lines after it
	}
	p.out = appendJSONString(p.out, string(text))
	p.start = min(pos, len(p.src))
	p.next()
	return !p.failed() && !(p.more && p.indent > indent)
}

// flow reads a flow collection ([a, b], {k: v}) that starts at byte at and
// ends on the current line, and returns the byte after it.
func (p *fastParser) flow(at, depth int) (int, bool) {
	if depth > 64 {
		return 0, false
	}
	i := p.skipSpaces(at + 1)
	if p.src[at] == '[' {
		p.out = append(p.out, '[')
		if i < p.end && p.src[i] == ']' {
			p.out = append(p.out, ']')
			return i + 1, true
		}
		for {
			j, ok := p.flowScalarOrCollection(i, depth, false)
			if !ok {
				return 0, false
			}
			if i = p.skipSpaces(j); i >= p.end {
				return 0, false
			}
			switch p.src[i] {
			case ']':
				p.out = append(p.out, ']')
				return i + 1, true
			case ',':
				if i = p.skipSpaces(i + 1); i >= p.end || p.src[i] == ']' {
					return 0, false // a trailing comma
				}
				p.out = append(p.out, ',')
			default:
				return 0, false
			}
		}
	}
	p.out = append(p.out, '{')
	if i < p.end && p.src[i] == '}' {
		p.out = append(p.out, '}')
		return i + 1, true
	}
	mark := len(p.keys)
	for {
		if i >= p.end {
			return 0, false
		}
		var key string
		var ok bool
		var j int
		if c := p.src[i]; c == '"' || c == '\'' {
			if key, j, ok = p.quoted(i); !ok || j-i > 1000 {
				return 0, false
			}
		} else {
			j = p.flowPlainEnd(i)
			if j == i {
				return 0, false
			}
			if key, ok = p.keyString(i, j); !ok {
				return 0, false
			}
		}
		for _, k := range p.keys[mark:] {
			if k == key {
				return 0, false
			}
		}
		p.keys = append(p.keys, key)
		p.out = appendJSONString(p.out, key)
		p.out = append(p.out, ':')
		if i = p.skipSpaces(j); i+1 >= p.end || p.src[i] != ':' || p.src[i+1] != ' ' {
			return 0, false // "{a}", "{a:b}" and "{a: }" are left to the general reader
		}
		if j, ok = p.flowScalarOrCollection(p.skipSpaces(i+1), depth, true); !ok {
			return 0, false
		}
		if i = p.skipSpaces(j); i >= p.end {
			return 0, false
		}
		switch p.src[i] {
		case '}':
			p.keys = p.keys[:mark]
			p.out = append(p.out, '}')
			return i + 1, true
		case ',':
			if i = p.skipSpaces(i + 1); i >= p.end || p.src[i] == '}' {
				return 0, false
			}
			p.out = append(p.out, ',')
		default:
			return 0, false
		}
	}
}

// flowScalarOrCollection reads one entry of a flow collection at byte i.
func (p *fastParser) flowScalarOrCollection(i, depth int, inMap bool) (int, bool) {
	if i >= p.end {
		return 0, false
	}
	switch c := p.src[i]; c {
	case '[', '{':
		return p.flow(i, depth+1)
	case '"', '\'':
		s, j, ok := p.quoted(i)
		if !ok {
			return 0, false
		}
		if k := p.skipSpaces(j); !inMap && k < p.end && p.src[k] == ':' {
			return 0, false // a single-pair mapping inside a sequence
		}
		p.out = appendJSONString(p.out, s)
		return j, true
	}
	j := p.flowPlainEnd(i)
	if j == i || (j < p.end && p.src[j] == ':') {
		return 0, false
	}
	if !p.plain(p.src[i:j]) {
		return 0, false
	}
	return j, true
}

// flowPlainEnd is the end of a plain scalar at byte i inside a flow
// collection (trailing spaces excluded); i itself when none may start there.
func (p *fastParser) flowPlainEnd(i int) int {
	if !plainStart(p.src, i, p.end) || p.src[i] == '?' || p.src[i] == ':' {
		return i // in a flow collection, "?" and ":" start no plain scalar
	}
	j := i
	for ; j < p.end; j++ {
		c := p.src[j]
		if c == ',' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}' || c == '\t' {
			break
		}
		if c == '#' && p.src[j-1] == ' ' {
			return i // a comment inside a flow collection
		}
		if c == ':' && (j+1 == p.end || strings.IndexByte(" ,[]{}", p.src[j+1]) >= 0) {
			break
		}
	}
	for j > i && p.src[j-1] == ' ' {
		j--
	}
	return j
}

func (p *fastParser) skipSpaces(i int) int {
	for i < p.end && p.src[i] == ' ' {
		i++
	}
	return i
}

// quoted reads a quoted scalar that starts and ends on the current line at
// byte at; it returns its value and the byte after the closing quote.
func (p *fastParser) quoted(at int) (string, int, bool) {
	q := p.src[at]
	line := p.src[:p.end]
	if q == '\'' {
		// Single-quoted: '' is a quote.
		var b []byte
		seg := at + 1
		for i := at + 1; i < p.end; i++ {
			if line[i] != '\'' {
				continue
			}
			if i+1 < p.end && line[i+1] == '\'' {
				b = append(b, line[seg:i+1]...)
				i++
				seg = i + 1
				continue
			}
			if b == nil {
				return string(line[seg:i]), i + 1, true
			}
			return string(append(b, line[seg:i]...)), i + 1, true
		}
		return "", 0, false
	}
	// Double-quoted: the escapes yaml.v2 writes, as long as they stay on the line.
	j := at + 1
	for j < p.end && line[j] != '"' && line[j] != '\\' {
		j++
	}
	if j < p.end && line[j] == '"' {
		return string(line[at+1 : j]), j + 1, true
	}
	var b strings.Builder
	b.Write(line[at+1 : j])
	for i := j; i < p.end; i++ {
		c := line[i]
		switch c {
		case '"':
			return b.String(), i + 1, true
		case '\\':
			if i+1 >= p.end {
				return "", 0, false // an escaped line break
			}
			i++
			switch e := line[i]; e {
			case '"', '\\', '\'':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't', '\t':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'v':
				b.WriteByte('\v')
			case 'f':
				b.WriteByte('\f')
			case 'e':
				b.WriteByte(0x1b)
			case ' ':
				b.WriteByte(' ')
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if i+n >= p.end {
					return "", 0, false
				}
				v := 0
				for _, h := range line[i+1 : i+1+n] {
					d := strings.IndexByte("0123456789abcdefABCDEF", h)
					if d < 0 {
						return "", 0, false
					}
					if d > 15 {
						d -= 6
					}
					v = v<<4 + d
				}
				if (v >= 0xD800 && v <= 0xDFFF) || v > utf8.MaxRune {
					return "", 0, false
				}
				b.WriteRune(rune(v))
				i += n
			default:
				return "", 0, false
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

// plainStart reports whether a plain scalar may start at byte at: not with an
// indicator, except "-", "?" and ":" followed by a non-space.
func plainStart(line []byte, at, end int) bool {
	switch line[at] {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '\t':
		return false
	case '-', '?', ':':
		return at+1 < end && line[at+1] != ' ' && line[at+1] != '\t'
	}
	return true
}

type scalarKind int

const (
	scalarOther scalarKind = iota // a float, an infinity, a binary or merge key: left to the general reader
	scalarString
	scalarInt
	scalarTrue
	scalarFalse
	scalarNull
)

// resolvePlain resolves a plain scalar as yaml.v2 does for an untyped value
// (YAML 1.1: yes/no/on/off are booleans, 0x1f and 017 integers; timestamps
// stay strings). An integer's text is its decimal form, as JSON gets it.
func resolvePlain(b []byte) (scalarKind, string) {
	if len(b) == 0 {
		return scalarNull, ""
	}
	switch c := b[0]; {
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		// The common integer: decimal, no sign or "-", no leading zero.
		digits := b
		if c == '-' {
			digits = b[1:]
		}
		if n := len(digits); n > 0 && n < 19 && (digits[0] != '0' || n == 1) && allDigits(digits) && string(b) != "-0" {
			return scalarInt, string(b)
		}
		s := string(b)
		plain := strings.ReplaceAll(s, "_", "")
		if v, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return scalarInt, strconv.FormatInt(v, 10)
		}
		if v, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return scalarInt, strconv.FormatUint(v, 10)
		}
		if yamlFloat(plain) || strings.HasPrefix(plain, "0b") || strings.HasPrefix(plain, "-0b") || s == "+.inf" || s == "+.Inf" || s == "+.INF" || s == "-.inf" || s == "-.Inf" || s == "-.INF" {
			return scalarOther, ""
		}
		return scalarString, s
	case c == '.':
		s := string(b)
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return scalarOther, ""
		}
		switch s {
		case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF":
			return scalarOther, ""
		}
		return scalarString, s
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		switch string(b) {
		case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
			return scalarTrue, ""
		case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
			return scalarFalse, ""
		case "~", "null", "Null", "NULL":
			return scalarNull, ""
		}
	case c == '<':
		if string(b) == "<<" {
			return scalarOther, "" // a merge key
		}
	}
	return scalarString, string(b)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// yamlFloat matches yaml.v2's ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$.
func yamlFloat(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= ' ' && c != '"' && c != '\\' && c < utf8.RuneSelf {
			continue
		}
		if c >= utf8.RuneSelf {
			continue // UTF-8 goes as it is
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\t':
			out = append(out, '\\', 't')
		case '\r':
			out = append(out, '\\', 'r')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
