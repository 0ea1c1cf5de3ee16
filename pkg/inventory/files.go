package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// DecodeError names the file and document that could not be read.
type DecodeError struct {
	File     string
	Document int // 1-based index of the YAML document in the file
	Line     int // line the document starts on
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: document %d (line %d): %v", e.File, e.Document, e.Line, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ReadOptions say how much the files are taken to show.
type ReadOptions struct {
	// Complete says the files are the whole cluster: a kind with no object in
	// them is taken as having none, rather than as not seen.
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
	for _, p := range paths {
		if p == "-" {
			if err := inv.readStream("<stdin>", stdin); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := inv.readFile(f); err != nil {
				return nil, err
			}
		}
	}
	if inv.objects == 0 && !opts.AllowEmpty {
		return nil, fmt.Errorf("no Kubernetes objects in %s", describeSources(paths))
	}
	assumed := map[Kind]bool{}
	for _, k := range opts.AssumeAbsent {
		assumed[k] = true
	}
	for _, k := range allKinds {
		if !k.IsResource() {
			continue
		}
		if opts.Complete || assumed[k] || inv.Count(k) > 0 {
			inv.Loaded[k] = true
		} else {
			inv.Missing[k] = AbsentFromInput
		}
	}
	return inv, nil
}

// FromFiles reads manifests that are the whole world of a test or tool: every
// kind without objects is taken as empty. Audits of user input use Read.
func FromFiles(paths []string, stdin io.Reader) (*Inventory, error) {
	return Read(paths, stdin, ReadOptions{Complete: true, AllowEmpty: true})
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

func (inv *Inventory) readFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, errors.Unwrap(err))
	}
	defer f.Close()
	return inv.readStream(name, f)
}

// readStream splits a stream into YAML documents at "---" lines, keeping the
// line each document starts on for error messages and SARIF locations.
func (inv *Inventory) readStream(name string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var doc bytes.Buffer
	docIndex, line, start := 0, 0, 0
	flush := func() error {
		defer doc.Reset()
		docIndex++
		if len(bytes.TrimSpace(stripComments(doc.Bytes()))) == 0 {
			return nil
		}
		if err := inv.addDocument(name, start, doc.Bytes()); err != nil {
			return &DecodeError{File: name, Document: docIndex, Line: start, Err: err}
		}
		return nil
	}
	for {
		l, err := br.ReadBytes('\n')
		if len(l) > 0 {
			line++
			if isSeparator(l) {
				if err := flush(); err != nil {
					return err
				}
				start = 0
			} else {
				if start == 0 && !isBlankOrComment(l) {
					start = line
				}
				doc.Write(l)
			}
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
}

func isSeparator(l []byte) bool {
	t := bytes.TrimRight(l, " \t\r\n")
	return bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) || bytes.HasPrefix(t, []byte("---\t"))
}

func isBlankOrComment(l []byte) bool {
	t := bytes.TrimSpace(l)
	return len(t) == 0 || t[0] == '#'
}

func stripComments(raw []byte) []byte {
	var b bytes.Buffer
	for _, l := range bytes.SplitAfter(raw, []byte("\n")) {
		if !isBlankOrComment(l) {
			b.Write(l)
		}
	}
	return b.Bytes()
}

type typeHeader struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

func (inv *Inventory) addDocument(file string, line int, raw []byte) error {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	return inv.addJSON(file, line, js)
}

func (inv *Inventory) addJSON(file string, line int, js []byte) error {
	var h typeHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return err
	}
	if h.Kind == "" {
		return errors.New("object has no kind")
	}
	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		for _, it := range h.Items {
			if err := inv.addJSON(file, line, it); err != nil {
				return err
			}
		}
		return nil
	}
	if h.Kind == "List" {
		return nil
	}
	gv, err := schema.ParseGroupVersion(h.APIVersion)
	if err != nil {
		return fmt.Errorf("apiVersion %q: %w", h.APIVersion, err)
	}
	inv.objects++
	key, err := inv.addObject(gv.WithKind(h.Kind), js)
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.APIVersion, h.Kind, err)
	}
	if key.Name != "" {
		if prev, dup := inv.Sources[key]; dup {
			inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s is given twice (%s:%d and %s:%d); the later one is used, as kubectl apply would",
				key, prev.File, prev.Line, file, line))
		}
		inv.Sources[key] = Source{File: file, Line: line}
	}
	return nil
}

func decodeInto[T any](inv *Inventory, kind string, js []byte, list *[]T, meta func(*T) metav1.Object) (Key, error) {
	var obj T
	// Unknown fields (from newer servers) are ignored; malformed values are an error.
	if err := json.Unmarshal(js, &obj); err != nil {
		return Key{}, err
	}
	m := meta(&obj)
	stripManagedFields(m)
	key := Key{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName()}
	put(inv, list, key, obj)
	return key, nil
}

// put adds an object read from a file to its list; an object already read
// under the same key is replaced in place, so the later copy wins.
func put[T any](inv *Inventory, list *[]T, key Key, obj T) {
	if key.Name != "" {
		if i, dup := inv.positions[key]; dup {
			(*list)[i] = obj
			return
		}
		inv.positions[key] = len(*list)
	}
	*list = append(*list, obj)
}

func stripManagedFields(m metav1.Object) { m.SetManagedFields(nil) }

// addObject decodes one object of a kind the checks read; other kinds are ignored.
func (inv *Inventory) addObject(gvk schema.GroupVersionKind, js []byte) (Key, error) {
	var key Key
	var err error
	if k, ok := customKind(gvk.Group, gvk.Kind); ok {
		// Custom resources of any version are kept as read, like the live loader does.
		var u unstructured.Unstructured
		if err := u.UnmarshalJSON(js); err != nil {
			return Key{}, err
		}
		stripManagedFields(&u)
		key := Key{Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
		put(inv, inv.customList(k), key, u)
		return key, nil
	}
	if gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition" {
		// Only what says where its resource lives: RBAC scope depends on it.
		var crd struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
			Spec     struct {
				Group string `json:"group"`
				Scope string `json:"scope"`
				Names struct {
					Plural string `json:"plural"`
				} `json:"names"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(js, &crd); err != nil {
			return Key{}, err
		}
		inv.Scopes[schema.GroupResource{Group: crd.Spec.Group, Resource: crd.Spec.Names.Plural}] = crd.Spec.Scope != "Cluster"
		return Key{Kind: gvk.Kind, Name: crd.Metadata.Name}, nil
	}
	switch gvk {
	case corev1.SchemeGroupVersion.WithKind("Namespace"):
		key, err = decodeInto(inv, "Namespace", js, &inv.Namespaces, func(o *corev1.Namespace) metav1.Object { return o })
	case corev1.SchemeGroupVersion.WithKind("Pod"):
		key, err = decodeInto(inv, "Pod", js, &inv.Pods, func(o *corev1.Pod) metav1.Object { return o })
	case corev1.SchemeGroupVersion.WithKind("ServiceAccount"):
		key, err = decodeInto(inv, "ServiceAccount", js, &inv.ServiceAccounts, func(o *corev1.ServiceAccount) metav1.Object { return o })
	case corev1.SchemeGroupVersion.WithKind("Secret"):
		// Keep the metadata only, as the live loader does: Secret data never enters the inventory.
		var pm metav1.PartialObjectMetadata
		if err = json.Unmarshal(js, &pm); err == nil {
			pm.ManagedFields = nil
			pm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
			key = Key{Kind: "Secret", Namespace: pm.Namespace, Name: pm.Name}
			put(inv, &inv.Secrets, key, pm)
		}
	case corev1.SchemeGroupVersion.WithKind("ConfigMap"):
		key, err = decodeInto(inv, "ConfigMap", js, &inv.ConfigMaps, func(o *corev1.ConfigMap) metav1.Object { return o })
	case corev1.SchemeGroupVersion.WithKind("Node"):
		key, err = decodeInto(inv, "Node", js, &inv.Nodes, func(o *corev1.Node) metav1.Object { return o })
	case corev1.SchemeGroupVersion.WithKind("PodTemplate"):
		key, err = decodeInto(inv, "PodTemplate", js, &inv.PodTemplates, func(o *corev1.PodTemplate) metav1.Object { return o })
	case corev1.SchemeGroupVersion.WithKind("ReplicationController"):
		key, err = decodeInto(inv, "ReplicationController", js, &inv.ReplicationControllers, func(o *corev1.ReplicationController) metav1.Object { return o })
	case appsv1.SchemeGroupVersion.WithKind("Deployment"):
		key, err = decodeInto(inv, "Deployment", js, &inv.Deployments, func(o *appsv1.Deployment) metav1.Object { return o })
	case appsv1.SchemeGroupVersion.WithKind("StatefulSet"):
		key, err = decodeInto(inv, "StatefulSet", js, &inv.StatefulSets, func(o *appsv1.StatefulSet) metav1.Object { return o })
	case appsv1.SchemeGroupVersion.WithKind("DaemonSet"):
		key, err = decodeInto(inv, "DaemonSet", js, &inv.DaemonSets, func(o *appsv1.DaemonSet) metav1.Object { return o })
	case appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):
		key, err = decodeInto(inv, "ReplicaSet", js, &inv.ReplicaSets, func(o *appsv1.ReplicaSet) metav1.Object { return o })
	case batchv1.SchemeGroupVersion.WithKind("Job"):
		key, err = decodeInto(inv, "Job", js, &inv.Jobs, func(o *batchv1.Job) metav1.Object { return o })
	case batchv1.SchemeGroupVersion.WithKind("CronJob"):
		key, err = decodeInto(inv, "CronJob", js, &inv.CronJobs, func(o *batchv1.CronJob) metav1.Object { return o })
	case rbacv1.SchemeGroupVersion.WithKind("Role"):
		key, err = decodeInto(inv, "Role", js, &inv.Roles, func(o *rbacv1.Role) metav1.Object { return o })
	case rbacv1.SchemeGroupVersion.WithKind("ClusterRole"):
		key, err = decodeInto(inv, "ClusterRole", js, &inv.ClusterRoles, func(o *rbacv1.ClusterRole) metav1.Object { return o })
	case rbacv1.SchemeGroupVersion.WithKind("RoleBinding"):
		key, err = decodeInto(inv, "RoleBinding", js, &inv.RoleBindings, func(o *rbacv1.RoleBinding) metav1.Object { return o })
	case rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"):
		key, err = decodeInto(inv, "ClusterRoleBinding", js, &inv.ClusterRoleBindings, func(o *rbacv1.ClusterRoleBinding) metav1.Object { return o })
	case networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"):
		key, err = decodeInto(inv, "NetworkPolicy", js, &inv.NetworkPolicies, func(o *networkingv1.NetworkPolicy) metav1.Object { return o })
	case admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingWebhookConfiguration"):
		key, err = decodeInto(inv, "ValidatingWebhookConfiguration", js, &inv.ValidatingWebhooks, func(o *admissionregistrationv1.ValidatingWebhookConfiguration) metav1.Object { return o })
	case admissionregistrationv1.SchemeGroupVersion.WithKind("MutatingWebhookConfiguration"):
		key, err = decodeInto(inv, "MutatingWebhookConfiguration", js, &inv.MutatingWebhooks, func(o *admissionregistrationv1.MutatingWebhookConfiguration) metav1.Object { return o })
	default:
		// A custom workload is judged like a Deployment; anything else is counted.
		return inv.addUnmodelled(gvk, js)
	}
	key.Kind = gvk.Kind
	return key, err
}
