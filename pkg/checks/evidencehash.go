package checks

import (
	"hash/maphash"
	"math"
	"reflect"
)

// evidenceHash hashes a value so that values reflect.DeepEqual calls equal
// hash equally: it walks the value as DeepEqual does (an interface by its
// dynamic type and what it holds, a map by its entries in any order, a
// pointer by what it points to, a struct field by field) instead of encoding
// it. The types evidence is made of (maps of any, lists, strings, numbers)
// are walked without reflection, so finding equal evidence allocates nothing
// for them. Unequal values may collide; the caller compares the candidates.
func evidenceHash(v any) uint64 {
	var h maphash.Hash
	h.SetSeed(evidenceSeed)
	hashAny(&h, v, 0)
	return h.Sum64()
}

// maxHashDepth bounds the walk: deeper parts are left out of the hash, which
// only makes collisions likelier (and a cycle, which evidence never has, harmless).
const maxHashDepth = 32

// The tags of the dynamic types hashAny walks itself; any other type is
// told by its reflect type's address, which identifies it in this process
// (all the hash lives for).
const (
	tagNil byte = iota + 1
	tagString
	tagBool
	tagInt
	tagInt64
	tagInt32
	tagFloat64
	tagAnyList
	tagStringList
	tagAnyMap
	tagStringMap
	tagMapList
	tagOther
)

// hashAny hashes an interface's value: its dynamic type, then its content.
func hashAny(h *maphash.Hash, x any, depth int) {
	if depth > maxHashDepth {
		return
	}
	switch t := x.(type) {
	case nil:
		h.WriteByte(tagNil)
	case string:
		h.WriteByte(tagString)
		writeString(h, t)
	case bool:
		h.WriteByte(tagBool)
		writeBool(h, t)
	case int:
		h.WriteByte(tagInt)
		writeUint64(h, uint64(t))
	case int64:
		h.WriteByte(tagInt64)
		writeUint64(h, uint64(t))
	case int32:
		h.WriteByte(tagInt32)
		writeUint64(h, uint64(t))
	case float64:
		h.WriteByte(tagFloat64)
		writeFloat(h, t)
	case []any:
		h.WriteByte(tagAnyList)
		writeUint64(h, uint64(len(t)))
		for _, e := range t {
			hashAny(h, e, depth+1)
		}
	case []string:
		h.WriteByte(tagStringList)
		writeUint64(h, uint64(len(t)))
		for _, s := range t {
			writeString(h, s)
		}
	case map[string]any:
		h.WriteByte(tagAnyMap)
		writeUint64(h, uint64(len(t)))
		// Entries in any order: the sum of each entry's own hash.
		var sum uint64
		var e maphash.Hash
		e.SetSeed(evidenceSeed)
		for k, v := range t {
			e.Reset()
			writeString(&e, k)
			hashAny(&e, v, depth+1)
			sum += e.Sum64()
		}
		writeUint64(h, sum)
	case map[string]string:
		h.WriteByte(tagStringMap)
		writeUint64(h, uint64(len(t)))
		var sum uint64
		for k, v := range t {
			sum += maphash.String(evidenceSeed, k) ^ (maphash.String(evidenceSeed, v) * 0x9E3779B97F4A7C15)
		}
		writeUint64(h, sum)
	case []map[string]any:
		h.WriteByte(tagMapList)
		writeUint64(h, uint64(len(t)))
		for _, m := range t {
			hashAny(h, m, depth+1)
		}
	default:
		h.WriteByte(tagOther)
		v := reflect.ValueOf(x)
		writeUint64(h, uint64(uintptr(reflect.ValueOf(v.Type()).UnsafePointer())))
		hashValue(h, v, depth+1)
	}
}

// hashValue hashes what reflection sees of a value of any other type.
func hashValue(h *maphash.Hash, v reflect.Value, depth int) {
	if depth > maxHashDepth {
		return
	}
	switch v.Kind() {
	case reflect.String:
		writeString(h, v.String())
	case reflect.Bool:
		writeBool(h, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		writeUint64(h, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		writeUint64(h, v.Uint())
	case reflect.Float32, reflect.Float64:
		writeFloat(h, v.Float())
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		writeFloat(h, real(c))
		writeFloat(h, imag(c))
	case reflect.Slice, reflect.Array:
		writeUint64(h, uint64(v.Len()))
		for i := range v.Len() {
			hashValue(h, v.Index(i), depth+1)
		}
	case reflect.Map:
		writeUint64(h, uint64(v.Len()))
		var sum uint64
		var e maphash.Hash
		e.SetSeed(evidenceSeed)
		for it := v.MapRange(); it.Next(); {
			e.Reset()
			hashValue(&e, it.Key(), depth+1)
			hashValue(&e, it.Value(), depth+1)
			sum += e.Sum64()
		}
		writeUint64(h, sum)
	case reflect.Struct:
		for i := range v.NumField() {
			hashValue(h, v.Field(i), depth+1)
		}
	case reflect.Pointer:
		if v.IsNil() {
			h.WriteByte(0)
			return
		}
		hashValue(h, v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			h.WriteByte(tagNil)
			return
		}
		if v.CanInterface() {
			hashAny(h, v.Interface(), depth+1)
			return
		}
		// An unexported field: the same walk, by reflection only.
		h.WriteByte(tagOther)
		writeUint64(h, uint64(uintptr(reflect.ValueOf(v.Elem().Type()).UnsafePointer())))
		hashValue(h, v.Elem(), depth+1)
	default:
		// Funcs, channels and unsafe pointers: DeepEqual calls them equal
		// only when both are nil or identical; nothing more is hashed.
	}
}

func writeString(h *maphash.Hash, s string) {
	writeUint64(h, uint64(len(s)))
	h.WriteString(s)
}

func writeBool(h *maphash.Hash, b bool) {
	if b {
		h.WriteByte(1)
	} else {
		h.WriteByte(0)
	}
}

// writeFloat hashes -0 as 0, which DeepEqual calls equal.
func writeFloat(h *maphash.Hash, f float64) {
	if f == 0 {
		f = 0
	}
	writeUint64(h, math.Float64bits(f))
}

func writeUint64(h *maphash.Hash, x uint64) {
	var b [8]byte
	for i := range b {
		b[i] = byte(x >> (8 * i))
	}
	h.Write(b[:])
}
