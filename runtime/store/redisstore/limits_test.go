package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestInvalidateManyTags: an invalidation of more tags than one bus message
// may carry reaches every tag on another Local instance (#13, point 4).
func TestInvalidateManyTags(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	// Recording 25,000 tags can take longer than the default timeout
	// (250 ms) on a loaded machine: what is tested is how the call is
	// split into messages, not the timeout.
	a := newInstanceOf(t, client, ns, d, []redisstore.Option{redisstore.WithTimeout(5 * time.Second)}, zoo.WithConsistency(zoo.Local))
	b := newInstance(t, client, ns, d, zoo.WithConsistency(zoo.Local))
	a.waitUp(t)
	b.waitUp(t)

	const n = 25_000
	ids := []int64{1, 9_999, 10_000, 10_001, 20_001, n - 1}
	for _, id := range ids {
		mustGet(t, b, id)
	}
	tags := make([]string, n)
	for i := range tags {
		tags[i] = zoo.Tag("item", int64(i))
	}
	for _, id := range ids {
		d.write(id)
	}
	require.NoError(t, a.cache.Invalidate(context.Background(), tags...))
	for _, id := range ids {
		eventually(t, 2*time.Second, func() bool { return mustGet(t, b, id) == 1 }, fmt.Sprintf("B never saw the invalidation of item %d", id))
	}
}

// TestInvalidateLongTag: a tag longer than receivers accept is an error, and
// nothing of the call is invalidated (#13, point 4).
func TestInvalidateLongTag(t *testing.T) {
	client := sharedClient(t)
	ns, d := namespace(t, client), newDB()
	a := newInstance(t, client, ns, d, zoo.WithConsistency(zoo.Local))
	b := newInstance(t, client, ns, d, zoo.WithConsistency(zoo.Local))
	a.waitUp(t)
	b.waitUp(t)
	mustGet(t, b, 3)
	d.write(3)
	err := a.cache.Invalidate(context.Background(), zoo.Tag("item", 3), strings.Repeat("x", 4<<10+1))
	require.Error(t, err)
	// A later invalidation is delivered after anything the refused call
	// could have published: once B has seen it, item 3 must still be cached.
	mustGet(t, b, 4)
	d.write(4)
	require.NoError(t, a.cache.Invalidate(context.Background(), zoo.Tag("item", 4)))
	eventually(t, 2*time.Second, func() bool { return mustGet(t, b, 4) == 1 }, "B never saw the invalidation of item 4")
	assert.Equal(t, int64(0), mustGet(t, b, 3), "the refused call invalidated item 3")
	ok, err := client.HExists(context.Background(), redisstore.VersionsKey(ns, zoo.Tag("item", 3)), "t:"+zoo.Tag("item", 3)).Result()
	require.NoError(t, err)
	assert.False(t, ok, "the refused call recorded a version for item 3 in Redis")
}
