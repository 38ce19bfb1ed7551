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
	// refreshing counts the background refreshes in flight, guarded by
	// mu; closing ends their loads' contexts in Close (refresh.go).
	refreshing int
	closing    context.Context
	endLoads   context.CancelFunc
	running    int           // loads (flights, batches, refreshes) whose goroutine has not ended; guarded by mu
	idle       chan struct{} // closed by the last load to end after Close; guarded by mu
	// stores is held for reading by a load while it writes its result
	// to the stores, and for writing by Close before it closes them: a
	// load Close gave up on (storesGone, guarded by stores) writes nothing.
	stores     sync.RWMutex
	storesGone bool
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
	c.closing, c.endLoads = context.WithCancel(context.Background())
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
//
// Close waits for loads for as long as [WithCloseWait] says. If some are
// still running then, Close closes the stores anyway and returns an error
// saying how many it abandoned: their callers still get their results, and
// nothing they load is cached.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.isDone.Store(true)
	var idle chan struct{}
	if c.running > 0 {
		idle = make(chan struct{})
		c.idle = idle
	}
	c.mu.Unlock()
	close(c.stop)
	c.bg.Wait()
	c.endLoads() // background refreshes stop; the loads callers wait for go on
	if idle != nil {
		t := time.NewTimer(c.cfg.closeWait)
		select {
		case <-idle:
		case <-t.C:
		}
		t.Stop()
	}
	// Loads that returned meanwhile finish writing; the others will not
	// write.
	c.stores.Lock()
	c.storesGone = true
	c.stores.Unlock()
	var errs []error
	c.mu.Lock()
	if n := c.running; n > 0 {
		errs = append(errs, fmt.Errorf("zoo: closed with %d loads still running after %v; they are abandoned and their results will not be cached", n, c.cfg.closeWait))
	}
	c.mu.Unlock()
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
	sent := c.cfg.now()
	v, err := c.shared.Invalidate(ctx, shared, c.clock.Vouched())
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
	c.clock.Sync(v, sent)
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

// learn applies a version issued by the shared store: the trie is stamped
// with it. A version past the clock's bound (the drift allowed past this
// process's view of the store's clock, see hlc.Clock.Bound) is not trusted
// as it is: it is stamped as of the bound, so that a corrupt message cannot
// pin a tag until the end of time, yet still expires what was loaded before
// it: every entry this process serves has an asOf within the bound
// (Cache.admit).
//
// The version is merged into the clock, so that what this process stamps on
// its own (an invalidation the store did not record) orders after every
// version it has heard of. It moves neither the clock's bound nor the
// version the process asks the store to issue after (hlc.Clock.Vouched, the
// min of Store.Invalidate): only the store's replies do (hlc.Clock.Sync), so
// that forged versions cannot walk the store's clock forward a drift at a
// time.
func (c *Cache) learn(tags []string, v hlc.Timestamp) {
	if bound := c.clock.Bound(); v > bound {
		c.logs.Warn("zoo: a version from the store is far ahead of its clock as this process sees it; clamping it",
			slog.String("version", v.String()), slog.String("bound", bound.String()))
		v = bound
	}
	_, _ = c.clock.Update(v) // within the bound
	c.stamp(tags, v)
}

// admit reports whether an entry read from a shared store may be served
// and kept: its asOf, issued by the store to whichever process loaded it,
// is within the clock's bound, and is taken in by the clock. Every
// invalidation this process learns of is then stamped after the asOf of
// every entry it serves, however far it has to be clamped (learn). An entry
// stamped further ahead (the store's clock jumped forward since this
// process last read it) is a miss: the load that follows reads the store's
// clock.
func (c *Cache) admit(e *store.Entry) bool {
	if c.clock.Admit(e.AsOf) {
		return true
	}
	c.logs.Warn("zoo: an entry from the store was loaded ahead of the store's clock as this process sees it; treating it as a miss",
		slog.String("as_of", e.AsOf.String()), slog.String("bound", c.clock.Bound().String()))
	return false
}

// ttl returns the lifetime of a new entry of m, jittered.
func (c *Cache) ttl(m *Method) time.Duration {
	d := m.ttl
	if c.cfg.jitter > 0 {
		d -= time.Duration(rand.Float64() * c.cfg.jitter * float64(d))
	}
	return d
}

// fresh reports whether it, an item of the memory tier, may be served. A
// hit costs a few atomic loads while nothing on its entry's paths changed,
// whatever was invalidated elsewhere: the memo kept in the item lets the
// trie skip the walk of the entry's tags (trie.Fresh).
func (c *Cache) fresh(it *memstore.Item) bool {
	return c.trie.Fresh(&it.Memo, it.Entry.Tags, it.Entry.AsOf)
}

// recheck is fresh for an item whose memo does not hold (trie.Recheck).
func (c *Cache) recheck(it *memstore.Item) bool {
	return c.trie.Recheck(&it.Memo, it.Entry.Tags, it.Entry.AsOf)
}

// valid reports whether e, an entry read from the store outside the
// process, may be served. Such an entry has no memo (only the memory
// tier's items keep one, and it is read once): its tags are walked.
func (c *Cache) valid(e *store.Entry) bool {
	return c.trie.Valid(e.Tags, e.AsOf)
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
