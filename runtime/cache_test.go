package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

// fakeClock is a wall clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func newCache(t testing.TB, opts ...zoo.Option) *zoo.Cache {
	t.Helper()
	c, err := zoo.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

// repo is a fake repository: it counts loads and serves versioned values.
type repo struct {
	loads   atomic.Int64
	version atomic.Int64
}

type product struct {
	ID      int64
	Version int64
}

// getProduct is what a generated decorator does for
//
//	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>"
//	GetProduct(ctx, oid, sid, pid int64) (product, error)
func (r *repo) getProduct(ctx context.Context, m *zoo.Method, oid, sid, pid int64) (product, error) {
	var buf [64]byte
	k := m.Key(buf[:0])
	k = zoo.KeyInt(k, oid)
	k = zoo.KeyInt(k, sid)
	k = zoo.KeyInt(k, pid)
	if v, ok := zoo.Lookup[product](ctx, m, k); ok {
		return v, nil
	}
	return zoo.Load(ctx, m, k, func(ctx context.Context) (product, error) {
		zoo.AddDeps(ctx, zoo.Tag("org", oid, "store", sid, "product", pid))
		r.loads.Add(1)
		return product{ID: pid, Version: r.version.Load()}, nil
	})
}

func productMethod(c *zoo.Cache) *zoo.Method {
	return c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "ProductRepo", Method: "GetProduct"})
}

func TestHitMissAndPrefixInvalidation(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	r := &repo{}

	get := func(oid, sid, pid int64) product {
		t.Helper()
		p, err := r.getProduct(ctx, m, oid, sid, pid)
		require.NoError(t, err)
		return p
	}
	get(1, 2, 3)
	get(1, 2, 3)
	get(1, 2, 4)
	get(1, 5, 6)
	get(2, 2, 3)
	require.Equal(t, int64(4), r.loads.Load(), "one load per distinct key")

	require.NoError(t, c.Invalidate(ctx, zoo.Tag("org", 1, "store", 2)))
	get(1, 2, 3)
	get(1, 2, 4)
	assert.Equal(t, int64(6), r.loads.Load(), "both products of store 2 reloaded")
	get(1, 5, 6)
	get(2, 2, 3)
	assert.Equal(t, int64(6), r.loads.Load(), "another store and another org untouched")

	require.NoError(t, c.Invalidate(ctx, zoo.Tag("org", 1)))
	get(1, 2, 3)
	get(1, 5, 6)
	get(2, 2, 3)
	assert.Equal(t, int64(8), r.loads.Load(), "everything under org 1, nothing else")

	require.NoError(t, c.Invalidate(ctx, zoo.Tag("org", 1, "store", 2, "product", 3, "reviews")))
	get(1, 2, 3)
	assert.Equal(t, int64(8), r.loads.Load(), "invalidating below a tag leaves it alone")
}

// TestStaleSetRace is memcache's stale set: a load reads the old row, the
// row is updated and invalidated while the load is still running, then the
// load stores what it read. The stored value must never be served.
func TestStaleSetRace(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	var dbVersion atomic.Int64
	dbVersion.Store(1)

	read := make(chan struct{})
	release := make(chan struct{})
	load := func(ctx context.Context) (product, error) {
		zoo.AddDeps(ctx, "product:7")
		v := dbVersion.Load() // reads version 1
		close(read)
		<-release // ... and is slow to return it
		return product{ID: 7, Version: v}, nil
	}
	key := m.Key(nil)
	done := make(chan product)
	go func() {
		p, err := zoo.Load(ctx, m, key, load)
		assert.NoError(t, err)
		done <- p
	}()
	<-read
	dbVersion.Store(2)                                 // the write
	require.NoError(t, c.Invalidate(ctx, "product:7")) // its invalidation completes
	close(release)
	assert.Equal(t, int64(1), (<-done).Version, "the caller that started before the write may see the old row")

	_, hit := zoo.Lookup[product](ctx, m, key)
	assert.False(t, hit, "the value read before the invalidation was served after it")
	p, err := zoo.Load(ctx, m, key, func(ctx context.Context) (product, error) {
		zoo.AddDeps(ctx, "product:7")
		return product{ID: 7, Version: dbVersion.Load()}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(2), p.Version)
}

// TestJoinAfterInvalidation: a caller that arrives after an invalidation
// completed must not be handed the result of a load that began before it.
func TestJoinAfterInvalidation(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	var dbVersion, loads atomic.Int64
	dbVersion.Store(1)
	read := make(chan struct{}, 2)
	release := make(chan struct{})
	load := func(ctx context.Context) (product, error) {
		zoo.AddDeps(ctx, "product:7")
		v := dbVersion.Load()
		if loads.Add(1) == 1 {
			read <- struct{}{}
			<-release
		}
		return product{Version: v}, nil
	}
	key := m.Key(nil)
	first := make(chan product)
	go func() {
		p, _ := zoo.Load(ctx, m, key, load)
		first <- p
	}()
	<-read
	dbVersion.Store(2)
	require.NoError(t, c.Invalidate(ctx, "product:7"))

	second := make(chan product)
	go func() {
		p, _ := zoo.Load(ctx, m, key, load) // joins the flight under way
		second <- p
	}()
	waitForWaiters(t, c, key, 2)
	close(release)
	assert.Equal(t, int64(1), (<-first).Version)
	assert.Equal(t, int64(2), (<-second).Version, "the late joiner got a value read before the invalidation it saw complete")
}

func TestSingleflight500Callers(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	var loads atomic.Int64
	release := make(chan struct{})
	key := m.Key(nil)
	var wg sync.WaitGroup
	results := make([]product, 500)
	for i := range results {
		wg.Go(func() {
			p, err := zoo.Load(ctx, m, key, func(ctx context.Context) (product, error) {
				loads.Add(1)
				<-release
				return product{ID: 42}, nil
			})
			assert.NoError(t, err)
			results[i] = p
		})
	}
	waitForWaiters(t, c, key, 500)
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), loads.Load())
	for _, p := range results {
		assert.Equal(t, int64(42), p.ID)
	}
}

func TestSingleflightSharesErrorsAndDoesNotCacheThem(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	boom := errors.New("db down")
	var loads atomic.Int64
	release := make(chan struct{})
	key := m.Key(nil)
	load := func(ctx context.Context) (product, error) {
		if loads.Add(1) == 1 {
			<-release
			return product{}, boom
		}
		return product{ID: 1}, nil
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := zoo.Load(ctx, m, key, load)
			assert.ErrorIs(t, err, boom)
		})
	}
	waitForWaiters(t, c, key, 50)
	close(release)
	wg.Wait()
	require.Equal(t, int64(1), loads.Load())

	p, err := zoo.Load(ctx, m, key, load)
	require.NoError(t, err)
	assert.Equal(t, int64(1), p.ID)
	assert.Equal(t, int64(2), loads.Load(), "the error was not cached")
}

func TestPanickingLoaderReachesEveryWaiter(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	key := m.Key(nil)
	release := make(chan struct{})
	var loads atomic.Int64
	load := func(ctx context.Context) (product, error) {
		if loads.Add(1) == 1 {
			<-release
			panic("corrupt row")
		}
		return product{ID: 9}, nil
	}
	var wg sync.WaitGroup
	var panics atomic.Int64
	for range 20 {
		wg.Go(func() {
			defer func() {
				r := recover()
				var pe *zoo.PanicError
				if err, ok := r.(error); ok && errors.As(err, &pe) {
					assert.Equal(t, "corrupt row", pe.Value)
					assert.Contains(t, string(pe.Stack), "TestPanickingLoaderReachesEveryWaiter")
					panics.Add(1)
				}
			}()
			_, _ = zoo.Load(ctx, m, key, load)
		})
	}
	waitForWaiters(t, c, key, 20)
	close(release)
	wg.Wait()
	assert.Equal(t, int64(20), panics.Load())

	p, err := zoo.Load(ctx, m, key, load)
	require.NoError(t, err, "the panic poisoned nothing")
	assert.Equal(t, int64(9), p.ID)
}

func TestLoaderExitingItsGoroutine(t *testing.T) {
	c := newCache(t)
	m := productMethod(c)
	_, err := zoo.Load(context.Background(), m, m.Key(nil), func(ctx context.Context) (product, error) {
		runtimeGoexit()
		return product{}, nil
	})
	assert.ErrorContains(t, err, "exited its goroutine")
}

func TestCancelledWaiterReturnsEarlyWithoutCancellingTheLoad(t *testing.T) {
	c := newCache(t)
	m := productMethod(c)
	key := m.Key(nil)
	started := make(chan struct{})
	release := make(chan struct{})
	var loadErr atomic.Value
	load := func(ctx context.Context) (product, error) {
		close(started)
		<-release
		if err := ctx.Err(); err != nil {
			loadErr.Store(err)
		}
		return product{ID: 5}, nil
	}
	cctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error)
	go func() {
		_, err := zoo.Load(cctx, m, key, load) // starts the load
		firstErr <- err
	}()
	<-started
	second := make(chan product)
	go func() {
		p, _ := zoo.Load(context.Background(), m, key, load)
		second <- p
	}()
	waitForWaiters(t, c, key, 2)

	cancel()
	assert.ErrorIs(t, <-firstErr, context.Canceled, "the cancelled caller returns before the load ends")
	close(release)
	assert.Equal(t, int64(5), (<-second).ID)
	assert.Nil(t, loadErr.Load(), "the load's context was cancelled with the first caller's")
	_, hit := zoo.Lookup[product](context.Background(), m, key)
	assert.True(t, hit, "the result was cached for later callers")
}

func TestLoadCancelledWhenEveryCallerHasGone(t *testing.T) {
	c := newCache(t)
	m := productMethod(c)
	key := m.Key(nil)
	loadCtxDone := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := zoo.Load(ctx, m, key, func(lctx context.Context) (product, error) {
			cancel()
			<-lctx.Done()
			close(loadCtxDone)
			return product{}, lctx.Err()
		})
		errc <- err
	}()
	assert.ErrorIs(t, <-errc, context.Canceled)
	<-loadCtxDone
}

func TestAddDeps(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	key := m.Key(nil)
	var loads atomic.Int64
	load := func(ctx context.Context) (product, error) {
		loads.Add(1)
		zoo.AddDeps(ctx, zoo.Tag("product", 1))
		var wg sync.WaitGroup
		wg.Go(func() { zoo.AddDeps(ctx, zoo.Tag("store", 9)) }) // from a goroutine of the loader
		wg.Wait()
		return product{ID: 1}, nil
	}
	zoo.AddDeps(ctx, "ignored") // outside a load: nothing happens
	for _, tag := range []string{"product:1", "store:9", "store"} {
		_, err := zoo.Load(ctx, m, key, load)
		require.NoError(t, err)
		_, err = zoo.Load(ctx, m, key, load)
		require.NoError(t, err)
		before := loads.Load()
		require.NoError(t, c.Invalidate(ctx, tag))
		_, err = zoo.Load(ctx, m, key, load)
		require.NoError(t, err)
		assert.Equal(t, before+1, loads.Load(), "invalidating %s", tag)
	}
	require.NoError(t, c.Invalidate(ctx, "ignored"))
	_, _ = zoo.Load(ctx, m, key, load)
	before := loads.Load()
	_, _ = zoo.Load(ctx, m, key, load)
	assert.Equal(t, before, loads.Load())
}

// TestNestedLoadsInheritTags: a cached method computed from another cached
// method depends on the inner one's tags, whether the inner call hits or
// loads.
func TestNestedLoadsInheritTags(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	inner := c.Method(zoo.MethodSpec{Interface: "R", Method: "Inner"})
	outer := c.Method(zoo.MethodSpec{Interface: "R", Method: "Outer"})
	var outerLoads atomic.Int64
	loadInner := func(ctx context.Context) (int, error) {
		zoo.AddDeps(ctx, "price:1")
		return 10, nil
	}
	getOuter := func() int {
		v, err := zoo.Load(ctx, outer, outer.Key(nil), func(ctx context.Context) (int, error) {
			outerLoads.Add(1)
			v, err := zoo.Load(ctx, inner, inner.Key(nil), loadInner)
			return v * 2, err
		})
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, 20, getOuter()) // inner loads inside outer's load
	require.NoError(t, c.Invalidate(ctx, "price:1"))
	getOuter()
	assert.Equal(t, int64(2), outerLoads.Load(), "outer inherited price:1 from a nested load")

	require.NoError(t, c.Invalidate(ctx, "unrelated"))
	_, err := zoo.Load(ctx, inner, inner.Key(nil), loadInner) // warm inner alone
	require.NoError(t, err)
	require.NoError(t, c.Invalidate(ctx, "outer-only"))
	getOuter()
	require.NoError(t, c.Invalidate(ctx, "price:1"))
	getOuter()
	assert.Equal(t, int64(3), outerLoads.Load())
}

func TestTTLAndJitter(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	c := newCache(t, zoo.WithClock(clk.Now), zoo.WithTTL(time.Minute))
	short := c.Method(zoo.MethodSpec{Interface: "R", Method: "Short", TTL: 10 * time.Second})
	long := c.Method(zoo.MethodSpec{Interface: "R", Method: "Long"})
	var loads atomic.Int64
	load := func(ctx context.Context) (int, error) { return int(loads.Add(1)), nil }
	get := func(m *zoo.Method) {
		_, err := zoo.Load(ctx, m, m.Key(nil), load)
		require.NoError(t, err)
	}
	get(short)
	get(long)
	clk.Advance(9 * time.Second)
	get(short)
	get(long)
	require.Equal(t, int64(2), loads.Load())
	clk.Advance(time.Second)
	get(short)
	get(long)
	require.Equal(t, int64(3), loads.Load(), "the method's TTL overrides the cache's")
	clk.Advance(50 * time.Second)
	get(long)
	require.Equal(t, int64(4), loads.Load(), "the cache's TTL applies without an override")

	jc := newCache(t, zoo.WithClock(clk.Now), zoo.WithTTL(100*time.Second), zoo.WithTTLJitter(0.5))
	var jloads atomic.Int64
	methods := make([]*zoo.Method, 200)
	for i := range methods {
		methods[i] = jc.Method(zoo.MethodSpec{Interface: "J", Method: fmt.Sprint(i)})
		_, _ = zoo.Load(ctx, methods[i], methods[i].Key(nil), func(context.Context) (int, error) { return int(jloads.Add(1)), nil })
	}
	reloaded := func() int64 {
		before := jloads.Load()
		for _, m := range methods {
			_, _ = zoo.Load(ctx, m, m.Key(nil), func(context.Context) (int, error) { return int(jloads.Add(1)), nil })
		}
		return jloads.Load() - before
	}
	clk.Advance(49 * time.Second)
	assert.Zero(t, reloaded(), "no entry lives less than TTL*(1-jitter)")
	clk.Advance(26 * time.Second)
	n := reloaded()
	assert.Greater(t, n, int64(20), "entries spread their expiry")
	assert.Less(t, n, int64(180))
	clk.Advance(100 * time.Second)
	assert.Equal(t, int64(200), reloaded(), "no entry outlives its TTL")
}

func TestOptionsAreValidated(t *testing.T) {
	for _, opt := range []zoo.Option{
		zoo.WithTTL(0), zoo.WithTTL(-time.Second), zoo.WithTTLJitter(1), zoo.WithTTLJitter(-0.1),
		zoo.WithNamespace("a|b"), zoo.WithMaxTagNodes(0), zoo.WithLogger(nil),
	} {
		_, err := zoo.New(opt)
		assert.ErrorIs(t, err, zoo.ErrBadOption)
	}
	_, err := zoo.New(zoo.WithTTL(0), zoo.WithTTLJitter(2))
	assert.ErrorContains(t, err, "TTL 0s is not positive")
	assert.ErrorContains(t, err, "jitter 2", "every problem is reported")
}

func TestNamespacesAndMethodsDoNotShareKeys(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	a := c.Method(zoo.MethodSpec{Package: "p", Interface: "R", Method: "A"})
	b := c.Method(zoo.MethodSpec{Package: "p", Interface: "R", Method: "B"})
	other := c.Method(zoo.MethodSpec{Package: "q", Interface: "R", Method: "A"})
	for i, m := range []*zoo.Method{a, b, other} {
		v, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), 1), func(context.Context) (int, error) { return i, nil })
		require.NoError(t, err)
		assert.Equal(t, i, v)
	}
	assert.NotEqual(t, a.Key(nil), b.Key(nil))
	assert.NotEqual(t, a.Key(nil), other.Key(nil))

	shop := newCache(t, zoo.WithNamespace("shop"))
	assert.NotEqual(t, string(a.Key(nil)), string(shop.Method(a.Spec()).Key(nil)))
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	c, err := zoo.New()
	require.NoError(t, err)
	m := productMethod(c)
	r := &repo{}
	_, err = r.getProduct(ctx, m, 1, 1, 1)
	require.NoError(t, err)

	release := make(chan struct{})
	inflight := make(chan error)
	go func() {
		_, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), 2), func(context.Context) (int, error) {
			<-release
			return 2, nil
		})
		inflight <- err
	}()
	waitForWaiters(t, c, zoo.KeyInt(m.Key(nil), 2), 1)
	closed := make(chan error)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a load was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-inflight)
	require.NoError(t, <-closed)
	require.NoError(t, c.Close(), "Close is idempotent")

	assert.ErrorIs(t, c.Invalidate(ctx, "x"), zoo.ErrClosed)
	before := r.loads.Load()
	_, err = r.getProduct(ctx, m, 1, 1, 1)
	require.NoError(t, err, "calls after Close reach the repository")
	assert.Equal(t, before+1, r.loads.Load())
}

func TestStoreFailuresFailOpenAndAreLogged(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	c := newCache(t, zoo.WithStore(failingStore{}), zoo.WithLogger(logger))
	m := productMethod(c)
	r := &repo{}
	for range 3 {
		p, err := r.getProduct(ctx, m, 1, 2, 3)
		require.NoError(t, err)
		assert.Equal(t, int64(3), p.ID)
	}
	assert.Equal(t, int64(3), r.loads.Load())
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("store read failed")), "logged once, not per call:\n%s", logs.String())
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("store write failed")))
}

// TestMissJustBeforeAFlightEnds: a caller that missed just before another
// flight stored the value, and finds no flight any more, takes the stored
// value instead of loading a second time.
func TestMissJustBeforeAFlightEnds(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	var loads atomic.Int64
	load := func(context.Context) (product, error) { loads.Add(1); return product{ID: 1}, nil }
	_, err := zoo.Load(ctx, m, m.Key(nil), load)
	require.NoError(t, err)
	p, err := zoo.LoadAfterMiss(ctx, m, m.Key(nil), load)
	require.NoError(t, err)
	assert.Equal(t, int64(1), p.ID)
	assert.Equal(t, int64(1), loads.Load(), "loaded twice")
}
