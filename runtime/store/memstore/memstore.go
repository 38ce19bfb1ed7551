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

var _ store.Store = (*Store)(nil)

var errNilEntry = errors.New("zoo: memstore: nil entry")

// errClosed is what a closed store returns; it wraps [store.ErrClosed].
var errClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string { return "zoo: memstore: closed" }
func (closedError) Unwrap() error { return store.ErrClosed }

// Resolution is the precision of expiry with the system clock: a [Store]
// reads the time once per Resolution, so an entry may be served for up to
// about that long after its Expires (more if the process is starved of CPU),
// never before. [WithClock] gives exact expiry.
const Resolution = 10 * time.Millisecond

// neverExpires is the duration otter takes for "no expiry".
const neverExpires = time.Duration(math.MaxInt64)

// Store is a bounded in-memory [store.Store]. Make one with [New].
//
// A Store is safe for concurrent use by any number of goroutines. Get takes
// no lock: it is one lookup in otter's concurrent hash table and never waits
// for writers. Set and Delete lock the one hash table bucket of their key; a
// weigher given to [WithMaxWeight] runs on Set's goroutine with that lock
// held. Eviction and the removal of expired entries run on short-lived
// goroutines that reads and writes start, and on a periodic clean-up
// goroutine that [Store.Close] stops, as it stops the goroutine of the
// coarse clock (there is neither with [WithClock]).
//
// Get returns the very *store.Entry that Set stored, without copying it:
// callers must not change an entry once they have handed it to Set.
type Store struct {
	cache     *otter.Cache[string, *store.Entry]
	now       func() time.Time
	coarse    *otter.CoarseClock // the clock otter reads, or nil with WithClock
	closed    atomic.Bool
	evictions atomic.Uint64
}

// New returns an empty store configured by opts. It never fails: an option
// with an out-of-range argument falls back to the default it documents.
func New(opts ...Option) *Store {
	cfg := config{maxEntries: DefaultMaxEntries}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	s := &Store{now: time.Now}
	if cfg.now != nil {
		s.now = cfg.now
	} else {
		s.coarse = otter.NewCoarseClock(Resolution)
	}
	s.cache = otter.Must(s.otterOptions(&cfg))
	return s
}

// otterOptions translates cfg into otter's terms. Every combination it
// returns is valid, so otter.Must cannot panic.
func (s *Store) otterOptions(cfg *config) *otter.Options[string, *store.Entry] {
	o := &otter.Options[string, *store.Entry]{
		ExpiryCalculator: otter.ExpiryWritingFunc(expiresAfter),
		OnAtomicDeletion: s.onDeletion,
	}
	if cfg.weigher != nil {
		o.MaximumWeight, o.Weigher = cfg.maxWeight, cfg.weigher
	} else {
		o.MaximumSize = cfg.maxEntries
	}
	switch {
	case cfg.now != nil:
		o.Clock = clock{now: cfg.now}
	case s.coarse != nil:
		// Every read compares the entry's deadline with the time: a
		// variable the clock's goroutine refreshes is much cheaper to read
		// than the system clock.
		o.Clock = s.coarse
	}
	return o
}

// expiresAfter tells otter how long an entry it is writing lives: until its
// Expires, measured from the time otter read for the write, so that the
// entry expires exactly at Expires. It runs on every create and update, never
// on a read.
func expiresAfter(oe otter.Entry[string, *store.Entry]) time.Duration {
	expires := oe.Value.Expires
	if expires.IsZero() {
		return neverExpires
	}
	// Sub saturates, so a date beyond 2262 does not wrap around.
	d := expires.Sub(time.Unix(0, oe.SnapshotAtNano))
	if d <= 0 {
		// Otter keeps the previous deadline for a non-positive duration; an
		// entry that expired between Set's check and otter's write must
		// expire now instead.
		return 1
	}
	return d
}

func (s *Store) onDeletion(e otter.DeletionEvent[string, *store.Entry]) {
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
	e, _ := s.cache.GetIfPresent(key)
	return e, nil
}

// Set stores e under key, replacing what was there. The store keeps key and
// e as they are: the caller must change neither afterwards. An entry whose
// Expires has already passed is not stored, and the entry it would have
// replaced is removed.
func (s *Store) Set(_ context.Context, key string, e *store.Entry) error {
	if s.closed.Load() {
		return errClosed
	}
	if e == nil {
		return errNilEntry
	}
	if e.Expired(s.now()) {
		s.cache.Invalidate(key)
		return nil
	}
	s.cache.Set(key, e)
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
	s.cache.StopAllGoroutines()
	if s.coarse != nil {
		s.coarse.Stop()
	}
	s.cache.InvalidateAll()
	return nil
}

// Len returns an estimate of the number of entries in the store. Entries that
// have expired or been evicted may be counted until the store's maintenance
// removes them.
func (s *Store) Len() int { return s.cache.EstimatedSize() }

// Evictions returns the number of entries dropped so far because the store
// was full. Entries that expired, were deleted or were replaced are not
// counted.
func (s *Store) Evictions() uint64 { return s.evictions.Load() }

// clock is otter's view of the time source given to [WithClock]. Its Tick
// returns a nil channel: no periodic clean-up, so a test that moves the clock
// need not wait for a goroutine. Expired entries are still never returned;
// they are removed by the maintenance that reads and writes trigger.
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64 { return c.now().UnixNano() }

func (clock) Tick(time.Duration) <-chan time.Time { return nil }
