package runtime

import (
	"encoding"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tag joins segments into a dependency tag, one segment per argument:
// Tag("org", oid, "store", sid) is "org:1:store:2".
//
// Every segment is escaped, so a value can never add a level to the
// hierarchy or address another tag: ':' becomes "%3A" and '%' becomes "%25".
// Tag("user", "a:b") is "user:a%3Ab", which is not below "user:a".
//
// Strings, byte slices, integers, floats, booleans and time.Time (RFC 3339,
// UTC) are formatted directly; other values through encoding.TextMarshaler,
// fmt.Stringer or fmt.Sprint, in that order of preference.
func Tag(segments ...any) string {
	var buf [64]byte
	b := buf[:0]
	for i, s := range segments {
		if i > 0 {
			b = append(b, ':')
		}
		b = appendSegment(b, s)
	}
	return string(b)
}

// appendSegment appends v to b as one escaped tag segment, formatted as
// [Tag] formats it.
func appendSegment(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendEscaped(b, v)
	case []byte:
		return appendEscaped(b, string(v))
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int8:
		return strconv.AppendInt(b, int64(v), 10)
	case int16:
		return strconv.AppendInt(b, int64(v), 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case uintptr:
		return strconv.AppendUint(b, uint64(v), 10)
	case bool:
		return strconv.AppendBool(b, v)
	case float32:
		return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case time.Time:
		return appendEscaped(b, v.UTC().Format(time.RFC3339Nano))
	case encoding.TextMarshaler:
		text, err := v.MarshalText()
		if err != nil {
			return appendEscaped(b, fmt.Sprint(v))
		}
		return appendEscaped(b, string(text))
	case fmt.Stringer:
		return appendEscaped(b, v.String())
	default:
		return appendEscaped(b, fmt.Sprint(v))
	}
}

const escapable = ":%"

func appendEscaped(b []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, escapable)
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i]...)
		switch s[i] {
		case ':':
			b = append(b, "%3A"...)
		case '%':
			b = append(b, "%25"...)
		}
		s = s[i+1:]
	}
}
