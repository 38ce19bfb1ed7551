package lmdbstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/hlc"
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

// TestCheckRemembers: a copy Check found fresh is confirmed again without
// reading the file while nothing that could make it unservable has been
// written, in this process or another; each such write (an invalidation of
// one of its paths, another process's invalidation, a raised horizon, the
// entry deleted or stored again) makes the next Check read the file and
// answer false. Writes that cannot (an entry stored under another key, an
// unrelated invalidation) cost one read, never a wrong answer.
func TestCheckRemembers(t *testing.T) {
	h := newHost(t)
	s := open(t, h.store)
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	const key = "shop|item|1"
	copyOf := func() *store.Entry {
		now, err := s.Now(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Set(ctx, key, entry(int64(1), now, "org:1:item:1")))
		e, err := s.GetFresh(ctx, key)
		require.NoError(t, err)
		require.NotNil(t, e)
		return e
	}
	check := func(e *store.Entry) (fresh bool, read bool) {
		before := s.SlowChecks()
		fresh, err := s.Check(ctx, key, e)
		require.NoError(t, err)
		return fresh, s.SlowChecks() != before
	}
	remembered := func(e *store.Entry) {
		t.Helper()
		fresh, _ := check(e)
		require.True(t, fresh)
		for range 100 {
			fresh, read := check(e)
			require.True(t, fresh)
			require.False(t, read, "a copy checked fresh is read again with nothing written")
		}
	}
	changes := []struct {
		name  string
		write func()
	}{
		{"invalidate", func() { _, err := s.Invalidate(ctx, []string{"org:1"}, 0); require.NoError(t, err) }},
		{"other process invalidates", func() { h.start("B", workerConfig{ns: "shop"}).do("update 99") }},
		{"delete", func() { require.NoError(t, s.Delete(ctx, key)) }},
		{"set again", func() {
			now, err := s.Now(ctx)
			require.NoError(t, err)
			again := entry(int64(1), now, "org:1:item:1")
			again.Expires = again.Expires.Add(time.Hour) // an entry's expiry stands for its identity
			require.NoError(t, s.Set(ctx, key, again))
		}},
		{"prune", func() { require.NoError(t, s.Prune(ctx, -time.Minute)) }}, // last: nothing is fresh after it
	}
	// Writes that change nothing a copy depends on leave it remembered.
	e := copyOf()
	remembered(e)
	require.NoError(t, s.Set(ctx, "shop|item|2", entry(int64(2), hlc.FromTime(time.Now()), "org:1:item:2")))
	_, err := s.Now(ctx)
	require.NoError(t, err)
	_, read := check(e)
	assert.False(t, read, "storing another key's entry forgets nothing")

	for _, c := range changes {
		e := copyOf()
		remembered(e)
		c.write()
		fresh, read := check(e)
		assert.True(t, read, "%s: the file is read", c.name)
		if c.name == "other process invalidates" {
			// item:99 is not a path of e's: still fresh, and remembered again.
			assert.True(t, fresh, c.name)
			remembered(e)
			continue
		}
		assert.False(t, fresh, "%s: the copy is no longer confirmed", c.name)
	}

}

// TestStrictHitDoesNotAllocate: a strict hit served from the memory tier,
// confirmed by the store, allocates nothing, as a memory hit does: the key
// stays in the caller's buffer, and the store is given the tier's own.
func TestStrictHitDoesNotAllocate(t *testing.T) {
	s := open(t, t.TempDir())
	_, m := benchCache(t, zoo.WithStore(s), zoo.WithConsistency(zoo.Strict))
	loads := 0
	getProduct(t, m, 3, &loads)
	before := s.SlowChecks()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { getProduct(t, m, 3, &loads) }))
	assert.Equal(t, before+1, s.SlowChecks(), "the store read the file once, then confirmed the copy from its memo")
	assert.Equal(t, 1, loads)
}

// TestCheckRemembersManyKeys: the store remembers the checked copies of a
// thousand keys at once; going round them again reads the file for almost
// none. (With one slot per hash, about 60 of the 1,024 took turns and were
// read on every round.)
func TestCheckRemembersManyKeys(t *testing.T) {
	s := open(t, t.TempDir())
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	const n = 1024
	copies := make([]*store.Entry, n)
	for i := range n {
		key := fmt.Sprint("shop|item|", i)
		require.NoError(t, s.Set(ctx, key, entry(int64(i), now, fmt.Sprint("org:1:item:", i))))
		copies[i], err = s.GetFresh(ctx, key)
		require.NoError(t, err)
		require.NotNil(t, copies[i])
	}
	round := func() uint64 {
		before := s.SlowChecks()
		for i, e := range copies {
			fresh, err := s.Check(ctx, fmt.Sprint("shop|item|", i), e)
			require.NoError(t, err)
			require.True(t, fresh)
		}
		return s.SlowChecks() - before
	}
	assert.Equal(t, uint64(n), round(), "the first round reads every copy")
	for range 3 {
		// Five keys of a thousand share one set of four in about one
		// table in forty; they take turns.
		assert.LessOrEqual(t, round(), uint64(4), "copies read again with nothing written")
	}
}
