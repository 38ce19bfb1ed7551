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

// DefaultMaxDrift is how far ahead of the local wall clock a remote timestamp
// may be before [Clock.Update] refuses to merge it.
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
type Clock struct {
	now      func() time.Time
	maxDrift int64 // milliseconds
	last     atomic.Uint64
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

// WithMaxDrift sets how far ahead of the local wall clock a remote timestamp
// may be for [Clock.Update] to merge it; the default is [DefaultMaxDrift].
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
// returned or merged before, and no smaller than the wall clock.
func (c *Clock) Now() Timestamp {
	wall := New(c.now().UnixMilli(), 0)
	for {
		last := c.last.Load()
		next := max(last+1, uint64(wall))
		if c.last.CompareAndSwap(last, next) {
			return Timestamp(next)
		}
	}
}

// Update merges a timestamp received from another clock and returns a local
// timestamp that orders after both remote and every earlier local one: the
// receive event of the HLC algorithm.
//
// A remote timestamp more than the maximum drift ahead of the local wall
// clock is not merged, so that a faulty or hostile peer cannot drag this
// clock to the end of time; Update then returns [Clock.Now] and [ErrDrift].
func (c *Clock) Update(remote Timestamp) (Timestamp, error) {
	wallMillis := c.now().UnixMilli()
	if remote.Wall()-wallMillis > c.maxDrift {
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

// Last returns the latest timestamp the clock has issued or merged, without
// advancing it.
func (c *Clock) Last() Timestamp { return Timestamp(c.last.Load()) }
