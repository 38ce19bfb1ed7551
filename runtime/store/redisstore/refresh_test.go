package redisstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/cachetest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestRefreshAndStaleIfError: refresh= and stale-if-error= on Redis, read
// locally, without a memory tier (every read and every stale read goes to
// Redis) and strictly.
func TestRefreshAndStaleIfError(t *testing.T) {
	client := sharedClient(t)
	cachetest.RefreshAndStale(t, func(t *testing.T, opts ...zoo.Option) *zoo.Cache {
		s := redisstore.New(client, redisstore.WithLogger(quiet()))
		c, err := zoo.New(append([]zoo.Option{zoo.WithStore(s), zoo.WithNamespace(namespace(t, client)),
			zoo.WithLogger(quiet())}, opts...)...)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	})
}
