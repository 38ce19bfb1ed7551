package redisstore_test

import (
	"context"
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

// TestCommandTimeoutWhileRedisHangs: with the client built as the README
// builds it (default options: go-redis ignores context deadlines and reads
// for up to 5 s), every cache call returns within a small multiple of the
// store's timeout while Redis hangs: hits, misses, strict reads,
// invalidations, Close; the subscription is reported down within its
// bound, and comes back when Redis does.
func TestCommandTimeoutWhileRedisHangs(t *testing.T) {
	srv := startServer(t)
	for _, mode := range []zoo.Consistency{zoo.Local, zoo.Strict} {
		t.Run(mode.String(), func(t *testing.T) {
			proxy := redistest.StartProxy(t, srv.addr())
			client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{proxy.Addr()}})
			t.Cleanup(func() { _ = client.Close() })
			ns, d := namespace(t, client), newDB()
			in := newInstance(t, client, ns, d, zoo.WithConsistency(mode))
			in.waitUp(t)
			ctx := context.Background()
			mustGet(t, in, 1)
			mustGet(t, in, 1)

			proxy.Freeze()
			t.Cleanup(proxy.Thaw)
			// A call makes at most a few commands, each bounded by the
			// timeout (250 ms); go-redis's defaults take 5 s per command.
			const bound = 2 * time.Second
			timed := func(what string, call func()) {
				t.Helper()
				start := time.Now()
				call()
				assert.Less(t, time.Since(start), bound, "%s while Redis hangs", what)
			}
			deadline := time.Now().Add(4 * time.Second) // past the subscription's bound of 3 s
			for i := int64(0); time.Now().Before(deadline); i++ {
				timed("a read of a cached key", func() {
					_, err := in.get(ctx, 1)
					assert.NoError(t, err)
				})
				timed("a read of a new key", func() {
					v, err := in.get(ctx, 100+i)
					assert.NoError(t, err)
					assert.Zero(t, v)
				})
				timed("an invalidation", func() {
					// Invalidations try Redis even while the breaker is
					// open: each one waits out the timeout.
					assert.ErrorIs(t, in.cache.Invalidate(ctx, zoo.Tag("item", 1)), store.ErrUnavailable)
				})
			}
			up, _ := in.store.state()
			assert.False(t, up, "the subscription was not reported down while Redis hung")

			// Once Redis answers again, the same client serves the cache:
			// the subscription comes back and reads are cached again.
			proxy.Thaw()
			eventually(t, 15*time.Second, func() bool { up, _ := in.store.state(); return up },
				"the subscription never came back after the hang")
			eventually(t, 15*time.Second, func() bool {
				mustGet(t, in, 1)
				loads := d.loads.Load()
				mustGet(t, in, 1)
				return d.loads.Load() == loads
			}, "reads were not cached again after the hang")
			proxy.Freeze()
			timed("Close", func() { require.NoError(t, in.cache.Close()) })
		})
	}
}

// countingHook counts the commands that pass through a client's hooks.
type countingHook struct{ n atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

// TestClientHooksSeeTheStoresCommands: the hooks on the client a user
// gives (tracing, metrics) see the store's commands, although the client,
// built as the README builds it, did not honour context deadlines.
func TestClientHooksSeeTheStoresCommands(t *testing.T) {
	client := redistest.Client(t)
	hook := &countingHook{}
	client.AddHook(hook)
	s := redisstore.New(client, redisstore.WithLogger(quiet()))
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	before := hook.n.Load()
	_, err := s.Now(ctx)
	require.NoError(t, err)
	assert.Greater(t, hook.n.Load(), before, "the store's commands bypassed the client's hooks")
	assert.True(t, client.Options().ContextTimeoutEnabled)
}
