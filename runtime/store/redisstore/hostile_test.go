package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// publish sends an invalidation message of one's own making on the
// namespace's channel, as anyone with PUBLISH rights can.
func publish(t *testing.T, ns string, parts ...string) {
	t.Helper()
	b, err := msgpack.Marshal(parts)
	require.NoError(t, err)
	n, err := sharedClient(t).Publish(context.Background(), redisstore.ChannelKey(ns), b).Result()
	require.NoError(t, err)
	require.Positive(t, n, "nobody subscribes")
}

func version(t time.Time) string { return fmt.Sprintf("%013d%05d", t.UnixMilli(), 0) }

// Bus messages are hints: a forged one may cost misses, never flush every
// instance, turn caching off, or grow the trie past its bound.
func TestHostileMessages(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()

	t.Run("flush everything", func(t *testing.T) {
		ns, d := namespace(t, client), newDB()
		b := newInstance(t, client, ns, d)
		b.waitUp(t)
		mustGet(t, b, 1)
		publish(t, ns, version(time.Now().Add(time.Second)))
		time.Sleep(50 * time.Millisecond) // delivered on loopback in well under a millisecond
		loads := d.loads.Load()
		mustGet(t, b, 1)
		assert.Equal(t, loads, d.loads.Load(), "a forged [now] message flushed the instance")
	})

	t.Run("version far in the future", func(t *testing.T) {
		ns, d := namespace(t, client), newDB()
		b := newInstance(t, client, ns, d)
		b.waitUp(t)
		mustGet(t, b, 1)
		publish(t, ns, "999999999999965535", zoo.Tag("item", 1))
		publish(t, ns, version(time.Now().Add(50*time.Second)), zoo.Tag("item", 1)) // within any drift bound
		time.Sleep(50 * time.Millisecond)
		mustGet(t, b, 1) // may miss once: the message said the tag changed
		loads := d.loads.Load()
		for range 3 {
			mustGet(t, b, 1)
		}
		assert.Equal(t, loads, d.loads.Load(), "a forged far-future version turned caching off for the tag")
		// Nor may it move the instance's clock ahead of the versions real
		// invalidations get: those must still expire what b loaded.
		a := newInstance(t, client, ns, d)
		a.waitUp(t)
		v := a.update(ctx, 1)
		eventually(t, time.Second, func() bool { return mustGet(t, b, 1) == v },
			"after a forged far-future version, a real invalidation did not expire b's entry")
	})

	t.Run("flood of tags", func(t *testing.T) {
		ns, d := namespace(t, client), newDB()
		const bound = 1000
		b := newInstance(t, client, ns, d, zoo.WithMaxTagNodes(bound))
		b.waitUp(t)
		for round := range 5 {
			parts := []string{version(time.Now())}
			for i := range 5000 {
				parts = append(parts, fmt.Sprintf("flood:%d:x:%d", round, i))
			}
			publish(t, ns, parts...)
		}
		time.Sleep(200 * time.Millisecond)
		assert.LessOrEqual(t, b.cache.Stats().TagNodes, bound+10, "messages grew the trie past its bound")
		mustGet(t, b, 1) // still serving
	})
}
