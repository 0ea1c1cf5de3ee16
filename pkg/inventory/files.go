package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DecodeError names the file and document that could not be read.
type DecodeError struct {
	File     string
	Document int // 1-based index of the YAML document in the file
	Item     int // 1-based index of the item in the document's List, 0 for the document itself
	Line     int // line the document or item starts on
	Err      error
}

func (e *DecodeError) Error() string {
	if e.Item > 0 {
		return fmt.Sprintf("%s: document %d, item %d (line %d): %v", e.File, e.Document, e.Item, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: document %d (line %d): %v", e.File, e.Document, e.Line, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ReadOptions say how much the files are taken to show.
type ReadOptions struct {
	// Complete says the files are the whole cluster: a kind with no object in
	// them is taken as having none, rather than as not seen. Secrets excepted:
	// dumps leave them out, so only AssumeAbsent says there are none.
	Complete bool
	// AssumeAbsent lists kinds the user says the cluster has none of.
	AssumeAbsent []Kind
	// AllowEmpty accepts input without any Kubernetes object (test fixtures).
	AllowEmpty bool
}

// AbsentFromInput is the Missing reason of a kind no file holds an object of.
const AbsentFromInput = "absent from the input"

// Read reads manifests: files, directories (recursively, *.yaml, *.yml,
// *.json, following symbolic links) and "-" for stdin. Documents may be
// multi-document YAML, JSON, kind: List or a `kubectl get -A -o yaml` dump.
// Objects of kinds the checks do not read are counted in Unmodelled; a
// malformed document is an error naming the file and line, and input without
// any object is an error naming the sources. A kind with no object in the
// files is not seen (Missing: AbsentFromInput) unless opts say it is empty.
// An object given twice (same kind, namespace and name) is kept once, the
// later copy winning as with kubectl apply, with a warning naming both places.
func Read(paths []string, stdin io.Reader, opts ReadOptions) (*Inventory, error) {
	inv := New()
	inv.Offline = true
	inv.Complete = opts.Complete
	inv.Missing[AnonymousAccess] = "needs a live API server to probe"
	// Files show no health checks: read as none, so the control-plane pods
	// of a dump still show what the encryption check judges.
	inv.Loaded[APIServerHealth] = true
	inv.Missing[TLSCertificates] = "needs a live API server to probe"
	inv.Missing[KubeletConfigs] = "needs a live cluster: the kubelets' configurations are read from each node"
	var sources []inputSource
	for _, p := range paths {
		if p == "-" {
			sources = append(sources, inputSource{name: "<stdin>", stdin: stdin})
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			sources = append(sources, inputSource{name: f})
		}
	}
	if err := inv.readSources(sources); err != nil {
		return nil, err
	}
	if inv.objects == 0 && !opts.AllowEmpty {
		return nil, fmt.Errorf("no Kubernetes objects in %s", describeSources(paths))
	}
	// Where each object is in its list only serves to replace the copies
	// given twice while reading (Put removes before it adds): 8 MB of a big cluster.
	inv.positions, inv.customSeen = nil, nil
	assumed := map[Kind]bool{}
	for _, k := range opts.AssumeAbsent {
		assumed[k] = true
	}
	// CustomResourceDefinitions in the files show which add-ons the cluster
	// has: a kind served by a CRD that is not among them is not installed.
	crds, cluster := len(inv.Scopes) > 0, inv.IsCluster()
	for _, k := range allKinds {
		if !k.IsResource() {
			continue
		}
		switch {
		case inv.Count(k) > 0:
			inv.Loaded[k] = true
		case crds && k.servedByCRD() && !inv.definesAny(k.APIResources()):
			inv.Loaded[k], inv.NotInstalled[k] = true, true
		case (opts.Complete && k != Secrets) || assumed[k]:
			// --complete does not vouch for Secrets: a dump leaves them out
			// (their data would be in the file), so none given is not none.
			inv.Loaded[k] = true
		case k.Optional() && !cluster:
			// Manifests of an application, not a cluster (no kube-system
			// namespace): the cluster's add-on policies are not theirs to
			// hold. Verdicts read the manifests' own objects, and the report
			// and stderr say that the add-ons were not seen.
			inv.Loaded[k], inv.NotInManifests[k] = true, true
		default:
			// In a cluster dump, an add-on's objects (the cluster-scoped network policy tiers,
			// Cilium and Calico policies, cert-manager Certificates) are
			// absent like any other kind: a dump without them does not show
			// the cluster has none, and an Admin-tier Accept or a Cilium allow
			// left out would make isolation look stronger than it is.
			inv.Missing[k] = AbsentFromInput
		}
	}
	return inv, nil
}

// servedByCRD reports whether a cluster serves the kind only where an
// add-on installed its CustomResourceDefinition.
func (k Kind) servedByCRD() bool {
	if _, _, ok := CustomResource(k); ok {
		return true
	}
	return k.IsCNIPolicy() || k == ClusterNetworkPolicies || k == AdminNetworkPolicies || k == BaselineAdminNetworkPolicies
}

// definesAny reports whether a CRD in the input defines one of the resources.
func (inv *Inventory) definesAny(resources []schema.GroupResource) bool {
	for _, gr := range resources {
		if _, ok := inv.Scopes[gr]; ok {
			return true
		}
	}
	return false
}

// FromFiles reads manifests that are the whole world of a test or tool: every
// kind without objects is taken as empty. Audits of user input use Read.
func FromFiles(paths []string, stdin io.Reader) (*Inventory, error) {
	return Read(paths, stdin, ReadOptions{Complete: true, AssumeAbsent: []Kind{Secrets}, AllowEmpty: true})
}

func describeSources(paths []string) string {
	var names []string
	for _, p := range paths {
		if p == "-" {
			p = "standard input"
		}
		names = append(names, p)
	}
	return strings.Join(names, ", ")
}

// expand lists the manifest files under p. Symbolic links to files and
// directories are followed; a directory reached twice (a link loop, or two
// links to one place) is read once.
func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	seen := map[string]bool{}
	var walk func(dir string) error
	walk = func(dir string) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return fmt.Errorf("read directory %s: %w", dir, err)
		}
		if seen[real] {
			return nil
		}
		seen[real] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("read directory %s: %w", dir, err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			isDir := e.IsDir()
			if e.Type()&fs.ModeSymlink != 0 {
				st, err := os.Stat(path)
				if err != nil {
					return fmt.Errorf("read %s: %w", path, errors.Unwrap(err))
				}
				isDir = st.IsDir()
			}
			if isDir {
				if err := walk(path); err != nil {
					return err
				}
				continue
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				out = append(out, path)
			}
		}
		return nil
	}
	if err := walk(p); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

func isSeparator(l []byte) bool {
	t := bytes.TrimRight(l, " \t\r\n")
	return bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) || bytes.HasPrefix(t, []byte("---\t"))
}

func isBlankOrComment(l []byte) bool {
	t := bytes.TrimSpace(l)
	return len(t) == 0 || t[0] == '#'
}

// hasContent reports whether a document has a line that is neither blank nor a comment.
func hasContent(raw []byte) bool {
	for len(raw) > 0 {
		l := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			l, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if !isBlankOrComment(l) {
			return true
		}
	}
	return false
}
