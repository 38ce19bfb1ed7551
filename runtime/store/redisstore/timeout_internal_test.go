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
// as it is when the client honours contexts, a clone with the store's
// timeouts for a *redis.Client, a client of its own with
// ContextTimeoutEnabled for a ClusterClient or a Ring.
func TestCommandClient(t *testing.T) {
	const d = 250 * time.Millisecond
	honours := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defaults := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	t.Cleanup(func() { _, _, _, _ = honours.Close(), defaults.Close(), cluster.Close(), ring.Close() })

	c, owned, ok := commandClient(honours, d)
	assert.Same(t, honours, c)
	assert.False(t, owned)
	assert.True(t, ok)

	before := defaults.Options().ReadTimeout
	c, owned, ok = commandClient(defaults, d)
	require.IsType(t, (*redis.Client)(nil), c)
	assert.NotSame(t, defaults, c)
	assert.Equal(t, d, c.(*redis.Client).Options().ReadTimeout)
	assert.Equal(t, d, c.(*redis.Client).Options().WriteTimeout)
	assert.Equal(t, before, defaults.Options().ReadTimeout, "the given client was changed")
	assert.False(t, owned, "a clone shares the client's connections: closing it would close them")
	assert.True(t, ok)

	c, owned, ok = commandClient(cluster, d)
	require.IsType(t, (*redis.ClusterClient)(nil), c)
	assert.True(t, c.(*redis.ClusterClient).Options().ContextTimeoutEnabled)
	assert.False(t, cluster.Options().ContextTimeoutEnabled, "the given client was changed")
	assert.True(t, owned)
	assert.True(t, ok)
	require.NoError(t, c.Close())

	c, owned, ok = commandClient(ring, d)
	require.IsType(t, (*redis.Ring)(nil), c)
	assert.True(t, c.(*redis.Ring).Options().ContextTimeoutEnabled)
	assert.False(t, ring.Options().ContextTimeoutEnabled, "the given client was changed")
	assert.True(t, owned)
	assert.True(t, ok)
	require.NoError(t, c.Close())

	// ContextTimeoutEnabled with deadlines turned off (-2) bounds nothing.
	noDeadlines := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, ReadTimeout: -2})
	t.Cleanup(func() { _ = noDeadlines.Close() })
	c, _, _ = commandClient(noDeadlines, d)
	assert.NotSame(t, noDeadlines, c)
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
	c, owned, ok = commandClient(w, d)
	assert.Equal(t, redis.UniversalClient(w), c)
	assert.False(t, owned)
	assert.False(t, ok, "the store vouched for a client it cannot see into")
}
