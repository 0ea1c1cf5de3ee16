package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

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

// inputSource is a file, or standard input, to read.
type inputSource struct {
	name  string
	stdin io.Reader // set for standard input
}

func (s inputSource) split(emit func(rawDoc) bool) error {
	if s.stdin != nil {
		return splitStream(s.name, s.stdin, emit)
	}
	f, err := os.Open(s.name)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.name, errors.Unwrap(err))
	}
	defer f.Close()
	var counts map[schema.GroupVersionKind]int
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		// A file is read twice, the second time from the page cache: first
		// to count its List items, so their lists are sized once.
		counts = countItems(f)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("read %s: %w", s.name, err)
		}
	}
	return splitStream(s.name, f, func(d rawDoc) bool {
		d.counts, counts = counts, nil
		return emit(d)
	})
}

// decoded is an object a worker decoded; the reader stores it in input order,
// so that the later of two copies wins whatever core decoded it.
type decoded struct {
	store func(inv *Inventory) Key // adds the object; a named key records its source
}

// job is one document on its way through the workers.
type job struct {
	raw  rawDoc
	out  []decoded
	err  error
	done chan struct{}
}

// shareParts is turned off by the test that shows sharing changes no value.
var shareParts = true

// fastYAML is turned off by the test that shows the one-pass YAML reader
// gives the same inventory as sigs.k8s.io/yaml.
var fastYAML = true

// readSources reads every source: one goroutine splits documents and List
// items, every core decodes them, and this goroutine stores them in order. At
// most a few hundred objects are between reading and storing at any time.
func (inv *Inventory) readSources(sources []inputSource) error {
	workers := runtime.GOMAXPROCS(0)
	var sharer *Sharer
	if shareParts {
		sharer = &Sharer{}
	}
	work := make(chan *job, 4*workers)
	ordered := make(chan *job, 256)
	stop := make(chan struct{})
	splitDone := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(ordered)
		for _, s := range sources {
			err := s.split(func(d rawDoc) bool {
				j := &job{raw: d, done: make(chan struct{})}
				select {
				case ordered <- j:
				case <-stop:
					return false
				}
				work <- j // workers drain work until it is closed
				return true
			})
			if err != nil {
				splitDone <- err
				return
			}
		}
		splitDone <- nil
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				j.out, j.err = decodeDoc(j.raw, sharer)
				j.raw.data = nil
				close(j.done)
			}
		}()
	}
	var err error
	for j := range ordered {
		<-j.done
		if j.err != nil {
			err = &DecodeError{File: j.raw.file, Document: j.raw.doc, Item: j.raw.item, Line: j.raw.line, Err: j.err}
			break
		}
		inv.reserve(j.raw.counts)
		for _, d := range j.out {
			inv.store(d, j.raw.file, j.raw.line)
		}
	}
	if err != nil {
		close(stop)
		for j := range ordered {
			<-j.done
		}
	}
	wg.Wait()
	if serr := <-splitDone; err == nil {
		err = serr
	}
	return err
}

// reserve makes room for the objects a file is about to give (see countItems).
func (inv *Inventory) reserve(counts map[schema.GroupVersionKind]int) {
	for gvk, n := range counts {
		if dec, ok := decoders[gvk]; ok {
			dec.reserve(inv, n)
		}
	}
}

func (inv *Inventory) store(d decoded, file string, line int) {
	inv.objects++
	key := d.store(inv)
	if key.Name == "" {
		return
	}
	if prev, dup := inv.Sources[key]; dup {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s is given twice (%s:%d and %s:%d); the later one is used, as kubectl apply would",
			key, prev.File, prev.Line, file, line))
	}
	inv.Sources[key] = Source{File: file, Line: line}
}

type typeHeader struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// decodeDoc decodes one document or List item; it touches no shared state.
func decodeDoc(d rawDoc, sh *Sharer) ([]decoded, error) {
	js, sorted := d.data, false
	if !d.isJSON {
		var ok bool
		if js, ok = fastYAMLToJSON(d.data); !ok || !fastYAML {
			var err error
			if js, err = yaml.YAMLToJSON(d.data); err != nil {
				return nil, err
			}
			sorted = true // sigs.k8s.io/yaml writes keys in order
		}
	}
	var out []decoded
	err := decodeJSON(js, d.hadItems, &out, sh, sorted)
	return out, err
}

func decodeJSON(js []byte, hadItems bool, out *[]decoded, sh *Sharer, sorted bool) error {
	var h typeHeader
	if apiVersion, kind, items, ok := peekHeader(js, sorted); ok && !(items && strings.HasSuffix(kind, "List")) {
		h.APIVersion, h.Kind = apiVersion, kind
	} else if err := json.Unmarshal(js, &h); err != nil {
		return err
	}
	if hadItems {
		// Its items were read one by one; what is left must say it is a List.
		if !strings.HasSuffix(h.Kind, "List") {
			if h.Kind == "" {
				return errors.New("a document with top-level items has no kind: want a List")
			}
			return fmt.Errorf("top-level items in a %s, which is not a List", h.Kind)
		}
		return nil
	}
	if h.Kind == "" {
		return errors.New("object has no kind")
	}
	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		for _, it := range h.Items {
			if err := decodeJSON(it, false, out, sh, false); err != nil {
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
	d, err := decodeObject(gv.WithKind(h.Kind), js, sh)
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.APIVersion, h.Kind, err)
	}
	*out = append(*out, d)
	return nil
}

// kindDecoder decodes the objects of one modelled kind and sizes their list.
type kindDecoder struct {
	decode  func([]byte, *Sharer) (decoded, error)
	reserve func(inv *Inventory, n int) // makes room for n more objects
}

// typed decodes an object of a modelled kind and trims what no check reads.
func typed[T any](kind string, list func(*Inventory) *[]T, meta func(*T) metav1.Object) kindDecoder {
	return kindDecoder{decode: func(js []byte, sh *Sharer) (decoded, error) {
		var obj T
		// Unknown fields (from newer servers) are ignored; malformed values are an error.
		if err := json.Unmarshal(js, &obj); err != nil {
			return decoded{}, err
		}
		Trim(&obj)
		sh.Object(&obj)
		m := meta(&obj)
		key := Key{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName()}
		return decoded{store: func(inv *Inventory) Key {
			put(inv, list(inv), key, obj)
			return key
		}}, nil
	}, reserve: reserveIn(list)}
}

// reserveIn makes room in a list for n more objects at once: a list grown
// an append at a time keeps up to a quarter of its room unused, 12 MB of a
// big cluster's pods.
func reserveIn[T any](list func(*Inventory) *[]T) func(*Inventory, int) {
	return func(inv *Inventory, n int) {
		l := list(inv)
		if cap(*l)-len(*l) < n {
			grown := make([]T, len(*l), len(*l)+n)
			copy(grown, *l)
			*l = grown
		}
	}
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

// decoders are the modelled kinds, by group, version and Kind.
var decoders = map[schema.GroupVersionKind]kindDecoder{
	corev1.SchemeGroupVersion.WithKind("Namespace"): typed("Namespace", func(i *Inventory) *[]corev1.Namespace { return &i.Namespaces }, func(o *corev1.Namespace) metav1.Object { return o }),
	corev1.SchemeGroupVersion.WithKind("Pod"):       typed("Pod", func(i *Inventory) *[]Pod { return &i.Pods }, func(o *Pod) metav1.Object { return o }),
	corev1.SchemeGroupVersion.WithKind("ServiceAccount"): typed("ServiceAccount", func(i *Inventory) *[]corev1.ServiceAccount { return &i.ServiceAccounts },
		func(o *corev1.ServiceAccount) metav1.Object { return o }),
	corev1.SchemeGroupVersion.WithKind("Secret"): {decode: decodeSecret,
		reserve: reserveIn(func(i *Inventory) *[]metav1.PartialObjectMetadata { return &i.Secrets })},
	corev1.SchemeGroupVersion.WithKind("ConfigMap"): typed("ConfigMap", func(i *Inventory) *[]corev1.ConfigMap { return &i.ConfigMaps }, func(o *corev1.ConfigMap) metav1.Object { return o }),
	corev1.SchemeGroupVersion.WithKind("Node"):      typed("Node", func(i *Inventory) *[]corev1.Node { return &i.Nodes }, func(o *corev1.Node) metav1.Object { return o }),
	corev1.SchemeGroupVersion.WithKind("PodTemplate"): typed("PodTemplate", func(i *Inventory) *[]corev1.PodTemplate { return &i.PodTemplates },
		func(o *corev1.PodTemplate) metav1.Object { return o }),
	corev1.SchemeGroupVersion.WithKind("ReplicationController"): typed("ReplicationController", func(i *Inventory) *[]corev1.ReplicationController { return &i.ReplicationControllers },
		func(o *corev1.ReplicationController) metav1.Object { return o }),
	appsv1.SchemeGroupVersion.WithKind("Deployment"): typed("Deployment", func(i *Inventory) *[]appsv1.Deployment { return &i.Deployments },
		func(o *appsv1.Deployment) metav1.Object { return o }),
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"): typed("StatefulSet", func(i *Inventory) *[]appsv1.StatefulSet { return &i.StatefulSets },
		func(o *appsv1.StatefulSet) metav1.Object { return o }),
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"): typed("DaemonSet", func(i *Inventory) *[]appsv1.DaemonSet { return &i.DaemonSets },
		func(o *appsv1.DaemonSet) metav1.Object { return o }),
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"): typed("ReplicaSet", func(i *Inventory) *[]appsv1.ReplicaSet { return &i.ReplicaSets },
		func(o *appsv1.ReplicaSet) metav1.Object { return o }),
	batchv1.SchemeGroupVersion.WithKind("Job"):     typed("Job", func(i *Inventory) *[]batchv1.Job { return &i.Jobs }, func(o *batchv1.Job) metav1.Object { return o }),
	batchv1.SchemeGroupVersion.WithKind("CronJob"): typed("CronJob", func(i *Inventory) *[]batchv1.CronJob { return &i.CronJobs }, func(o *batchv1.CronJob) metav1.Object { return o }),
	rbacv1.SchemeGroupVersion.WithKind("Role"):     typed("Role", func(i *Inventory) *[]rbacv1.Role { return &i.Roles }, func(o *rbacv1.Role) metav1.Object { return o }),
	rbacv1.SchemeGroupVersion.WithKind("ClusterRole"): typed("ClusterRole", func(i *Inventory) *[]rbacv1.ClusterRole { return &i.ClusterRoles },
		func(o *rbacv1.ClusterRole) metav1.Object { return o }),
	rbacv1.SchemeGroupVersion.WithKind("RoleBinding"): typed("RoleBinding", func(i *Inventory) *[]rbacv1.RoleBinding { return &i.RoleBindings },
		func(o *rbacv1.RoleBinding) metav1.Object { return o }),
	rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"): typed("ClusterRoleBinding", func(i *Inventory) *[]rbacv1.ClusterRoleBinding { return &i.ClusterRoleBindings },
		func(o *rbacv1.ClusterRoleBinding) metav1.Object { return o }),
	networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"): typed("NetworkPolicy", func(i *Inventory) *[]networkingv1.NetworkPolicy { return &i.NetworkPolicies },
		func(o *networkingv1.NetworkPolicy) metav1.Object { return o }),
	admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingWebhookConfiguration"): typed("ValidatingWebhookConfiguration",
		func(i *Inventory) *[]admissionregistrationv1.ValidatingWebhookConfiguration {
			return &i.ValidatingWebhooks
		},
		func(o *admissionregistrationv1.ValidatingWebhookConfiguration) metav1.Object { return o }),
	admissionregistrationv1.SchemeGroupVersion.WithKind("MutatingWebhookConfiguration"): typed("MutatingWebhookConfiguration",
		func(i *Inventory) *[]admissionregistrationv1.MutatingWebhookConfiguration { return &i.MutatingWebhooks },
		func(o *admissionregistrationv1.MutatingWebhookConfiguration) metav1.Object { return o }),
}

// decodeSecret keeps the metadata only, as the live loader does: Secret data never enters the inventory.
func decodeSecret(js []byte, sh *Sharer) (decoded, error) {
	var pm metav1.PartialObjectMetadata
	if err := json.Unmarshal(js, &pm); err != nil {
		return decoded{}, err
	}
	TrimMeta(&pm.ObjectMeta)
	pm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
	sh.Object(&pm)
	key := Key{Kind: "Secret", Namespace: pm.Namespace, Name: pm.Name}
	return decoded{store: func(inv *Inventory) Key {
		put(inv, &inv.Secrets, key, pm)
		return key
	}}, nil
}

// decodeObject decodes one object of a kind the checks read; other kinds are counted.
func decodeObject(gvk schema.GroupVersionKind, js []byte, sh *Sharer) (decoded, error) {
	if k, ok := customKind(gvk.Group, gvk.Kind); ok {
		// Custom resources of any version are kept as read, like the live loader does.
		var u unstructured.Unstructured
		if err := u.UnmarshalJSON(js); err != nil {
			return decoded{}, err
		}
		TrimCustom(k, &u)
		key := Key{Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
		return decoded{store: func(inv *Inventory) Key {
			put(inv, inv.customList(k), key, u)
			return key
		}}, nil
	}
	if r, ok := policyResource(gvk); ok {
		return decodePolicy(r, js)
	}
	if r, ok := cniPolicyResource(gvk); ok {
		return decodeCNIPolicy(r, js)
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
			return decoded{}, err
		}
		gr := schema.GroupResource{Group: crd.Spec.Group, Resource: crd.Spec.Names.Plural}
		namespaced, name := crd.Spec.Scope != "Cluster", crd.Metadata.Name
		return decoded{store: func(inv *Inventory) Key {
			inv.Scopes[gr] = namespaced
			return Key{Kind: gvk.Kind, Name: name}
		}}, nil
	}
	if dec, ok := decoders[gvk]; ok {
		return dec.decode(js, sh)
	}
	// A custom workload is judged like a Deployment; anything else is counted.
	return decodeUnmodelled(gvk, js)
}

// peekHeader reads apiVersion and kind from a JSON object without decoding
// it: a scan that allocates nothing, where json.Unmarshal into a header
// would walk the whole object once more. sorted says the keys are in
// order (sigs.k8s.io/yaml writes them so): the scan then stops at kind,
// since "items" sorts before it. ok is false for anything unusual (escaped
// strings, no object), and the caller decodes the header the slow way.
func peekHeader(js []byte, sorted bool) (apiVersion, kind string, items, ok bool) {
	i := skipSpace(js, 0)
	if i >= len(js) || js[i] != '{' {
		return "", "", false, false
	}
	i++
	var haveAPI, haveKind bool
	for {
		i = skipSpace(js, i)
		if i >= len(js) {
			return "", "", false, false
		}
		if js[i] == '}' {
			return apiVersion, kind, items, haveKind
		}
		if js[i] == ',' {
			i = skipSpace(js, i+1)
		}
		key, next, ok := plainString(js, i)
		if !ok {
			return "", "", false, false
		}
		i = skipSpace(js, next)
		if i >= len(js) || js[i] != ':' {
			return "", "", false, false
		}
		i = skipSpace(js, i+1)
		if i >= len(js) {
			return "", "", false, false
		}
		switch key {
		case "apiVersion", "kind":
			v, next, ok := plainString(js, i)
			if !ok {
				return "", "", false, false
			}
			if key == "kind" {
				kind, haveKind = v, true
			} else {
				apiVersion, haveAPI = v, true
			}
			i = next
			if sorted && haveKind && haveAPI {
				return apiVersion, kind, items, true
			}
			continue
		case "items":
			items = js[i] != 'n' // null is no items
		}
		if i, ok = skipValue(js, i); !ok {
			return "", "", false, false
		}
	}
}

func skipSpace(js []byte, i int) int {
	for i < len(js) && (js[i] == ' ' || js[i] == '\t' || js[i] == '\n' || js[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a string without escapes starting at js[i].
func plainString(js []byte, i int) (string, int, bool) {
	if i >= len(js) || js[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(js); j++ {
		switch js[j] {
		case '\\':
			return "", i, false
		case '"':
			return string(js[i+1 : j]), j + 1, true
		}
	}
	return "", i, false
}

// skipValue steps over one JSON value starting at js[i].
func skipValue(js []byte, i int) (int, bool) {
	depth := 0
	for i < len(js) {
		switch c := js[i]; c {
		case '"':
			i++
			for i < len(js) && js[i] != '"' {
				if js[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(js) {
				return i, false
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return i, true // the end of the enclosing object
			}
		case ',':
			if depth == 0 {
				return i, true
			}
		}
		i++
		if depth == 0 && i < len(js) && (js[i-1] == '"' || js[i-1] == '}' || js[i-1] == ']') {
			return i, true
		}
	}
	return i, depth == 0
}
