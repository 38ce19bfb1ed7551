package runtime_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// countingStore is a store outside the cache's memory tier that counts its
// reads.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) (*store.Entry, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

// generatedGet is what a generated decorator does: Find, then LoadMiss.
func generatedGet(ctx context.Context, m *zoo.Method, id int64, load func(context.Context) (int64, error)) (int64, error) {
	var buf [64]byte
	k := zoo.KeyInt(m.Key(buf[:0]), id)
	v, ok, miss := zoo.Find[int64](ctx, m, k)
	if ok {
		return v, nil
	}
	return zoo.LoadMiss(ctx, m, k, miss, load)
}

// countedMethod returns a method of c and a loader counting its loads.
func countedMethod(c *zoo.Cache) (*zoo.Method, *atomic.Int64, func(context.Context) (int64, error)) {
	loads := new(atomic.Int64)
	return c.Method(zoo.MethodSpec{Interface: "Repo", Method: "Get"}), loads,
		func(context.Context) (int64, error) { return loads.Add(1), nil }
}

func newCountingCache(t *testing.T) (*zoo.Cache, *countingStore) {
	mem, err := memstore.New()
	require.NoError(t, err)
	s := &countingStore{Store: mem}
	return newCache(t, zoo.WithStore(s)), s
}

// TestOneStoreReadPerColdMiss: a cold miss reads the store once, through
// the generated code's Find and LoadMiss or through Load; a hit once; a
// miss just before a flight ended twice.
func TestOneStoreReadPerColdMiss(t *testing.T) {
	ctx := context.Background()
	c, s := newCountingCache(t)
	m, loads, load := countedMethod(c)

	_, err := generatedGet(ctx, m, 1, load)
	require.NoError(t, err)
	assert.Equal(t, int64(1), s.gets.Load(), "reads for a cold miss (Find, LoadMiss)")

	_, err = zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), 2), load)
	require.NoError(t, err)
	assert.Equal(t, int64(2), s.gets.Load(), "reads for a cold miss (Load)")

	_, err = generatedGet(ctx, m, 1, load)
	require.NoError(t, err)
	assert.Equal(t, int64(3), s.gets.Load(), "reads for a hit")
	assert.Equal(t, int64(2), loads.Load())

	// A caller whose lookup began before another caller's flight stored the
	// value, and that finds the flight gone, reads the store a second time
	// rather than load again.
	v, err := zoo.LoadAfterMiss(ctx, m, zoo.KeyInt(m.Key(nil), 1), load)
	require.NoError(t, err)
	assert.Equal(t, int64(1), v)
	assert.Equal(t, int64(2), loads.Load(), "loaded twice")
	assert.Equal(t, int64(4), s.gets.Load(), "the recheck")
}

// TestStoreReadsOfAJoinedFlight: a caller that joins a flight reads the
// store once, for its own lookup; the flight's result needs no second
// read.
func TestStoreReadsOfAJoinedFlight(t *testing.T) {
	ctx := context.Background()
	c, s := newCountingCache(t)
	m := c.Method(zoo.MethodSpec{Interface: "Repo", Method: "Get"})
	release := make(chan struct{})
	var loads atomic.Int64
	load := func(context.Context) (int64, error) { <-release; return loads.Add(1), nil }

	var wg sync.WaitGroup
	const callers = 5
	for range callers {
		wg.Go(func() {
			v, err := generatedGet(ctx, m, 1, load)
			assert.NoError(t, err)
			assert.Equal(t, int64(1), v)
		})
	}
	waitForWaiters(t, c, zoo.KeyInt(m.Key(nil), 1), callers)
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), loads.Load())
	assert.Equal(t, int64(callers), s.gets.Load(), "one read per caller")
}
