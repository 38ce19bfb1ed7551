package memstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return mustNew(t) })
}

func TestContractWeighted(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return mustNew(t, WithMaxWeight(1<<30, func(string, *store.Entry) uint32 { return 1 }))
	})
}

// mustNew returns a store made with opts, which are valid. The test closes
// it when it ends, if it has not closed it itself.
func mustNew(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	s, err := New(opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// fakeClock is a time source the test moves by hand.
type fakeClock struct{ nanos atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time                  { return time.Unix(0, c.nanos.Load()) }
func (c *fakeClock) Advance(d time.Duration)         { c.nanos.Add(int64(d)) }
func (c *fakeClock) After(d time.Duration) time.Time { return c.Now().Add(d) }

func newClocked(t *testing.T, opts ...Option) (*Store, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	s := mustNew(t, append([]Option{WithClock(clk.Now)}, opts...)...)
	return s, clk
}

func entry(v any, expires time.Time) *store.Entry {
	return &store.Entry{Value: v, Expires: expires, Tags: []string{"t"}}
}

func get(t *testing.T, s *Store, key string) *store.Entry {
	t.Helper()
	e, err := s.Get(t.Context(), key)
	require.NoError(t, err)
	return e
}

func set(t *testing.T, s *Store, key string, e *store.Entry) {
	t.Helper()
	require.NoError(t, s.Set(t.Context(), key, e))
}

func TestExpiresExactlyAtExpires(t *testing.T) {
	s, clk := newClocked(t)
	e := entry("v", clk.After(10*time.Second))
	set(t, s, "k", e)

	clk.Advance(10*time.Second - time.Nanosecond)
	require.Equal(t, e, get(t, s, "k"), "one nanosecond before Expires")
	clk.Advance(time.Nanosecond)
	require.Nil(t, get(t, s, "k"), "at Expires")
	clk.Advance(time.Hour)
	require.Nil(t, get(t, s, "k"), "after Expires")
}

func TestOverwriteMovesExpiry(t *testing.T) {
	s, clk := newClocked(t)

	// Earlier: the second entry's Expires wins.
	set(t, s, "earlier", entry(1, clk.After(10*time.Second)))
	second := entry(2, clk.After(5*time.Second))
	set(t, s, "earlier", second)
	// Later, and from an expiring entry to one that never expires.
	set(t, s, "later", entry(1, clk.After(5*time.Second)))
	later := entry(2, clk.After(20*time.Second))
	set(t, s, "later", later)
	set(t, s, "never", entry(1, clk.After(5*time.Second)))
	never := entry(2, time.Time{})
	set(t, s, "never", never)

	clk.Advance(5*time.Second - time.Nanosecond)
	require.Equal(t, second, get(t, s, "earlier"))
	clk.Advance(time.Nanosecond)
	require.Nil(t, get(t, s, "earlier"))
	clk.Advance(5 * time.Second)
	require.Equal(t, later, get(t, s, "later"))
	require.Equal(t, never, get(t, s, "never"))
	clk.Advance(10 * time.Second)
	require.Nil(t, get(t, s, "later"))
	require.Equal(t, never, get(t, s, "never"))
}

func TestZeroExpiresNeverExpires(t *testing.T) {
	s, clk := newClocked(t)
	e := entry("v", time.Time{})
	set(t, s, "k", e)
	clk.Advance(200 * 365 * 24 * time.Hour)
	s.cache.CleanUp()
	require.Equal(t, e, get(t, s, "k"))
}

func TestFarFutureExpires(t *testing.T) {
	s, clk := newClocked(t)
	// Beyond what UnixNano can represent: saturates rather than wraps.
	e := entry("v", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
	set(t, s, "k", e)
	clk.Advance(100 * 365 * 24 * time.Hour)
	require.Equal(t, e, get(t, s, "k"))
}

func TestSetExpiredIsNotStored(t *testing.T) {
	s, clk := newClocked(t)
	set(t, s, "past", entry(1, clk.After(-time.Second)))
	set(t, s, "now", entry(1, clk.Now()))
	require.Nil(t, get(t, s, "past"))
	require.Nil(t, get(t, s, "now"))

	set(t, s, "k", entry(1, clk.After(time.Hour)))
	set(t, s, "k", entry(2, clk.Now()))
	require.Nil(t, get(t, s, "k"), "an expired Set removes the live entry")

	s.cache.CleanUp()
	require.Zero(t, s.Len())
}

// TestExpiryRacingSet: an entry whose Expires passes between Set's check and
// otter's write is not served with the deadline of the entry it replaced.
func TestExpiryRacingSet(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// After the first read, the clock jumps a second ahead and moves on by a
	// nanosecond on every read: Set's check sees start, otter a second later.
	var reads atomic.Int64
	now := func() time.Time {
		n := reads.Add(1)
		if n == 1 {
			return start
		}
		return start.Add(time.Second + time.Duration(n))
	}
	s := mustNew(t, WithClock(now))

	reads.Store(0)
	set(t, s, "k", entry(1, start.Add(time.Hour)))
	reads.Store(0)
	set(t, s, "k", entry(2, start.Add(time.Millisecond)))
	require.Nil(t, get(t, s, "k"))
}

func TestMaxEntriesHoldsUnderOverload(t *testing.T) {
	const maxEntries = 100
	s, _ := newClocked(t, WithMaxEntries(maxEntries))
	for i := range 10 * maxEntries {
		set(t, s, fmt.Sprint("k", i), entry(i, time.Time{}))
	}
	s.cache.CleanUp()
	require.LessOrEqual(t, s.Len(), maxEntries)
	require.Positive(t, s.Len())
	require.EqualValues(t, 10*maxEntries-s.Len(), s.Evictions(), "every entry that is gone was evicted")
}

func TestMaxWeightHoldsUnderOverload(t *testing.T) {
	const maxBytes = 10_000
	weigh := func(_ string, e *store.Entry) uint32 { return uint32(len(e.Value.([]byte))) }
	s, _ := newClocked(t, WithMaxWeight(maxBytes, weigh))
	for i := range 1000 {
		set(t, s, fmt.Sprint("k", i), entry(make([]byte, 100), time.Time{}))
	}
	s.cache.CleanUp()
	require.True(t, s.cache.IsWeighted())
	require.LessOrEqual(t, s.cache.WeightedSize(), uint64(maxBytes))
	require.LessOrEqual(t, s.Len(), maxBytes/100)
	require.Positive(t, s.Len())
	require.EqualValues(t, 1000-s.Len(), s.Evictions())

	// An entry heavier than the bound is evicted at once.
	set(t, s, "huge", entry(make([]byte, maxBytes+1), time.Time{}))
	s.cache.CleanUp()
	require.Nil(t, get(t, s, "huge"))
}

func TestEvictionsCountOnlyOverflow(t *testing.T) {
	s, clk := newClocked(t, WithMaxEntries(1000))
	for i := range 100 {
		set(t, s, fmt.Sprint("k", i), entry(i, clk.After(time.Second)))
	}
	set(t, s, "k0", entry("replaced", clk.After(time.Second)))
	require.NoError(t, s.Delete(t.Context(), "k1"))
	clk.Advance(2 * time.Second)
	s.sweep()
	s.cache.CleanUp()
	require.Zero(t, s.Len())
	require.Zero(t, s.Evictions(), "expiry, replacement and deletion are not evictions")
}

func TestOptions(t *testing.T) {
	weigh := func(string, *store.Entry) uint32 { return 1 }
	for _, tt := range []struct {
		name     string
		opts     []Option
		weighted bool
		max      uint64
	}{
		{"default", nil, false, DefaultMaxEntries},
		{"entries", []Option{WithMaxEntries(10)}, false, 10},
		{"weight", []Option{WithMaxWeight(1000, weigh)}, true, 1000},
		{"weight then entries", []Option{WithMaxWeight(1000, weigh), WithMaxEntries(10)}, false, 10},
		{"entries then weight", []Option{WithMaxEntries(10), WithMaxWeight(1000, weigh)}, true, 1000},
		{"bad entries, then weight", []Option{WithMaxEntries(-1), WithMaxWeight(1000, weigh)}, true, 1000},
		{"nil option", []Option{nil, WithClock(nil)}, false, DefaultMaxEntries},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, tt.opts...)
			require.Equal(t, tt.weighted, s.cache.IsWeighted())
			require.Equal(t, tt.max, s.cache.GetMaximum())
		})
	}
}

// TestBadOptions: New rejects an out-of-range option with an error that
// wraps store.ErrBadOption and names the value, instead of falling back to
// a default.
func TestBadOptions(t *testing.T) {
	weigh := func(string, *store.Entry) uint32 { return 1 }
	for _, tt := range []struct {
		opts []Option
		want string
	}{
		{[]Option{WithMaxEntries(0)}, "zoo: bad option: memstore: max entries 0 is not positive"},
		{[]Option{WithMaxEntries(-1)}, "zoo: bad option: memstore: max entries -1 is not positive"},
		{[]Option{WithMaxWeight(0, weigh)}, "zoo: bad option: memstore: max weight 0 is not positive"},
		{[]Option{WithMaxWeight(1000, nil)}, "zoo: bad option: memstore: max weight 1000 with a nil weigher"},
		{[]Option{WithMaxWeight(1000, weigh), WithMaxEntries(-3)}, "zoo: bad option: memstore: max entries -3 is not positive"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			s, err := New(tt.opts...)
			require.ErrorIs(t, err, store.ErrBadOption)
			require.EqualError(t, err, tt.want)
			require.Nil(t, s)
		})
	}
}

// TestDefaultClockIsCoarse: without WithClock, Get reads a coarse clock (no
// system clock read per Get), which Close stops, and otter reads no clock
// at all: it is configured exactly like a cache bounded by size alone.
func TestDefaultClockIsCoarse(t *testing.T) {
	s := mustNew(t)
	require.NotNil(t, s.coarse)
	cfg := config{maxEntries: DefaultMaxEntries}
	o := s.otterOptions(&cfg)
	require.Nil(t, o.Clock)
	require.Nil(t, o.ExpiryCalculator)

	// With the system clock, expiry still works: Set reads the precise time.
	set(t, s, "past", entry(1, time.Now().Add(-time.Millisecond)))
	require.Nil(t, get(t, s, "past"))
	e := entry(1, time.Now().Add(time.Hour))
	set(t, s, "k", e)
	require.Equal(t, e, get(t, s, "k"))

	c, _ := newClocked(t)
	require.Nil(t, c.coarse, "a store with WithClock has no coarse clock")
}

// TestSweepRemovesOnlyExpired: the sweep drops the entries that have
// expired, and none that has not.
func TestSweepRemovesOnlyExpired(t *testing.T) {
	s, clk := newClocked(t)
	live := entry("live", clk.After(time.Hour))
	never := entry("never", time.Time{})
	set(t, s, "live", live)
	set(t, s, "never", never)
	for i := range 10 {
		set(t, s, fmt.Sprint("k", i), entry(i, clk.After(time.Second)))
	}
	clk.Advance(time.Second)
	s.cache.CleanUp()
	require.Equal(t, 12, s.Len(), "expired entries stay until the sweep")
	s.sweep()
	s.cache.CleanUp()
	require.Equal(t, 2, s.Len())
	require.Equal(t, live, get(t, s, "live"))
	require.Equal(t, never, get(t, s, "never"))
}

// TestCoarseExpiryPrecision: with the system clock, an entry is served until
// its Expires and stops being served within about Resolution of it.
// Nothing here asserts a duration measured by the machine (it is shared and
// may stall): only a Get known to have returned before Expires must hit.
func TestCoarseExpiryPrecision(t *testing.T) {
	s := mustNew(t)
	e := entry(1, time.Now().Add(20*Resolution))
	set(t, s, "k", e)
	if got := get(t, s, "k"); time.Now().Before(e.Expires) {
		require.Equal(t, e, got, "a Get that returned before Expires")
	}
	require.Eventually(t, func() bool { return get(t, s, "k") == nil }, 10*time.Second, Resolution/2,
		"the entry expires once the coarse clock passes Expires")
}

func TestClose(t *testing.T) {
	s := mustNew(t)
	set(t, s, "k", entry(1, time.Time{}))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "second Close")
	require.Zero(t, s.Len(), "Close drops the entries")

	_, err := s.Get(t.Context(), "k")
	require.ErrorIs(t, err, store.ErrClosed)
	require.ErrorIs(t, s.Set(t.Context(), "k", entry(1, time.Time{})), store.ErrClosed)
	require.ErrorIs(t, s.Delete(t.Context(), "k"), store.ErrClosed)
	require.EqualError(t, err, "zoo: memstore: closed")

	// A store with a fake clock closes too.
	c, _ := newClocked(t)
	require.NoError(t, c.Close())
}

func TestSetNilEntry(t *testing.T) {
	s := mustNew(t)
	err := s.Set(t.Context(), "k", nil)
	require.Error(t, err)
	require.False(t, errors.Is(err, store.ErrClosed))
	require.Nil(t, get(t, s, "k"))
}

func TestGetAllocatesNothing(t *testing.T) {
	s := mustNew(t)
	ctx := context.Background()
	set(t, s, "hit", entry(1, time.Now().Add(time.Hour)))
	// The keys are built in buffers, as the cache does.
	buf, missBuf := []byte("hit"), []byte("miss")
	hitKey := unsafe.String(unsafe.SliceData(buf), len(buf))
	missKey := unsafe.String(unsafe.SliceData(missBuf), len(missBuf))

	hit := testing.AllocsPerRun(1000, func() {
		if e, _ := s.Get(ctx, hitKey); e == nil {
			panic("miss")
		}
	})
	miss := testing.AllocsPerRun(1000, func() {
		if e, _ := s.Get(ctx, missKey); e != nil {
			panic("hit")
		}
	})
	require.Zero(t, hit, "allocations per hit")
	require.Zero(t, miss, "allocations per miss")
}

// TestConcurrentWithEvictionAndExpiry runs readers and writers over more keys
// than the store holds while the clock moves, for the race detector.
func TestConcurrentWithEvictionAndExpiry(t *testing.T) {
	s, clk := newClocked(t, WithMaxEntries(64))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			ctx := t.Context()
			for i := range 2000 {
				k := fmt.Sprint("k", (w*7+i)%256)
				switch i % 4 {
				case 0:
					assert.NoError(t, s.Set(ctx, k, entry(k, clk.After(time.Duration(i%5)*time.Millisecond))))
				case 1:
					assert.NoError(t, s.Delete(ctx, k))
				default:
					e, err := s.Get(ctx, k)
					assert.NoError(t, err)
					if e != nil {
						assert.Equal(t, k, e.Value)
					}
				}
				if w == 0 && i%100 == 0 {
					clk.Advance(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	s.cache.CleanUp()
	require.LessOrEqual(t, s.Len(), 64)
}

// TestItems: SetItem keeps the very item it is given, which GetItem
// returns with the state the cache keeps in it, and Get returns its entry;
// Set keeps a copy of its entry in an item of its own. Expiry and Close
// apply to items as to entries.
func TestItems(t *testing.T) {
	s, clk := newClocked(t)
	it := &Item{Entry: *entry("v", clk.After(time.Second))}
	require.NoError(t, s.SetItem("k", it))
	got := s.GetItem("k")
	require.Same(t, it, got)
	got.Refresh.Store(7)
	require.Same(t, &it.Entry, get(t, s, "k"), "Get returns the item's entry")
	require.Equal(t, int64(7), s.GetItem("k").Refresh.Load(), "the state stays with the item")

	e := entry("w", clk.After(time.Second))
	set(t, s, "copied", e)
	require.Equal(t, e, &s.GetItem("copied").Entry)
	require.NotSame(t, e, get(t, s, "copied"), "Set keeps a copy")
	require.Zero(t, s.GetItem("copied").Refresh.Load(), "a new item has no state")

	require.Nil(t, s.GetItem("missing"))
	require.NoError(t, s.SetItem("gone", &Item{Entry: *entry("x", clk.Now())}))
	require.Nil(t, s.GetItem("gone"), "an item that has expired is not stored")
	require.Error(t, s.SetItem("nil", nil))

	clk.Advance(time.Second)
	require.Nil(t, s.GetItem("k"), "at Expires")
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.SetItem("k", &Item{Entry: *entry("v", time.Time{})}), store.ErrClosed)
	require.Nil(t, s.GetItem("k"))
}

// TestItemGetAllocatesNothing: GetItem, the cache's hit, allocates nothing.
func TestItemGetAllocatesNothing(t *testing.T) {
	s := mustNew(t)
	require.NoError(t, s.SetItem("hit", &Item{Entry: *entry(1, time.Now().Add(time.Hour))}))
	buf := []byte("hit")
	key := unsafe.String(unsafe.SliceData(buf), len(buf))
	require.Zero(t, testing.AllocsPerRun(1000, func() {
		if s.GetItem(key) == nil {
			panic("miss")
		}
	}))
}
