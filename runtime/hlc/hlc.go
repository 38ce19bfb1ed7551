package hlc

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

const (
	logicalBits = 16
	logicalMask = 1<<logicalBits - 1
	// MaxWall is the largest physical time, in Unix milliseconds, that a
	// Timestamp can hold (the year 10889).
	MaxWall = 1<<(64-logicalBits) - 1
)

// DefaultMaxDrift is how far ahead of the clock's physical time a remote
// timestamp may be before [Clock.Update] refuses to merge it (see
// [Clock.Bound]).
const DefaultMaxDrift = time.Minute

// ErrDrift is returned by [Clock.Update] for a remote timestamp too far ahead
// of the local wall clock to be trusted.
var ErrDrift = errors.New("hlc: remote timestamp too far ahead of the local clock")

// Timestamp is a hybrid logical timestamp: Unix milliseconds in the high 48
// bits and a logical counter in the low 16. The zero Timestamp is before every
// other.
type Timestamp uint64

// New returns the Timestamp for a wall time in Unix milliseconds and a
// logical counter. Wall times outside [0, MaxWall] are clamped.
func New(wallMillis int64, logical uint16) Timestamp {
	wallMillis = min(max(wallMillis, 0), MaxWall)
	return Timestamp(uint64(wallMillis)<<logicalBits | uint64(logical))
}

// FromTime returns the smallest Timestamp at wall time t.
func FromTime(t time.Time) Timestamp { return New(t.UnixMilli(), 0) }

// Wall returns the physical part of t in Unix milliseconds.
func (t Timestamp) Wall() int64 { return int64(t >> logicalBits) }

// Logical returns the logical counter of t.
func (t Timestamp) Logical() uint16 { return uint16(t & logicalMask) }

// Time returns the physical part of t as a time.Time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.Wall()) }

// String formats t as its UTC wall time followed by the logical counter, for
// logs and operators: 2026-11-26T18:29:42.123Z+3.
func (t Timestamp) String() string {
	return fmt.Sprintf("%s+%d", t.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00"), t.Logical())
}

// Clock is a hybrid logical clock. Its methods are safe for concurrent use and
// lock-free; the zero Clock is not usable, call [NewClock].
//
// A Clock may follow another, authoritative clock (a shared store's): each
// [Clock.Sync] with one of its readings puts the Clock's physical time on
// that clock's scale, so that timestamps from both are judged on one scale
// whatever the skew between them.
type Clock struct {
	now      func() time.Time
	maxDrift int64 // milliseconds
	last     atomic.Uint64
	// offset is added to the source, in milliseconds: how far the clock
	// it follows was ahead of the source at the last Sync.
	offset atomic.Int64
	// vouched is the latest timestamp taken in by Sync or Admit: one the
	// authority issued, never a peer's unchecked claim.
	vouched atomic.Uint64
}

// Option configures a [Clock].
type Option func(*Clock)

// WithSource sets the wall clock the Clock reads; the default is time.Now.
// Tests inject a source they control so that they never sleep.
func WithSource(now func() time.Time) Option {
	return func(c *Clock) {
		if now != nil {
			c.now = now
		}
	}
}

// WithMaxDrift sets how far ahead of the clock's physical time a remote
// timestamp may be for [Clock.Update] and [Clock.Admit] to take it in; the
// default is [DefaultMaxDrift].
func WithMaxDrift(d time.Duration) Option {
	return func(c *Clock) { c.maxDrift = d.Milliseconds() }
}

// NewClock returns a Clock reading the wall clock of its options.
func NewClock(opts ...Option) *Clock {
	c := &Clock{now: time.Now, maxDrift: DefaultMaxDrift.Milliseconds()}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Now returns a timestamp greater than every timestamp this clock has
// returned or taken in before, and no smaller than its physical time.
func (c *Clock) Now() Timestamp {
	wall := New(c.physical(), 0)
	for {
		last := c.last.Load()
		next := max(last+1, uint64(wall))
		if c.last.CompareAndSwap(last, next) {
			return Timestamp(next)
		}
	}
}

// physical returns the clock's physical time in Unix milliseconds: its
// source's, on the scale of the clock it follows.
func (c *Clock) physical() int64 { return c.now().UnixMilli() + c.offset.Load() }

// Time returns the clock's physical time: its source's wall clock, moved by
// the offset of the last [Clock.Sync] to the scale of the clock it follows.
// Without Sync it is the source's time.
func (c *Clock) Time() time.Time {
	return c.now().Add(time.Duration(c.offset.Load()) * time.Millisecond)
}

// Sync takes in t, a reading of the authoritative clock this one follows (a
// timestamp a shared store issued in reply to a request sent when the
// source read sent): the physical time follows that clock from now on, and
// every timestamp Now returns afterwards is later than t. The offset to
// the source assumes t was issued as the request was sent, the earliest it
// can have been: the physical time is then never behind the authority's by
// more than the authority's clock can run ahead of the source, however long
// the round trip (it may be ahead by up to the round trip). t is trusted as
// it is: pass only the authority's own replies.
func (c *Clock) Sync(t Timestamp, sent time.Time) {
	c.offset.Store(t.Wall() - sent.UnixMilli())
	raise(&c.vouched, t)
	raise(&c.last, t)
}

// Bound returns the latest timestamp the clock takes from a peer
// ([Clock.Update], [Clock.Admit]): the maximum drift past the later of its
// physical time and the latest timestamp Sync or Admit took in. Timestamps
// from peers that are merely merged (Update) do not move it, so a faulty or
// hostile peer cannot walk it forward.
func (c *Clock) Bound() Timestamp {
	ms := max(c.physical(), Timestamp(c.vouched.Load()).Wall())
	return New(ms+c.maxDrift, logicalMask)
}

// Admit takes in t, a timestamp the authority issued to someone else (the
// asOf of an entry another process stored), if it is within [Clock.Bound]:
// Now orders after it, and it counts, as Sync's readings do, in the bound
// of what is taken later. It reports whether t was taken in.
func (c *Clock) Admit(t Timestamp) bool {
	if t > c.Bound() {
		return false
	}
	raise(&c.vouched, t)
	raise(&c.last, t)
	return true
}

// Vouched returns the latest timestamp [Clock.Sync] or [Clock.Admit] took
// in: the latest of the authority's this clock knows of, never a peer's
// unchecked claim merged by [Clock.Update].
func (c *Clock) Vouched() Timestamp { return Timestamp(c.vouched.Load()) }

// raise sets a to t if t is later.
func raise(a *atomic.Uint64, t Timestamp) {
	for {
		old := a.Load()
		if old >= uint64(t) || a.CompareAndSwap(old, uint64(t)) {
			return
		}
	}
}

// Update merges a timestamp received from another clock and returns a local
// timestamp that orders after both remote and every earlier local one: the
// receive event of the HLC algorithm.
//
// A remote timestamp past [Clock.Bound] is not merged, so that a faulty or
// hostile peer cannot drag this clock to the end of time; Update then
// returns [Clock.Now] and [ErrDrift]. A merged timestamp moves neither the
// bound nor [Clock.Vouched].
func (c *Clock) Update(remote Timestamp) (Timestamp, error) {
	wallMillis := c.physical()
	if bound := c.Bound(); remote > bound {
		return c.Now(), fmt.Errorf("%w: %v is %v ahead", ErrDrift, remote,
			time.Duration(remote.Wall()-wallMillis)*time.Millisecond)
	}
	wall := New(wallMillis, 0)
	for {
		last := c.last.Load()
		next := max(last+1, uint64(remote)+1, uint64(wall))
		if c.last.CompareAndSwap(last, next) {
			return Timestamp(next), nil
		}
	}
}

// Last returns the latest timestamp the clock has issued or taken in,
// without advancing it.
func (c *Clock) Last() Timestamp { return Timestamp(c.last.Load()) }
