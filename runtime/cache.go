package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/internal/ratelog"
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
//
// Entries live in a memory tier, in a store shared with other processes
// (Redis, LMDB), or both: see [WithStore] and [WithLocalTier].
type Cache struct {
	cfg      config
	instance string // names this process among those sharing the store
	tracer   trace.Tracer
	logs     ratelog.Log

	// Versions: the tag trie every entry is validated against, and the
	// clock that stamps loads and invalidations (cache.go).
	trie   trie.Trie
	clock  *hlc.Clock
	maxTTL atomic.Int64 // the longest TTL of any method, for pruning (prune.go)

	// Tiers: where entries live. [Cache.readPath] (tiers.go) decides which
	// tier answers a read.
	local  *memstore.Store // the memory tier, or nil
	remote store.Store     // the store outside the process, or nil
	shared store.Shared    // remote, when processes share it
	locker store.Locker    // remote, when it can lock keys
	strict bool            // validate remote entries in the store
	// checker is shared, when it can confirm the memory tier's copies
	// of its entries; then the memory tier also keeps what is read while
	// the store validates entries (strict mode, or its watch down).
	checker store.Checker

	// watchUp is set while a shared store's invalidations reach this
	// cache: only then is an entry validated against the local trie alone.
	watchUp atomic.Bool
	// pruneNow asks the prune loop for a prune before its next tick: the
	// trie is full.
	pruneNow chan struct{}
	wasUp    bool // a shared store has reported EventUp before; event goroutine only

	// Flights: the loads in progress, one per key (flight.go).
	mu      sync.Mutex
	flights map[string]any // key → *flight[T]
	closed  bool           // guarded by mu; set once
	isDone  atomic.Bool    // closed, readable without mu
	loads   sync.WaitGroup // flights in progress
	// stored counts the flights that ended after storing an entry,
	// incremented under mu once the entry is visible. Every lookup reads
	// it, so it has a cache line of its own: a miss writing mu or flights
	// costs hits nothing.
	stored paddedCount

	// Replay: invalidations the shared store has not recorded yet
	// (replay.go).
	pending pendingInvalidations

	// Methods and their statistics (method.go, stats.go).
	invalidations counter
	methods       methodTable

	// Background work (prune.go, report.go, replay.go), ended by Close.
	stop chan struct{}
	bg   sync.WaitGroup
}

// New returns a cache configured by opts. Without [WithStore] it keeps
// entries in memory. Close it to stop its background work.
//
// New does not contact a shared store: it succeeds while the store's server
// is unreachable, and calls reach the repository until it answers.
func New(opts ...Option) (*Cache, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Cache{
		cfg:      cfg,
		clock:    hlc.NewClock(hlc.WithSource(cfg.now)),
		flights:  make(map[string]any),
		stop:     make(chan struct{}),
		pruneNow: make(chan struct{}, 1),
	}
	c.logs.Logger = cfg.logger
	c.maxTTL.Store(int64(cfg.ttl))
	c.instance = cfg.instance
	if c.instance == "" {
		host, _ := os.Hostname()
		c.instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	tp := cfg.tracer
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	c.tracer = tp.Tracer("github.com/zoogen/zoogen/runtime")
	switch s := cfg.store.(type) {
	case nil:
		local, err := memstore.New(memstore.WithClock(cfg.clock))
		if err != nil {
			return nil, fmt.Errorf("zoo: the memory store: %w", err)
		}
		c.local = local
	case *memstore.Store:
		c.local = s
	default:
		c.remote = s
		c.shared, _ = s.(store.Shared)
		c.locker, _ = s.(store.Locker)
		c.strict = c.shared != nil && cfg.consistency == Strict
		checker, _ := s.(store.Checker)
		tier := cfg.localTier
		if tier < 0 { // the default: on, unless strict reads cannot use it
			tier = 0
			if c.shared != nil && (!c.strict || checker != nil) {
				tier = memstore.DefaultMaxEntries
			}
		}
		if tier > 0 {
			local, err := memstore.New(memstore.WithMaxEntries(tier), memstore.WithClock(cfg.clock))
			if err != nil {
				return nil, fmt.Errorf("zoo: the local tier: %w", err)
			}
			c.local = local
			if c.shared != nil {
				c.checker = checker
			}
		}
	}
	if c.shared != nil {
		if err := c.shared.Attach(cfg.namespace, c.onEvent); err != nil {
			return nil, fmt.Errorf("zoo: attaching the store: %w", err)
		}
	} else {
		c.watchUp.Store(true)
	}
	c.bg.Go(c.pruneLoop)
	if r, ok := c.remote.(store.Reporter); ok {
		c.bg.Go(func() { c.reportLoop(r) })
	}
	return c, nil
}

// Close stops background work, waits for loads in flight to finish, and
// closes the stores. Calls after Close reach the repository uncached;
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
	var errs []error
	if c.remote != nil {
		errs = append(errs, c.remote.Close())
	}
	if c.local != nil {
		errs = append(errs, c.local.Close())
	}
	return errors.Join(errs...)
}

// Invalidate makes every entry under each tag stale: an entry tagged
// "org:1:store:2" is stale after Invalidate(ctx, "org:1") or
// Invalidate(ctx, "org:1:store:2"), not after Invalidate(ctx, "org:1:store:3").
// It costs O(depth) per tag, whatever the number of entries.
//
// An entry whose load began before Invalidate is never served after
// Invalidate returns, even if the load finishes later.
//
// With a shared store, the invalidation is recorded in the store, which
// tells every other process. If the store cannot be reached, the
// invalidation holds in this process at once, is replayed to the store when
// it answers again, and Invalidate returns an error wrapping
// store.ErrUnavailable.
func (c *Cache) Invalidate(ctx context.Context, tags ...string) error {
	return c.invalidate(ctx, nil, tags)
}

// invalidate is Invalidate on behalf of method m, or of the caller if m is
// nil.
func (c *Cache) invalidate(ctx context.Context, m *Method, tags []string) error {
	if c.isDone.Load() {
		return ErrClosed
	}
	if len(tags) == 0 {
		return nil
	}
	if u := unitOf(ctx, c); u != nil {
		u.add(tags)
	}
	c.invalidations.inc()
	// Invalidations are on the write path of requests: they get a span as
	// the child of a recording one, or always when a tracer provider was
	// given explicitly, and cost nothing otherwise.
	span := trace.SpanFromContext(ctx)
	if c.cfg.tracer != nil || span.IsRecording() {
		opts := []trace.SpanStartOption{trace.WithAttributes(attribute.Int("zoo.tags", len(tags)))}
		if m != nil {
			opts = append(opts, m.attrs)
		}
		ctx, span = c.tracer.Start(ctx, "zoo.invalidate", opts...)
		defer span.End()
	}
	if c.shared == nil {
		c.stamp(tags, c.clock.Now())
		return nil
	}
	// The store gets a copy, so that the caller's variadic slice does not
	// escape to the heap on the memory-only path.
	shared := slices.Clone(tags)
	v, err := c.shared.Invalidate(ctx, shared, c.clock.Last())
	if err != nil {
		c.stamp(shared, c.clock.Now())
		c.keepForReplay(shared)
		// Replayed when the store reconnects, or after the next
		// invalidation it records; a store that answers but refused
		// (out of memory) sends no event: retry anyway.
		c.replayLater()
		span.RecordError(err)
		return fmt.Errorf("zoo: invalidation holds in this process only until the store records it: %w", err)
	}
	c.learn(shared, v)
	c.replaySoon()
	return nil
}

// stamp invalidates tags in the local trie at v; no tags stamps the root.
func (c *Cache) stamp(tags []string, v hlc.Timestamp) {
	if len(tags) == 0 {
		c.trie.InvalidateAll(v)
		return
	}
	for _, tag := range tags {
		if c.trie.Len() >= c.cfg.maxTagNodes {
			// Full: the tag may need nodes the bound has no room for (a
			// flood of distinct tags, a hostile message). Expiring
			// everything loaded before v adds none and is never stale;
			// pruning makes room again.
			c.trie.InvalidateAll(v)
			select {
			case c.pruneNow <- struct{}{}:
			default: // a prune is due already
			}
			return
		}
		c.trie.Invalidate(tag, v)
	}
}

// learn applies a version issued by the shared store: the clock catches up
// with it and the trie is stamped with it. A version further ahead of the
// local clock than the allowed drift is not trusted as it is: it is stamped
// as of the drift bound, so that a corrupt message cannot pin a tag until
// the end of time, yet still expires what was loaded before it.
func (c *Cache) learn(tags []string, v hlc.Timestamp) {
	if _, err := c.clock.Update(v); err != nil {
		bound := hlc.FromTime(c.cfg.now().Add(hlc.DefaultMaxDrift))
		c.logs.Warn("zoo: a version from the store is far ahead of this process's clock; clamping it",
			slog.String("version", v.String()), slog.String("error", err.Error()))
		v = min(v, bound)
	}
	c.stamp(tags, v)
}

// ttl returns the lifetime of a new entry of m, jittered.
func (c *Cache) ttl(m *Method) time.Duration {
	d := m.ttl
	if c.cfg.jitter > 0 {
		d -= time.Duration(rand.Float64() * c.cfg.jitter * float64(d))
	}
	return d
}

// fresh reports whether e may be served. A hit costs a few atomic loads
// while nothing on e's paths changed, whatever was invalidated elsewhere:
// the memo kept in e lets the trie skip the walk of e's tags (trie.Fresh).
func (c *Cache) fresh(e *store.Entry) bool {
	return c.trie.Fresh(&e.Memo, e.Tags, e.AsOf)
}

// recheck is fresh for an entry whose memo does not hold (trie.Recheck).
func (c *Cache) recheck(e *store.Entry) bool {
	return c.trie.Recheck(&e.Memo, e.Tags, e.AsOf)
}

// catchUp applies the tag versions an entry from a shared store carries:
// invalidations this process has not heard of yet (passive
// resynchronisation).
func (c *Cache) catchUp(versions map[string]hlc.Timestamp) {
	for tag, v := range versions {
		if c.trie.Version(tag) < v {
			c.learn([]string{tag}, v)
		}
	}
}
