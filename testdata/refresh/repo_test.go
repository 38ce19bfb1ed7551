package refresh

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// clock is the cache's clock, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var errDown = errors.New("database down")

// fakeRepo is the inner repository. Its loads count themselves, fail while
// down is set, and the next load after hold waits (having read its row)
// until the hold is released or its context ends.
type fakeRepo struct {
	clock    *clock
	loads    atomic.Int64
	down     atomic.Bool
	lifetime time.Duration // of the tokens it issues

	mu       sync.Mutex
	products map[int64]Product
	hold     chan struct{} // taken by the next load
	entered  chan struct{} // closed when that load has read its row
	ended    chan error    // what its context said when it stopped waiting
}

func newFakeRepo(clk *clock) *fakeRepo {
	return &fakeRepo{clock: clk, lifetime: 30 * time.Second,
		products: map[int64]Product{1: {OrgID: 1, ID: 1, Name: "tea", Version: 1}}}
}

// holdNext makes the next load wait after it has read its row; release
// lets it go on.
func (r *fakeRepo) holdNext() (entered <-chan struct{}, release func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold, r.entered, r.ended = make(chan struct{}), make(chan struct{}), make(chan error, 1)
	hold := r.hold
	return r.entered, sync.OnceFunc(func() { close(hold) })
}

func (r *fakeRepo) read(ctx context.Context, pid int64) (Product, error) {
	r.loads.Add(1)
	r.mu.Lock()
	p := r.products[pid]
	hold, entered, ended := r.hold, r.entered, r.ended
	r.hold = nil
	r.mu.Unlock()
	if hold != nil {
		close(entered)
		select {
		case <-hold:
			ended <- nil
		case <-ctx.Done():
			ended <- ctx.Err()
			return Product{}, ctx.Err()
		}
	}
	if r.down.Load() {
		return Product{}, errDown
	}
	return p, nil
}

func (r *fakeRepo) Get(ctx context.Context, oid, pid int64) (Product, error) {
	return r.read(ctx, pid)
}

func (r *fakeRepo) Sturdy(ctx context.Context, oid, pid int64) (Product, error) {
	return r.read(ctx, pid)
}

func (r *fakeRepo) Both(ctx context.Context, oid, pid int64) (*Product, error) {
	p, err := r.read(ctx, pid)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Token issues a token that expires after the repository's lifetime, and
// caches it until then.
func (r *fakeRepo) Token(ctx context.Context, account string) (Token, error) {
	r.loads.Add(1)
	tok := Token{Account: account, Value: "t", Expiry: r.clock.Now().Add(r.lifetime)}
	zoo.SetTTL(ctx, tok.Expiry.Sub(r.clock.Now()))
	return tok, nil
}

func (r *fakeRepo) Update(ctx context.Context, p Product) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.products[p.ID] = p
	return nil
}

// setup returns a decorator over a fake repository, on a memory cache
// whose clock the test moves.
func setup(t *testing.T) (*CachedProductRepo, *fakeRepo, *clock, *zoo.Cache) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	c, err := zoo.New(zoo.WithStats(true), zoo.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inner := newFakeRepo(clk)
	return NewCachedProductRepo(inner, c), inner, clk, c
}

func stats(c *zoo.Cache, method string) zoo.MethodStats {
	for _, m := range c.Stats().Methods {
		if m.Method == method {
			return m
		}
	}
	return zoo.MethodStats{}
}

// eventually fails the test unless cond holds within 10 s (a loaded CI
// machine runs background reloads late, never wrongly).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// wait fails the test unless ch is closed within 10 s.
func wait(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not after 10 s", what)
	}
}

// version returns a function of a read's results: the product's version,
// after failing the test on an error.
func version(t *testing.T) func(Product, error) int {
	return func(p Product, err error) int {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return p.Version
	}
}

func (r *fakeRepo) set(version int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.products[1]
	p.Version = version
	r.products[1] = p
}

// TestRefreshReturnsAtOnceAndReloadsOnce: hits on an entry older than
// refresh= return the cached value at once, however many, while one
// background reload runs; its result serves the hits after it.
func TestRefreshReturnsAtOnceAndReloadsOnce(t *testing.T) {
	repo, inner, clk, c := setup(t)
	ctx := context.Background()
	if v := version(t)(repo.Get(ctx, 1, 1)); v != 1 {
		t.Fatalf("first Get: version %d, want 1", v)
	}
	clk.Add(59 * time.Second)
	if v := version(t)(repo.Get(ctx, 1, 1)); v != 1 || inner.loads.Load() != 1 {
		t.Fatalf("a hit younger than refresh=: version %d, %d loads; want 1, 1", v, inner.loads.Load())
	}

	clk.Add(2 * time.Second) // 61 s old: due
	inner.set(2)
	entered, release := inner.holdNext()
	defer release()
	const hits = 64
	var wg sync.WaitGroup
	versions := make(chan int, hits)
	for range hits {
		wg.Go(func() {
			p, err := repo.Get(ctx, 1, 1)
			if err != nil {
				t.Errorf("a hit due for a refresh: %v", err)
			}
			versions <- p.Version
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	wait(t, "hits returning while the reload is held", done) // the reload is still held
	close(versions)
	for v := range versions {
		if v != 1 {
			t.Fatalf("a hit during the reload got version %d, want the cached 1", v)
		}
	}
	wait(t, "the background reload starting", entered)
	if n := inner.loads.Load(); n != 2 {
		t.Fatalf("%d loads after %d hits on a due entry, want 2 (one reload)", n, hits)
	}

	release()
	eventually(t, "the reloaded value served", func() bool {
		p, err := repo.Get(ctx, 1, 1)
		return err == nil && p.Version == 2
	})
	for range 10 {
		if v := version(t)(repo.Get(ctx, 1, 1)); v != 2 {
			t.Fatalf("after the reload: version %d, want 2", v)
		}
	}
	if n := inner.loads.Load(); n != 2 {
		t.Fatalf("%d loads, want 2: a fresh entry was reloaded again", n)
	}
	s := stats(c, "Get")
	if s.Refreshes != 1 || s.RefreshErrors != 0 || s.Loads != 2 || s.Misses != 1 {
		t.Fatalf("stats: %d refreshes, %d refresh errors, %d loads, %d misses; want 1, 0, 2, 1",
			s.Refreshes, s.RefreshErrors, s.Loads, s.Misses)
	}
}

// TestRefreshErrorKeepsEntry: a background reload that fails is counted and
// leaves the cached entry served; hits retry it no sooner than one refresh
// interval later, and that reload replaces it.
func TestRefreshErrorKeepsEntry(t *testing.T) {
	repo, inner, clk, c := setup(t)
	ctx := context.Background()
	version(t)(repo.Get(ctx, 1, 1))
	clk.Add(61 * time.Second)
	inner.set(2)
	inner.down.Store(true)
	if v := version(t)(repo.Get(ctx, 1, 1)); v != 1 {
		t.Fatalf("due hit: version %d, want the cached 1", v)
	}
	eventually(t, "the failed refresh counted", func() bool { return stats(c, "Get").RefreshErrors == 1 })
	inner.down.Store(false)
	for range 10 {
		if v := version(t)(repo.Get(ctx, 1, 1)); v != 1 {
			t.Fatalf("after a failed refresh: version %d, want the cached 1", v)
		}
	}
	if n := inner.loads.Load(); n != 2 {
		t.Fatalf("%d loads: a failed refresh was retried within the refresh interval, want 2", n)
	}
	clk.Add(61 * time.Second) // an interval after the failure: a hit retries
	eventually(t, "a later refresh served", func() bool {
		p, err := repo.Get(ctx, 1, 1)
		return err == nil && p.Version == 2
	})
}

// TestRefreshNeverServesInvalidated: an invalidated entry is a miss whether
// or not it is due for a refresh, and a reload that began before an
// invalidation is not what the next caller gets.
func TestRefreshNeverServesInvalidated(t *testing.T) {
	repo, inner, clk, c := setup(t)
	ctx := context.Background()
	version(t)(repo.Get(ctx, 1, 1))
	clk.Add(61 * time.Second)
	if err := repo.Update(ctx, Product{OrgID: 1, ID: 1, Name: "tea", Version: 2}); err != nil {
		t.Fatal(err)
	}
	if v := version(t)(repo.Get(ctx, 1, 1)); v != 2 {
		t.Fatalf("Get of a due, invalidated entry: version %d, want 2 (a miss)", v)
	}
	if s := stats(c, "Get"); s.Refreshes != 0 || s.Misses != 2 {
		t.Fatalf("stats: %d refreshes, %d misses; want 0, 2", s.Refreshes, s.Misses)
	}

	// A reload reads version 2 and is held; version 3 is written and
	// invalidates; the next Get must not get version 2.
	clk.Add(61 * time.Second)
	entered, release := inner.holdNext()
	defer release()
	if v := version(t)(repo.Get(ctx, 1, 1)); v != 2 {
		t.Fatalf("due hit: version %d, want the cached 2", v)
	}
	wait(t, "the background reload reading its row", entered)
	if err := repo.Update(ctx, Product{OrgID: 1, ID: 1, Name: "tea", Version: 3}); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		p, err := repo.Get(ctx, 1, 1)
		if err != nil {
			t.Errorf("Get after the invalidation: %v", err)
		}
		got <- p.Version
	}()
	release()
	select {
	case v := <-got:
		if v != 3 {
			t.Fatalf("Get after an invalidation during a reload: version %d, want 3", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get after the invalidation did not return")
	}
	if v := version(t)(repo.Get(ctx, 1, 1)); v != 3 {
		t.Fatalf("the reload loaded before the invalidation was stored: version %d, want 3", v)
	}
}

// TestStaleIfError: a miss whose load fails returns the entry that expired
// less than stale-if-error= ago, counted; past the window, the error.
func TestStaleIfError(t *testing.T) {
	repo, inner, clk, c := setup(t)
	ctx := context.Background()
	version(t)(repo.Sturdy(ctx, 1, 1))
	clk.Add(2 * time.Minute) // expired a minute ago
	inner.down.Store(true)
	for i := range 2 {
		p, err := repo.Sturdy(ctx, 1, 1)
		if err != nil || p.Version != 1 {
			t.Fatalf("failed load %d within the window: %+v, %v; want the expired version 1", i, p, err)
		}
	}
	if s := stats(c, "Sturdy"); s.StaleServed != 2 || s.Loads != 3 || s.LoadErrors != 2 {
		t.Fatalf("stats: %d stale served, %d loads, %d load errors; want 2, 3, 2", s.StaleServed, s.Loads, s.LoadErrors)
	}
	clk.Add(time.Hour) // expired 1h1m ago
	if _, err := repo.Sturdy(ctx, 1, 1); !errors.Is(err, errDown) {
		t.Fatalf("failed load past the window: %v, want %v", err, errDown)
	}
	if s := stats(c, "Sturdy"); s.StaleServed != 2 {
		t.Fatalf("stale served past the window: %d, want 2", s.StaleServed)
	}
	inner.down.Store(false)
	if v := version(t)(repo.Sturdy(ctx, 1, 1)); v != 1 {
		t.Fatalf("after recovery: version %d, want 1", v)
	}
}

// TestStaleIfErrorNeverServesInvalidated: an invalidated entry is never
// served when a load fails, expired or not.
func TestStaleIfErrorNeverServesInvalidated(t *testing.T) {
	repo, inner, clk, _ := setup(t)
	ctx := context.Background()
	version(t)(repo.Sturdy(ctx, 1, 1))
	if err := repo.Update(ctx, Product{OrgID: 1, ID: 1, Name: "tea", Version: 2}); err != nil {
		t.Fatal(err)
	}
	inner.down.Store(true)
	if _, err := repo.Sturdy(ctx, 1, 1); !errors.Is(err, errDown) {
		t.Fatalf("failed load of an invalidated, unexpired entry: %v, want %v", err, errDown)
	}
	clk.Add(2 * time.Minute)
	if _, err := repo.Sturdy(ctx, 1, 1); !errors.Is(err, errDown) {
		t.Fatalf("failed load of an invalidated, expired entry: %v, want %v", err, errDown)
	}
}

// TestStaleIfErrorCallerCancelled: a caller whose context ends while it
// waits gets ctx.Err(), never a stale value.
func TestStaleIfErrorCallerCancelled(t *testing.T) {
	repo, inner, clk, _ := setup(t)
	version(t)(repo.Sturdy(context.Background(), 1, 1))
	clk.Add(2 * time.Minute)
	inner.down.Store(true)
	entered, release := inner.holdNext()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := repo.Sturdy(ctx, 1, 1)
		errs <- err
	}()
	wait(t, "the load starting", entered)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want context.Canceled", err)
	}
}

// TestRefreshAndStaleWithCopies: a method that copies its values refreshes
// and serves stale copies too.
func TestRefreshAndStaleWithCopies(t *testing.T) {
	repo, inner, clk, _ := setup(t)
	ctx := context.Background()
	p, err := repo.Both(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "changed by the caller"
	clk.Add(61 * time.Second)
	inner.set(2)
	if p, err := repo.Both(ctx, 1, 1); err != nil || p.Version != 1 || p.Name != "tea" {
		t.Fatalf("due hit: %+v, %v; want a copy of version 1", p, err)
	}
	eventually(t, "the refreshed copy", func() bool {
		p, err := repo.Both(ctx, 1, 1)
		return err == nil && p.Version == 2
	})
	clk.Add(11 * time.Minute)
	inner.down.Store(true)
	if p, err := repo.Both(ctx, 1, 1); err != nil || p.Version != 2 {
		t.Fatalf("failed load within the window: %+v, %v; want a copy of version 2", p, err)
	}
}

// TestSetTTL: a load's zoo.SetTTL gives its entry its own lifetime, in place
// of ttl=; a lifetime that is not positive is not cached.
func TestSetTTL(t *testing.T) {
	repo, inner, clk, _ := setup(t)
	ctx := context.Background()
	for range 2 {
		if _, err := repo.Token(ctx, "ann"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(29 * time.Second)
	repo.Token(ctx, "ann")
	if n := inner.loads.Load(); n != 1 {
		t.Fatalf("%d loads before the token expired, want 1", n)
	}
	clk.Add(2 * time.Second) // the token's 30 s are up, ttl=1h is not
	repo.Token(ctx, "ann")
	if n := inner.loads.Load(); n != 2 {
		t.Fatalf("%d loads after the token expired, want 2", n)
	}

	inner.lifetime = 0 // an expired token: not cached
	repo.Token(ctx, "bob")
	repo.Token(ctx, "bob")
	if n := inner.loads.Load(); n != 4 {
		t.Fatalf("%d loads, want 4: a value with a TTL of 0 was cached", n)
	}
}

// TestCloseEndsRefresh: Close cancels a background reload and waits for it.
func TestCloseEndsRefresh(t *testing.T) {
	repo, inner, clk, c := setup(t)
	ctx := context.Background()
	version(t)(repo.Get(ctx, 1, 1))
	clk.Add(61 * time.Second)
	entered, release := inner.holdNext()
	defer release()
	version(t)(repo.Get(ctx, 1, 1))
	wait(t, "the background reload starting", entered)
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	wait(t, "Close with a reload in flight", closed)
	if err := <-inner.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the reload's context at Close: %v, want context.Canceled", err)
	}
}
