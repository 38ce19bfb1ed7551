package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/store"
)

type batcher interface {
	store.Store
	store.Batcher
}

type batchWriter interface {
	store.Store
	store.BatchWriter
}

type freshBatcher interface {
	store.Shared
	store.FreshBatcher
}

// requireMany checks that read returns, for keys, the entries of want in
// order, nil for a miss.
func requireMany(t *testing.T, read func([]string) ([]*store.Entry, error), keys []string, want []*store.Entry) {
	t.Helper()
	got, err := read(keys)
	require.NoError(t, err, "reading %q", keys)
	require.Len(t, got, len(keys), "one entry per key")
	for i := range keys {
		if want[i] == nil {
			require.Nil(t, got[i], "%q: want a miss", keys[i])
			continue
		}
		require.NotNil(t, got[i], "%q: want an entry", keys[i])
		requireEntry(t, want[i], got[i])
	}
}

// testGetMany: GetMany returns what Get returns for each key, in the order
// asked, misses and expired entries as nil, a key asked twice twice.
func testGetMany(t *testing.T, s batcher) {
	a := newEntry(t, s, newSample(1, "a"), key(t, "tag:a"))
	b := newEntry(t, s, newSample(2, "b"), key(t, "tag:b"))
	expired := newEntry(t, s, newSample(3, "expired"))
	expired.Expires = time.Now().Add(-time.Second)
	requireSet(t, s, key(t, "a"), a)
	requireSet(t, s, key(t, "b"), b)
	requireSet(t, s, key(t, "expired"), expired)

	read := func(keys []string) ([]*store.Entry, error) { return s.GetMany(t.Context(), keys) }
	requireMany(t, read, nil, nil)
	requireMany(t, read, []string{key(t, "b"), key(t, "missing"), key(t, "a"), key(t, "expired"), key(t, "b")},
		[]*store.Entry{b, nil, a, nil, b})
}

// testGetFreshMany: GetFreshMany returns what GetFresh returns for each
// key: an entry a recorded invalidation made stale is a miss, the others
// are served in the same read.
func testGetFreshMany(t *testing.T, s freshBatcher) {
	org := key(t, "org")
	one := newEntry(t, s, newSample(1, "one"), org+":1:product:1")
	two := newEntry(t, s, newSample(2, "two"), org+":1:product:2")
	other := newEntry(t, s, newSample(3, "other"), org+":2:product:1")
	requireSet(t, s, key(t, "one"), one)
	requireSet(t, s, key(t, "two"), two)
	requireSet(t, s, key(t, "other"), other)

	read := func(keys []string) ([]*store.Entry, error) { return s.GetFreshMany(t.Context(), keys) }
	keys := []string{key(t, "one"), key(t, "two"), key(t, "missing"), key(t, "other")}
	requireMany(t, read, keys, []*store.Entry{one, two, nil, other})

	requireInvalidate(t, s, 0, org+":1:product:2")
	requireMany(t, read, keys, []*store.Entry{one, nil, nil, other})
	requireInvalidate(t, s, 0, org+":1")
	requireMany(t, read, keys, []*store.Entry{nil, nil, nil, other})
}

// testSetMany: SetMany stores each entry under its key, as Set does: an
// expired entry removes what was stored under its key.
func testSetMany(t *testing.T, s batchWriter) {
	a := newEntry(t, s, newSample(1, "a"), key(t, "tag:a"))
	b := newEntry(t, s, newSample(2, "b"), key(t, "tag:b"))
	old := newEntry(t, s, newSample(3, "old"))
	requireSet(t, s, key(t, "gone"), old)
	gone := newEntry(t, s, newSample(4, "gone"))
	gone.Expires = time.Now().Add(-time.Second)
	require.NoError(t, s.SetMany(t.Context(), nil, nil), "SetMany of nothing")
	require.NoError(t, s.SetMany(t.Context(), []string{key(t, "a"), key(t, "gone"), key(t, "b")}, []*store.Entry{a, gone, b}))
	requireGet(t, s, key(t, "a"), a)
	requireGet(t, s, key(t, "b"), b)
	requireMiss(t, s, key(t, "gone"))
	require.Error(t, s.SetMany(t.Context(), []string{key(t, "a")}, nil), "keys and entries of different lengths")
}
