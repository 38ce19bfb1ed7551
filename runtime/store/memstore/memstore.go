package memstore

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/trie"
)

var (
	_ store.Store       = (*Store)(nil)
	_ store.StaleReader = (*Store)(nil)
)

var errNilEntry = errors.New("zoo: memstore: nil entry")

// errClosed is what a closed store returns; it wraps [store.ErrClosed].
var errClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string { return "zoo: memstore: closed" }
func (closedError) Unwrap() error { return store.ErrClosed }

// Resolution is the precision of expiry with the system clock: Get compares
// Expires with a time read once per Resolution, so an entry may be served
// for up to about that long after its Expires (longer if the process is
// starved of CPU), never before. [WithClock] gives exact expiry.
const Resolution = 10 * time.Millisecond

// Store is a bounded in-memory [store.Store]. Make one with [New].
//
// A Store is safe for concurrent use by any number of goroutines. Get takes
// no lock: it is one lookup in otter's concurrent hash table, which never
// waits for writers, and a comparison of the entry's Expires with a coarse
// clock. Set and Delete lock the one hash table bucket of their key; a
// weigher given to [WithMaxWeight] runs on Set's goroutine with that lock
// held. Eviction runs on short-lived goroutines that reads and writes start;
// the removal of expired entries on a goroutine that sweeps the store every
// [SweepEvery]. [Store.Close] stops it, and the coarse clock's goroutine
// (there is no coarse clock with [WithClock]).
//
// The store keeps an [Item] per key. Set copies the entry it is given into a
// new one; [Store.SetItem] keeps the item it is given. Get returns the
// item's entry without copying it: callers must not change it.
type Store struct {
	// What a hit reads comes first; what writes change (the count of
	// evictions) is on another cache line.
	cache  *otter.Cache[string, *Item]
	coarse *coarseClock // the clock Get reads, or nil with WithClock
	now    func() time.Time
	closed atomic.Bool
	_      [64]byte
	stop   chan struct{} // closed by Close: the sweep ends
	swept  chan struct{} // closed when the sweep has ended

	evictions atomic.Uint64
}

// New returns an empty store configured by opts. An option with an invalid
// value is an error wrapping [store.ErrBadOption] (zoo.ErrBadOption) that
// names the option and the value; nil options are ignored.
func New(opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store{now: time.Now, stop: make(chan struct{}), swept: make(chan struct{})}
	if cfg.now != nil {
		s.now = cfg.now
	} else {
		s.coarse = startCoarseClock(Resolution)
	}
	s.cache = otter.Must(s.otterOptions(&cfg))
	go s.sweepLoop()
	return s, nil
}

// Item is what a [Store] keeps under a key: an entry, and beside it the
// per-entry state of the cache that uses the store as its memory tier
// (package runtime), so that a hit finds the cache's state where it finds
// the entry, with no second lookup, and a write makes both in one
// allocation. The state is this store's offer to that cache, not part of
// the [store.Store] contract, which other stores meet without it; the store
// itself neither reads nor writes it.
//
// An Item is handled by pointer and never copied (its state is atomic).
// Once it is given to [Store.SetItem], its Entry does not change.
type Item struct {
	// The fields a memory hit reads come first, so that they share as few
	// cache lines as they can: the expiry, the memo's first words, and the
	// entry's Value (its first field).

	// exp is Entry.Expires in Unix nanoseconds (never: math.MaxInt64),
	// set as the item is stored, so that a hit checks expiry with one
	// integer comparison.
	exp int64
	// Memo is the cache's memo of the entry's freshness against its tag
	// trie ([trie.Trie.Fresh]).
	Memo trie.Memo
	// Entry is the entry the item keeps.
	Entry store.Entry
	// Refresh is the cache's refresh-ahead state of the entry: whether a
	// background reload of it may start.
	Refresh atomic.Int64
	// key is the key the item is stored under, set by SetItem: the same
	// string the cache holds, so that it costs no copy.
	key string
}

// Key returns the key it was stored under ("" before SetItem). A caller
// that holds the key in a buffer of its own can pass this string where
// the key must outlive the call.
func (it *Item) Key() string { return it.key }

// expiredAt reports whether it has expired at now, in Unix nanoseconds.
func (it *Item) expiredAt(now int64) bool { return now >= it.exp }

// goneAt reports whether it is past its retention (its Entry's Retain,
// when later than its Expires) at now: GetStale no longer returns it and
// the sweep removes it.
func (it *Item) goneAt(now int64) bool {
	if it.Entry.Retain.IsZero() {
		return it.expiredAt(now)
	}
	return now >= nanos(it.Entry.KeepUntil())
}

// nanos returns t in Unix nanoseconds, clamped: the zero time is never.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero() || !t.Before(maxNano):
		return math.MaxInt64
	case t.Before(minNano):
		return math.MinInt64
	default:
		return t.UnixNano()
	}
}

// The range of times that Unix nanoseconds hold.
var (
	maxNano = time.Unix(0, math.MaxInt64)
	minNano = time.Unix(0, math.MinInt64)
)

// otterOptions translates cfg into otter's terms. Every combination it
// returns for a validated cfg is valid, so otter.Must cannot panic. Otter keeps no expiry and
// reads no clock: the store checks Expires itself on Get and sweeps expired
// entries out, so that a hit costs what a lookup in a cache bounded by size
// alone costs.
func (s *Store) otterOptions(cfg *config) *otter.Options[string, *Item] {
	o := &otter.Options[string, *Item]{OnAtomicDeletion: s.onDeletion}
	if w := cfg.weigher; w != nil {
		o.MaximumWeight = cfg.maxWeight
		o.Weigher = func(key string, it *Item) uint32 { return w(key, &it.Entry) }
	} else {
		o.MaximumSize = cfg.maxEntries
	}
	return o
}

// nowNano is the time Get compares Expires with: the coarse clock's, or the
// one given to WithClock.
func (s *Store) nowNano() int64 {
	if s.coarse != nil {
		return s.coarse.nowNano()
	}
	return s.clockNano()
}

// clockNano reads the clock given to WithClock; apart from nowNano, so
// that nowNano inlines.
func (s *Store) clockNano() int64 { return s.now().UnixNano() }

// SweepEvery is how often a [Store] removes the entries that have expired
// (those that Get has stopped returning): until then they count towards the
// bound.
const SweepEvery = 10 * time.Second

func (s *Store) sweepLoop() {
	defer close(s.swept)
	t := time.NewTicker(SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep removes the entries past their retention (their Expires, unless
// Retain is later). An entry set in the meantime
// under the same key stays: each removal checks, under the key's lock, the
// entry it removes.
func (s *Store) sweep() {
	now := s.nowNano()
	for k, it := range s.cache.All() {
		if !it.goneAt(now) {
			continue
		}
		s.cache.ComputeIfPresent(k, func(cur *Item) (*Item, otter.ComputeOp) {
			if cur.goneAt(now) {
				return nil, otter.InvalidateOp
			}
			return cur, otter.CancelOp
		})
	}
}

func (s *Store) onDeletion(e otter.DeletionEvent[string, *Item]) {
	if e.Cause == otter.CauseOverflow {
		s.evictions.Add(1)
	}
}

// Get returns the entry stored under key, or nil and a nil error if there is
// none or it has expired. It does not keep key and does not allocate.
func (s *Store) Get(_ context.Context, key string) (*store.Entry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if it := s.GetItem(key); it != nil {
		return &it.Entry, nil
	}
	return nil, nil
}

// GetItem is Get for the cache whose memory tier the store is: it returns
// the item stored under key, or nil if there is none, it has expired or the
// store is closed. It does not keep key and does not allocate.
func (s *Store) GetItem(key string) *Item {
	it, _ := s.cache.GetIfPresent(key)
	if it == nil || it.expiredAt(s.nowNano()) || s.closed.Load() {
		return nil
	}
	return it
}

// GetStale returns the entry stored under key even if its Expires has
// passed, until its Retain passes; nil and a nil error if there is none. It
// does not keep key and does not allocate.
func (s *Store) GetStale(_ context.Context, key string) (*store.Entry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if it := s.GetStaleItem(key); it != nil {
		return &it.Entry, nil
	}
	return nil, nil
}

// GetStaleItem is GetStale for the cache whose memory tier the store is, as
// GetItem is Get: nil if the store is closed.
func (s *Store) GetStaleItem(key string) *Item {
	it, _ := s.cache.GetIfPresent(key)
	if it == nil || it.goneAt(s.nowNano()) || s.closed.Load() {
		return nil
	}
	return it
}

// NowNano returns the time, in Unix nanoseconds, that Get compares Expires
// with: the coarse clock's (see [Resolution]), or the one given to
// [WithClock]. Reading it costs an atomic load with the coarse clock.
func (s *Store) NowNano() int64 { return s.nowNano() }

// Set stores a copy of e under key, in a new [Item], replacing what was
// there. The store keeps key and e's Value and Tags as they are: the caller
// must change none of them afterwards. An entry whose Expires (or, when
// later, Retain) has already passed is not stored, and the entry it would
// have replaced is removed.
func (s *Store) Set(_ context.Context, key string, e *store.Entry) error {
	if s.closed.Load() {
		return errClosed
	}
	if e == nil {
		return errNilEntry
	}
	return s.SetItem(key, &Item{Entry: *e})
}

// SetItem is Set for the cache whose memory tier the store is: it stores it
// itself under key, so that the cache makes an entry and its state in one
// allocation. The store keeps key and it: the caller changes neither
// afterwards (but for the cache's state in it), and stores it once.
func (s *Store) SetItem(key string, it *Item) error {
	if s.closed.Load() {
		return errClosed
	}
	if it == nil {
		return errNilEntry
	}
	it.exp = nanos(it.Entry.Expires)
	it.key = key
	if it.goneAt(s.now().UnixNano()) {
		s.cache.Invalidate(key)
		return nil
	}
	s.cache.Set(key, it)
	return nil
}

// Delete removes the entry stored under key, if any. It does not keep key.
func (s *Store) Delete(_ context.Context, key string) error {
	if s.closed.Load() {
		return errClosed
	}
	s.cache.Invalidate(key)
	return nil
}

// Close stops the store's background work and drops its entries. Afterwards
// Get, Set and Delete return an error wrapping [store.ErrClosed]. Closing a
// closed store does nothing and returns nil. A Get, Set or Delete that runs
// concurrently with Close may still see or change the entries.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	<-s.swept
	s.cache.StopAllGoroutines()
	if s.coarse != nil {
		s.coarse.Stop()
	}
	s.cache.InvalidateAll()
	return nil
}

// Len returns an estimate of the number of entries in the store. Entries that
// have expired may be counted until the next sweep removes them, and entries
// evicted until the store's maintenance has run.
func (s *Store) Len() int { return s.cache.EstimatedSize() }

// Evictions returns the number of entries dropped so far because the store
// was full. Entries that expired, were deleted or were replaced are not
// counted.
func (s *Store) Evictions() uint64 { return s.evictions.Load() }
