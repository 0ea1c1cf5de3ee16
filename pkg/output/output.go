// Package output prints a Report: a coloured table with a scorecard, the
// stable json/yaml document, names, and jsonpath/go-template through
// cli-runtime's printers. The SARIF, patch, PolicyReport, DOT and HTML printers live beside them.
package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Formats the -o flag accepts besides jsonpath=/go-template= forms.
var formats = []string{"table", "wide", "json", "yaml", "name", "sarif", "patch", "policyreport", "dot", "html"}

// Formats returns the -o values the audit commands accept.
func Formats() []string {
	return append(append([]string(nil), formats...), templateForms...)
}

// Printer writes a report in one format.
type Printer interface {
	Print(r *finding.Report, w io.Writer) error
}

// PrinterFunc adapts a function to Printer.
type PrinterFunc func(r *finding.Report, w io.Writer) error

func (f PrinterFunc) Print(r *finding.Report, w io.Writer) error { return f(r, w) }

// Options shape the human-readable printers.
type Options struct {
	Color bool
	// GroupBySubject groups the table by RBAC subject instead of by severity.
	GroupBySubject bool
	// All lists every finding in the table, however many one check has.
	All bool
	// ShowAccepted lists the findings exceptions accept (table, wide, name); json, yaml and sarif always carry them.
	ShowAccepted bool
}

// New returns the printer for an -o value. sarif and patch are provided by the
// caller through extra, so this package does not depend on how they are made.
func New(format string, opts Options, extra map[string]Printer) (Printer, error) {
	switch format {
	case "", "table":
		return &Table{Color: opts.Color, GroupBySubject: opts.GroupBySubject, All: opts.All, ShowAccepted: opts.ShowAccepted}, nil
	case "wide":
		return &Table{Color: opts.Color, Wide: true, GroupBySubject: opts.GroupBySubject, ShowAccepted: opts.ShowAccepted}, nil
	case "json":
		return PrinterFunc(printJSON), nil
	case "yaml":
		return PrinterFunc(printYAML), nil
	case "name":
		return PrinterFunc(func(r *finding.Report, w io.Writer) error { return printNames(r, w, opts.ShowAccepted) }), nil
	case "dot":
		return DOT{}, nil
	}
	if p, ok := extra[format]; ok {
		return p, nil
	}
	enc, ok, err := NewEncoder(format)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(Formats(), ", "))
	}
	return PrinterFunc(func(r *finding.Report, w io.Writer) error { return enc(finding.Document(r), w) }), nil
}

// printJSON writes the report document with its findings marshalled one at
// a time, so that a report of any size is never held as one buffer, let
// alone two. The top-level "items" field, null in the marshalled head, is
// where they go.
func printJSON(r *finding.Report, w io.Writer) error {
	r = finding.Document(r)
	head := *r
	head.Items = nil
	b, err := json.Marshal(&head)
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	j := jsonWriter{bw}
	bw.WriteByte('{')
	for b = b[1:]; b[0] != '}'; {
		if b[0] == ',' {
			bw.WriteByte(',')
			b = b[1:]
		}
		n := scalarLen(b)
		key := b[:n]
		j.newline(1)
		bw.Write(key)
		bw.WriteString(": ")
		b = b[n+1:]
		if string(key) != `"items"` {
			b = j.value(b, 1, len(jsonIndent)+n+2)
			continue
		}
		b = b[scalarLen(b):] // null
		switch {
		case r.Items == nil:
			bw.WriteString("null")
		case len(r.Items) == 0:
			bw.WriteString("[]")
		default:
			bw.WriteByte('[')
			for n := range r.Items {
				item, err := json.Marshal(&r.Items[n])
				if err != nil {
					return fmt.Errorf("write json: %w", err)
				}
				if n > 0 {
					bw.WriteByte(',')
				}
				j.newline(2)
				j.value(item, 2, 2*len(jsonIndent))
			}
			j.newline(1)
			bw.WriteByte(']')
		}
	}
	bw.WriteString("\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// yamlItemsMarker is the top-level "items" field of the YAML head, where
// printYAML writes the findings one at a time.
const yamlItemsMarker = "\nitems: null\n"

func printYAML(r *finding.Report, w io.Writer) error {
	r = finding.Document(r)
	head := *r
	head.Items = nil
	b, err := yaml.Marshal(&head)
	if err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	i := bytes.Index(b, []byte(yamlItemsMarker))
	if i < 0 {
		return fmt.Errorf("encode yaml: no items field")
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(b[:i+1])
	switch {
	case r.Items == nil:
		bw.WriteString("items: null\n")
	case len(r.Items) == 0:
		bw.WriteString("items: []\n")
	default:
		bw.WriteString("items:\n")
		for n := range r.Items {
			item, err := yaml.Marshal(&r.Items[n])
			if err != nil {
				return fmt.Errorf("encode yaml: %w", err)
			}
			for j, l := range bytes.SplitAfter(bytes.TrimSuffix(item, []byte("\n")), []byte("\n")) {
				if j == 0 {
					bw.WriteString("- ")
				} else if len(l) > 1 {
					bw.WriteString("  ")
				}
				bw.Write(l)
			}
			bw.WriteByte('\n')
		}
	}
	bw.Write(b[i+len(yamlItemsMarker):])
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	return nil
}

// printNames prints one line per finding: CHECK:kind/name or CHECK:kind/namespace/name,
// so scripts can count or diff findings between runs. Like the table, it
// leaves out what exceptions accept (unless asked) and, with a baseline, what is unchanged.
func printNames(r *finding.Report, w io.Writer, showAccepted bool) error {
	seen := map[string]bool{}
	var lines []string
	for _, f := range r.Items {
		if (f.Accepted != nil && !showAccepted) || f.BaselineState == finding.BaselineUnchanged {
			continue
		}
		l := f.Check + ":" + f.Resource.String()
		if !seen[l] {
			seen[l] = true
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
