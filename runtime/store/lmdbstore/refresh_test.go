package lmdbstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/cachetest"
	zoo "github.com/zoogen/zoogen/runtime"
)

// TestRefreshAndStaleIfError: refresh= and stale-if-error= on LMDB, read
// locally, without a memory tier (every read and every stale read goes to
// the file) and strictly.
func TestRefreshAndStaleIfError(t *testing.T) {
	cachetest.RefreshAndStale(t, func(t *testing.T, opts ...zoo.Option) *zoo.Cache {
		c, err := zoo.New(append([]zoo.Option{zoo.WithStore(open(t, t.TempDir())), zoo.WithNamespace("shop"),
			zoo.WithLogger(quiet())}, opts...)...)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	})
}
