package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// Refresh-ahead (MethodSpec.Refresh, the annotation's refresh=): a hit on
// an entry older than the method's refresh interval returns the cached
// value and starts one background reload of the entry, a flight like the
// load of a miss (flight.go) that no caller waits for. It stamps its asOf
// before it loads and stores only if no invalidation came meanwhile, as
// every load does; a miss on the key while it runs joins it. The reload of
// an entry starts once: the entry's refresh state, which the memory tier
// keeps beside it (memstore.Item.Refresh), is set by the hit that starts
// it and cleared when it ends, so other hits cost one more atomic load. A
// reload that fails leaves the old entry in place until its TTL, and a hit
// retries it no sooner than one refresh interval later, so that a database
// that is down is not asked again on every hit. (An entry read from a
// store outside the process and not kept in the memory tier has no such
// state: its reload starts unless a load of its key runs, and a failed one
// is retried by the next hit.) At most [WithMaxRefreshes] run at once; a hit
// that finds no room serves the entry and starts nothing. Close cancels
// the reloads' contexts and waits for them.
//
// The age of an entry is measured from its asOf, the timestamp taken before
// its load: with a shared store, by the store's clock against this
// process's, so a skew between the two moves refreshes earlier or later,
// never past the TTL.

// DefaultMaxRefreshes bounds the background refreshes a cache runs at once;
// see [WithMaxRefreshes].
const DefaultMaxRefreshes = 64

// WithMaxRefreshes bounds how many background refreshes (refresh=) run at
// once; the default is [DefaultMaxRefreshes]. A hit on an entry due for a
// refresh while n run serves the entry and starts none: a later hit does.
// n must be positive.
func WithMaxRefreshes(n int) Option { return func(c *config) { c.maxRefresh = n } }

// dueHit is a hit on an entry due for a refresh: the memory tier's item
// of the entry, which holds its refresh state (nil for an entry that tier
// does not keep), and its value, which LoadMiss returns.
type dueHit struct {
	item  *memstore.Item
	value any
}

// setState sets the refresh state of the hit's entry to st, if the memory
// tier keeps it.
func (d *dueHit) setState(st int64) {
	if d.item != nil {
		d.item.Refresh.Store(st)
	}
}

// refreshSpec returns the refresh interval in milliseconds and the
// stale-if-error window of a method whose TTL is ttl: 0 for what it does
// not ask for, or asks for wrongly (logged).
func (c *Cache) refreshSpec(spec MethodSpec, ttl time.Duration) (refresh int64, stale time.Duration) {
	label := slog.String("method", spec.Interface+"."+spec.Method)
	switch r := spec.Refresh; {
	case r < 0:
		c.logs.Warn("zoo: a method's refresh interval is negative; it does not refresh", label, slog.Duration("refresh", r))
	case r > 0 && r >= ttl:
		c.logs.Warn("zoo: a method's refresh interval is not shorter than its TTL; it does not refresh",
			label, slog.Duration("refresh", r), slog.Duration("ttl", ttl))
	case r > 0:
		refresh = max(r.Milliseconds(), 1)
	}
	switch s := spec.StaleIfError; {
	case s < 0:
		c.logs.Warn("zoo: a method's stale-if-error window is negative; it serves no stale entries", label, slog.Duration("stale_if_error", s))
	case s > 0:
		stale = min(s, MaxTTL)
	}
	return refresh, stale
}

// coverTTL makes pruning keep the versions an entry that lives d needs.
func (c *Cache) coverTTL(d time.Duration) {
	for {
		old := c.maxTTL.Load()
		if int64(d) <= old || c.maxTTL.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// due reports whether e, an entry of m just found fresh, is older than m's
// refresh interval and, if the memory tier keeps it as it, no reload of it
// runs and none failed in the last interval; it then marks it as
// refreshing, for one caller. An entry that tier does not keep has no
// state: a hit on it starts a reload unless one of its key runs
// (startRefresh).
func (m *Method) due(e *store.Entry, it *memstore.Item) bool {
	now := m.c.nowMillis()
	if now-e.AsOf.Wall() < m.refresh {
		return false
	}
	if it == nil {
		return true
	}
	st := it.Refresh.Load()
	return st >= 0 && st <= now && it.Refresh.CompareAndSwap(st, refreshRunning)
}

// refreshRunning is the refresh state of an entry whose reload runs.
const refreshRunning = -1

// nowMillis is the time entries' ages are measured against: the memory
// tier's clock (coarse, or the injected one), else the cache's.
func (c *Cache) nowMillis() int64 {
	if c.local != nil {
		return c.local.NowNano() / int64(time.Millisecond)
	}
	return c.cfg.now().UnixMilli()
}

// startRefresh starts the background reload of the entry of key that hit
// d found due, with load, unless the cache is closed, another load of key
// runs, or WithMaxRefreshes reloads run already.
func startRefresh[T any](ctx context.Context, m *Method, key string, d *dueHit, load func(context.Context) (T, error)) {
	c := m.c
	c.mu.Lock()
	_, busy := c.flights[key]
	if c.closed || busy || c.refreshing >= c.cfg.maxRefresh {
		c.mu.Unlock()
		d.setState(0)
		return
	}
	c.refreshing++
	// The reload carries the values of the hit's context (its trace) but
	// neither its cancellation nor its deadline; Close cancels it.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(c.closing, cancel)
	f := &flight[T]{
		done:      make(chan struct{}),
		gen:       c.trie.Generation(),
		refreshOf: d,
		cancel:    func() { stop(); cancel() },
	}
	c.flights[key] = f
	c.running++
	c.mu.Unlock()
	m.count(refreshes)
	go run(c, m, key, f, lctx, load)
}

func refreshes(s *methodStats) *counter     { return &s.refreshes }
func refreshErrors(s *methodStats) *counter { return &s.refreshErrors }

// refreshed ends the background reload of the entry that hit d found due:
// a failure is counted and logged (unless Close cancelled it), and a hit
// may start another reload of the entry one refresh interval after it (at
// once after a success, which replaced the entry anyway).
func refreshed(c *Cache, m *Method, d *dueHit, err error, p *PanicError) {
	if p != nil {
		err = fmt.Errorf("zoo: load panicked: %v", p.Value)
	}
	if err == nil || c.isDone.Load() && errors.Is(err, context.Canceled) {
		d.setState(0)
		return
	}
	d.setState(c.nowMillis() + m.refresh)
	m.count(refreshErrors)
	c.logs.Warn("zoo: a background refresh failed; the cached entry is served until it expires",
		slog.String("method", m.label), slog.String("error", err.Error()))
}
