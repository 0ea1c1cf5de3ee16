package exceptions

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// Append adds an entry to the exceptions file at path, creating the file
// (and its directory) when it does not exist. The entry must be complete
// (check, reason, owner, expires); an existing file must be a valid
// exceptions document, and keeps its entries and comments. The file is
// replaced in one rename, so a reader never sees half of it.
func Append(path string, e Entry) error {
	if err := e.Validate(Options{}); err != nil {
		return fmt.Errorf("exception for %s: %w", e.Check, err)
	}
	node, err := entryNode(e)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	old, err := os.ReadFile(path)
	var doc *yaml.Node
	switch {
	case errors.Is(err, fs.ErrNotExist):
		doc = newDocument()
	case err != nil:
		return fmt.Errorf("read exceptions file: %w", err)
	default:
		if _, err := Parse(path, old, Options{}); err != nil {
			return fmt.Errorf("not appending to a malformed exceptions file: %w", err)
		}
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
		doc = &yaml.Node{}
		if err := yaml.Unmarshal(old, doc); err != nil {
			return fmt.Errorf("read exceptions file %s: %w", path, err)
		}
	}
	list := exceptionsList(doc.Content[0])
	list.Kind, list.Tag, list.Value, list.Style = yaml.SequenceNode, "!!seq", "", 0
	list.Content = append(list.Content, node)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode exceptions file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode exceptions file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write exceptions file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write exceptions file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write exceptions file: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write exceptions file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write exceptions file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write exceptions file: %w", err)
	}
	return nil
}

func newDocument() *yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	root.Content = append(root.Content,
		str("apiVersion"), str(APIVersion),
		str("kind"), str(Kind),
		str("exceptions"), &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"})
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

// exceptionsList returns the value node of the document's exceptions key, adding it when missing.
func exceptionsList(root *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "exceptions" {
			return root.Content[i+1]
		}
	}
	v := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	root.Content = append(root.Content, str("exceptions"), v)
	return v
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// entryNode writes the entry's fields in the order a person reads them.
func entryNode(e Entry) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add := func(k string, v *yaml.Node) { m.Content = append(m.Content, str(k), v) }
	add("check", str(e.Check))
	if r := e.Resource; r != nil {
		rm := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, kv := range [][2]string{{"kind", r.Kind}, {"namespace", r.Namespace}, {"name", r.Name}} {
			if kv[1] != "" {
				rm.Content = append(rm.Content, str(kv[0]), str(kv[1]))
			}
		}
		if r.Selector != nil {
			b, err := sigsyaml.Marshal(r.Selector)
			if err != nil {
				return nil, fmt.Errorf("encode selector: %w", err)
			}
			var sel yaml.Node
			if err := yaml.Unmarshal(b, &sel); err != nil {
				return nil, fmt.Errorf("encode selector: %w", err)
			}
			if len(sel.Content) == 1 {
				rm.Content = append(rm.Content, str("selector"), sel.Content[0])
			}
		}
		add("resource", rm)
	}
	if s := e.Subject; s != nil {
		sm := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, kv := range [][2]string{{"kind", s.Kind}, {"namespace", s.Namespace}, {"name", s.Name}} {
			if kv[1] != "" {
				sm.Content = append(sm.Content, str(kv[0]), str(kv[1]))
			}
		}
		add("subject", sm)
	}
	add("reason", str(e.Reason))
	add("owner", str(e.Owner))
	add("expires", str(e.Expires))
	return m, nil
}
