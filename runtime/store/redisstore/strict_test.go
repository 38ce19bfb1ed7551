package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	assert.LessOrEqual(t, allocs, 20.0)

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
	// key. The rest are go-redis's, the timeout's context and the decoding.
	assert.LessOrEqual(t, allocs, 40.0)

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
