// Package cachetest holds tests of the cache that every shared store runs
// through a cache of its own: refresh= and stale-if-error= read locally,
// without a memory tier, and strictly (lmdbstore's and redisstore's
// TestRefreshAndStaleIfError).
package cachetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

// db is the database of the tests: a version per row, raised by write, and
// a count of reads.
type db struct {
	mu       sync.Mutex
	versions map[int64]int64
	loads    atomic.Int64
}

func newDB() *db { return &db{versions: map[int64]int64{}} }

func (d *db) read(id int64) int64 {
	d.loads.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.versions[id]
}

func (d *db) write(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.versions[id]++
}

// eventually fails t with msg unless cond holds within the given time.
func eventually(t testing.TB, within time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(time.Millisecond)
	}
}

// errDown is what the repository of the refresh and stale tests returns
// while its database is down.
var errDown = errors.New("database down")

// clock is a cache's clock, moved by hand from the real time (the store's
// own expiry runs on the real one).
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

// flaky reads rows of db through a cached method, failing while down;
// while hold is set, loads wait for it to be closed.
type flaky struct {
	db   *db
	down atomic.Bool
	hold atomic.Pointer[chan struct{}]
}

func (r *flaky) read(m *zoo.Method, id int64) (int64, error) {
	var buf [64]byte
	k := zoo.KeyInt(m.Key(buf[:0]), id)
	return zoo.Load(context.Background(), m, k, func(ctx context.Context) (int64, error) {
		zoo.AddDeps(ctx, zoo.Tag("item", id))
		if hold := r.hold.Load(); hold != nil {
			<-*hold
		}
		if r.down.Load() {
			return 0, errDown
		}
		return r.db.read(id), nil
	})
}

func methodStats(c *zoo.Cache, method string) zoo.MethodStats {
	for _, m := range c.Stats().Methods {
		if m.Method == method {
			return m
		}
	}
	return zoo.MethodStats{}
}

// refreshAfter is the refresh interval of the refresh tests, on the real
// clock.
const refreshAfter = 300 * time.Millisecond

// refreshModes are the ways a cache reads the store: validated locally
// with a memory tier, with no memory tier, and strictly in the store.
var refreshModes = []struct {
	name string
	opts []zoo.Option
}{
	{"Local", nil},
	{"LocalNoTier", []zoo.Option{zoo.WithLocalTier(0)}},
	{"Strict", []zoo.Option{zoo.WithConsistency(zoo.Strict)}},
}

// RefreshAndStale runs refresh= and stale-if-error= through a cache on
// the store newCache gives it, in each mode, on a clock moved by hand.
func RefreshAndStale(t *testing.T, newCache func(t *testing.T, opts ...zoo.Option) *zoo.Cache) {
	for _, mode := range refreshModes {
		t.Run(mode.name+"/Refresh", func(t *testing.T) {
			// On the real clock: an entry's age is measured from its asOf,
			// which the store's clock stamps, and that clock does not move
			// with the cache's.
			c := newCache(t, append([]zoo.Option{zoo.WithStats(true)}, mode.opts...)...)
			m := c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Refreshed",
				TTL: 10 * time.Minute, Refresh: refreshAfter})
			r := &flaky{db: newDB()}
			read := func() int64 {
				t.Helper()
				v, err := r.read(m, 1)
				require.NoError(t, err)
				return v
			}
			start := time.Now()
			require.Equal(t, int64(0), read())
			r.db.write(1) // the database changes; nothing tells the cache
			if time.Since(start) < refreshAfter/2 {
				require.Equal(t, int64(0), read(), "a hit younger than refresh=")
				require.Equal(t, int64(1), r.db.loads.Load(), "a hit younger than refresh= reloaded")
			}
			time.Sleep(refreshAfter + 50*time.Millisecond)
			require.Equal(t, int64(0), read(), "a due hit returns the cached value")
			eventually(t, 10*time.Second, func() bool { return read() == 1 }, "the refreshed value was never served")
			s := methodStats(c, "Refreshed")
			require.GreaterOrEqual(t, s.Refreshes, uint64(1))
			require.Equal(t, uint64(1), s.Misses, "a refresh counted as a miss")
			require.Equal(t, s.Loads, 1+s.Refreshes, "loads other than the first miss and the refreshes")

			// Due and invalidated: a miss, loaded at once.
			time.Sleep(refreshAfter + 50*time.Millisecond)
			r.db.write(1)
			require.NoError(t, c.Invalidate(context.Background(), zoo.Tag("item", 1)))
			require.Equal(t, int64(2), read(), "an invalidated entry due for a refresh was served")
			require.Equal(t, uint64(2), methodStats(c, "Refreshed").Misses)
		})
		t.Run(mode.name+"/StaleIfError", func(t *testing.T) {
			clk := &clock{t: time.Now()}
			c := newCache(t, append([]zoo.Option{zoo.WithStats(true), zoo.WithClock(clk.Now)}, mode.opts...)...)
			m := c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Sturdy",
				TTL: time.Minute, StaleIfError: time.Hour})
			r := &flaky{db: newDB()}
			r.db.write(1)
			v, err := r.read(m, 1)
			require.NoError(t, err)
			require.Equal(t, int64(1), v)

			clk.Add(2 * time.Minute) // expired a minute ago
			r.down.Store(true)
			v, err = r.read(m, 1)
			require.NoError(t, err, "a failed load within the window")
			require.Equal(t, int64(1), v)
			require.Equal(t, uint64(1), methodStats(c, "Sturdy").StaleServed)

			// Callers that join the failing load get the expired entry too.
			hold := make(chan struct{})
			r.hold.Store(&hold)
			const callers = 4
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					v, err := r.read(m, 1)
					assert.NoError(t, err, "a caller of a failed load within the window")
					assert.Equal(t, int64(1), v)
				})
			}
			eventually(t, 10*time.Second, func() bool { return methodStats(c, "Sturdy").Coalesced == callers-1 },
				"the callers never joined one load")
			r.hold.Store(nil)
			close(hold)
			wg.Wait()
			require.Equal(t, uint64(2), methodStats(c, "Sturdy").StaleServed, "one stale answer per failed load")

			require.NoError(t, c.Invalidate(context.Background(), zoo.Tag("item", 1)))
			_, err = r.read(m, 1)
			require.ErrorIs(t, err, errDown, "an invalidated entry was served for a failed load")

			r.down.Store(false)
			v, err = r.read(m, 1)
			require.NoError(t, err)
			require.Equal(t, int64(1), v)
			clk.Add(time.Hour + 2*time.Minute) // expired 1h1m ago
			r.down.Store(true)
			_, err = r.read(m, 1)
			require.ErrorIs(t, err, errDown, "an entry past the window was served for a failed load")
			require.Equal(t, uint64(2), methodStats(c, "Sturdy").StaleServed)
		})
	}
}
