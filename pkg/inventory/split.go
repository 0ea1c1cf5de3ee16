package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// rawDoc is one unit of input to decode: a YAML or JSON document, or one item
// of a List split out of it so that a dump of any size is decoded an object
// at a time and on every core.
type rawDoc struct {
	file     string
	doc      int // 1-based index of the document in the file
	item     int // 1-based index of the item in its List, 0 for a whole document
	line     int // line the document or item starts on
	data     []byte
	isJSON   bool
	hadItems bool // a document whose items were split out: it must be a List
	// counts, on the first document of a file, are its List items by kind
	// (see countItems): their lists are sized before the first is stored.
	counts map[schema.GroupVersionKind]int
}

// splitStream cuts a stream into documents and List items and hands each to
// emit in input order; emit returns false to stop early.
func splitStream(name string, r io.Reader, emit func(rawDoc) bool) error {
	br := bufio.NewReaderSize(r, 1<<16)
	first, err := firstByte(br)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if first == '{' || first == '[' {
		return splitJSON(name, br, emit)
	}
	return splitYAML(name, br, emit)
}

// firstByte peeks at the first byte that is not white space (0 at the end).
func firstByte(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == io.EOF || err == bufio.ErrBufferFull {
				return 0, nil
			}
			return 0, err
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
			continue
		default:
			return c, nil
		}
	}
}

// splitYAML splits at "---" lines. The items of a List as kubectl prints it
// (a top-level "items:" followed by "- " entries at column 0) are split out
// one by one, each dedented and keeping its own line; any other shape stays
// one document.
func splitYAML(name string, br *bufio.Reader, emit func(rawDoc) bool) error {
	var doc, item bytes.Buffer
	var itemsLine []byte
	docIndex, line, start := 0, 0, 0
	inItems, items, itemLine := false, 0, 0
	stopped := false
	flushItem := func() {
		if item.Len() > 0 && hasContent(item.Bytes()) && !stopped {
			stopped = !emit(rawDoc{file: name, doc: docIndex + 1, item: items, line: itemLine, data: bytes.Clone(item.Bytes())})
		}
		item.Reset()
	}
	flushDoc := func() {
		flushItem()
		docIndex++
		if hasContent(doc.Bytes()) && !stopped {
			stopped = !emit(rawDoc{file: name, doc: docIndex, line: start, data: bytes.Clone(doc.Bytes()), hadItems: items > 0})
		}
		doc.Reset()
		inItems, items, start = false, 0, 0
	}
	for !stopped {
		l, err := br.ReadBytes('\n')
		if len(l) > 0 {
			line++
			switch {
			case isSeparator(l):
				flushDoc()
			case inItems && (bytes.HasPrefix(l, []byte("- ")) || bytes.Equal(bytes.TrimRight(l, "\r\n"), []byte("-"))):
				flushItem()
				items++
				itemLine = line
				if len(l) > 2 && l[1] == ' ' {
					item.Write(l[2:])
				} else {
					item.WriteByte('\n')
				}
			case inItems && (len(bytes.TrimSpace(l)) == 0 || l[0] == '#'):
				// Blank lines and comments keep the line count of the item.
				if item.Len() > 0 {
					item.WriteByte('\n')
				}
			case inItems && (l[0] == ' ' || l[0] == '\t'):
				if items == 0 {
					// Indented entries ("items:\n  - a"): not kubectl's shape, kept whole.
					doc.Write(itemsLine)
					doc.Write(l)
					inItems = false
					continue
				}
				item.Write(dedent(l, 2))
			default:
				if inItems {
					flushItem()
					if items == 0 {
						doc.Write(itemsLine)
					}
					inItems = false
				}
				if start == 0 && !isBlankOrComment(l) {
					start = line
				}
				if bytes.Equal(bytes.TrimRight(l, " \t\r\n"), []byte("items:")) {
					inItems, itemsLine = true, bytes.Clone(l)
					continue
				}
				doc.Write(l)
			}
		}
		if err == io.EOF {
			if inItems && items == 0 {
				doc.Write(itemsLine)
			}
			flushDoc()
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	return nil
}

// countItems counts the items of each apiVersion and kind in the Lists of a
// YAML stream as kubectl prints them (a top-level "items:", entries "- " at
// column 0, their keys two spaces in), so that each kind's list can be sized
// once, before its objects are stored. A hint: a miscount costs memory,
// never an object.
func countItems(r io.Reader) map[schema.GroupVersionKind]int {
	br := bufio.NewReaderSize(r, 1<<16)
	counts := map[schema.GroupVersionKind]int{}
	inItems := false
	var apiVersion, kind string
	count := func() {
		if gv, err := schema.ParseGroupVersion(apiVersion); err == nil && kind != "" {
			counts[gv.WithKind(kind)]++
		}
		apiVersion, kind = "", ""
	}
	for {
		l, err := br.ReadSlice('\n')
		if len(l) > 2 && l[0] == ' ' && l[1] == ' ' && l[2] == ' ' {
			l = nil // nested deeper than an item's keys, as most lines are
		}
		switch t := bytes.TrimRight(l, " \t\r\n"); {
		case l == nil:
		case isSeparator(l):
			count()
			inItems = false
		case !inItems:
			inItems = string(t) == "items:"
		case bytes.HasPrefix(t, []byte("- ")) || string(t) == "-":
			count() // the previous item's end
			fallthrough
		case bytes.HasPrefix(t, []byte("  ")):
			if key := t[min(2, len(t)):]; bytes.HasPrefix(key, []byte("kind:")) {
				kind = plainValue(key[len("kind:"):])
			} else if bytes.HasPrefix(key, []byte("apiVersion:")) {
				apiVersion = plainValue(key[len("apiVersion:"):])
			}
		case !isBlankOrComment(t):
			count()
			inItems = false
		}
		for err == bufio.ErrBufferFull { // a long line: only its start counts
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			count()
			return counts
		}
	}
}

// plainValue is a one-line scalar without its quotes.
func plainValue(b []byte) string {
	b = bytes.TrimSpace(b)
	if n := len(b); n >= 2 && (b[0] == '"' || b[0] == '\'') && b[n-1] == b[0] {
		b = b[1 : n-1]
	}
	return string(b)
}

// dedent removes up to n leading spaces.
func dedent(l []byte, n int) []byte {
	for i := 0; i < n && len(l) > 0 && l[0] == ' '; i++ {
		l = l[1:]
	}
	return l
}

// splitJSON reads a stream of JSON values. The items of a List are handed
// out one by one, without holding the List, with the line each starts on.
func splitJSON(name string, br *bufio.Reader, emit func(rawDoc) bool) error {
	lt := &lineTracker{r: br, line: 1}
	dec := json.NewDecoder(lt)
	for docIndex := 1; ; docIndex++ {
		startLine := lt.lineAt(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &DecodeError{File: name, Document: docIndex, Line: startLine, Err: err}
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return &DecodeError{File: name, Document: docIndex, Line: startLine, Err: fmt.Errorf("a Kubernetes object is a JSON object, not %v", tok)}
		}
		fields := map[string]json.RawMessage{}
		items := 0
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return &DecodeError{File: name, Document: docIndex, Line: startLine, Err: err}
			}
			key, _ := kt.(string)
			if key != "items" {
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return &DecodeError{File: name, Document: docIndex, Line: startLine, Err: err}
				}
				fields[key] = v
				continue
			}
			at := lt.lineAt(dec.InputOffset())
			open, err := dec.Token()
			if err != nil {
				return &DecodeError{File: name, Document: docIndex, Line: at, Err: err}
			}
			if d, ok := open.(json.Delim); !ok || d != '[' {
				if open == nil { // "items": null
					fields[key] = json.RawMessage("null")
					continue
				}
				return &DecodeError{File: name, Document: docIndex, Line: at, Err: errors.New("items is not a list")}
			}
			for dec.More() {
				items++
				at := lt.lineAt(dec.InputOffset())
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return &DecodeError{File: name, Document: docIndex, Item: items, Line: at, Err: err}
				}
				if !emit(rawDoc{file: name, doc: docIndex, item: items, line: at, data: v, isJSON: true}) {
					return nil
				}
			}
			if _, err := dec.Token(); err != nil {
				return &DecodeError{File: name, Document: docIndex, Line: at, Err: err}
			}
		}
		if _, err := dec.Token(); err != nil {
			return &DecodeError{File: name, Document: docIndex, Line: startLine, Err: err}
		}
		rest, err := json.Marshal(fields)
		if err != nil {
			return &DecodeError{File: name, Document: docIndex, Line: startLine, Err: err}
		}
		if !emit(rawDoc{file: name, doc: docIndex, line: startLine, data: rest, isJSON: true, hadItems: items > 0}) {
			return nil
		}
	}
}

// lineTracker counts lines of what a json.Decoder reads, keeping only the
// bytes between the last offset asked about and what has been read.
type lineTracker struct {
	r    io.Reader
	buf  []byte
	base int64 // offset of buf[0]
	line int   // line at base
}

func (t *lineTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// lineAt returns the line of the first byte at or after off that is not
// white space or a comma: where the next value starts.
func (t *lineTracker) lineAt(off int64) int {
	i := int(off - t.base)
	if i < 0 || i > len(t.buf) {
		return t.line
	}
	t.line += bytes.Count(t.buf[:i], []byte("\n"))
	for i < len(t.buf) {
		c := t.buf[i]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' && c != ':' {
			break
		}
		if c == '\n' {
			t.line++
		}
		i++
	}
	t.buf = t.buf[i:]
	t.base += int64(i)
	return t.line
}
