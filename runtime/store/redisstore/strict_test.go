package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestGetFresh checks strict reads on both of their paths: the script the
// first time a key is read, pipelined HMGETs afterwards, and the script
// again when the entry was replaced under other tags.
func TestGetFresh(t *testing.T) {
	client := sharedClient(t)
	s := redisstore.New(client)
	require.NoError(t, s.Attach(namespace(t, client), func(store.Event) {}))
	defer s.Close()
	ctx := context.Background()
	now := func() hlc.Timestamp {
		v, err := s.Now(ctx)
		require.NoError(t, err)
		return v
	}
	set := func(tags ...string) {
		require.NoError(t, s.Set(ctx, "k", &store.Entry{Value: "v", AsOf: now(), Expires: time.Now().Add(time.Hour), Tags: tags}))
	}
	fresh := func() bool {
		e, err := s.GetFresh(ctx, "k")
		require.NoError(t, err)
		return e != nil
	}

	set("org:1:store:2")
	assert.True(t, fresh(), "first read, by script")
	assert.True(t, fresh(), "second read, pipelined")
	_, err := s.Invalidate(ctx, []string{"org:1:store:3"}, 0)
	require.NoError(t, err)
	assert.True(t, fresh(), "a sibling's invalidation")
	_, err = s.Invalidate(ctx, []string{"org:1"}, 0)
	require.NoError(t, err)
	assert.False(t, fresh(), "an ancestor's invalidation, pipelined")

	set("user:7")
	assert.True(t, fresh())
	set("user:8") // replaced under another tag: the remembered fields are wrong
	_, err = s.Invalidate(ctx, []string{"user:8"}, 0)
	require.NoError(t, err)
	assert.False(t, fresh(), "the pipelined read checked the old tags")

	require.NoError(t, s.Delete(ctx, "k"))
	assert.False(t, fresh())
}

// strictReader is a store whose cache hears of no invalidation (deaf) and
// that counts the strict reads of whole entries.
type strictReader struct {
	deaf
	getFresh atomic.Int64
}

func (s *strictReader) GetFresh(ctx context.Context, key string) (*store.Entry, error) {
	s.getFresh.Add(1)
	return s.deaf.GetFresh(ctx, key)
}

// TestStrictCopyAfterInvalidate: in strict mode a cache keeps decoded
// values in its memory tier and has Redis confirm each copy before serving
// it. This cache hears of no invalidation (its messages are dropped), so
// only that check can tell it: a read that starts after another instance's
// Invalidate returned never returns the copy, and copies that are still
// fresh are served without reading the entry again.
func TestStrictCopyAfterInvalidate(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	s := &strictReader{deaf: deaf{&observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()))}}}
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace(ns), zoo.WithConsistency(zoo.Strict), zoo.WithLogger(quiet()))
	require.NoError(t, err)
	defer c.Close()
	a := &instance{cache: c, store: s.observed, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
	b := newInstance(t, client, ns, d, zoo.WithConsistency(zoo.Strict))
	a.waitUp(t)
	ctx := context.Background()
	mustGet(t, a, 1)
	for i := range 50 {
		reads, loads := s.getFresh.Load(), d.loads.Load()
		mustGet(t, a, 1)
		require.Equal(t, reads, s.getFresh.Load(), "iteration %d: a fresh copy was read again", i)
		require.Equal(t, loads, d.loads.Load(), "iteration %d: a fresh copy was loaded again", i)
		v := b.update(ctx, 1)
		require.Equal(t, v, mustGet(t, a, 1), "iteration %d: the copy was served after the invalidation returned", i)
	}
}

// TestCheckAllocations: a Check of a copy it has checked before reuses the
// commands it built for it and a pooled pipeline, so it allocates what
// go-redis and the timeout's context need, not the arguments again; many
// Checks at once share those commands (go test -race watches them).
func TestCheckAllocations(t *testing.T) {
	client := sharedClient(t)
	s := redisstore.New(client)
	// The subscription's catch-up (a read of every shard) runs in the
	// background once it is up: wait for it, so that it is not counted.
	up := make(chan struct{})
	var once sync.Once
	require.NoError(t, s.Attach(namespace(t, client), func(ev store.Event) {
		if ev.Kind == store.EventUp {
			once.Do(func() { close(up) })
		}
	}))
	defer s.Close()
	<-up
	ctx := context.Background()
	asOf, err := s.Now(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", &store.Entry{Value: "v", AsOf: asOf, Expires: time.Now().Add(time.Hour),
		Tags: []string{"org:1:store:2:product:3", "featured"}}))
	e, err := s.GetFresh(ctx, "k")
	require.NoError(t, err)
	require.NotNil(t, e)
	check := func() {
		fresh, err := s.Check(ctx, "k", e)
		if err != nil || !fresh {
			panic(fmt.Sprint("check: ", fresh, err))
		}
	}
	check()
	allocs := testing.AllocsPerRun(200, check)
	t.Logf("%.1f allocations per Check", allocs)
	// Building the commands anew costs ~15 more: HGET and HMGET with their
	// arguments boxed, the entry's key, a pipeline and its method values.
	// The rest (11, 12 under -race; 17 before the versions were read into
	// a StringSliceCmd and the timeout's context was shared) are
	// go-redis's; its check of a connection it has not used for a while
	// adds 3 now and then.
	assert.LessOrEqual(t, allocs, 15.0)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				check()
			}
		})
	}
	wg.Wait()
	_, err = s.Invalidate(ctx, []string{"org:1:store:2"}, 0)
	require.NoError(t, err)
	fresh, err := s.Check(ctx, "k", e)
	require.NoError(t, err)
	assert.False(t, fresh, "the reused commands read the versions as they are now")
}

// TestGetFreshAllocations: a strict read of a key read before reuses the
// commands it built for the key and a pooled pipeline, as Check does; many
// reads at once share those commands (go test -race watches them), and an
// invalidation recorded since is seen through them.
func TestGetFreshAllocations(t *testing.T) {
	client := sharedClient(t)
	s := redisstore.New(client)
	require.NoError(t, s.Attach(namespace(t, client), func(store.Event) {}))
	defer s.Close()
	ctx := context.Background()
	asOf, err := s.Now(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", &store.Entry{Value: "v", AsOf: asOf, Expires: time.Now().Add(time.Hour),
		Tags: []string{"org:1:store:2:product:3", "featured"}}))
	read := func() {
		e, err := s.GetFresh(ctx, "k")
		if err != nil || e == nil {
			panic(fmt.Sprint("GetFresh: ", e, err))
		}
	}
	read()
	allocs := testing.AllocsPerRun(200, read)
	t.Logf("%.1f allocations per GetFresh", allocs)
	// Building the commands anew costs 17 more (53 before they were kept):
	// a pipeline, HGET and HMGET with their arguments boxed, the entry's
	// key. Copying the frame and queueing from a fresh slice cost 9 more
	// (36 before the pooled pipeline's queue, the plan's HGET of the
	// value and decoding the reply's bytes in place). The rest (21, 24
	// under -race; 27 before the versions were read into a StringSliceCmd
	// and the timeout's context was shared) are go-redis's and the
	// decoding; go-redis's check of a connection it has not used for a
	// while adds 3 now and then.
	assert.LessOrEqual(t, allocs, 27.0)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				read()
			}
		})
	}
	wg.Wait()
	_, err = s.Invalidate(ctx, []string{"org:1:store:2"}, 0)
	require.NoError(t, err)
	e, err := s.GetFresh(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, e, "the reused commands read the versions as they are now")
}

// strictReadModes are the two ways a strict read reaches Redis: through
// the memory tier (a Check) and without it (a GetFresh).
var strictReadModes = []struct {
	name string
	opts []zoo.Option
}{
	{"check", nil},
	{"get-fresh", []zoo.Option{zoo.WithLocalTier(0)}},
}

// hookedClient returns a client of the shared server, with hook.
func hookedClient(t *testing.T, hook redis.Hook) *redis.Client {
	client := redis.NewClient(&redis.Options{Addr: redistest.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	client.AddHook(hook)
	return client
}

// TestConcurrentStrictReadsShareRoundTrips: many goroutines reading one key
// strictly at once, with the memory tier (each read a Check) and without
// it (each a GetFresh), cost far fewer round trips than reads: the reads
// that arrive while one of the key's round trips is in flight share the
// next.
func TestConcurrentStrictReadsShareRoundTrips(t *testing.T) {
	for _, tc := range strictReadModes {
		t.Run(tc.name, func(t *testing.T) {
			rt := &roundTrips{}
			client := hookedClient(t, rt)
			d := newDB()
			d.write(1)
			in := newInstance(t, client, namespace(t, client), d, append([]zoo.Option{zoo.WithConsistency(zoo.Strict)}, tc.opts...)...)
			in.waitUp(t)
			mustGet(t, in, 1)
			mustGet(t, in, 1) // the key's reads planned

			const readers, reads = 64, 20
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range readers {
				wg.Go(func() {
					<-start
					for range reads {
						v, err := in.get(context.Background(), 1)
						assert.NoError(t, err)
						assert.Equal(t, int64(1), v)
					}
				})
			}
			before := rt.n.Load()
			close(start)
			wg.Wait()
			trips := rt.n.Load() - before
			t.Logf("%d strict reads of one key by %d goroutines: %d round trips", readers*reads, readers, trips)
			assert.Equal(t, int64(1), d.loads.Load(), "a read missed")
			assert.Less(t, trips, int64(readers*reads/4), "concurrent reads did not share round trips")
		})
	}
}

// strictTrips counts the client's strict reads' round trips: pipelines
// that read an entry (its value or asOf) and versions.
type strictTrips struct{ roundTrips }

func (r *strictTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (r *strictTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 1 && cmds[0].Name() == "hget" && cmds[1].Name() == "hmget" {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestSharedStrictReadsSeeInvalidations: readers that share round trips
// still see every invalidation that completed before their read began.
// One instance updates a row and invalidates it over and over; another,
// which hears of no invalidation (strict mode checks every read in Redis),
// has many goroutines read the row meanwhile, each noting the last version
// whose invalidation had returned before its read began: no read returns
// an older one.
func TestSharedStrictReadsSeeInvalidations(t *testing.T) {
	for _, tc := range strictReadModes {
		t.Run(tc.name, func(t *testing.T) {
			rt := &strictTrips{}
			client := hookedClient(t, rt)
			ns, d := namespace(t, client), newDB()
			s := deaf{&observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()))}}
			c, err := zoo.New(append([]zoo.Option{zoo.WithStore(s), zoo.WithNamespace(ns), zoo.WithConsistency(zoo.Strict),
				zoo.WithLogger(quiet())}, tc.opts...)...)
			require.NoError(t, err)
			defer c.Close()
			reader := &instance{cache: c, store: s.observed, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
			writer := newInstance(t, sharedClient(t), ns, d, zoo.WithConsistency(zoo.Strict))
			reader.waitUp(t)
			writer.waitUp(t)
			ctx := context.Background()
			mustGet(t, reader, 1)

			var committed atomic.Int64 // the last version whose invalidation returned
			var stale, total atomic.Int64
			done := make(chan struct{})
			var wg sync.WaitGroup
			for range 32 {
				wg.Go(func() {
					for {
						select {
						case <-done:
							return
						default:
						}
						want := committed.Load()
						got, err := reader.get(ctx, 1)
						if !assert.NoError(t, err) {
							return
						}
						total.Add(1)
						if got < want {
							stale.Add(1)
						}
					}
				})
			}
			trips := rt.n.Load()
			for range 100 {
				committed.Store(writer.update(ctx, 1))
				time.Sleep(5 * time.Millisecond) // hits, shared, between the misses
			}
			close(done)
			wg.Wait()
			trips = rt.n.Load() - trips
			t.Logf("%d reads during 100 invalidations, %d strict round trips: %d stale", total.Load(), trips, stale.Load())
			assert.Zero(t, stale.Load(), "reads returned a version older than one invalidated before they began")
			assert.Less(t, trips, total.Load(), "no read shared a round trip")
		})
	}
}

// heldReply holds the reply of the next strict read's round trip (a
// pipeline of an entry's read and its versions') once it is armed: Redis
// has answered it, the reader has not returned yet.
type heldReply struct {
	armed   atomic.Bool
	sent    chan struct{} // closed once the held round trip has been answered
	release chan struct{} // closed by the test to let it return
}

func (h *heldReply) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *heldReply) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *heldReply) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if len(cmds) > 1 && cmds[0].Name() == "hget" && cmds[1].Name() == "hmget" && h.armed.CompareAndSwap(true, false) {
			close(h.sent)
			<-h.release
		}
		return err
	}
}

// TestSharedReadsSentAfterArrival: a strict read never takes the answer of
// a round trip sent before it arrived. Reader A's round trip is answered
// by Redis and held before A returns; an invalidation of the entry
// returns; reader B starts then, and C, whose context ends while it waits.
// B reports the entry stale (the next round trip, sent after it arrived),
// and C returns its context's error at once, without ending the round trip
// B shares. (A may report either: its call overlaps the invalidation.)
func TestSharedReadsSentAfterArrival(t *testing.T) {
	for _, name := range []string{"check", "get-fresh"} {
		t.Run(name, func(t *testing.T) {
			client := redis.NewClient(&redis.Options{Addr: redistest.Addr(), ContextTimeoutEnabled: true})
			t.Cleanup(func() { client.Close() })
			hold := &heldReply{sent: make(chan struct{}), release: make(chan struct{})}
			client.AddHook(hold)
			ns := namespace(t, client)
			s := redisstore.New(client, redisstore.WithLogger(quiet()))
			require.NoError(t, s.Attach(ns, func(store.Event) {}))
			defer s.Close()
			w := redisstore.New(sharedClient(t), redisstore.WithLogger(quiet()))
			require.NoError(t, w.Attach(ns, func(store.Event) {}))
			defer w.Close()
			ctx := context.Background()
			asOf, err := s.Now(ctx)
			require.NoError(t, err)
			tags := []string{"org:1:store:2"}
			require.NoError(t, s.Set(ctx, "k", &store.Entry{Value: "v", AsOf: asOf, Expires: time.Now().Add(time.Hour), Tags: tags}))
			e, err := s.GetFresh(ctx, "k")
			require.NoError(t, err)
			require.NotNil(t, e)
			read := func(ctx context.Context) (bool, error) {
				if name == "check" {
					return s.Check(ctx, "k", e)
				}
				got, err := s.GetFresh(ctx, "k")
				return got != nil, err
			}
			fresh, err := read(ctx) // the key's reads planned
			require.NoError(t, err)
			require.True(t, fresh)

			hold.armed.Store(true)
			a := make(chan bool)
			go func() {
				fresh, err := read(ctx)
				assert.NoError(t, err)
				a <- fresh
			}()
			<-hold.sent
			_, err = w.Invalidate(ctx, tags, 0)
			require.NoError(t, err)
			b := make(chan bool)
			go func() {
				fresh, err := read(ctx)
				assert.NoError(t, err)
				b <- fresh
			}()
			short, cancel := context.WithCancel(ctx)
			c := make(chan error)
			go func() {
				_, err := read(short)
				c <- err
			}()
			time.Sleep(20 * time.Millisecond) // B and C wait for the next round trip
			cancel()
			require.ErrorIs(t, <-c, context.Canceled, "C's context ended while A's reply was held")
			close(hold.release)
			// A's call overlaps the invalidation: fresh (its own round
			// trip, answered before) and stale (B's, answered since, if
			// that one is in first) are both right for it. B's is not.
			<-a
			assert.False(t, <-b, "B began after the invalidation returned, and got an answer from before it")
		})
	}
}
