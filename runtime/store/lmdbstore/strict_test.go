package lmdbstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

// strictReader is a store whose cache hears of no invalidation (its events
// are dropped) and that counts the strict reads of whole entries.
type strictReader struct {
	*lmdbstore.Store
	getFresh atomic.Int64
}

func (s *strictReader) Attach(ns string, fn func(store.Event)) error {
	return s.Store.Attach(ns, func(ev store.Event) {
		if ev.Kind != store.EventInvalidate || len(ev.Tags) == 0 {
			fn(ev)
		}
	})
}

func (s *strictReader) GetFresh(ctx context.Context, key string) (*store.Entry, error) {
	s.getFresh.Add(1)
	return s.Store.GetFresh(ctx, key)
}

// TestStrictCopyAfterOtherProcessInvalidates: in strict mode a cache keeps
// decoded values in its memory tier and has the file confirm each copy
// before serving it. This cache hears of no invalidation, so only that
// check can tell it: a read that starts after another process's
// Invalidate returned never returns the copy, and copies that are still
// fresh are served without reading the entry again.
func TestStrictCopyAfterOtherProcessInvalidates(t *testing.T) {
	h := newHost(t)
	s := &strictReader{Store: open(t, h.store)}
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("shop"), zoo.WithConsistency(zoo.Strict), zoo.WithLogger(quiet()))
	require.NoError(t, err)
	defer c.Close()
	m := c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})
	db := &rows{dir: h.db}
	loads := 0
	get := func() int64 {
		v, err := zoo.Load(context.Background(), m, zoo.KeyInt(m.Key(nil), 1), func(ctx context.Context) (int64, error) {
			zoo.AddDeps(ctx, zoo.Tag("item", 1))
			loads++
			return db.read(1), nil
		})
		require.NoError(t, err)
		return v
	}
	b := h.start("B", workerConfig{mode: zoo.Strict, ns: "shop"})
	get()
	for i := range 30 {
		reads, before := s.getFresh.Load(), loads
		assert.Equal(t, int64(i), get())
		require.Equal(t, reads, s.getFresh.Load(), "iteration %d: a fresh copy was read again", i)
		require.Equal(t, before, loads, "iteration %d: a fresh copy was loaded again", i)
		v, _ := b.update(1)
		require.Equal(t, v, get(), "iteration %d: the copy was served after the invalidation returned", i)
	}
}
