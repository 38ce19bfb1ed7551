package redisstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	zoo "github.com/zoogen/zoogen/runtime"
)

// TestCloseLeavesNoGoroutine: two caches on one Redis client, after misses,
// hits, invalidations in both directions, loads under a shared lock and a
// caller that gives up, leave nothing running once both are closed and then
// their client: not the subscriptions, the statistics reports, the memory
// tiers' clean-up or the client's connections.
//
// Goroutines running when the test starts (other tests') are ignored. The
// namespace's keys are deleted through a client of its own, created before
// that snapshot and closed when the test ends.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	admin := sharedClient(t)
	ns, d := namespace(t, admin), newDB()
	d.delay = 20 * time.Millisecond
	ignore := goleak.IgnoreCurrent()

	client := redis.NewClient(&redis.Options{Addr: admin.Options().Addr})
	t.Cleanup(func() { _ = client.Close() }) // if the test fails before it closes client
	a := newInstance(t, client, ns, d)
	b := newInstance(t, client, ns, d, zoo.WithConsistency(zoo.Strict))
	a.waitUp(t)
	b.waitUp(t)
	ctx := context.Background()

	for id := range int64(5) {
		mustGet(t, a, id)
		mustGet(t, b, id)
		mustGet(t, a, id)
	}
	require.Less(t, d.loads.Load(), int64(15), "nothing was served from the cache")

	v := a.update(ctx, 1)
	eventually(t, time.Second, func() bool { return mustGet(t, b, 1) == v }, "B never saw A's invalidation")
	v = b.update(ctx, 2)
	eventually(t, time.Second, func() bool { return mustGet(t, a, 2) == v }, "A never saw B's invalidation")

	// Concurrent misses on one key in both instances: one takes the key's
	// lock in Redis, the other waits for its entry.
	var wg sync.WaitGroup
	for _, in := range []*instance{a, b} {
		for range 10 {
			wg.Go(func() {
				_, err := in.get(ctx, 42)
				assert.NoError(t, err)
			})
		}
	}
	wg.Wait()

	// A caller that gives up before its load ends.
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	_, err := a.get(short, 77)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	require.NoError(t, a.cache.Close())
	require.NoError(t, b.cache.Close())
	require.NoError(t, client.Close())
	goleak.VerifyNone(t, ignore)
}
