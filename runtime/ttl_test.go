package runtime_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

// TestTTLBeyondMaxTTL: a TTL meant as "forever" (math.MaxInt64) would put
// expiry past what stores can encode, and every write would fail: New
// refuses it, and a method asking for it gets MaxTTL, so its entries are
// cached (in a byte store too, which encodes the expiry).
func TestTTLBeyondMaxTTL(t *testing.T) {
	_, err := zoo.New(zoo.WithTTL(math.MaxInt64))
	require.ErrorIs(t, err, zoo.ErrBadOption)
	_, err = zoo.New(zoo.WithTTL(zoo.MaxTTL + time.Nanosecond))
	require.ErrorIs(t, err, zoo.ErrBadOption)

	c := newCache(t, zoo.WithStore(newByteStore()), zoo.WithTTL(zoo.MaxTTL))
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Config", Method: "Get", TTL: math.MaxInt64})
	loads := 0
	for range 3 {
		v, err := zoo.Load(context.Background(), m, m.Key(nil), func(context.Context) (string, error) {
			loads++
			return "forever", nil
		})
		require.NoError(t, err)
		require.Equal(t, "forever", v)
	}
	require.Equal(t, 1, loads, "entries of a method with an endless TTL were not cached")
}
