package exceptions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Error is a malformed exceptions file: the file, the line and the field.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and validates an exceptions file. Any error (it names the file,
// line and field) means none of the file's entries may be applied.
func Load(file string, opts Options) ([]Entry, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read exceptions file: %w", err)
	}
	return Parse(file, b, opts)
}

// Parse reads an exceptions document; file names it in errors and in each entry's Source.
func Parse(file string, data []byte, opts Options) ([]Entry, error) {
	root, err := parseDocument(file, data)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	seen := map[string]bool{}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, &Error{file, k.Line, k.Value, "given twice"}
		}
		seen[k.Value] = true
		switch k.Value {
		case "apiVersion":
			if v.Kind != yaml.ScalarNode || v.Value != APIVersion {
				return nil, &Error{file, v.Line, "apiVersion", fmt.Sprintf("%q is not %s", v.Value, APIVersion)}
			}
		case "kind":
			if v.Kind != yaml.ScalarNode || v.Value != Kind {
				return nil, &Error{file, v.Line, "kind", fmt.Sprintf("%q is not %s", v.Value, Kind)}
			}
		case "metadata":
			// Allowed, as on any Kubernetes-like document (a name, annotations); not read.
		case "exceptions":
			if v.Kind != yaml.SequenceNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				return nil, &Error{file, v.Line, "exceptions", "must be a list of entries"}
			}
			list = v
		default:
			return nil, &Error{file, k.Line, k.Value, "unknown field (want apiVersion, kind, metadata, exceptions)"}
		}
	}
	for _, f := range []string{"apiVersion", "kind"} {
		if !seen[f] {
			return nil, &Error{file, root.Line, f, fmt.Sprintf("required: an exceptions file starts with apiVersion: %s and kind: %s", APIVersion, Kind)}
		}
	}
	if list == nil {
		return nil, nil
	}
	for i, item := range list.Content {
		e, err := parseEntry(file, fmt.Sprintf("exceptions[%d]", i), item, opts)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// parseDocument returns the top-level mapping of the file's one YAML document.
func parseDocument(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: fmt.Sprintf("empty: an exceptions file has apiVersion: %s, kind: %s and a list of exceptions", APIVersion, Kind)}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "a second YAML document: an exceptions file holds one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: doc.Line, Msg: "not a YAML mapping with apiVersion, kind and exceptions"}
	}
	return doc.Content[0], nil
}

// yamlError turns the YAML library's "yaml: line N: msg" into FILE:N: msg.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, rest, _ := strings.Cut(msg, ":")
		return &Error{File: file, Line: line, Msg: "not valid YAML:" + rest}
	}
	return &Error{File: file, Msg: "not valid YAML: " + msg}
}

// parseEntry reads one entry strictly: unknown fields are errors, so a
// misspelt "namespce" never widens an exception to every namespace.
func parseEntry(file, at string, n *yaml.Node, opts Options) (Entry, error) {
	var e Entry
	if n.Kind != yaml.MappingNode {
		return e, &Error{file, n.Line, at, "must be a mapping with check, resource, reason, owner and expires"}
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := at + "." + k.Value
		if _, dup := lines[k.Value]; dup {
			return e, &Error{file, k.Line, field, "given twice"}
		}
		lines[k.Value] = v.Line
		var err error
		switch k.Value {
		case "check":
			e.Check, err = scalar(v)
		case "reason":
			e.Reason, err = scalar(v)
		case "owner":
			e.Owner, err = scalar(v)
		case "expires":
			e.Expires, err = scalar(v)
		case "resource":
			e.Resource = &ResourceMatch{}
			err = parseStrings(file, field, v, map[string]*string{"kind": &e.Resource.Kind, "namespace": &e.Resource.Namespace, "name": &e.Resource.Name},
				map[string]func(*yaml.Node) error{"selector": func(sv *yaml.Node) error {
					sel, err := labelSelector(sv)
					e.Resource.Selector = sel
					if err == nil {
						lines["resource.selector"] = sv.Line
					}
					return err
				}})
		case "subject":
			e.Subject = &SubjectMatch{}
			err = parseStrings(file, field, v, map[string]*string{"kind": &e.Subject.Kind, "namespace": &e.Subject.Namespace, "name": &e.Subject.Name}, nil)
		default:
			return e, &Error{file, k.Line, field, "unknown field (want check, resource, subject, reason, owner, expires)"}
		}
		if err != nil {
			var fe *Error
			if errors.As(err, &fe) {
				return e, err
			}
			return e, &Error{file, v.Line, field, err.Error()}
		}
	}
	e.Source = &finding.Source{File: file, Line: n.Line}
	if fe := e.validate(opts); fe != nil {
		line, ok := lines[fe.field]
		if !ok {
			top, _, _ := strings.Cut(fe.field, ".")
			if line, ok = lines[top]; !ok {
				line = n.Line
			}
		}
		return e, &Error{file, line, at + "." + fe.field, fe.msg}
	}
	return e, nil
}

func scalar(v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("must be a string")
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return v.Value, nil
}

// parseStrings reads a mapping of string fields, and the other fields given.
func parseStrings(file, at string, v *yaml.Node, fields map[string]*string, other map[string]func(*yaml.Node) error) error {
	if v.Kind != yaml.MappingNode {
		return &Error{file, v.Line, at, "must be a mapping"}
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, fv := v.Content[i], v.Content[i+1]
		if dst, ok := fields[k.Value]; ok {
			s, err := scalar(fv)
			if err != nil {
				return &Error{file, fv.Line, at + "." + k.Value, err.Error()}
			}
			*dst = s
			continue
		}
		if fn, ok := other[k.Value]; ok {
			if err := fn(fv); err != nil {
				return &Error{file, fv.Line, at + "." + k.Value, err.Error()}
			}
			continue
		}
		want := make([]string, 0, len(fields)+len(other))
		for _, f := range []string{"kind", "namespace", "name", "selector"} {
			if _, ok := fields[f]; ok {
				want = append(want, f)
			} else if _, ok := other[f]; ok {
				want = append(want, f)
			}
		}
		return &Error{file, k.Line, at + "." + k.Value, "unknown field (want " + strings.Join(want, ", ") + ")"}
	}
	return nil
}

// labelSelector decodes a Kubernetes label selector (matchLabels, matchExpressions), strictly.
func labelSelector(v *yaml.Node) (*metav1.LabelSelector, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	var sel metav1.LabelSelector
	if err := sigsyaml.UnmarshalStrict(b, &sel); err != nil {
		return nil, fmt.Errorf("not a label selector (matchLabels, matchExpressions): %v", err)
	}
	return &sel, nil
}
