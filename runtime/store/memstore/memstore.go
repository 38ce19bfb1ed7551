package memstore

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/zoogen/zoogen/runtime/store"
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
// Get returns the very *store.Entry that Set stored, without copying it:
// callers must not change an entry once they have handed it to Set.
type Store struct {
	cache     *otter.Cache[string, item]
	now       func() time.Time
	coarse    *coarseClock // the clock Get reads, or nil with WithClock
	closed    atomic.Bool
	evictions atomic.Uint64
	stop      chan struct{} // closed by Close: the sweep ends
	swept     chan struct{} // closed when the sweep has ended
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

// item is what the store keeps in otter for an entry: the entry, and its
// Expires in Unix nanoseconds (never: math.MaxInt64), so that a hit checks
// expiry with one integer comparison and without reading the entry.
type item struct {
	e    *store.Entry
	exp  int64
	keep int64 // Retain, when later than exp; else exp
}

// itemOf returns the item that keeps e. An Expires past what Unix
// nanoseconds hold (the year 2262) counts as never, one before them (1677)
// as long gone.
func itemOf(e *store.Entry) item {
	return item{e: e, exp: nanos(e.Expires), keep: nanos(e.KeepUntil())}
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
func (s *Store) otterOptions(cfg *config) *otter.Options[string, item] {
	o := &otter.Options[string, item]{OnAtomicDeletion: s.onDeletion}
	if w := cfg.weigher; w != nil {
		o.MaximumWeight = cfg.maxWeight
		o.Weigher = func(key string, it item) uint32 { return w(key, it.e) }
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

// expiredAt reports whether it has expired at now, in Unix nanoseconds.
func (it item) expiredAt(now int64) bool { return now >= it.exp }

// goneAt reports whether it is past its retention at now: GetStale no
// longer returns it and the sweep removes it.
func (it item) goneAt(now int64) bool { return now >= it.keep }

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
		s.cache.ComputeIfPresent(k, func(cur item) (item, otter.ComputeOp) {
			if cur.goneAt(now) {
				return item{}, otter.InvalidateOp
			}
			return cur, otter.CancelOp
		})
	}
}

func (s *Store) onDeletion(e otter.DeletionEvent[string, item]) {
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
	it, _ := s.cache.GetIfPresent(key)
	if it.e == nil || it.expiredAt(s.nowNano()) {
		return nil, nil
	}
	return it.e, nil
}

// GetStale returns the entry stored under key even if its Expires has
// passed, until its Retain passes; nil and a nil error if there is none. It
// does not keep key and does not allocate.
func (s *Store) GetStale(_ context.Context, key string) (*store.Entry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	it, _ := s.cache.GetIfPresent(key)
	if it.e == nil || it.goneAt(s.nowNano()) {
		return nil, nil
	}
	return it.e, nil
}

// NowNano returns the time, in Unix nanoseconds, that Get compares Expires
// with: the coarse clock's (see [Resolution]), or the one given to
// [WithClock]. Reading it costs an atomic load with the coarse clock.
func (s *Store) NowNano() int64 { return s.nowNano() }

// Set stores e under key, replacing what was there. The store keeps key and
// e as they are: the caller must change neither afterwards. An entry whose
// Expires (or, when later, Retain) has already passed is not stored, and
// the entry it would have replaced is removed.
func (s *Store) Set(_ context.Context, key string, e *store.Entry) error {
	if s.closed.Load() {
		return errClosed
	}
	if e == nil {
		return errNilEntry
	}
	if it := itemOf(e); it.goneAt(s.now().UnixNano()) {
		s.cache.Invalidate(key)
		return nil
	}
	s.cache.Set(key, itemOf(e))
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
