package runtime_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	zoo "github.com/zoogen/zoogen/runtime"
)

// movedClock is a clock a test moves by hand.
type movedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movedClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRefreshAndStaleSpans: a background refresh's load span says
// zoo.refresh, and a failed load answered with an expired entry says
// zoo.stale.
func TestRefreshAndStaleSpans(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	clk := &movedClock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	c := newCache(t, zoo.WithStats(true), zoo.WithTracerProvider(tp), zoo.WithClock(clk.now))
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get",
		TTL: 10 * time.Minute, Refresh: time.Minute, StaleIfError: time.Hour})
	k := zoo.KeyInt(m.Key(nil), 1)
	ok := func(context.Context) (int, error) { return 1, nil }
	down := func(context.Context) (int, error) { return 0, errors.New("db down") }

	_, err := zoo.Load(ctx, m, k, ok)
	require.NoError(t, err)
	clk.add(61 * time.Second)
	_, err = zoo.Load(ctx, m, k, ok) // due: a background refresh
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(rec.Ended()) == 2 }, 10*time.Second, time.Millisecond)
	clk.add(11 * time.Minute)
	v, err := zoo.Load(ctx, m, k, down) // expired, failing: the refreshed entry
	require.NoError(t, err)
	require.Equal(t, 1, v)

	spans := rec.Ended()
	require.Len(t, spans, 3)
	assert.False(t, attrs(spans[0])["zoo.refresh"].AsBool(), "the first load is no refresh")
	assert.True(t, attrs(spans[1])["zoo.refresh"].AsBool(), "the background load says zoo.refresh")
	assert.True(t, attrs(spans[1])["zoo.stored"].AsBool())
	assert.True(t, attrs(spans[2])["zoo.stale"].AsBool(), "the failed load served stale says zoo.stale")
	assert.False(t, attrs(spans[2])["zoo.stored"].AsBool(), "a stale value is not stored again")
	s := c.Stats().Methods[0]
	assert.Equal(t, uint64(1), s.Refreshes)
	assert.Equal(t, uint64(1), s.StaleServed)
}

// TestRefreshSpecChecked: a refresh interval that is not shorter than the
// TTL, or negative, turns refreshing off (with a warning) rather than
// reloading on every hit.
func TestRefreshSpecChecked(t *testing.T) {
	ctx := context.Background()
	clk := &movedClock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	c := newCache(t, zoo.WithClock(clk.now), zoo.WithTTL(time.Minute))
	for _, r := range []time.Duration{time.Minute, 2 * time.Minute, -time.Second} {
		m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get" + r.String(), Refresh: r})
		loads := 0
		load := func(context.Context) (int, error) { loads++; return loads, nil }
		k := m.Key(nil)
		_, err := zoo.Load(ctx, m, k, load)
		require.NoError(t, err)
		clk.add(30 * time.Second)
		for range 3 {
			_, err := zoo.Load(ctx, m, k, load)
			require.NoError(t, err)
		}
		assert.Equal(t, 1, loads, "refresh=%v with the cache's TTL of 1m reloaded", r)
	}
	_, err := zoo.New(zoo.WithMaxRefreshes(0))
	require.ErrorIs(t, err, zoo.ErrBadOption)
}

// TestRefreshLimit: with WithMaxRefreshes(1), a hit on a second due entry
// while one reload runs is served and starts none; a later hit does.
func TestRefreshLimit(t *testing.T) {
	ctx := context.Background()
	clk := &movedClock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	c := newCache(t, zoo.WithStats(true), zoo.WithClock(clk.now), zoo.WithMaxRefreshes(1))
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get",
		TTL: 10 * time.Minute, Refresh: time.Minute})
	hold := make(chan struct{})
	var held sync.Once
	entered := make(chan struct{})
	load := func(id int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) {
			if id == 1 && clk.now().After(time.Date(2026, 12, 2, 12, 0, 30, 0, time.UTC)) {
				held.Do(func() { close(entered) })
				<-hold
			}
			return id, nil
		}
	}
	key := func(id int64) []byte { return zoo.KeyInt(m.Key(nil), id) }
	for id := range int64(2) {
		_, err := zoo.Load(ctx, m, key(id+1), load(int(id+1)))
		require.NoError(t, err)
	}
	clk.add(61 * time.Second)
	v, err := zoo.Load(ctx, m, key(1), load(1)) // starts the one reload, held
	require.NoError(t, err)
	require.Equal(t, 1, v)
	<-entered
	v, err = zoo.Load(ctx, m, key(2), load(2)) // no room: served, no reload
	require.NoError(t, err)
	require.Equal(t, 2, v)
	assert.Equal(t, uint64(1), c.Stats().Methods[0].Refreshes)
	close(hold)
	require.Eventually(t, func() bool {
		_, err := zoo.Load(ctx, m, key(2), load(2))
		return err == nil && c.Stats().Methods[0].Refreshes == 2
	}, 10*time.Second, time.Millisecond, "the second entry was never refreshed once there was room")
}

// TestFailedRefreshServesStaleToJoiners: a miss that joins a background
// refresh (its entry expired meanwhile) gets the expired entry when the
// refresh fails, as the load of a miss would give it; the refresh still
// counts as failed.
func TestFailedRefreshServesStaleToJoiners(t *testing.T) {
	ctx := context.Background()
	clk := &movedClock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	c := newCache(t, zoo.WithStats(true), zoo.WithClock(clk.now))
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get",
		TTL: 2 * time.Minute, Refresh: time.Minute, StaleIfError: time.Hour})
	k := zoo.KeyInt(m.Key(nil), 1)
	_, err := zoo.Load(ctx, m, k, func(context.Context) (int, error) { return 1, nil })
	require.NoError(t, err)

	clk.add(61 * time.Second)
	hold, entered := make(chan struct{}), make(chan struct{})
	failing := func(context.Context) (int, error) {
		close(entered)
		<-hold
		return 0, errors.New("db down")
	}
	v, err := zoo.Load(ctx, m, k, failing) // due: the refresh starts, held
	require.NoError(t, err)
	require.Equal(t, 1, v)
	<-entered
	clk.add(2 * time.Minute) // the entry expires while the refresh runs
	got := make(chan int, 1)
	go func() {
		v, err := zoo.Load(ctx, m, k, failing)
		assert.NoError(t, err, "a miss that joined a failed refresh within the window")
		got <- v
	}()
	waitForWaiters(t, c, k, 1)
	close(hold)
	assert.Equal(t, 1, <-got)
	s := c.Stats().Methods[0]
	assert.Equal(t, uint64(1), s.RefreshErrors)
	assert.Equal(t, uint64(1), s.StaleServed)
}

// TestFailedRefreshBacksOffForEntryFromStore: an entry read from a store
// outside the process and kept in the memory tier keeps its refresh state
// there, so a failed refresh of it is retried no sooner than one refresh
// interval later, as for an entry the memory tier loaded itself. (The
// state used to live in the store's decoded copy, which the memory tier
// did not keep: the next hit started another reload at once.)
func TestFailedRefreshBacksOffForEntryFromStore(t *testing.T) {
	ctx := context.Background()
	clk := &movedClock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	remote := newByteStore()
	spec := zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get",
		TTL: 10 * time.Minute, Refresh: time.Minute}
	first := newCache(t, zoo.WithStore(remote), zoo.WithClock(clk.now))
	k := zoo.KeyInt(first.Method(spec).Key(nil), 1)
	_, err := zoo.Load(ctx, first.Method(spec), k, func(context.Context) (int, error) { return 1, nil })
	require.NoError(t, err)

	c := newCache(t, zoo.WithStats(true), zoo.WithStore(remote), zoo.WithLocalTier(100), zoo.WithClock(clk.now))
	m := c.Method(spec)
	var reloads atomic.Int64
	down := func(context.Context) (int, error) { reloads.Add(1); return 0, errors.New("db down") }
	clk.add(61 * time.Second)
	v, err := zoo.Load(ctx, m, k, down) // read from the store, due: a reload, which fails
	require.NoError(t, err)
	require.Equal(t, 1, v)
	require.Eventually(t, func() bool { return c.Stats().Methods[0].RefreshErrors == 1 }, 10*time.Second, time.Millisecond)
	for range 3 {
		v, err = zoo.Load(ctx, m, k, down) // the memory tier's copy, backing off
		require.NoError(t, err)
		require.Equal(t, 1, v)
	}
	assert.Equal(t, uint64(1), c.Stats().Methods[0].Refreshes, "a failed refresh retried within its interval")
	assert.Equal(t, int64(1), reloads.Load())

	clk.add(61 * time.Second)
	_, err = zoo.Load(ctx, m, k, down)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), c.Stats().Methods[0].Refreshes, "retried once the interval has passed")
}
