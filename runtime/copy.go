package runtime

import (
	"log/slog"

	"github.com/zoogen/zoogen/runtime/store/codec"
)

// What a method that copies (MethodSpec.Copy) keeps and hands out: the
// memory tier keeps the MessagePack encoding of a value, never the value,
// and every caller but the one that loaded it decodes a value of its own.

// encodeCopy returns the encoding of v, a value of m, that the cache keeps
// and decodes copies from, after checking that it decodes into a T. It
// reports false, counted and logged, when v does not survive the round
// trip: such a value is neither cached nor shared.
func encodeCopy[T any](c *Cache, m *Method, v T) (codec.Raw, bool) {
	raw, _, ok := roundTrip(c, m, v)
	return raw, ok
}

// clone returns a copy of v made by a MessagePack round trip.
func clone[T any](c *Cache, m *Method, v T) (T, bool) {
	_, out, ok := roundTrip(c, m, v)
	return out, ok
}

func roundTrip[T any](c *Cache, m *Method, v T) (codec.Raw, T, bool) {
	var out T
	raw, err := codec.EncodeValue(v)
	if err == nil {
		err = raw.Decode(&out)
	}
	if err != nil {
		m.count(uncopyable)
		c.logs.Warn("zoo: a value of a method that copies does not survive a MessagePack round trip; it is served to its loader only, not cached",
			slog.String("method", m.label), slog.String("error", err.Error()))
		var zero T
		return nil, zero, false
	}
	return raw, out, true
}

// copyOf decodes a value of its own for a caller from raw, the encoding a
// flight of a method that copies made of its result.
func copyOf[T any](raw codec.Raw) (T, bool) {
	var out T
	if raw == nil || raw.Decode(&out) != nil {
		return out, false
	}
	return out, true
}

func uncopyable(s *methodStats) *counter { return &s.uncopyable }
