package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/redistest"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestBatchRoundTrips: on the sharded layout, SetMany stores any number of
// entries in two round trips (their versions, then the writes); a strict
// batch of entries never read strictly before takes two (the entries, then
// their versions), and one whose reads the store remembers takes one, which
// still sees an invalidation; GetMany takes one.
func TestBatchRoundTrips(t *testing.T) {
	// ContextTimeoutEnabled: the store uses this client as it is, so that
	// the hook counts its commands.
	client := redis.NewClient(&redis.Options{Addr: redistest.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	rt := &roundTrips{}
	client.AddHook(rt)
	s := redisstore.New(client, redisstore.WithTimeout(10*time.Second))
	t.Cleanup(func() { s.Close() })
	up := make(chan struct{}, 1)
	require.NoError(t, s.Attach(namespace(t, client), func(e store.Event) {
		if e.Kind == store.EventUp {
			select {
			case up <- struct{}{}:
			default:
			}
		}
	}))
	ctx := context.Background()
	select { // the subscription's first read of the versions is done
	case <-up:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription did not come up")
	}
	asOf, err := s.Now(ctx) // the clock started and the shards checked
	require.NoError(t, err)

	const n = 40
	batch := func(prefix string) ([]string, []*store.Entry) {
		keys := make([]string, n)
		entries := make([]*store.Entry, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("%s%d", prefix, i)
			entries[i] = &store.Entry{Value: i, AsOf: asOf, Expires: time.Now().Add(time.Hour),
				Tags: []string{fmt.Sprintf("org:%d:product:%d", i%7, i), "featured"}}
		}
		return keys, entries
	}
	warm, warmEntries := batch("warm-")
	keys, entries := batch("batch-")
	require.NoError(t, s.SetMany(ctx, warm, warmEntries))
	_, err = s.GetFreshMany(ctx, warm) // the connections dialed and the server checked
	require.NoError(t, err)

	trips := func(op func()) int64 {
		before := rt.n.Load()
		op()
		return rt.n.Load() - before
	}
	check := func(got []*store.Entry, missing ...int) {
		t.Helper()
		require.Len(t, got, n)
		for i, e := range got {
			if slices.Contains(missing, i) {
				assert.Nil(t, e, "element %d", i)
				continue
			}
			if assert.NotNil(t, e, "element %d", i) {
				assert.Equal(t, entries[i].AsOf, e.AsOf)
				assert.Equal(t, entries[i].Tags, e.Tags)
			}
		}
	}
	assert.EqualValues(t, 2, trips(func() { require.NoError(t, s.SetMany(ctx, keys, entries)) }), "SetMany")
	var got []*store.Entry
	assert.EqualValues(t, 2, trips(func() { got, err = s.GetFreshMany(ctx, keys); require.NoError(t, err) }),
		"GetFreshMany of entries never read strictly")
	check(got)
	assert.EqualValues(t, 1, trips(func() { got, err = s.GetFreshMany(ctx, keys); require.NoError(t, err) }),
		"GetFreshMany of remembered entries")
	check(got)

	_, err = s.Invalidate(ctx, []string{entries[3].Tags[0]}, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 1, trips(func() { got, err = s.GetFreshMany(ctx, keys); require.NoError(t, err) }),
		"GetFreshMany after an invalidation")
	check(got, 3)

	assert.EqualValues(t, 1, trips(func() { got, err = s.GetMany(ctx, keys); require.NoError(t, err) }), "GetMany")
	check(got)
}
