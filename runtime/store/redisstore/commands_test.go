package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// counted is a Redis store that counts the cache's reads of entries.
type counted struct {
	*observed
	gets, fresh atomic.Int64
}

func (s *counted) Get(ctx context.Context, key string) (*store.Entry, error) {
	s.gets.Add(1)
	return s.observed.Get(ctx, key)
}

func (s *counted) GetFresh(ctx context.Context, key string) (*store.Entry, error) {
	s.fresh.Add(1)
	return s.observed.GetFresh(ctx, key)
}

func newCounted(t *testing.T, client redis.UniversalClient, ns string, d *db, opts ...zoo.Option) (*instance, *counted) {
	t.Helper()
	s := &counted{observed: &observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()))}}
	opts = append([]zoo.Option{zoo.WithStore(s), zoo.WithNamespace(ns), zoo.WithLogger(quiet())}, opts...)
	c, err := zoo.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	in := &instance{cache: c, store: s.observed, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
	in.waitUp(t)
	return in, s
}

// TestStoreReadsPerColdMissOnRedis: a cold miss reads the entry once
// (Get, local mode), and once more (GetFresh) after taking the key's load
// lock, because the previous holder may just have stored it; a process
// that waits on another's lock reads until the entry is there.
func TestStoreReadsPerColdMissOnRedis(t *testing.T) {
	client := sharedClient(t)
	ns := namespace(t, client)
	d := newDB()
	a, sa := newCounted(t, client, ns, d)
	mustGet(t, a, 1)
	assert.Equal(t, [2]int64{1, 1}, [2]int64{sa.gets.Load(), sa.fresh.Load()}, "Get, GetFresh for a cold miss")

	// A lock waiter: b misses while a holds the lock of key 2.
	b, sb := newCounted(t, client, ns, d)
	d.delay = 100 * time.Millisecond
	sa.gets.Store(0)
	sa.fresh.Store(0)
	var wg sync.WaitGroup
	wg.Go(func() { mustGet(t, a, 2) })
	eventually(t, 5*time.Second, func() bool { return d.loads.Load() == 2 }, "a never loaded")
	mustGet(t, b, 2)
	wg.Wait()
	assert.Equal(t, int64(2), d.loads.Load(), "b waited for a's entry rather than load")
	assert.Equal(t, int64(1), sb.gets.Load(), "b's lookup")
	assert.GreaterOrEqual(t, sb.fresh.Load(), int64(1), "b polls for a's entry")
	t.Logf("lock waiter: %d Get, %d GetFresh (polls every 5 ms while the load takes %v)", sb.gets.Load(), sb.fresh.Load(), d.delay)
}

// roundTrips counts the client's round trips to Redis: a command or a
// pipeline each.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// commandCalls reads INFO commandstats: calls per command.
func commandCalls(t *testing.T, c *redis.Client) map[string]int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	calls := map[string]int64{}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		v, err := strconv.ParseInt(n, 10, 64)
		require.NoError(t, err)
		calls[strings.ToUpper(strings.TrimPrefix(name, "cmdstat_"))] = v
	}
	return calls
}

// TestRedisCommandsPerCall prints, for a cold miss, a hit and an
// invalidation in local and strict mode, the Redis commands per call
// (INFO commandstats, which counts the commands scripts run too) and the
// client's round trips per call. It runs its own redis-server, so that
// nothing else's commands are counted; the cache's background work (the
// statistics report every 2 s, the subscription) may add a fraction.
//
//	go test -run TestRedisCommandsPerCall -v ./runtime/store/redisstore
func TestRedisCommandsPerCall(t *testing.T) {
	srv := redistest.Start(t)
	// ContextTimeoutEnabled: the store sends its commands through this
	// client, and its hook counts them (a client without it is used
	// through a WithTimeout clone, which go-redis gives none of its hooks).
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	stats := redistest.ClientFor(srv.Addr()) // not counted by the hook
	t.Cleanup(func() { stats.Close() })
	rt := &roundTrips{}
	client.AddHook(rt)

	const n = 200
	var out strings.Builder
	fmt.Fprintf(&out, "| mode | call | round trips | commands per call (INFO commandstats) |\n|---|---|---|---|\n")
	for _, mode := range []zoo.Consistency{zoo.Local, zoo.Strict} {
		name := map[zoo.Consistency]string{zoo.Local: "local", zoo.Strict: "strict"}[mode]
		d := newDB()
		in := newInstance(t, client, namespace(t, client), d, zoo.WithConsistency(mode))
		in.waitUp(t)
		mustGet(t, in, -1) // the scripts loaded, the clock and horizon set
		measure := func(call string, op func(i int64)) {
			before, trips := commandCalls(t, stats), rt.n.Load()
			for i := range int64(n) {
				op(i)
			}
			trips = rt.n.Load() - trips
			after := commandCalls(t, stats)
			var cmds []string
			for cmd, v := range after {
				if cmd == "INFO" {
					continue
				}
				if per := float64(v-before[cmd]) / n; per >= 0.05 {
					cmds = append(cmds, fmt.Sprintf("%s %.3g", cmd, per))
				}
			}
			slices.Sort(cmds)
			fmt.Fprintf(&out, "| %s | %s | %.3g | %s |\n", name, call, float64(trips)/n, strings.Join(cmds, ", "))
		}
		measure("cold miss", func(i int64) { mustGet(t, in, i) })
		require.Equal(t, int64(n+1), d.loads.Load())
		measure("hit", func(i int64) { mustGet(t, in, i) })
		require.Equal(t, int64(n+1), d.loads.Load(), "the hits missed")
		measure("invalidation", func(i int64) { in.update(context.Background(), i) })
	}
	t.Log("\n" + out.String())
}
