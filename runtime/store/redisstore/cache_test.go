package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// db is a versioned fake database: every write bumps a row's version.
type db struct {
	mu       sync.Mutex
	versions map[int64]int64
	loads    atomic.Int64
	delay    time.Duration
}

func newDB() *db { return &db{versions: map[int64]int64{}} }

func (d *db) read(id int64) int64 {
	d.loads.Add(1)
	if d.delay > 0 {
		time.Sleep(d.delay)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.versions[id]
}

func (d *db) write(id int64) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.versions[id]++
	return d.versions[id]
}

// observed is a Redis store whose events a test can wait on.
type observed struct {
	*redisstore.Store
	mu  sync.Mutex
	up  bool
	ups int
	// heard counts, by tag, the invalidations delivered that name it.
	heard map[string]int
}

func (o *observed) Attach(ns string, fn func(store.Event)) error {
	return o.Store.Attach(ns, func(ev store.Event) {
		fn(ev)
		o.mu.Lock()
		switch ev.Kind {
		case store.EventUp:
			o.up = true
			o.ups++
		case store.EventDown:
			o.up = false
		case store.EventInvalidate:
			if o.heard == nil {
				o.heard = map[string]int{}
			}
			for _, tag := range ev.Tags {
				o.heard[tag]++
			}
		}
		o.mu.Unlock()
	})
}

// heardOf returns how many delivered invalidations named tag.
func (o *observed) heardOf(tag string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.heard[tag]
}

func (o *observed) state() (up bool, ups int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.up, o.ups
}

// instance is one process of a service: a cache on a Redis store, and the
// method it caches reads of db through.
type instance struct {
	cache *zoo.Cache
	store *observed
	m     *zoo.Method
	db    *db
}

func newInstance(t testing.TB, client redis.UniversalClient, ns string, d *db, opts ...zoo.Option) *instance {
	t.Helper()
	s := &observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()))}
	opts = append([]zoo.Option{zoo.WithStore(s), zoo.WithNamespace(ns), zoo.WithLogger(quiet())}, opts...)
	c, err := zoo.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &instance{cache: c, store: s, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// get reads row id through the cache.
func (in *instance) get(ctx context.Context, id int64) (int64, error) {
	var buf [64]byte
	k := zoo.KeyInt(in.m.Key(buf[:0]), id)
	return zoo.Load(ctx, in.m, k, func(ctx context.Context) (int64, error) {
		zoo.AddDeps(ctx, zoo.Tag("item", id))
		return in.db.read(id), nil
	})
}

// update writes row id and invalidates it, as a generated write method
// does (invalidation failures are logged, never returned).
func (in *instance) update(ctx context.Context, id int64) int64 {
	v := in.db.write(id)
	in.m.Invalidate(ctx, zoo.Tag("item", id))
	return v
}

func (in *instance) waitUp(t testing.TB) {
	t.Helper()
	eventually(t, 5*time.Second, func() bool { up, _ := in.store.state(); return up }, "the store never came up")
}

func eventually(t testing.TB, within time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func mustGet(t testing.TB, in *instance, id int64) int64 {
	t.Helper()
	v, err := in.get(context.Background(), id)
	require.NoError(t, err)
	return v
}

func TestSharedEntries(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	d.write(1)
	a := newInstance(t, client, ns, d)
	b := newInstance(t, client, ns, d)
	a.waitUp(t)
	b.waitUp(t)
	assert.Equal(t, int64(1), mustGet(t, a, 1))
	assert.Equal(t, int64(1), mustGet(t, b, 1), "B reads what A stored")
	assert.Equal(t, int64(1), mustGet(t, b, 1), "then from its memory tier")
	assert.Equal(t, int64(1), d.loads.Load(), "one load for both instances")
}

func TestCrossInstanceInvalidation(t *testing.T) {
	for _, mode := range []zoo.Consistency{zoo.Local, zoo.Strict} {
		t.Run(mode.String(), func(t *testing.T) {
			client := sharedClient(t)
			ns, d := namespace(t, client), newDB()
			a := newInstance(t, client, ns, d, zoo.WithConsistency(mode))
			b := newInstance(t, client, ns, d, zoo.WithConsistency(mode))
			a.waitUp(t)
			b.waitUp(t)
			mustGet(t, a, 7)
			mustGet(t, b, 7)
			mustGet(t, b, 8)
			require.Equal(t, int64(2), d.loads.Load())

			v := a.update(context.Background(), 7)
			eventually(t, time.Second, func() bool { return mustGet(t, b, 7) == v }, "B never saw A's invalidation")
			mustGet(t, b, 8)
			assert.Equal(t, int64(3), d.loads.Load(), "one reload of row 7, row 8 untouched")

			// A prefix invalidation from B reaches A.
			require.NoError(t, b.cache.Invalidate(context.Background(), "item"))
			d.write(8)
			eventually(t, time.Second, func() bool { return mustGet(t, a, 8) == 1 }, "A never saw B's prefix invalidation")
		})
	}
}

// TestStrictReadAfterInvalidate: in strict mode a read that starts after
// Invalidate returned in another instance is fresh, every time.
func TestStrictReadAfterInvalidate(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	a := newInstance(t, client, ns, d, zoo.WithConsistency(zoo.Strict))
	b := newInstance(t, client, ns, d, zoo.WithConsistency(zoo.Strict))
	ctx := context.Background()
	for i := range 300 {
		mustGet(t, b, 1)
		v := a.update(ctx, 1)
		require.Equal(t, v, mustGet(t, b, 1), "iteration %d: stale read right after the invalidation returned", i)
	}
}

func TestNamespacesAreIsolated(t *testing.T) {
	client := sharedClient(t)
	d1, d2 := newDB(), newDB()
	d1.write(1)
	a := newInstance(t, client, namespace(t, client), d1)
	b := newInstance(t, client, namespace(t, client), d2)
	assert.Equal(t, int64(1), mustGet(t, a, 1))
	assert.Equal(t, int64(0), mustGet(t, b, 1), "another namespace does not see A's entry")
	require.NoError(t, b.cache.Invalidate(context.Background(), "item"))
	mustGet(t, a, 1)
	assert.Equal(t, int64(1), d1.loads.Load(), "nor its invalidations")
}

// TestSubscriptionKilled drops every subscription (CLIENT KILL TYPE pubsub):
// invalidations published meanwhile are lost to the subscribers, and must
// still never be served stale.
func TestSubscriptionKilled(t *testing.T) {
	// A server of the test's own: CLIENT KILL TYPE pubsub would drop the
	// subscriptions of every other test sharing a server.
	srv := startServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer client.Close()
	ns, d := "killed", newDB()
	a := newInstance(t, client, ns, d)
	b := newInstance(t, client, ns, d)
	a.waitUp(t)
	b.waitUp(t)
	ctx := context.Background()
	for round := range 3 {
		mustGet(t, b, 1)
		_, upsBefore := b.store.state()
		require.NoError(t, client.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err())
		v := a.update(ctx, 1) // published while B's subscription is gone
		// Whether B has noticed yet or not, a read now must be fresh: a
		// lost message is never a stale read.
		time.Sleep(50 * time.Millisecond)
		assert.Equal(t, v, mustGet(t, b, 1), "round %d: stale read after the subscription was killed", round)
		eventually(t, 5*time.Second, func() bool { up, ups := b.store.state(); return up && ups > upsBefore },
			"B never resubscribed")
		assert.Equal(t, v, mustGet(t, b, 1))
	}
}

// TestDistributedSingleflight: 3 instances × 100 goroutines missing one key
// cause one load.
func TestDistributedSingleflight(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	d.delay = 100 * time.Millisecond
	instances := make([]*instance, 3)
	for i := range instances {
		instances[i] = newInstance(t, client, ns, d)
		instances[i].waitUp(t)
	}
	var wg sync.WaitGroup
	var errs atomic.Int64
	start := make(chan struct{})
	for _, in := range instances {
		for range 100 {
			wg.Go(func() {
				<-start
				if _, err := in.get(context.Background(), 42); err != nil {
					errs.Add(1)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	assert.Zero(t, errs.Load())
	assert.Equal(t, int64(1), d.loads.Load(), "300 callers in 3 instances, one load")
}

// TestFailOpen: with nothing listening, New succeeds and every call gets
// the repository's answer, quickly once the breaker is open.
func TestFailOpen(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), MaxRetries: -1})
	defer dead.Close()
	d := newDB()
	d.write(3)
	in := newInstance(t, dead, "dead", d)
	ctx := context.Background()
	start := time.Now()
	for range 100 {
		v, err := in.get(ctx, 3)
		require.NoError(t, err)
		require.Equal(t, int64(1), v)
	}
	assert.Less(t, time.Since(start), 2*time.Second, "calls waited on the dead server")
	assert.Equal(t, int64(100), d.loads.Load(), "every call reached the repository")
	assert.Error(t, in.cache.Invalidate(ctx, "item:3"), "Invalidate says the store did not record it")
}

// TestSlowRedis: a server that stops answering (DEBUG SLEEP) costs callers
// the command timeout, not the outage.
func TestSlowRedis(t *testing.T) {
	srv := startServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer client.Close()
	d := newDB()
	d.write(5)
	s := &observed{Store: redisstore.New(client, redisstore.WithTimeout(50*time.Millisecond), redisstore.WithLogger(quiet()))}
	c, err := zoo.New(zoo.WithStore(s), zoo.WithLogger(quiet()))
	require.NoError(t, err)
	defer c.Close()
	in := &instance{cache: c, store: s, db: d, m: c.Method(zoo.MethodSpec{Interface: "Repo", Method: "Get"})}
	in.waitUp(t)
	mustGet(t, in, 5)

	admin := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer admin.Close()
	go admin.Do(context.Background(), "DEBUG", "SLEEP", "1")
	time.Sleep(20 * time.Millisecond)
	v := in.update(context.Background(), 5) // the invalidation times out: logged, applied locally
	for range 5 {
		start := time.Now()
		got, err := in.get(context.Background(), 5)
		require.NoError(t, err)
		assert.Equal(t, v, got)
		assert.Less(t, time.Since(start), 500*time.Millisecond)
	}
}

// TestRedisRestart kills Redis under load and restarts it: callers see no
// error, and once the instances are back no read is stale.
func TestRedisRestart(t *testing.T) {
	srv := startServer(t)
	client := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		return c
	}
	d := newDB()
	a := newInstance(t, client(), "restart", d)
	b := newInstance(t, client(), "restart", d)
	a.waitUp(t)
	b.waitUp(t)
	ctx := context.Background()
	ids := []int64{1, 2, 3, 4}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var callErrs atomic.Int64
	for _, in := range []*instance{a, b} {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if _, err := in.get(ctx, ids[i%len(ids)]); err != nil {
					callErrs.Add(1)
				}
				if i%7 == 0 {
					in.update(ctx, ids[i%len(ids)])
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	_, upsA := a.store.state()
	_, upsB := b.store.state()
	srv.stop()
	time.Sleep(500 * time.Millisecond)
	srv.start()
	eventually(t, 10*time.Second, func() bool {
		upA, nA := a.store.state()
		upB, nB := b.store.state()
		return upA && upB && nA > upsA && nB > upsB
	}, "the instances never came back")
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, callErrs.Load(), "a caller saw an error")

	// Back up: every write is seen by both instances.
	for round := range 20 {
		for _, id := range ids {
			writer, reader := a, b
			if round%2 == 1 {
				writer, reader = b, a
			}
			mustGet(t, reader, id)
			v := writer.update(ctx, id)
			eventually(t, time.Second, func() bool { return mustGet(t, reader, id) == v },
				fmt.Sprintf("round %d: row %d stale after recovery", round, id))
		}
	}
}

// TestCluster runs instances on a 3-master Redis Cluster started for the
// test: scripts touch one hash slot per namespace, invalidations reach
// every instance.
func TestCluster(t *testing.T) {
	cluster := startCluster(t, 3)
	for _, mode := range []zoo.Consistency{zoo.Local, zoo.Strict} {
		t.Run(mode.String(), func(t *testing.T) {
			ns, d := namespace(t, cluster), newDB()
			a := newInstance(t, cluster, ns, d, zoo.WithConsistency(mode))
			b := newInstance(t, cluster, ns, d, zoo.WithConsistency(mode))
			a.waitUp(t)
			b.waitUp(t)
			mustGet(t, a, 1)
			mustGet(t, b, 1)
			require.Equal(t, int64(1), d.loads.Load(), "B shared A's entry")
			for range 20 {
				v := a.update(context.Background(), 1)
				eventually(t, time.Second, func() bool { return mustGet(t, b, 1) == v }, "stale on the cluster")
			}
		})
	}
}

// TestCorruptEntry: bytes in Redis that do not decode are a miss, never an
// error or a panic.
func TestCorruptEntry(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	a := newInstance(t, client, ns, d, zoo.WithLocalTier(0))
	mustGet(t, a, 9)
	ctx := context.Background()
	keys, err := client.Keys(ctx, redisstore.EntryPattern(ns)).Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	for _, garbage := range []string{"", "zo", "not an entry", "zo\x01\x00\x94\xc1"} {
		require.NoError(t, client.HSet(ctx, keys[0], "v", garbage).Err())
		_, err := a.get(ctx, 9)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(5), d.loads.Load(), "each corrupt read was a miss")
}

// deaf is a Redis store whose subscription silently loses every
// invalidation message: only passive resynchronisation can tell its cache.
type deaf struct{ *observed }

func (d deaf) Attach(ns string, fn func(store.Event)) error {
	return d.observed.Attach(ns, func(ev store.Event) {
		if ev.Kind != store.EventInvalidate || len(ev.Tags) == 0 {
			fn(ev)
		}
	})
}

// TestPassiveResync: an entry read from Redis carries the versions its tags
// had when it was stored; a reader that missed an invalidation catches up
// from them, and its older entries under those tags stop being served.
func TestPassiveResync(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	a := newInstance(t, client, ns, d)
	s := deaf{&observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()))}}
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace(ns), zoo.WithLogger(quiet()))
	require.NoError(t, err)
	defer c.Close()
	b := &instance{cache: c, store: s.observed, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
	a.waitUp(t)
	b.waitUp(t)
	ctx := context.Background()

	// A second method whose entries share row 1's tag: a detail view.
	detail := func(in *instance) int64 {
		m := in.cache.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Detail"})
		v, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), 1), func(ctx context.Context) (int64, error) {
			zoo.AddDeps(ctx, zoo.Tag("item", 1))
			return in.db.read(1), nil
		})
		require.NoError(t, err)
		return v
	}
	mustGet(t, b, 1) // in B's memory tier
	v := a.update(ctx, 1)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, v-1, mustGet(t, b, 1), "B cannot know yet: its messages are lost")
	assert.Equal(t, v, detail(a), "A stores an entry under item:1, with item:1's version")
	assert.Equal(t, v, detail(b), "B reads it from Redis and catches up")
	assert.Equal(t, v, mustGet(t, b, 1), "B's own entry under item:1 is stale now")
}

// TestDeadLockHolder: a process that took a key's lock and died holds up
// the others for the lock's TTL at most, then they load.
func TestDeadLockHolder(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	a := newInstance(t, client, ns, d, zoo.WithLoadLock(300*time.Millisecond))
	a.waitUp(t)
	ctx := context.Background()
	var buf [64]byte
	key := string(zoo.KeyInt(a.m.Key(buf[:0]), 1))
	require.NoError(t, client.Set(ctx, redisstore.LockKey(ns, key), "dead", 300*time.Millisecond).Err())
	start := time.Now()
	mustGet(t, a, 1)
	elapsed := time.Since(start)
	assert.Equal(t, int64(1), d.loads.Load())
	assert.GreaterOrEqual(t, elapsed, 250*time.Millisecond, "it did not wait for the holder")
	assert.Less(t, elapsed, 2*time.Second)
}

// TestLockHolderThatStoresNothing: when the instance holding a key's load
// lock fails its load, the instance waiting on the lock takes it and loads
// at once, instead of waiting out the lock's TTL (10 s here) for an entry
// that will never come.
func TestLockHolderThatStoresNothing(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	a := newInstance(t, client, ns, d, zoo.WithLoadLock(10*time.Second))
	b := newInstance(t, client, ns, d, zoo.WithLoadLock(10*time.Second))
	a.waitUp(t)
	b.waitUp(t)
	ctx := context.Background()
	var buf [64]byte
	k := zoo.KeyInt(a.m.Key(buf[:0]), 7)
	holding := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		_, err := zoo.Load(ctx, a.m, k, func(context.Context) (int64, error) {
			close(holding) // a holds the lock now
			time.Sleep(50 * time.Millisecond)
			return 0, errors.New("database unavailable")
		})
		failed <- err
	}()
	<-holding
	start := time.Now()
	v, err := zoo.Load(ctx, b.m, k, func(context.Context) (int64, error) { return 42, nil })
	require.NoError(t, err)
	require.Equal(t, int64(42), v)
	require.Error(t, <-failed)
	assert.Less(t, time.Since(start), 5*time.Second, "b waited out the lock of a load that stored nothing")
}

// TestBreakerProbeWhoseCallerGaveUp: the call that probes an open breaker
// is made by a caller who cancels; the next call probes in its place and
// finds Redis back, instead of the breaker staying open until an
// invalidation happens to succeed.
func TestBreakerProbeWhoseCallerGaveUp(t *testing.T) {
	srv := startServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: -1})
	defer client.Close()
	s := redisstore.New(client, redisstore.WithTimeout(100*time.Millisecond), redisstore.WithLogger(quiet()))
	defer s.Close()
	// Not attached: no subscription reconnects and probes on its own.
	ctx := context.Background()
	srv.stop()
	for range 5 { // enough failures to open the breaker
		_, _ = s.Get(ctx, "k")
	}
	srv.start()
	time.Sleep(300 * time.Millisecond) // past the breaker's first backoff
	gaveUp, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Get(gaveUp, "k") // the probe: its caller has gone
	require.Error(t, err)
	eventually(t, 5*time.Second, func() bool {
		_, err := s.Get(ctx, "k")
		return err == nil
	}, "the breaker stayed open after its probe's caller gave up")
}
