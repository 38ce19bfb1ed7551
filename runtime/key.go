package runtime

import (
	"bytes"
	"encoding"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// The Key functions append one argument to a cache key. Called by generated
// code.
//
// Every argument is written as a type letter and a self-delimiting payload
// (integers end in ';', strings and byte slices carry their length), so the
// encoding is injective: ("a:b", "c") and ("a", "b:c") give different keys,
// as do 1 and "1". Scalars are formatted with strconv and never allocate.

// KeyInt appends a signed integer.
func KeyInt(k []byte, v int64) []byte {
	return append(strconv.AppendInt(append(k, 'i'), v, 10), ';')
}

// KeyUint appends an unsigned integer.
func KeyUint(k []byte, v uint64) []byte {
	return append(strconv.AppendUint(append(k, 'u'), v, 10), ';')
}

// KeyFloat appends a float by its exact bits, so 0.1+0.2 and 0.3 differ and
// -0 differs from 0.
func KeyFloat(k []byte, v float64) []byte {
	return append(strconv.AppendUint(append(k, 'f'), math.Float64bits(v), 16), ';')
}

// KeyBool appends a boolean.
func KeyBool(k []byte, v bool) []byte {
	if v {
		return append(k, 'T')
	}
	return append(k, 'F')
}

// KeyString appends a string, length first.
func KeyString(k []byte, s string) []byte {
	k = append(strconv.AppendInt(append(k, 's'), int64(len(s)), 10), ':')
	return append(k, s...)
}

// KeyBytes appends a byte slice, length first.
func KeyBytes(k []byte, b []byte) []byte {
	k = append(strconv.AppendInt(append(k, 'b'), int64(len(b)), 10), ':')
	return append(k, b...)
}

// KeyTime appends the instant t names: times that are Equal give the same
// key whatever their location or monotonic reading.
func KeyTime(k []byte, t time.Time) []byte {
	k = strconv.AppendInt(append(k, 't'), t.Unix(), 10)
	return append(strconv.AppendInt(append(k, '.'), int64(t.Nanosecond()), 10), ';')
}

// KeyNil appends a nil pointer, map or slice marker; see [KeyLen] and
// [KeyPtr].
func KeyNil(k []byte) []byte { return append(k, 'n') }

// KeyPtr appends the marker of a non-nil pointer; its target follows.
func KeyPtr(k []byte) []byte { return append(k, 'p') }

// KeyLen appends the length of a slice, array or map; its elements follow.
// A nil and an empty slice give the same key.
func KeyLen(k []byte, n int) []byte {
	return append(strconv.AppendInt(append(k, 'l'), int64(n), 10), ';')
}

// KeyBinary appends the MarshalBinary encoding of v: for types from other
// packages whose fields the generator cannot read (netip.Addr).
func KeyBinary(k []byte, v encoding.BinaryMarshaler) []byte {
	b, err := v.MarshalBinary()
	if err != nil {
		return KeyString(append(k, 'e'), err.Error())
	}
	return KeyBytes(append(k, 'm'), b)
}

// KeyText appends the MarshalText encoding of v, for opaque types without
// MarshalBinary.
func KeyText(k []byte, v encoding.TextMarshaler) []byte {
	b, err := v.MarshalText()
	if err != nil {
		return KeyString(append(k, 'e'), err.Error())
	}
	return KeyBytes(append(k, 'x'), b)
}

// TypeName returns the name of T as package reflect prints it. Generic
// decorators call it once, when they are built, to tell their instances
// apart (Repo[int] and Repo[string] never share keys). Called by generated
// code.
func TypeName[T any]() string { return reflect.TypeFor[T]().String() }

// KeyAny appends any value by reflection: its dynamic type, then its
// contents, with structs field by field (unexported fields included), map
// entries sorted by key, and pointers followed. It is the fallback for
// argument types the generator does not expand (interfaces); it allocates.
// Channels and functions, which have no value to key by, are keyed by
// identity.
func KeyAny(k []byte, v any) []byte {
	if v == nil {
		return KeyNil(append(k, 'a'))
	}
	rv := reflect.ValueOf(v)
	k = KeyString(append(k, 'a'), rv.Type().String())
	return keyValue(k, rv, 0)
}

// maxKeyDepth stops a cyclic value from recursing forever.
const maxKeyDepth = 64

var timeType = reflect.TypeFor[time.Time]()

func keyValue(k []byte, v reflect.Value, depth int) []byte {
	if depth > maxKeyDepth {
		return append(k, 'c') // a cycle: deep enough to tell values apart in practice
	}
	if v.Type() == timeType {
		return KeyTime(k, v.Interface().(time.Time))
	}
	switch v.Kind() {
	case reflect.Bool:
		return KeyBool(k, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return KeyInt(k, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return KeyUint(k, v.Uint())
	case reflect.Float32, reflect.Float64:
		return KeyFloat(k, v.Float())
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		return KeyFloat(KeyFloat(k, real(c)), imag(c))
	case reflect.String:
		return KeyString(k, v.String())
	case reflect.Pointer:
		if v.IsNil() {
			return KeyNil(k)
		}
		return keyValue(KeyPtr(k), v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return KeyNil(k)
		}
		e := v.Elem()
		return keyValue(KeyString(k, e.Type().String()), e, depth+1)
	case reflect.Slice, reflect.Array:
		k = KeyLen(k, v.Len())
		for i := range v.Len() {
			k = keyValue(k, v.Index(i), depth+1)
		}
		return k
	case reflect.Map:
		entries := make([][]byte, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			e := keyValue(nil, it.Key(), depth+1)
			entries = append(entries, keyValue(e, it.Value(), depth+1))
		}
		// Each entry starts with its key's self-delimiting encoding, so
		// sorting whole entries sorts by key.
		slices.SortFunc(entries, bytes.Compare)
		k = KeyLen(k, len(entries))
		for _, e := range entries {
			k = append(k, e...)
		}
		return k
	case reflect.Struct:
		k = KeyLen(k, v.NumField())
		for i := range v.NumField() {
			k = keyValue(k, v.Field(i), depth+1)
		}
		return k
	default: // chan, func, unsafe.Pointer
		return KeyUint(append(k, '&'), uint64(v.Pointer()))
	}
}
