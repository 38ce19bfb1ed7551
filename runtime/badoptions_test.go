package runtime_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// TestNegativeLocalTierIsRejected: a negative local tier size is an error
// naming the value, not the default it used to fall back to.
func TestNegativeLocalTierIsRejected(t *testing.T) {
	for _, n := range []int{-1, -5} {
		_, err := zoo.New(zoo.WithLocalTier(n))
		require.ErrorIs(t, err, zoo.ErrBadOption)
		require.ErrorContains(t, err, fmt.Sprintf("local tier size %d is negative", n))
	}
	c, err := zoo.New(zoo.WithLocalTier(0))
	require.NoError(t, err)
	require.NoError(t, c.Close())
}

// TestOneBadOptionSentinel: the cache, the memory store and the HTTP
// middleware reject bad options with one sentinel error.
func TestOneBadOptionSentinel(t *testing.T) {
	require.Same(t, store.ErrBadOption, zoo.ErrBadOption)
	_, err := memstore.New(memstore.WithMaxEntries(-1))
	require.ErrorIs(t, err, zoo.ErrBadOption)
}
