package runtime

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/memstore"
	"github.com/zoogen/zoogen/runtime/trie"
)

// ErrClosed is returned by [Cache.Invalidate] after [Cache.Close].
var ErrClosed = errors.New("zoo: cache closed")

// Cache caches the results of repository methods under dependency tags.
//
// Generated decorators call it through [Lookup] and [Load]; services call
// [Cache.Invalidate] when data changes outside an annotated write method.
// A Cache is safe for concurrent use. Hits take no lock; loads take one
// mutex briefly to join or start a flight, and run outside it.
type Cache struct {
	cfg   config
	store store.Store
	mem   *memstore.Store // store, when it is a memstore: called directly on hits
	trie  trie.Trie
	clock *hlc.Clock

	maxTTL atomic.Int64 // the longest TTL of any method, for pruning

	mu      sync.Mutex
	flights map[string]any // key → *flight[T]
	closed  bool           // guarded by mu; set once
	isDone  atomic.Bool    // closed, readable without mu
	loads   sync.WaitGroup // flights in progress

	stop chan struct{}
	bg   sync.WaitGroup

	logs rateLimitedLog
}

// New returns a cache configured by opts. Without [WithStore] it keeps
// entries in memory. Close it to stop its background work.
func New(opts ...Option) (*Cache, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Cache{
		cfg:     cfg,
		store:   cfg.store,
		clock:   hlc.NewClock(hlc.WithSource(cfg.now)),
		flights: make(map[string]any),
		stop:    make(chan struct{}),
	}
	if c.store == nil {
		// The default store reads the injected clock, or else otter's own.
		c.store = memstore.New(memstore.WithClock(cfg.clock))
	}
	c.mem, _ = c.store.(*memstore.Store)
	c.maxTTL.Store(int64(cfg.ttl))
	c.logs.logger = cfg.logger
	c.bg.Go(c.pruneLoop)
	return c, nil
}

// Close stops background work, waits for loads in flight to finish, and
// closes the store. Calls after Close reach the repository uncached;
// Invalidate returns ErrClosed. Close is idempotent.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.isDone.Store(true)
	c.mu.Unlock()
	close(c.stop)
	c.bg.Wait()
	c.loads.Wait()
	return c.store.Close()
}

// Invalidate makes every entry under each tag stale: an entry tagged
// "org:1:store:2" is stale after Invalidate(ctx, "org:1") or
// Invalidate(ctx, "org:1:store:2"), not after Invalidate(ctx, "org:1:store:3").
// It costs O(depth) per tag, whatever the number of entries.
//
// An entry whose load began before Invalidate is never served after
// Invalidate returns, even if the load finishes later.
func (c *Cache) Invalidate(ctx context.Context, tags ...string) error {
	if c.isDone.Load() {
		return ErrClosed
	}
	v := c.clock.Now()
	for _, tag := range tags {
		c.trie.Invalidate(tag, v)
	}
	return nil
}

// ttl returns the lifetime of a new entry of m, jittered.
func (c *Cache) ttl(m *Method) time.Duration {
	d := m.ttl
	if c.cfg.jitter > 0 {
		d -= time.Duration(rand.Float64() * c.cfg.jitter * float64(d))
	}
	return d
}

// fresh reports whether e may be served. A hit between two changes of the
// trie costs two atomic loads: the generation at which e was last found
// fresh is remembered in e.
func (c *Cache) fresh(e *store.Entry) bool {
	gen := c.trie.Generation()
	if e.Checked() == gen {
		return true
	}
	if !c.trie.Valid(e.Tags, e.AsOf) {
		return false
	}
	e.MarkChecked(gen)
	return true
}

// pruneSlack keeps nodes a little longer than the longest TTL: entries are
// stamped before their load and expire after it, so an entry may outlive
// asOf+TTL by the duration of its load.
const pruneSlack = time.Minute

func (c *Cache) pruneLoop() {
	t := time.NewTicker(c.cfg.pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.prune()
		}
	}
}

// prune drops trie nodes no live entry can need. If invalidations of
// distinct tags still leave more nodes than allowed, it raises the horizon
// further, step by step, until the trie fits: entries loaded before it
// become misses.
func (c *Cache) prune() {
	now := c.cfg.now()
	span := time.Duration(c.maxTTL.Load()) + pruneSlack
	c.trie.Prune(hlc.FromTime(now.Add(-span)))
	for c.trie.Len() > c.cfg.maxTagNodes && span > time.Millisecond {
		span /= 2
		c.trie.Prune(hlc.FromTime(now.Add(-span)))
	}
	if c.trie.Len() > c.cfg.maxTagNodes {
		c.trie.Prune(c.clock.Now())
	}
	if limit := time.Duration(c.maxTTL.Load()) + pruneSlack; span < limit {
		c.logs.warn("zoo: tag trie over its bound: entries loaded before the pruning horizon are treated as stale",
			slog.Int("max_tag_nodes", c.cfg.maxTagNodes), slog.Duration("horizon_age", span))
	}
}
