package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
