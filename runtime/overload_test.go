package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// TestMemoryStoreHoldsItsBoundUnderOverload: loads of ten times more
// distinct keys than the memory store holds leave it within its bound, the
// rest evicted.
func TestMemoryStoreHoldsItsBoundUnderOverload(t *testing.T) {
	const maxEntries = 1000
	s, err := memstore.New(memstore.WithMaxEntries(maxEntries))
	require.NoError(t, err)
	c := newCache(t, zoo.WithStore(s))
	m := c.Method(zoo.MethodSpec{Interface: "R", Method: "Get"})
	ctx := context.Background()
	var buf [64]byte
	for i := range 10 * maxEntries {
		v, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(buf[:0]), int64(i)), func(context.Context) (int, error) { return i, nil })
		require.NoError(t, err)
		require.Equal(t, i, v)
	}

	// The store evicts in otter's maintenance, which runs on goroutines
	// that writes start and on its clean-up goroutine once a second; the
	// store gives no way to run it from here, so wait until it has caught
	// up. Until then, the entries written last are counted and not yet
	// weighed against the bound.
	caughtUp := func() bool { return s.Len() <= maxEntries && s.Evictions() >= 9*maxEntries }
	for deadline := time.Now().Add(10 * time.Second); !caughtUp(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the store never came back within its bound: %d entries, %d evictions", s.Len(), s.Evictions())
		}
	}
	for range 5 {
		require.LessOrEqual(t, s.Len(), maxEntries, "the store grew past its bound again")
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, 10*maxEntries, s.Len()+int(s.Evictions()), "every entry that is gone was evicted")
	assert.Positive(t, s.Len())
}
