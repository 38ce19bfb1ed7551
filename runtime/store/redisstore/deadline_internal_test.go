package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeadlines: an operation whose context is never canceled gets a
// deadline no earlier than its timeout, and at most two slices later (the
// end of its slice, or of the next, which another operation started);
// operations of one slice share its channel, which closes once the slice
// has passed, after which Err is context.DeadlineExceeded.
func TestDeadlines(t *testing.T) {
	const timeout = 40 * time.Millisecond
	d := newDeadlines(timeout)
	start := time.Now()
	ctx, cancel := d.bounded(context.Background())
	defer cancel()
	dl, ok := ctx.Deadline()
	require.True(t, ok)
	assert.False(t, dl.Before(start.Add(timeout)), "a deadline before the timeout")
	assert.False(t, dl.After(time.Now().Add(timeout+2*d.slice)), "a deadline more than two slices late")
	assert.NoError(t, ctx.Err())

	// Another operation of the same slice shares its channel.
	other, cancelOther := d.bounded(context.WithoutCancel(context.WithValue(context.Background(), ctxKey{}, 1)))
	defer cancelOther()
	assert.Equal(t, 1, other.Value(ctxKey{}), "the parent's values")
	if odl, _ := other.Deadline(); odl.Equal(dl) {
		assert.Equal(t, ctx.Done(), other.Done())
	}

	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline's channel never closed")
	}
	assert.False(t, time.Now().Before(dl), "closed before the deadline")
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	assert.ErrorIs(t, context.Cause(ctx), context.DeadlineExceeded)

	// Later operations get a slice of their own.
	later, cancelLater := d.bounded(context.Background())
	defer cancelLater()
	assert.NoError(t, later.Err())
	ldl, _ := later.Deadline()
	assert.True(t, ldl.After(dl))
}

type ctxKey struct{}

// TestDeadlinesOfCancelableContexts: a caller's context that may be
// canceled is bounded by context.WithTimeout (its cancellation ends the
// operation at once), or used as it is when its own deadline comes first.
func TestDeadlinesOfCancelableContexts(t *testing.T) {
	const timeout = time.Hour
	d := newDeadlines(timeout)

	parent, cancelParent := context.WithCancel(context.Background())
	ctx, cancel := d.bounded(parent)
	defer cancel()
	dl, ok := ctx.Deadline()
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(timeout), dl, time.Minute)
	cancelParent()
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)

	sooner, cancelSooner := context.WithTimeout(context.Background(), time.Minute)
	defer cancelSooner()
	ctx, cancel = d.bounded(sooner)
	defer cancel()
	assert.Equal(t, sooner, ctx, "a context with an earlier deadline of its own")
}
