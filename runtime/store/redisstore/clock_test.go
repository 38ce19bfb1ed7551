package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestClockSkew: instances whose clocks are 70 s or 10 min behind Redis's,
// or 10 min ahead, and a Redis whose clock key jumps 10 min ahead of its
// TIME mid-run (what a forward jump of TIME leaves), serve no stale read
// after an acknowledged invalidation: Strict at once, Local once the
// invalidation's message has reached the instance. Every instance
// invalidates in turn, so the invalidating one is checked too; and the
// instances still serve hits (a skew may cost misses, never a stale read).
func TestClockSkew(t *testing.T) {
	srv := startServer(t) // its own: the test moves its clock key
	client := srv.Client()
	ctx := context.Background()
	skews := []time.Duration{-10 * time.Minute, -70 * time.Second, 0, 10 * time.Minute}
	tag := zoo.Tag("item", 1)
	for _, mode := range []zoo.Consistency{zoo.Local, zoo.Strict} {
		t.Run(mode.String(), func(t *testing.T) {
			ns, d := namespace(t, client), newDB()
			var ins []*instance
			for _, skew := range skews {
				clock := func() time.Time { return time.Now().Add(skew) }
				// A TTL longer than the skew: expiry is measured on each
				// instance's own clock, and that is not what is tested.
				ins = append(ins, newInstance(t, client, ns, d, zoo.WithConsistency(mode),
					zoo.WithClock(clock), zoo.WithTTL(time.Hour)))
			}
			for _, in := range ins {
				in.waitUp(t)
			}
			const rounds = 24
			reads, stale := 0, 0
			for round := range rounds {
				if round == rounds/3 {
					// The store's clock jumps ahead: the versions it
					// issues from now on are 10 minutes ahead of TIME.
					require.NoError(t, client.HSet(ctx, redisstore.ClockKey(ns), "c", version(time.Now().Add(10*time.Minute))).Err())
				}
				for _, in := range ins { // each caches the row
					mustGet(t, in, 1)
					mustGet(t, in, 1)
				}
				heard := make([]int, len(ins))
				for i, in := range ins {
					heard[i] = in.store.heardOf(tag)
				}
				w := ins[round%len(ins)]
				want := d.write(1)
				require.NoError(t, w.cache.Invalidate(ctx, tag), "the invalidation was not acknowledged")
				for i, in := range ins {
					if mode == zoo.Local { // the propagation window: until its message arrives
						eventually(t, 5*time.Second, func() bool { return in.store.heardOf(tag) > heard[i] },
							"the invalidation never reached an instance")
					}
					reads++
					if got := mustGet(t, in, 1); got < want {
						stale++
						t.Errorf("round %d: instance skewed %v read version %d after the invalidation of %d by the one skewed %v",
							round, skews[i], got, want, skews[round%len(ins)])
					}
				}
			}
			assert.Zero(t, stale, "stale reads of %d", reads)
			total := int64(rounds * len(ins) * 3)
			assert.Less(t, d.loads.Load(), total/2, "the instances hardly served a hit: %d loads for %d reads", d.loads.Load(), total)
			t.Logf("%d loads for %d reads", d.loads.Load(), total)
		})
	}
}

// TestForgedVersionsDoNotWalkTheClock: a forged version within the drift
// bound is heard, but does not move what the instance asks Redis to issue
// after: forging one before each real invalidation cannot walk Redis's
// clock forward a drift at a time.
func TestForgedVersionsDoNotWalkTheClock(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	ns, d := namespace(t, client), newDB()
	b := newInstance(t, client, ns, d)
	b.waitUp(t)
	tag := zoo.Tag("item", 1)
	for range 5 {
		mustGet(t, b, 1)
		heard := b.store.heardOf(tag)
		ahead := time.Now().Add(59 * time.Second) // within the drift bound of whatever b takes Redis's clock for
		if v, err := client.HGet(ctx, redisstore.ClockKey(ns), "c").Result(); err == nil {
			ahead = parseClock(t, v).Add(59 * time.Second)
		}
		publish(t, ns, version(ahead), tag)
		eventually(t, 5*time.Second, func() bool { return b.store.heardOf(tag) > heard }, "the forged message never arrived")
		require.NoError(t, b.cache.Invalidate(ctx, tag))
	}
	v, err := client.HGet(ctx, redisstore.ClockKey(ns), "c").Result()
	require.NoError(t, err)
	assert.Less(t, parseClock(t, v), time.Now().Add(30*time.Second),
		"forged versions walked Redis's clock forward")
}

// parseClock reads the wall time of a version as the scripts write it.
func parseClock(t *testing.T, v string) time.Time {
	t.Helper()
	require.Len(t, v, 18)
	var ms int64
	_, err := fmt.Sscanf(v[:13], "%d", &ms)
	require.NoError(t, err)
	return time.UnixMilli(ms)
}

// TestNowWhileTheClockStarts: callers of Now on a clock that starts (a new
// namespace, or a server that lost state) while others do too, as an
// instance's subscription does at Attach while its first loads begin, get
// versions no earlier than any shard's new horizon: an entry stamped with
// one is stored and read back, never dropped as stale. Before, the first
// caller wrote the clock and then raised the shards' horizons past it,
// and a caller in between got a version behind those horizons.
func TestNowWhileTheClockStarts(t *testing.T) {
	for _, c := range []struct {
		name   string
		client redis.UniversalClient
	}{{"server", sharedClient(t)}, {"cluster", startCluster(t, 3)}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			const rounds, callers = 20, 16
			dropped := 0
			for round := range rounds {
				s := redisstore.New(c.client)
				require.NoError(t, s.Attach(namespace(t, c.client), func(store.Event) {}))
				var wg sync.WaitGroup
				var mu sync.Mutex
				for i := range callers {
					wg.Go(func() {
						key, tag := fmt.Sprintf("k%d", i), fmt.Sprintf("tag:%d:%d", round, i)
						asOf, err := s.Now(ctx)
						if !assert.NoError(t, err) {
							return
						}
						e := &store.Entry{Value: i, AsOf: asOf, Expires: time.Now().Add(time.Hour), Tags: []string{tag}}
						if !assert.NoError(t, s.Set(ctx, key, e)) {
							return
						}
						got, err := s.Get(ctx, key)
						assert.NoError(t, err)
						if got == nil {
							mu.Lock()
							dropped++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				require.NoError(t, s.Close())
			}
			assert.Zero(t, dropped, "entries stamped by Now and dropped as stale, of %d", rounds*callers)
		})
	}
}
