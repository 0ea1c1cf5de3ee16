package checks

import (
	"hash/maphash"
	"math"
	"reflect"
)

// evidenceHash hashes a value so that values reflect.DeepEqual calls equal
// hash equally: it walks the value as DeepEqual does (a pointer or interface
// by what it holds, a map by its entries in any order, a struct field by
// field) instead of encoding it, so finding equal evidence allocates almost
// nothing. Unequal values may collide; the caller compares the candidates.
func evidenceHash(v any) uint64 {
	var h maphash.Hash
	h.SetSeed(evidenceSeed)
	hashValue(&h, reflect.ValueOf(v), 0)
	return h.Sum64()
}

// maxHashDepth bounds the walk: deeper parts are left out of the hash, which
// only makes collisions likelier (and a cycle, which evidence never has, harmless).
const maxHashDepth = 32

func hashValue(h *maphash.Hash, v reflect.Value, depth int) {
	if depth > maxHashDepth {
		return
	}
	if !v.IsValid() {
		h.WriteByte(0)
		return
	}
	h.WriteByte(byte(v.Kind()))
	switch v.Kind() {
	case reflect.String:
		h.WriteString(v.String())
	case reflect.Bool:
		if v.Bool() {
			h.WriteByte(1)
		} else {
			h.WriteByte(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		writeUint64(h, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		writeUint64(h, v.Uint())
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f == 0 {
			f = 0 // -0 and +0 are equal
		}
		writeUint64(h, math.Float64bits(f))
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		writeUint64(h, math.Float64bits(real(c)+0))
		writeUint64(h, math.Float64bits(imag(c)+0))
	case reflect.Slice, reflect.Array:
		writeUint64(h, uint64(v.Len()))
		for i := range v.Len() {
			hashValue(h, v.Index(i), depth+1)
		}
	case reflect.Map:
		// Entries in any order: the sum of each entry's own hash.
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
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			h.WriteByte(0)
			return
		}
		if v.Kind() == reflect.Interface {
			// Its dynamic type: DeepEqual calls an empty []any and an empty
			// []string different. The type's address is its identity in
			// this process, which is all the hash lives for.
			writeUint64(h, uint64(uintptr(reflect.ValueOf(v.Elem().Type()).UnsafePointer())))
		}
		hashValue(h, v.Elem(), depth+1)
	default:
		// Funcs, channels and unsafe pointers: DeepEqual calls them equal
		// only when both are nil or identical; the kind alone is hashed.
	}
}

func writeUint64(h *maphash.Hash, x uint64) {
	var b [8]byte
	for i := range b {
		b[i] = byte(x >> (8 * i))
	}
	h.Write(b[:])
}
