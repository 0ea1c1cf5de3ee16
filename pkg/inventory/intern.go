package inventory

import (
	"hash/maphash"
	"maps"
	"math"
	"reflect"
	"sync"
)

// interner keeps one copy of equal parts across all the objects of one read:
// the labels a Deployment, its ReplicaSets, their templates and selectors and
// the pods all carry; the containers a ReplicaSet copies from its Deployment;
// the tolerations, token volume and security contexts nearly every pod has;
// the strings (namespaces, images, policies) that repeat everywhere. It is
// hash-consing: an object's parts are interned from the leaves up, so that
// when a part is looked up its own parts already are the table's copies, and
// two parts are equal when their scalars are and their parts are the same
// memory. A part is a pointer, a non-empty slice or a map (compared whole),
// reached through exported fields; strings are interned as well.
//
// The inventory is read-only, so sharing is invisible to checks, whatever
// order the objects are read in. Safe for concurrent use; it lives as long
// as one read, and what it kept is then the objects' own.
type interner struct {
	seed   maphash.Seed
	shards [internShards]internShard
}

const internShards = 64

type internShard struct {
	mu      sync.Mutex
	parts   map[uint64][]reflect.Value // by hash (of content and type): the table's copies
	strings map[string]string
}

func newInterner() *interner {
	in := &interner{seed: maphash.MakeSeed()}
	for i := range in.shards {
		in.shards[i].parts = map[uint64][]reflect.Value{}
		in.shards[i].strings = map[string]string{}
	}
	return in
}

// intern replaces the parts of *obj that equal parts in the table with the
// table's copies. With add, the other parts join the table; without, they
// stay the object's own (parts of a pod that only the pod has, such as its
// token volume's name, would only grow the table).
func (in *interner) intern(obj any, add bool) {
	v := reflect.ValueOf(obj).Elem()
	in.value(v, typeOf(v.Type()), add, false)
}

// value interns v's parts and returns the hash of v's content: equal
// content hashes the same, whether its parts were interned or not.
func (in *interner) value(v reflect.Value, t *internType, add, own bool) uint64 {
	switch t.kind {
	case reflect.String:
		s := v.String()
		if s != "" && !own && v.CanSet() {
			if c, ok := in.str(s, add); ok {
				v.SetString(c)
			}
		}
		return maphash.String(in.seed, s)
	case reflect.Pointer:
		if v.IsNil() {
			return 1
		}
		h := mix(in.value(v.Elem(), t.elem, add, false), 2)
		in.part(v, t, h, add)
		return h
	case reflect.Slice:
		if v.IsNil() {
			return 3
		}
		h := uint64(4)
		if t.bytes {
			h = mix(h, maphash.Bytes(in.seed, v.Bytes()))
		} else {
			for i := range v.Len() {
				h = mix(h, in.value(v.Index(i), t.elem, add, false))
			}
		}
		if v.Len() > 0 {
			in.part(v, t, h, add)
		}
		return h
	case reflect.Map:
		if v.IsNil() {
			return 5
		}
		h := in.hash(v)
		in.part(v, t, h, add)
		return h
	case reflect.Struct:
		if t.leaf {
			return in.hash(v)
		}
		h := uint64(6)
		for _, f := range t.fields {
			h = mix(h, in.value(v.Field(f.index), f.t, add, f.own))
		}
		return h
	case reflect.Array:
		h := uint64(7)
		for i := range v.Len() {
			h = mix(h, in.value(v.Index(i), t.elem, add, false))
		}
		return h
	}
	return in.hash(v) // scalars, interfaces
}

// part sets v (a pointer, slice or map) to the table's equal copy, or adds it.
func (in *interner) part(v reflect.Value, t *internType, h uint64, add bool) {
	if !v.CanSet() {
		return
	}
	h = mix(h, t.id)
	s := &in.shards[h%internShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.parts[h] {
		if c.Type() == v.Type() && samePart(v, c, t) {
			v.Set(c)
			return
		}
	}
	if !add {
		return
	}
	if t.kind == reflect.Slice && v.Cap() > v.Len() {
		// A shared slice has no room to grow: an append to it (there is
		// none today) makes a new array instead of writing into one that
		// other objects read. The decoder's spare room goes with it.
		exact := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(exact, v)
		v.Set(exact)
	}
	// A copy of the part, not v: v is a field of its object, which may be dropped.
	s.parts[h] = append(s.parts[h], reflect.ValueOf(v.Interface()))
}

// str returns the table's copy of s; with add, s becomes it when there is none.
func (in *interner) str(s string, add bool) (string, bool) {
	sh := &in.shards[maphash.String(in.seed, s)%internShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c, ok := sh.strings[s]; ok {
		return c, true
	}
	if add {
		sh.strings[s] = s
	}
	return "", false
}

// samePart reports whether two parts whose own parts are interned are equal.
func samePart(a, b reflect.Value, t *internType) bool {
	switch t.kind {
	case reflect.Pointer:
		return sameValue(a.Elem(), b.Elem(), t.elem)
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		if t.bytes {
			return string(a.Bytes()) == string(b.Bytes())
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i), t.elem) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a, ok := stringMap(a); ok {
			b, _ := stringMap(b)
			return maps.Equal(a, b)
		}
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
	return false
}

// sameValue compares two values field by field, their parts by identity:
// interned, equal parts are the same memory.
func sameValue(a, b reflect.Value, t *internType) bool {
	switch t.kind {
	case reflect.Pointer, reflect.Map:
		return a.Pointer() == b.Pointer()
	case reflect.Slice:
		return a.IsNil() == b.IsNil() && a.Len() == b.Len() && (a.Len() == 0 || a.Pointer() == b.Pointer())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Struct:
		if t.leaf {
			if t.comparable {
				return a.Equal(b)
			}
			return reflect.DeepEqual(a.Interface(), b.Interface())
		}
		for _, f := range t.fields {
			if !sameValue(a.Field(f.index), b.Field(f.index), f.t) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i), t.elem) {
				return false
			}
		}
		return true
	case reflect.Interface:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
	return a.Equal(b) // scalars
}

// hash hashes v's content without interning it: maps, leaf structs,
// interfaces. Pointers below v hash by address, which equal content need not
// share: that costs a part its copy in the table, never a wrong match.
func (in *interner) hash(v reflect.Value) uint64 {
	switch v.Kind() {
	case reflect.String:
		return maphash.String(in.seed, v.String())
	case reflect.Bool:
		if v.Bool() {
			return 8
		}
		return 9
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return mix(uint64(v.Int()), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return mix(v.Uint(), 11)
	case reflect.Float32, reflect.Float64:
		return mix(math.Float64bits(v.Float()), 12)
	case reflect.Pointer, reflect.UnsafePointer, reflect.Chan, reflect.Func:
		return mix(uint64(v.Pointer()), 13)
	case reflect.Map:
		if v.IsNil() {
			return 5
		}
		// The sum of the entries' hashes: the same in any iteration order.
		h := uint64(v.Len())
		if m, ok := stringMap(v); ok {
			for k, e := range m {
				h += mix(maphash.String(in.seed, k), maphash.String(in.seed, e))
			}
			return h
		}
		for it := v.MapRange(); it.Next(); {
			h += mix(in.hash(it.Key()), in.hash(it.Value()))
		}
		return h
	case reflect.Slice:
		if v.IsNil() {
			return 3
		}
		h := uint64(4)
		for i := range v.Len() {
			h = mix(h, in.hash(v.Index(i)))
		}
		return h
	case reflect.Array:
		h := uint64(7)
		for i := range v.Len() {
			h = mix(h, in.hash(v.Index(i)))
		}
		return h
	case reflect.Struct:
		h := uint64(6)
		for i := range v.NumField() {
			h = mix(h, in.hash(v.Field(i)))
		}
		return h
	case reflect.Interface:
		if v.IsNil() {
			return 14
		}
		return in.hash(v.Elem())
	}
	return 0
}

// stringMap is v as the map of labels, annotations and selectors, the most
// common map, hashed without reflection.
func stringMap(v reflect.Value) (map[string]string, bool) {
	if !v.CanInterface() {
		return nil, false
	}
	m, ok := v.Interface().(map[string]string)
	return m, ok
}

// mix combines two hashes (the finalizer of splitmix64 over their sum).
func mix(h, x uint64) uint64 {
	h ^= x + 0x9e3779b97f4a7c15 + h<<6 + h>>2
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// internType is what the interner needs of a type, worked out once per type.
type internType struct {
	id   uint64 // tells apart the parts of two types with equal content
	kind reflect.Kind
	// leaf is a struct with unexported fields (resource.Quantity,
	// time.Time): its fields cannot be set, so it is hashed and compared
	// whole, with == when it is comparable.
	leaf, comparable bool
	bytes            bool        // a []byte, hashed and compared as bytes
	elem             *internType // of a pointer, slice or array
	fields           []internField
}

type internField struct {
	index int
	own   bool // a string each object has its own of: not worth a table entry
	t     *internType
}

// ownStrings are the fields whose strings differ from object to object.
var ownStrings = map[string]bool{
	"k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta.Name":                   true,
	"k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta.UID":                    true,
	"k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta.ResourceVersion":        true,
	"k8s.io/api/core/v1.PodStatus.PodIP":                                     true,
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory.PodStatus.PodIP": true,
	"k8s.io/api/core/v1.PodIP.IP":                                            true,
}

var internTypes = struct {
	sync.Mutex
	all  map[reflect.Type]*internType // complete or being built, under the lock
	tops sync.Map                     // object type -> *internType, complete with all it holds
}{all: map[reflect.Type]*internType{}}

// typeOf returns the plan of an object's type, built once for all reads.
func typeOf(t reflect.Type) *internType {
	if it, ok := internTypes.tops.Load(t); ok {
		return it.(*internType)
	}
	internTypes.Lock()
	defer internTypes.Unlock()
	it := buildType(t)
	internTypes.tops.Store(t, it)
	return it
}

func buildType(t reflect.Type) *internType {
	if it, ok := internTypes.all[t]; ok {
		return it
	}
	it := &internType{id: uint64(len(internTypes.all)) + 1, kind: t.Kind(), comparable: t.Comparable()}
	internTypes.all[t] = it // before its fields: a type may hold itself
	switch t.Kind() {
	case reflect.Pointer, reflect.Array:
		it.elem = buildType(t.Elem())
	case reflect.Slice:
		if it.bytes = t.Elem().Kind() == reflect.Uint8; !it.bytes {
			it.elem = buildType(t.Elem())
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				it.leaf = true
				return it
			}
		}
		for i := range t.NumField() {
			f := t.Field(i)
			it.fields = append(it.fields, internField{index: i, own: ownStrings[t.PkgPath()+"."+t.Name()+"."+f.Name], t: buildType(f.Type)})
		}
	}
	return it
}
