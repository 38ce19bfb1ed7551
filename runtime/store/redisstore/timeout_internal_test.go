package redisstore

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommandClient: the store sends its commands through a client that
// bounds them by its timeout, whatever the type of client it was given:
// as it is when the client honours contexts, the same *redis.Client with
// ContextTimeoutEnabled turned on (its hooks stay on it), a clone with the
// store's timeouts for one whose deadlines are off, a client of its own
// with ContextTimeoutEnabled for a ClusterClient or a Ring.
func TestCommandClient(t *testing.T) {
	const d = 250 * time.Millisecond
	honours := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defaults := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	t.Cleanup(func() { _, _, _, _ = honours.Close(), defaults.Close(), cluster.Close(), ring.Close() })

	c, owned, how := commandClient(honours, d)
	assert.Same(t, honours, c)
	assert.False(t, owned)
	assert.Equal(t, asGiven, how)

	c, owned, how = commandClient(defaults, d)
	assert.Same(t, defaults, c, "the store's commands would miss the client's hooks")
	assert.True(t, defaults.Options().ContextTimeoutEnabled)
	assert.False(t, owned)
	assert.Equal(t, contextOn, how)

	c, owned, how = commandClient(cluster, d)
	require.IsType(t, (*redis.ClusterClient)(nil), c)
	assert.True(t, c.(*redis.ClusterClient).Options().ContextTimeoutEnabled)
	assert.False(t, cluster.Options().ContextTimeoutEnabled, "the given client was changed")
	assert.True(t, owned)
	assert.Equal(t, ownClient, how)
	require.NoError(t, c.Close())

	c, owned, how = commandClient(ring, d)
	require.IsType(t, (*redis.Ring)(nil), c)
	assert.True(t, c.(*redis.Ring).Options().ContextTimeoutEnabled)
	assert.False(t, ring.Options().ContextTimeoutEnabled, "the given client was changed")
	assert.True(t, owned)
	assert.Equal(t, ownClient, how)
	require.NoError(t, c.Close())

	// ContextTimeoutEnabled with deadlines turned off (-2) bounds nothing.
	noDeadlines := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, ReadTimeout: -2})
	t.Cleanup(func() { _ = noDeadlines.Close() })
	c, _, how = commandClient(noDeadlines, d)
	assert.NotSame(t, noDeadlines, c)
	assert.Equal(t, cloned, how)
	assert.Equal(t, d, c.(*redis.Client).Options().ReadTimeout)
	noDeadlinesCluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true, ReadTimeout: -2})
	t.Cleanup(func() { _ = noDeadlinesCluster.Close() })
	c, owned, _ = commandClient(noDeadlinesCluster, d)
	assert.NotSame(t, noDeadlinesCluster, c)
	assert.True(t, owned)
	assert.Equal(t, d, c.(*redis.ClusterClient).Options().ReadTimeout)
	require.NoError(t, c.Close())

	type wrapper struct{ *redis.Client }
	w := wrapper{defaults}
	c, owned, how = commandClient(w, d)
	assert.Equal(t, redis.UniversalClient(w), c)
	assert.False(t, owned)
	assert.Equal(t, unknown, how, "the store vouched for a client it cannot see into")
}
