package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

// flight is one load shared by the callers that missed on its key.
type flight[T any] struct {
	done chan struct{} // closed when the fields below are final

	gen uint64 // trie generation when the flight started

	asOf     hlc.Timestamp // taken before the load
	stamped  bool          // asOf was taken: the store's clock answered
	val      T
	raw      codec.Raw // the encoding of val, if the method copies and val survives it
	err      error
	panicked *PanicError
	tags     []string

	waiters int // guarded by Cache.mu
	cancel  context.CancelFunc

	// refreshOf is the hit whose entry a background refresh reloads
	// (refresh.go), nil for the load of a miss; stale is set when the
	// load failed and val is an expired entry's (stale.go).
	refreshOf *dueHit
	stale     bool
}

// maxJoins bounds how often a caller joins a flight whose result turned out
// stale for it before it calls the repository itself.
const maxJoins = 3

// paddedCount is an atomic counter alone on its cache line.
type paddedCount struct {
	_ [64]byte
	atomic.Uint64
	_ [56]byte
}

// loadShared loads key for a caller whose lookup missed, sharing the load
// with the callers that missed on it at the same time. miss is what the
// lookup knew when it began: the store is read again, before starting a
// flight, only if a flight stored an entry since.
func loadShared[T any](ctx context.Context, m *Method, key string, miss Miss, load func(context.Context) (T, error)) (T, error) {
	c := m.c
	counted := false
	missed := func() { // counts the call as a miss, once
		if !counted && m.stats != nil {
			counted = true
			m.stats.misses.inc()
		}
	}
	rechecked := false
	for range maxJoins {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			missed()
			return loadAlone(ctx, load)
		}
		f, joined := c.flights[key].(*flight[T])
		if !joined && !rechecked && c.stored.Load() != miss.stored {
			// A flight that ended since the caller's lookup began may have
			// stored the value (a flight is forgotten only after storing):
			// look again rather than load twice.
			c.mu.Unlock()
			rechecked = true
			if v, ok := lookup[T](ctx, m, key); ok {
				return v, nil
			}
			c.mu.Lock()
			f, joined = c.flights[key].(*flight[T])
		}
		missed()
		if joined {
			f.waiters++
			if m.stats != nil {
				m.stats.coalesced.inc()
			}
		} else {
			lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			f = &flight[T]{
				done:    make(chan struct{}),
				gen:     c.trie.Generation(),
				waiters: 1,
				cancel:  cancel,
			}
			c.flights[key] = f
			c.running++
			go run(c, m, key, f, lctx, load)
		}
		joinGen := c.trie.Generation()
		c.mu.Unlock()

		select {
		case <-f.done:
		case <-ctx.Done():
			leave(c, key, f)
			var zero T
			return zero, ctx.Err()
		}
		if f.panicked != nil {
			panic(f.panicked)
		}
		if f.err != nil {
			var zero T
			return zero, f.err
		}
		if !joined {
			// The caller that started the flight arrived before the load
			// began: whatever it read is fresh enough for it. It gets the
			// value itself: what the cache keeps of a method that copies is
			// the value's encoding.
			propagate(ctx, f.tags)
			return f.val, nil
		}
		inStore := c.readPath() == readInStore
		if inStore && !f.stale {
			// Only the store knows every invalidation: a joiner takes what
			// the store holds now, which the load stored unless it was
			// already stale.
			if v, _, _, ok := lookupRemote[T](ctx, m, key); ok {
				return v, nil
			}
			continue
		}
		// A joiner arrived before the load began too if no invalidation it
		// could know of completed between the flight's start and its
		// arrival. Otherwise the result must be valid now, after its
		// arrival: one found valid when the load returned may have been
		// joined after an invalidation that landed before the flight was
		// gone. An expired value served for a failed load (stale.go) was
		// validated after the load failed, in the store when only the
		// store knows every invalidation: after every joiner arrived.
		if joinGen == f.gen || f.stale && inStore || f.stamped && c.trie.Valid(f.tags, f.asOf) {
			if !m.copy {
				propagate(ctx, f.tags)
				return f.val, nil
			}
			if v, ok := copyOf[T](f.raw); ok {
				propagate(ctx, f.tags)
				return v, nil
			}
			// The value cannot be copied: it is its loader's alone.
			return loadAlone(ctx, load)
		}
	}
	return loadAlone(ctx, load)
}

// loadAlone calls load in the caller's goroutine, outside any flight (the
// cache is closed, or the caller gave up on shared results), keeping
// [Load]'s promise that a panicking load panics with a [*PanicError].
func loadAlone[T any](ctx context.Context, load func(context.Context) (T, error)) (T, error) {
	defer func() {
		if r := recover(); r != nil {
			if p, ok := r.(*PanicError); ok {
				panic(p)
			}
			panic(&PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	return load(ctx)
}

// leave drops a caller that stopped waiting; the last one out cancels the
// load and forgets the flight, so that the next caller starts afresh.
func leave[T any](c *Cache, key string, f *flight[T]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.waiters--; f.waiters > 0 || f.refreshOf != nil {
		return // a refresh goes on without waiters
	}
	if c.flights[key] == any(f) {
		delete(c.flights, key)
	}
	f.cancel()
}

// run performs the load of flight f, stores its result and releases the
// callers. The release is deferred so that it happens even if load exits
// its goroutine (runtime.Goexit, as t.FailNow does).
func run[T any](c *Cache, m *Method, key string, f *flight[T], ctx context.Context, load func(context.Context) (T, error)) {
	defer c.ended()
	activeLoads.Add(1)
	ctx, span := c.tracer.Start(ctx, "zoo.load", m.attrs)
	d := new(deps)
	returned := false
	cacheable := true // the result may be stored
	filled := false   // another process stored the result
	var fillExpires time.Time
	var unlock func() // releases the key's load lock, once the entry is stored
	defer func() {
		activeLoads.Add(-1)
		var ttl time.Duration // the loader's SetTTL, if it called it
		if !filled {
			f.tags = d.seal()
			var keep bool
			ttl, keep = d.ttlOf()
			cacheable = cacheable && keep
		}
		if !returned {
			f.err = fmt.Errorf("zoo: load of %s exited its goroutine", m.label)
		}
		loadErr := f.err
		if f.err != nil && f.panicked == nil && returned && m.stale > 0 && waitedFor(c, f) {
			serveStale(ctx, c, m, key, f)
		}
		f.stamped = cacheable
		ok := f.err == nil && f.panicked == nil
		var kept any = f.val // what the cache keeps
		if ok && m.copy {
			f.raw, ok = encodeCopy(c, m, f.val)
			kept = f.raw
		}
		stored := false
		c.stores.RLock()
		if c.storesGone {
			// Close gave up on this load and closed the stores: the
			// result goes to its callers only (a lock left taken expires).
			cacheable, filled, unlock = false, false, nil
		}
		if ok && filled && c.local != nil {
			_, _ = c.keepLocal(key, kept, f.asOf, fillExpires, m.retain(fillExpires), f.tags)
		}
		if ok && cacheable && !filled && !f.stale && c.trie.Valid(f.tags, f.asOf) {
			stored = c.set(ctx, m, key, kept, f.asOf, f.tags, ttl)
		}
		if unlock != nil {
			// After the store, so that a process waiting on the lock finds
			// the entry, or, if none was stored, takes the lock and loads.
			unlock()
		}
		c.stores.RUnlock()
		span.SetAttributes(attribute.Bool("zoo.hit", false), attribute.Int("zoo.tags", len(f.tags)),
			attribute.Bool("zoo.stored", stored), attribute.Bool("zoo.filled_by_peer", filled))
		if f.refreshOf != nil {
			span.SetAttributes(attribute.Bool("zoo.refresh", true))
		}
		if f.stale {
			span.SetAttributes(attribute.Bool("zoo.stale", true))
		}
		switch {
		case f.panicked != nil:
			span.SetStatus(codes.Error, "load panicked")
		case f.err != nil:
			span.RecordError(f.err)
			span.SetStatus(codes.Error, f.err.Error())
		}
		span.End()
		c.mu.Lock()
		if c.flights[key] == any(f) {
			delete(c.flights, key)
		}
		if f.refreshOf != nil {
			c.refreshing--
		}
		if ok && cacheable && !f.stale {
			// After the store, before a caller that missed can find the
			// flight gone: it looks again (loadShared).
			c.stored.Add(1)
		}
		c.mu.Unlock()
		if f.refreshOf != nil {
			refreshed(c, m, f.refreshOf, loadErr, f.panicked)
		}
		f.cancel()
		close(f.done)
	}()

	if c.shared == nil {
		f.asOf = c.clock.Now()
	} else {
		sent := c.cfg.now()
		asOf, err := c.shared.Now(ctx)
		if err != nil {
			// Fail open: without the store's clock the result cannot be
			// stamped, so it is served and not cached.
			c.logs.Warn("zoo: the store's clock is unreachable; serving from the repository uncached",
				slog.String("error", err.Error()))
			m.count(failOpens)
			cacheable = false
		} else {
			// The store's clock is the one every process's versions and
			// loads are judged by: this process's clock follows it.
			c.clock.Sync(asOf, sent)
		}
		f.asOf = asOf
		// A background refresh takes no lock: the entry it reloads is
		// fresh in the store, where the lock's holder would find it.
		if cacheable && c.locker != nil && c.cfg.lockTTL > 0 && f.refreshOf == nil {
			u, ok, err := c.locker.Lock(ctx, key, c.cfg.lockTTL)
			switch {
			case ok:
				unlock = u
				// The previous holder may have stored the entry between
				// this process's miss and its lock: look once more.
				if e, v, found, _ := storedEntry[T](ctx, c, m, key); found {
					f.val, f.asOf, f.tags, fillExpires = v, e.AsOf, e.Tags, e.Expires
					filled, returned = true, true
					return
				}
			case err == nil:
				// Another process is loading key: wait for its entry, or
				// for its lock, if it gives the lock up storing nothing.
				e, v, found, u := waitForFill[T](ctx, c, m, key)
				if found {
					f.val, f.asOf, f.tags, fillExpires = v, e.AsOf, e.Tags, e.Expires
					filled, returned = true, true
					return
				}
				unlock = u
			}
		}
	}
	d.asOf = f.asOf
	start := time.Now()
	returned = f.call(context.WithValue(ctx, depsKey{}, d), load)
	if m.stats != nil {
		m.stats.loads.inc()
		m.stats.loadDuration.observe(time.Since(start))
		if f.err != nil || f.panicked != nil || !returned {
			m.stats.loadErrors.inc()
		}
	}
}

// ended counts the end of a flight's goroutine, and tells a Close waiting
// for the last one.
func (c *Cache) ended() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running--
	if c.running == 0 && c.idle != nil {
		close(c.idle)
		c.idle = nil
	}
}

// fillPoll is how often a process waiting on another's lock looks for the
// entry it stores.
const fillPoll = 5 * time.Millisecond

// waitForFill waits, up to the lock's TTL, for the process holding the
// lock of key to store its entry, and returns it if it is fresh. A holder
// that gives the lock up without storing an entry (its load failed, or its
// value was not cached) does not keep the waiter until the TTL: the waiter
// takes the lock and returns its unlock, and loads.
func waitForFill[T any](ctx context.Context, c *Cache, m *Method, key string) (e *store.Entry, v T, found bool, unlock func()) {
	deadline := time.Now().Add(c.cfg.lockTTL)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, v, false, nil
		case <-time.After(fillPoll):
		}
		if e, v, found, final := storedEntry[T](ctx, c, m, key); found || final {
			return e, v, found, nil
		}
		if u, ok, err := c.locker.Lock(ctx, key, c.cfg.lockTTL); err == nil && ok {
			// The holder stores before it unlocks: one more look.
			if e, v, found, _ := storedEntry[T](ctx, c, m, key); found {
				u()
				return e, v, true, nil
			}
			return nil, v, false, u
		}
	}
	return nil, v, false, nil
}

// storedEntry reads key's entry from the shared store, validated there. It
// reports whether a fresh entry of type T was found, and, when not, whether
// looking again is pointless (the store failed, or the entry does not
// decode).
func storedEntry[T any](ctx context.Context, c *Cache, m *Method, key string) (e *store.Entry, v T, found, final bool) {
	e, err := c.shared.GetFresh(ctx, key)
	if err != nil {
		return nil, v, false, true
	}
	if e == nil || e.Expired(c.cfg.now()) { // by the cache's clock too, as lookupRemote
		return nil, v, false, false
	}
	if !c.admit(e) {
		return nil, v, false, true
	}
	v, ok := decode[T](c, m, e.Value)
	if !ok {
		return nil, v, false, true
	}
	return e, v, true, true
}

// call runs load, recording its result or panic. It reports whether load
// returned or panicked, rather than exiting its goroutine.
func (f *flight[T]) call(ctx context.Context, load func(context.Context) (T, error)) (returned bool) {
	defer func() {
		if r := recover(); r != nil {
			f.panicked = &PanicError{Value: r, Stack: debug.Stack()}
			returned = true
		}
	}()
	f.val, f.err = load(ctx)
	return true
}
