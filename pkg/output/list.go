package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"
)

// templateForms are the -o values cli-runtime's template printers take, as help and completion show them.
var templateForms = []string{"jsonpath=...", "jsonpath-file=...", "go-template=...", "go-template-file=..."}

// listFormats are the -o values of a command that prints a list of its own
// (checks, who-can, can-reach, narrow) rather than a Report.
var listFormats = []string{"table", "wide", "json", "yaml", "name"}

// ListFormats returns the -o values the list commands accept.
func ListFormats() []string {
	return append(append([]string(nil), listFormats...), templateForms...)
}

// Encoder writes a value as one document: JSON, YAML, or through a jsonpath
// or go-template. It is the one encoder of reports' headers, lists and fleets.
type Encoder func(v any, w io.Writer) error

// WriteJSON writes v as indented JSON, the shape every -o json of the tool
// has (see jsonWidth).
func WriteJSON(v any, w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := writeJSONValue(v, bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// WriteYAML writes v as YAML.
func WriteYAML(v any, w io.Writer) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	return nil
}

// NewEncoder returns the encoder of format: json, yaml, or one of
// cli-runtime's jsonpath/go-template forms (parsed now, so that a bad
// template is an error before anything is read). ok is false when format is
// none of them.
func NewEncoder(format string) (enc Encoder, ok bool, err error) {
	switch format {
	case "json":
		return WriteJSON, true, nil
	case "yaml":
		return WriteYAML, true, nil
	}
	empty := ""
	tf := genericclioptions.NewKubeTemplatePrintFlags()
	tf.TemplateArgument = &empty
	tp, err := tf.ToPrinter(format)
	if err != nil {
		if genericclioptions.IsNoCompatiblePrinterError(err) {
			return nil, false, nil
		}
		return nil, true, err
	}
	return func(v any, w io.Writer) error {
		u, err := toUnstructured(v)
		if err != nil {
			return err
		}
		return tp.PrintObj(u, w)
	}, true, nil
}

// toUnstructured converts v into the generic object cli-runtime's template
// printers read. A document that is an array (the checks) is read as the
// items of a kubectl List, so that {.items[*].id} works as over `kubectl get`.
func toUnstructured(v any) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	switch d := doc.(type) {
	case map[string]any:
		return &unstructured.Unstructured{Object: d}, nil
	case []any:
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "List", "items": d}}, nil
	}
	return nil, fmt.Errorf("encode: a %T is not a document", v)
}

// List is what a list command prints with any -o but its tables.
type List struct {
	// Document is what json, yaml and the templates print.
	Document any
	// Names are what -o name prints, one a line, like kubectl's KIND/NAME.
	Names []string
}

// ListPrinter prints a List.
type ListPrinter func(l List, w io.Writer) error

// NewListPrinter returns the printer of a list command's -o value, or nil
// for table and wide, which the command prints itself. command names it in
// the error for a format it does not take.
func NewListPrinter(command, format string) (ListPrinter, error) {
	switch format {
	case "", "table", "wide":
		return nil, nil
	case "name":
		return printListNames, nil
	}
	enc, ok, err := NewEncoder(format)
	if err != nil {
		return nil, fmt.Errorf("-o %s: %w", format, err)
	}
	if !ok {
		return nil, fmt.Errorf("kubectl harden %s prints %s, not %q", command, strings.Join(ListFormats(), ", "), format)
	}
	return func(l List, w io.Writer) error { return enc(l.Document, w) }, nil
}

func printListNames(l List, w io.Writer) error {
	seen := map[string]bool{}
	for _, n := range l.Names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if _, err := fmt.Fprintln(w, n); err != nil {
			return fmt.Errorf("write names: %w", err)
		}
	}
	return nil
}
