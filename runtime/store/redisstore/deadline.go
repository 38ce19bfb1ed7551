package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The store bounds each operation by its timeout (attempt). A
// context.WithTimeout per operation starts a timer and stops it again,
// which cost a strict hit about a tenth of its client CPU
// (BenchmarkRedisHitVsRaw: strict-no-tier/raw 1.45 with it, 1.34 without).
// So operations whose caller's context can never be canceled (Done is nil:
// context.Background, or a context.WithoutCancel, as the round trips that
// concurrent reads share run under) share timers instead: time is cut into
// slices of a sixteenth of the timeout, and an operation's deadline is the
// end of the slice its timeout ends in, whose one timer closes the Done
// channel of every operation that ends there. An operation is then bounded
// by its timeout and at most two slices more (an eighth of the timeout). A
// caller's context that may be canceled gets a context.WithTimeout as before
// (unless its own deadline is no later than the timeout: then it is used as
// it is).

// deadlineSlices is how many slices of time a timeout spans.
const deadlineSlices = 16

// deadlines hands out the ends of slices of time and the channels that
// close there, for the operations of one store. It is safe for concurrent
// use.
type deadlines struct {
	base    time.Time     // the origin of the slices (with a monotonic reading)
	timeout time.Duration // the store's timeout, > 0
	slice   time.Duration // its sixteenth, > 0

	mu   sync.Mutex // held while a slice is started
	last atomic.Pointer[timeSlice]
}

// timeSlice is the end of a slice of time, and the channel its timer closes
// once it has passed.
type timeSlice struct {
	end  time.Duration // since deadlines.base
	done chan struct{}
	// background is the context of the operations of context.Background()
	// that end here, which they share.
	background *sliceContext
}

func newDeadlines(timeout time.Duration) *deadlines {
	return &deadlines{base: time.Now(), timeout: timeout, slice: max(timeout/deadlineSlices, 1)}
}

// after returns the slice in which an operation that starts now ends: the
// first whose end is no earlier than now plus the timeout. Operations that
// start within one slice of time share it; an operation may get the slice
// after its own (one slice later), which another one started first.
func (d *deadlines) after(now time.Duration) *timeSlice {
	end := (now + d.timeout + d.slice - 1) / d.slice * d.slice
	if s := d.last.Load(); s != nil && s.end >= end && s.end-end <= d.slice {
		return s
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.last.Load()
	if s != nil && s.end >= end && s.end-end <= d.slice {
		return s
	}
	ts := &timeSlice{end: end, done: make(chan struct{})}
	ts.background = &sliceContext{Context: context.Background(), deadline: d.base.Add(end), done: ts.done}
	time.AfterFunc(end-now, func() { close(ts.done) })
	if s == nil || ts.end > s.end {
		d.last.Store(ts)
	}
	return ts
}

// bounded returns ctx bounded by the timeout, and the function that
// releases what that took (attempt calls it once the operation returned).
func (d *deadlines) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == context.Background() {
		return d.after(time.Since(d.base)).background, func() {}
	}
	if ctx.Done() == nil {
		s := d.after(time.Since(d.base))
		dl := d.base.Add(s.end)
		if own, ok := ctx.Deadline(); ok && own.Before(dl) {
			// A context that is never canceled but reports a deadline
			// (not one of the standard library's): the earlier holds.
			return context.WithDeadline(ctx, own)
		}
		return &sliceContext{Context: ctx, deadline: dl, done: s.done}, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d.timeout)
}

// sliceContext is a context that is never canceled (Done is nil) bounded by
// a deadline at the end of a slice of time: its Done is the slice's channel,
// which it shares with the other operations that end there. Its values are
// its parent's.
type sliceContext struct {
	context.Context // never canceled
	deadline        time.Time
	done            <-chan struct{}
}

func (c *sliceContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *sliceContext) Done() <-chan struct{} { return c.done }

// Err is context.DeadlineExceeded once the deadline has passed (its
// parent is never canceled).
func (c *sliceContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// bound returns ctx bounded by the store's timeout, and the function that
// releases what that took, which attempt calls once the operation returned.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.deadlines == nil {
		return context.WithTimeout(ctx, s.timeout)
	}
	return s.deadlines.bounded(ctx)
}
