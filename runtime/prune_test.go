package runtime_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

// TestPruneKeepsTheTrieBounded: invalidations of distinct tags grow the
// trie; pruning keeps it under its bound, and what pruning forgets can only
// turn into misses, never into stale hits.
func TestPruneKeepsTheTrieBounded(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	c := newCache(t, zoo.WithClock(clk.Now), zoo.WithTTL(time.Hour), zoo.WithMaxTagNodes(1000),
		zoo.WithLogger(slog.New(slog.DiscardHandler)))
	m := c.Method(zoo.MethodSpec{Interface: "R", Method: "Get"})
	loads := 0
	get := func(id int) {
		_, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), int64(id)), func(ctx context.Context) (int, error) {
			zoo.AddDeps(ctx, zoo.Tag("user", id))
			loads++
			return id, nil
		})
		require.NoError(t, err)
	}
	get(1)
	require.NoError(t, c.Invalidate(ctx, zoo.Tag("user", 1)))
	clk.Advance(time.Millisecond)
	get(1) // reloaded after its invalidation
	require.Equal(t, 2, loads)

	// Within the TTL horizon, nothing is pruned.
	zoo.Prune(c)
	assert.Equal(t, 2, zoo.TagNodes(c))

	// A flood of distinct invalidations: the bound holds as they come
	// (past it, an invalidation expires everything loaded before it rather
	// than add nodes), not only once pruned.
	for i := range 5000 {
		clk.Advance(time.Millisecond)
		require.NoError(t, c.Invalidate(ctx, zoo.Tag("session", i)))
		require.LessOrEqual(t, zoo.TagNodes(c), 1000+1, "invalidation %d grew the trie past its bound", i)
	}
	clk.Advance(time.Millisecond)
	zoo.Prune(c)
	assert.LessOrEqual(t, zoo.TagNodes(c), 1000, "the bound holds")

	// user:1's node may be gone; its entry was loaded before the new
	// horizon, so it is a miss, never a hit on a forgotten invalidation.
	get(1)
	assert.Equal(t, 3, loads)
	get(1)
	assert.Equal(t, 3, loads, "entries loaded after the horizon hit")

	// After the longest TTL, every node an entry could need is gone.
	clk.Advance(2 * time.Hour)
	zoo.Prune(c)
	assert.Zero(t, zoo.TagNodes(c))
}

// TestPruneMeasuresOnTheStoresClock: with a shared store, the pruning
// horizon is measured on the store's clock, which entries are stamped by:
// an instance whose own clock is an hour ahead keeps its entries.
func TestPruneMeasuresOnTheStoresClock(t *testing.T) {
	ctx := context.Background()
	s, err := lmdbstore.Open(t.TempDir())
	require.NoError(t, err)
	ahead := func() time.Time { return time.Now().Add(time.Hour) }
	c := newCache(t, zoo.WithStore(s), zoo.WithClock(ahead), zoo.WithLogger(slog.New(slog.DiscardHandler)))
	m := c.Method(zoo.MethodSpec{Interface: "R", Method: "Get"})
	loads := 0
	get := func() {
		_, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), 1), func(ctx context.Context) (int, error) {
			zoo.AddDeps(ctx, zoo.Tag("user", 1))
			loads++
			return 1, nil
		})
		require.NoError(t, err)
	}
	get()
	get()
	require.Equal(t, 1, loads)
	zoo.Prune(c)
	get()
	assert.Equal(t, 1, loads, "a prune on this instance's clock, an hour ahead of the store's, expired every entry")
	require.NoError(t, c.Invalidate(ctx, zoo.Tag("user", 1)))
	get()
	assert.Equal(t, 2, loads, "served after its invalidation")
}
