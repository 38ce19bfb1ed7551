package lmdbstore_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

// TestCache runs a cache on the store in both modes: hits, invalidation of
// a tag, of a prefix, and of a sibling.
func TestCache(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			d := newDB()
			d.write(1)
			in := newInstance(t, open(t, t.TempDir()), d, zoo.WithConsistency(mode))
			ctx := context.Background()
			assert.Equal(t, int64(1), in.get(t, 1))
			assert.Equal(t, int64(1), in.get(t, 1))
			assert.Equal(t, int64(1), d.loads.Load(), "the second read is a hit")

			v := d.write(1)
			require.NoError(t, in.cache.Invalidate(ctx, zoo.Tag("org", 1, "item", 1)))
			assert.Equal(t, v, in.get(t, 1))
			assert.Equal(t, int64(2), d.loads.Load())

			require.NoError(t, in.cache.Invalidate(ctx, zoo.Tag("org", 2)))
			in.get(t, 1)
			assert.Equal(t, int64(2), d.loads.Load(), "a sibling's invalidation changes nothing")

			v = d.write(1)
			require.NoError(t, in.cache.Invalidate(ctx, zoo.Tag("org", 1)))
			assert.Equal(t, v, in.get(t, 1), "a prefix invalidation reaches the entry")
			assert.Equal(t, int64(3), d.loads.Load())
		})
	}
}

// TestReopen: entries and invalidations survive a restart. The entry an
// invalidation made stale is still in the file, and is never served.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir)
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	asOf, err := s.Now(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "stale", entry("old", asOf, "org:1:item:1")))
	require.NoError(t, s.Set(ctx, "fresh", entry("kept", asOf, "org:2")))
	_, err = s.Invalidate(ctx, []string{"org:1"}, 0)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = open(t, dir)
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	e, err := s.Get(ctx, "stale")
	require.NoError(t, err)
	assert.Nil(t, e, "the invalidation holds after a restart")
	e, err = s.Get(ctx, "fresh")
	require.NoError(t, err)
	require.NotNil(t, e)
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Equal(t, uint64(2), st.Entries, "the stale entry is still in the file")
	now, err := s.Now(ctx)
	require.NoError(t, err)
	assert.Greater(t, now, asOf)
}

// TestStaleSet: an entry whose load began before an invalidation of one of
// its tags is not stored; one loaded after it is, and carries the versions
// of its tags.
func TestStaleSet(t *testing.T) {
	s := open(t, t.TempDir())
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	before, err := s.Now(ctx)
	require.NoError(t, err)
	v, err := s.Invalidate(ctx, []string{"org:1"}, 0)
	require.NoError(t, err)
	require.Greater(t, v, before)

	require.NoError(t, s.Set(ctx, "k", entry("stale", before, "org:1:item:1")))
	e, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, e, "the stale set was refused")

	require.NoError(t, s.Set(ctx, "k", entry("other", before, "org:2:item:1")))
	e, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.NotNil(t, e, "another tag's entry is stored")

	after, err := s.Now(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, after, v)
	require.NoError(t, s.Set(ctx, "k", entry("fresh", after, "org:1:item:1")))
	e, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.NotNil(t, e)
	assert.Equal(t, map[string]hlc.Timestamp{"org:1": v}, e.TagVersions, "the versions of its tags' paths, for passive resynchronisation")
}

// TestClock: every version Invalidate issues is later than every timestamp
// Now returned before it and than min, and Now never returns less than a
// version issued.
func TestClock(t *testing.T) {
	s := open(t, t.TempDir())
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	var last hlc.Timestamp
	for i := range 300 {
		n, err := s.Now(ctx)
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, last, "Now went back")
		var min hlc.Timestamp
		if i%50 == 0 {
			min = hlc.FromTime(time.Now().Add(time.Second)) // a caller whose clock is ahead
		}
		v, err := s.Invalidate(ctx, []string{fmt.Sprint("t:", i%7)}, min)
		require.NoError(t, err)
		require.Greater(t, v, n)
		require.Greater(t, v, min)
		last = v
	}
}

// TestEvents: a store reports Down, the recorded versions and Up, then
// every invalidation, its own included.
func TestEvents(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir)
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	v1, err := s.Invalidate(ctx, []string{"org:1", "user:7"}, 0)
	require.NoError(t, err)
	require.NoError(t, s.Prune(ctx, time.Hour))
	require.NoError(t, s.Close())

	s = open(t, dir)
	ev := newEvents()
	require.NoError(t, s.Attach("shop", ev.fn))
	ev.waitFor(t, func(all []store.Event) bool { return ev.upCount() == 1 }, "never up")
	all := ev.snapshot()
	assert.Equal(t, store.EventDown, all[0].Kind, "Down comes first")
	assert.Equal(t, store.EventUp, all[len(all)-1].Kind)
	assert.GreaterOrEqual(t, all[len(all)-1].Version, v1, "Up carries the clock")
	replayed := map[string]hlc.Timestamp{}
	for _, e := range all[1 : len(all)-1] {
		require.Equal(t, store.EventInvalidate, e.Kind)
		if len(e.Tags) == 0 {
			replayed["<horizon>"] = e.Version
			continue
		}
		replayed[e.Tags[0]] = e.Version
	}
	assert.Equal(t, v1, replayed["org:1"])
	assert.Equal(t, v1, replayed["user:7"])
	assert.Contains(t, replayed, "<horizon>")

	v2, err := s.Invalidate(ctx, []string{"org:2:item:3"}, 0)
	require.NoError(t, err)
	ev.waitFor(t, func(all []store.Event) bool {
		last := all[len(all)-1]
		return last.Kind == store.EventInvalidate && slices.Equal(last.Tags, []string{"org:2:item:3"}) && last.Version == v2
	}, "its own invalidation never arrived")

	require.Error(t, s.Attach("shop", ev.fn), "attached twice")
	require.Error(t, open(t, t.TempDir()).Attach(strings.Repeat("n", 256), ev.fn), "a namespace over 255 bytes")
}

// TestFallingBehindTheLog: a store that has not read the log records
// before they were trimmed reports Down, reads every version, and reports
// Up again; no invalidation is lost.
func TestFallingBehindTheLog(t *testing.T) {
	s := open(t, t.TempDir(), lmdbstore.WithLogLimit(4), lmdbstore.WithPollInterval(300*time.Millisecond))
	ev := newEvents()
	require.NoError(t, s.Attach("shop", ev.fn))
	ev.waitFor(t, func([]store.Event) bool { return ev.upCount() == 1 }, "never up")
	ctx := context.Background()
	want := map[string]hlc.Timestamp{}
	for i := range 20 { // within one poll interval
		tag := fmt.Sprint("item:", i)
		v, err := s.Invalidate(ctx, []string{tag}, 0)
		require.NoError(t, err)
		want[tag] = v
	}
	ev.waitFor(t, func([]store.Event) bool { return ev.upCount() == 2 }, "never resynchronised")
	all := ev.snapshot()
	got := map[string]hlc.Timestamp{}
	downs := 0
	for _, e := range all {
		switch {
		case e.Kind == store.EventDown:
			downs++
		case e.Kind == store.EventInvalidate && len(e.Tags) == 1:
			got[e.Tags[0]] = e.Version
		}
	}
	assert.Equal(t, 2, downs, "Down at the start and when it fell behind")
	assert.Equal(t, want, got)
	st, err := s.Stats()
	require.NoError(t, err)
	assert.LessOrEqual(t, st.LogRecords, uint64(4), "the log is trimmed to its bound")
}

// TestCorruptLogRecord: a log record that does not decode cannot say what
// it invalidated; the store reads every version instead, and goes on.
func TestCorruptLogRecord(t *testing.T) {
	s := open(t, t.TempDir())
	ev := newEvents()
	require.NoError(t, s.Attach("shop", ev.fn))
	ev.waitFor(t, func([]store.Event) bool { return ev.upCount() == 1 }, "never up")
	ctx := context.Background()
	v1, err := s.Invalidate(ctx, []string{"a"}, 0)
	require.NoError(t, err)
	require.NoError(t, s.AppendRawLog([]byte("\x93\xa4shop"))) // an array cut short
	v2, err := s.Invalidate(ctx, []string{"b"}, 0)
	require.NoError(t, err)
	ev.waitFor(t, func(all []store.Event) bool {
		var a, b bool
		for _, e := range all {
			a = a || slices.Equal(e.Tags, []string{"a"}) && e.Version == v1
			b = b || slices.Equal(e.Tags, []string{"b"}) && e.Version == v2
		}
		return a && b && ev.upCount() == 2
	}, "the invalidations around a corrupt record were not all delivered")
	v3, err := s.Invalidate(ctx, []string{"c"}, 0)
	require.NoError(t, err)
	ev.waitFor(t, func(all []store.Event) bool {
		return slices.ContainsFunc(all, func(e store.Event) bool { return slices.Equal(e.Tags, []string{"c"}) && e.Version == v3 })
	}, "the log is not read after the corrupt record")
}

// TestPrune: pruning raises the horizon, so entries loaded before it are
// stale, and forgets the versions older than it.
func TestPrune(t *testing.T) {
	s := open(t, t.TempDir())
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	asOf, err := s.Now(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", entry("v", asOf, "org:1")))
	for i := range 50 {
		_, err := s.Invalidate(ctx, []string{fmt.Sprint("item:", i), strings.Repeat("long:", 200) + fmt.Sprint(i)}, 0)
		require.NoError(t, err)
	}
	require.NoError(t, s.Prune(ctx, time.Hour))
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Equal(t, uint64(100), st.Versions, "versions younger than the horizon stay")
	e, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.NotNil(t, e)

	time.Sleep(20 * time.Millisecond) // the wall clock passes every version
	require.NoError(t, s.Prune(ctx, 0))
	st, err = s.Stats()
	require.NoError(t, err)
	assert.Zero(t, st.Versions, "every version is older than the horizon")
	e, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, e, "an entry loaded before the horizon is stale")

	now, err := s.Now(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", entry("v", now, "org:1")))
	e, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.NotNil(t, e, "an entry loaded after the horizon is fresh")
}

// TestCorruptEntry: bytes in the file that are not an entry are an error
// wrapping store.ErrCorrupt from the store, a miss and no error through the
// cache, a count in Corrupt, and deleted soon after.
func TestCorruptEntry(t *testing.T) {
	s := open(t, t.TempDir(), lmdbstore.WithReapInterval(10*time.Millisecond))
	d := newDB()
	in := newInstance(t, s, d, zoo.WithConsistency(zoo.Strict))
	ctx := context.Background()
	in.get(t, 9)
	future := binary.BigEndian.AppendUint64([]byte{1}, uint64(time.Now().Add(time.Hour).UnixMilli()))
	garbage := [][]byte{
		nil,
		[]byte("x"),
		[]byte("not an entry at all"),
		slices.Concat(future, []byte("zo\x01\x00\x94\xc1")),             // a frame cut short
		slices.Concat(future, []byte("zo\x09\x00\x94\x00\x00\x90\xc0")), // an unknown format version
		binary.BigEndian.AppendUint64([]byte{2}, 1<<62),                 // a hashed entry without its key
		slices.Concat(future, []byte{0xff, 0xfe, 0}),                    // not a frame at all
	}
	for i, g := range garbage {
		require.NoError(t, s.PutRaw(in.key(9), g))
		_, err := s.Get(ctx, in.key(9))
		require.ErrorIs(t, err, store.ErrCorrupt, "garbage %d", i)
		require.NotPanics(t, func() { in.get(t, 9) }, "garbage %d", i)
		assert.Equal(t, int64(i+2), d.loads.Load(), "garbage %d is a miss through the cache", i)
	}
	// The store's reads, and at least one of the cache's for each.
	assert.GreaterOrEqual(t, s.Corrupt(), uint64(2*len(garbage)), "each read of a corrupt value counts")

	require.NoError(t, s.PutRaw("junk", []byte("junk")))
	_, err := s.Get(ctx, "junk")
	require.ErrorIs(t, err, store.ErrCorrupt)
	eventually(t, 5*time.Second, func() bool {
		e, err := s.Get(ctx, "junk")
		return e == nil && err == nil
	}, "the corrupt value was never deleted")
}

// TestReboot: after a reboot (another boot id), the file may have lost
// transactions or been damaged; the store starts from an empty one. Without
// a boot id to compare, it keeps the file.
func TestReboot(t *testing.T) {
	restore := lmdbstore.SetBootID("boot-1")
	defer restore()
	dir := t.TempDir()
	ctx := context.Background()
	reopen := func() *lmdbstore.Store {
		s := open(t, dir)
		require.NoError(t, s.Attach("shop", func(store.Event) {}))
		return s
	}
	s := reopen()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", entry("v", now, "org:1")))
	_, err = s.Invalidate(ctx, []string{"org:2"}, 0)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = reopen()
	e, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.NotNil(t, e, "the same boot keeps the file")
	require.NoError(t, s.Close())

	lmdbstore.SetBootID("boot-2")
	s = reopen()
	e, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, e, "another boot starts empty")
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Zero(t, st.Entries)
	assert.Zero(t, st.Versions)
	require.NoError(t, s.Set(ctx, "k", entry("v", now, "org:1")))
	require.NoError(t, s.Close())

	lmdbstore.SetBootID("")
	s = reopen()
	e, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.NotNil(t, e, "an unknown boot keeps the file")
}

// TestExpiry: expired entries are never served, and the reaper deletes
// them.
func TestExpiry(t *testing.T) {
	s := open(t, t.TempDir(), lmdbstore.WithReapInterval(10*time.Millisecond))
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	for i := range 1200 {
		e := entry(i, now)
		if i%100 != 0 {
			e.Expires = time.Now().Add(50 * time.Millisecond)
		}
		require.NoError(t, s.Set(ctx, fmt.Sprint("k", i), e))
	}
	time.Sleep(60 * time.Millisecond)
	e, err := s.Get(ctx, "k1")
	require.NoError(t, err)
	assert.Nil(t, e, "expired")
	eventually(t, 5*time.Second, func() bool {
		st, err := s.Stats()
		return err == nil && st.Entries == 12
	}, "the expired entries were never reaped")
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Equal(t, uint64(1188), st.Reaped)
	for i := 0; i < 1200; i += 100 {
		e, err := s.Get(ctx, fmt.Sprint("k", i))
		require.NoError(t, err)
		assert.NotNil(t, e, "k%d does not expire for an hour", i)
	}
}

func noiseBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestFullMap: writers that put ten times what a 2 MiB map holds, with
// values of a page or more among them, never get an error; the entries
// written last are kept, and invalidations are still recorded.
func TestFullMap(t *testing.T) {
	s := open(t, t.TempDir(), lmdbstore.WithMapSize(2<<20))
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 600 {
				now, err := s.Now(ctx)
				if !assert.NoError(t, err) {
					return
				}
				size := 1 << 10
				if i%5 == 0 {
					size = 6 << 10 // overflow pages, which need runs of free pages
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				if !assert.NoError(t, s.Set(ctx, key, entry(noiseBytes(size), now, key)), key) {
					return
				}
				if i%50 == 0 {
					_, err := s.Invalidate(ctx, []string{key}, 0)
					if !assert.NoError(t, err) {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Positive(t, st.Evicted)
	assert.LessOrEqual(t, st.UsedBytes, st.MapSize)
	// The entries written last are kept.
	for i := range 20 {
		require.NoError(t, s.Set(ctx, fmt.Sprint("last-", i), entry(noiseBytes(1<<10), hlc.FromTime(time.Now()))))
	}
	for i := range 20 {
		e, err := s.Get(ctx, fmt.Sprint("last-", i))
		require.NoError(t, err)
		assert.NotNil(t, e, "last-%d was evicted", i)
	}
	t.Logf("%d entries in the map, %d evicted, %d of %d bytes in use", st.Entries, st.Evicted, st.UsedBytes, st.MapSize)
}

// TestFullOfFreedPages: a write that finds the map full when there is
// nothing left to evict, because the pages just freed are not yet free to
// reuse, makes them reusable and succeeds. LMDB reuses the pages a
// transaction frees only once a later one has committed; here the reaper
// frees most of the map in one transaction and the next write needs more
// than the rest.
func TestFullOfFreedPages(t *testing.T) {
	const mapSize = 2 << 20
	s := open(t, t.TempDir(), lmdbstore.WithMapSize(mapSize), lmdbstore.WithReapInterval(10*time.Millisecond))
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	expires := time.Now().Add(time.Second)
	for i := 0; ; i++ {
		st, err := s.Stats()
		require.NoError(t, err)
		if st.UsedBytes > mapSize*8/10 {
			break
		}
		e := entry(noiseBytes(6<<10), now)
		e.Expires = expires
		require.NoError(t, s.Set(ctx, fmt.Sprint("k", i), e))
	}
	eventually(t, 5*time.Second, func() bool {
		st, err := s.Stats()
		return err == nil && st.Entries == 0
	}, "the expired entries were never reaped")

	// A quarter of the map, the most an entry may take: more than the map
	// has left after the pages the reaper freed.
	big := entry(noiseBytes(mapSize/4-1<<10), now)
	require.NoError(t, s.Set(ctx, "big", big))
	e, err := s.Get(ctx, "big")
	require.NoError(t, err)
	assert.NotNil(t, e)
}

// TestEntryTooLarge: an entry that cannot fit the map is an error, and
// evicts nothing.
func TestEntryTooLarge(t *testing.T) {
	s := open(t, t.TempDir(), lmdbstore.WithMapSize(2<<20))
	ctx := context.Background()
	require.NoError(t, s.Set(ctx, "small", entry("v", 1)))
	err := s.Set(ctx, "big", entry(noiseBytes(1<<20), 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "zoo: lmdbstore:")
	e, err := s.Get(ctx, "small")
	require.NoError(t, err)
	assert.NotNil(t, e)
}

// TestLongKeysAndTags: keys and tag paths longer than LMDB's keys are
// stored under their SHA-256, and work like short ones.
func TestLongKeysAndTags(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	require.NoError(t, s.Attach("shop", func(store.Event) {}))
	ctx := context.Background()
	long := "org:" + strings.Repeat("x", 700)
	key := strings.Repeat("k", 3000)
	now, err := s.Now(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, key, entry("v", now, long+":item:1")))
	e, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.NotNil(t, e)
	e, err = s.Get(ctx, key[:2999]+"j")
	require.NoError(t, err)
	assert.Nil(t, e, "another long key")

	// The SHA-256 of another key, were there one: the full key in the
	// value tells them apart.
	frame, err := codec.Codec{}.Encode(entry("other", now))
	require.NoError(t, err)
	require.NoError(t, s.PutHashed(key[:2999]+"j", key[:2999]+"i", frame))
	e, err = s.Get(ctx, key[:2999]+"j")
	require.NoError(t, err)
	assert.Nil(t, e, "an entry stored for another key is never served")

	v, err := s.Invalidate(ctx, []string{long}, 0)
	require.NoError(t, err)
	e, err = s.Get(ctx, key)
	require.NoError(t, err)
	assert.Nil(t, e, "invalidating a long prefix reaches the entry")
	require.NoError(t, s.Close())

	s = open(t, dir)
	ev := newEvents()
	require.NoError(t, s.Attach("shop", ev.fn))
	ev.waitFor(t, func(all []store.Event) bool {
		return slices.ContainsFunc(all, func(e store.Event) bool { return slices.Equal(e.Tags, []string{long}) && e.Version == v })
	}, "the long tag's version was not replayed")
}

// TestClosed: after Close every method fails with store.ErrClosed.
func TestClosed(t *testing.T) {
	s := open(t, t.TempDir())
	require.NoError(t, s.Close())
	ctx := context.Background()
	_, err := s.Now(ctx)
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = s.Invalidate(ctx, []string{"a"}, 0)
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.ErrorIs(t, s.Prune(ctx, time.Minute), store.ErrClosed)
	_, err = s.GetFresh(ctx, "k")
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.ErrorIs(t, s.Attach("ns", func(store.Event) {}), store.ErrClosed)
	_, err = s.Stats()
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.NoError(t, s.Close())
}

// TestOpenTwice: a directory open in this process cannot be opened again
// until it is closed (LMDB's locks are per process).
func TestOpenTwice(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	_, err := lmdbstore.Open(dir + "/.")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already open")
	require.NoError(t, s.Close())
	open(t, dir)
}

// TestBadOptions: Open refuses options it cannot work with.
func TestBadOptions(t *testing.T) {
	for _, o := range []lmdbstore.Option{
		lmdbstore.WithMapSize(1 << 10),
		lmdbstore.WithPollInterval(0),
		lmdbstore.WithReapInterval(-time.Second),
	} {
		_, err := lmdbstore.Open(t.TempDir(), o)
		assert.Error(t, err)
	}
}
