package runtime_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

func TestMaxValueSize(t *testing.T) {
	ctx := context.Background()
	for name, store := range map[string]zoo.Option{"memory": zoo.WithTTL(zoo.DefaultTTL), "bytes": zoo.WithStore(newByteStore())} {
		t.Run(name, func(t *testing.T) {
			c := newCache(t, store, zoo.WithStats(true), zoo.WithMaxValueSize(1024), zoo.WithLogger(slog.New(slog.DiscardHandler)))
			m := c.Method(zoo.MethodSpec{Interface: "R", Method: "Get"})
			loads := 0
			get := func(n int) string {
				v, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), int64(n)), func(context.Context) (string, error) {
					loads++
					return strings.Repeat("x", n), nil
				})
				require.NoError(t, err)
				return v
			}
			get(100)
			get(100)
			assert.Equal(t, 1, loads, "a small value is cached")
			assert.Len(t, get(5000), 5000, "a large value is served")
			get(5000)
			assert.Equal(t, 3, loads, "and not cached")
			assert.Equal(t, uint64(2), c.Stats().Methods[0].Oversized)
		})
	}
	_, err := zoo.New(zoo.WithMaxValueSize(-1))
	assert.ErrorIs(t, err, zoo.ErrBadOption)
}
