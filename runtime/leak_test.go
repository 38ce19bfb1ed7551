package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	zoo "github.com/zoogen/zoogen/runtime"
)

// TestCloseLeavesNoGoroutine: once Close has returned, nothing the cache
// started runs any more: not the pruning loop, not the memory store's
// clean-up, and no load, whether it returned, panicked, lost every caller,
// or was still running when Close was called.
//
// Goroutines running when the test starts (other tests') are ignored.
// VerifyNone retries for a while, which covers otter's maintenance
// goroutines: each runs one drain of the store's buffers and ends.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	ctx := context.Background()
	c, err := zoo.New()
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() }) // if the test fails before it closes c
	m := productMethod(c)
	r := &repo{}
	key := func(i int64) []byte { return zoo.KeyInt(m.Key(nil), i) }

	// Misses, hits and invalidations.
	for i := range int64(60) {
		_, err := r.getProduct(ctx, m, 1, i%3, i%7)
		require.NoError(t, err)
		if i%10 == 9 {
			require.NoError(t, c.Invalidate(ctx, zoo.Tag("org", 1, "store", i%3)))
		}
	}
	require.Less(t, r.loads.Load(), int64(60), "nothing was served from the cache")

	// A loader that panics.
	func() {
		defer func() {
			err, _ := recover().(error)
			var pe *zoo.PanicError
			require.ErrorAs(t, err, &pe)
		}()
		_, _ = zoo.Load(ctx, m, key(1), func(context.Context) (int, error) { panic("corrupt row") })
	}()

	// A load whose only caller gives up: it is cancelled and ends.
	gaveUp, cancelGaveUp := context.WithCancel(ctx)
	loadEnded := make(chan struct{})
	_, err = zoo.Load(gaveUp, m, key(2), func(lctx context.Context) (int, error) {
		defer close(loadEnded)
		cancelGaveUp()
		<-lctx.Done()
		return 0, lctx.Err()
	})
	require.ErrorIs(t, err, context.Canceled)
	<-loadEnded

	// A load still running at Close, with a waiter that gave up on it.
	started, release := make(chan struct{}), make(chan struct{})
	slow := func(context.Context) (int, error) {
		close(started)
		<-release
		return 3, nil
	}
	first := make(chan error, 1)
	go func() {
		_, err := zoo.Load(ctx, m, key(3), slow)
		first <- err
	}()
	<-started
	waiterCtx, cancelWaiter := context.WithCancel(ctx)
	waiter := make(chan error, 1)
	go func() {
		_, err := zoo.Load(waiterCtx, m, key(3), slow)
		waiter <- err
	}()
	waitForWaiters(t, c, key(3), 2)
	cancelWaiter()
	require.ErrorIs(t, <-waiter, context.Canceled)

	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a load was in flight", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-first)
	require.NoError(t, <-closed)
	assert.ErrorIs(t, c.Invalidate(ctx, "x"), zoo.ErrClosed)

	goleak.VerifyNone(t, ignore)
}
