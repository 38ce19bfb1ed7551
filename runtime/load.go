package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

// Lookup returns the value cached under key if a fresh entry of type T is
// present. Called by generated code, before [Load], so that a hit builds no
// closure.
//
// key is read during the call only; callers build it in a stack buffer.
func Lookup[T any](ctx context.Context, m *Method, key []byte) (T, bool) {
	// The key stays in the caller's stack buffer: the memory tier does not
	// keep it, and is called directly (through an interface the key would
	// escape). The remote path copies it.
	v, ok := lookupLocal[T](ctx, m, unsafe.String(unsafe.SliceData(key), len(key)))
	if !ok && m.c.readPath() != readMemory {
		v, ok = lookupRemote[T](ctx, m, string(key))
	}
	if ok {
		m.hit(ctx)
	}
	return v, ok
}

// lookup is Lookup for a key the caller owns.
func lookup[T any](ctx context.Context, m *Method, key string) (T, bool) {
	v, ok := lookupLocal[T](ctx, m, key)
	if !ok && m.c.readPath() != readMemory {
		v, ok = lookupRemote[T](ctx, m, key)
	}
	if ok {
		m.hit(ctx)
	}
	return v, ok
}

// hit counts a hit, and records a span for it if asked to.
func (m *Method) hit(ctx context.Context) {
	if m.stats != nil {
		m.stats.hits.inc()
	}
	if m.c.cfg.hitSpans {
		_, span := m.c.tracer.Start(ctx, "zoo.hit", m.attrs)
		span.SetAttributes(attribute.Bool("zoo.hit", true))
		span.End()
	}
}

// count increments one of m's counters, if statistics are on.
func (m *Method) count(pick func(*methodStats) *counter) {
	if m.stats != nil {
		pick(m.stats).inc()
	}
}

func decodeFailures(s *methodStats) *counter { return &s.decodeFailures }
func failOpens(s *methodStats) *counter      { return &s.failOpens }
func oversized(s *methodStats) *counter      { return &s.oversized }

// decode returns a stored value as a T: as it is (a copy of it if m
// copies), or decoded from the MessagePack a byte store returns or a method
// that copies keeps.
func decode[T any](c *Cache, m *Method, value any) (T, bool) {
	switch v := value.(type) {
	case T:
		if m.copy {
			return clone(c, m, v)
		}
		return v, true
	case codec.Raw:
		var out T
		if err := v.Decode(&out); err != nil {
			m.count(decodeFailures)
			c.logs.Warn("zoo: cached value does not decode; treating it as a miss",
				slog.String("method", m.label), slog.String("error", err.Error()))
			return out, false
		}
		return out, true
	}
	var zero T
	return zero, false
}

// Load returns the value cached under key, or loads it. Concurrent callers
// that miss on one key share a single call of load and its result or error
// (errors are not cached). Called by generated code; services may call it
// too.
//
// load runs on its own goroutine with a context that carries ctx's values
// but not its cancellation: a caller whose ctx ends returns ctx.Err() at
// once, and the load goes on for the others. When every caller has gone, the
// load's context is cancelled. If load panics, every caller panics with a
// [*PanicError], and nothing is cached.
//
// Tags come from [AddDeps] calls made by load, including the method's
// declared tags, which generated code adds first. The entry is stamped with
// a timestamp taken before load starts: if any of its tags is invalidated
// while load runs, the entry is never served after that invalidation.
//
// With a shared store that locks keys, processes missing the same key wait
// for the one that took its lock (see [WithLoadLock]). If the shared store
// cannot be reached, load runs and its result is not cached.
func Load[T any](ctx context.Context, m *Method, key []byte, load func(context.Context) (T, error)) (T, error) {
	if v, ok := Lookup[T](ctx, m, key); ok {
		return v, nil
	}
	return loadShared(ctx, m, string(key), load)
}

// PanicError is the value every caller of [Load] panics with when the load
// panicked.
type PanicError struct {
	// Value is what the load panicked with.
	Value any
	// Stack is the load's goroutine stack at the panic.
	Stack []byte
}

func (p *PanicError) Error() string {
	return fmt.Sprintf("zoo: load panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

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
}

// maxJoins bounds how often a caller joins a flight whose result turned out
// stale for it before it calls the repository itself.
const maxJoins = 3

func loadShared[T any](ctx context.Context, m *Method, key string, load func(context.Context) (T, error)) (T, error) {
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
			return load(ctx)
		}
		f, joined := c.flights[key].(*flight[T])
		if !joined && !rechecked {
			// A flight that ended between the caller's miss and now has
			// stored its value (a flight is forgotten only after storing):
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
			c.loads.Add(1)
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
		if c.readPath() == readInStore {
			// Only the store knows every invalidation: a joiner takes what
			// the store holds now, which the load stored unless it was
			// already stale.
			if v, ok := lookupRemote[T](ctx, m, key); ok {
				return v, nil
			}
			continue
		}
		// A joiner arrived before the load began too if no invalidation it
		// could know of completed between the flight's start and its
		// arrival. Otherwise the result must be valid now, after its
		// arrival: one found valid when the load returned may have been
		// joined after an invalidation that landed before the flight was
		// gone.
		if joinGen == f.gen || f.stamped && c.trie.Valid(f.tags, f.asOf) {
			if !m.copy {
				propagate(ctx, f.tags)
				return f.val, nil
			}
			if v, ok := copyOf[T](f.raw); ok {
				propagate(ctx, f.tags)
				return v, nil
			}
			// The value cannot be copied: it is its loader's alone.
			return load(ctx)
		}
	}
	return load(ctx)
}

// leave drops a caller that stopped waiting; the last one out cancels the
// load and forgets the flight, so that the next caller starts afresh.
func leave[T any](c *Cache, key string, f *flight[T]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.waiters--; f.waiters > 0 {
		return
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
	defer c.loads.Done()
	activeLoads.Add(1)
	ctx, span := c.tracer.Start(ctx, "zoo.load", m.attrs)
	d := new(deps)
	returned := false
	cacheable := true // the result may be stored
	filled := false   // another process stored the result
	var fillExpires time.Time
	defer func() {
		activeLoads.Add(-1)
		if !filled {
			f.tags = d.seal()
		}
		if !returned {
			f.err = fmt.Errorf("zoo: load of %s exited its goroutine", m.label)
		}
		f.stamped = cacheable
		ok := f.err == nil && f.panicked == nil
		var kept any = f.val // what the cache keeps
		if ok && m.copy {
			f.raw, ok = encodeCopy(c, m, f.val)
			kept = f.raw
		}
		if ok && filled && c.local != nil {
			_ = c.local.Set(ctx, key, &store.Entry{Value: kept, AsOf: f.asOf, Expires: fillExpires, Tags: f.tags})
		}
		stored := ok && cacheable && !filled && c.trie.Valid(f.tags, f.asOf)
		if stored {
			stored = c.set(ctx, m, key, kept, f.asOf, f.tags)
		}
		span.SetAttributes(attribute.Bool("zoo.hit", false), attribute.Int("zoo.tags", len(f.tags)),
			attribute.Bool("zoo.stored", stored), attribute.Bool("zoo.filled_by_peer", filled))
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
		c.mu.Unlock()
		f.cancel()
		close(f.done)
	}()

	if c.shared == nil {
		f.asOf = c.clock.Now()
	} else {
		asOf, err := c.shared.Now(ctx)
		if err != nil {
			// Fail open: without the store's clock the result cannot be
			// stamped, so it is served and not cached.
			c.logs.Warn("zoo: the store's clock is unreachable; serving from the repository uncached",
				slog.String("error", err.Error()))
			m.count(failOpens)
			cacheable = false
		}
		f.asOf = asOf
		if cacheable && c.locker != nil && c.cfg.lockTTL > 0 {
			unlock, ok, err := c.locker.Lock(ctx, key, c.cfg.lockTTL)
			switch {
			case ok:
				defer unlock()
			case err == nil:
				// Another process is loading key: wait for its entry.
				if e, v, found := waitForFill[T](ctx, c, m, key); found {
					f.val, f.asOf, f.tags, fillExpires = v, e.AsOf, e.Tags, e.Expires
					filled, returned = true, true
					return
				}
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

// fillPoll is how often a process waiting on another's lock looks for the
// entry it stores.
const fillPoll = 5 * time.Millisecond

// waitForFill waits, up to the lock's TTL, for the process holding the lock
// of key to store its entry, and returns it if it is fresh.
func waitForFill[T any](ctx context.Context, c *Cache, m *Method, key string) (*store.Entry, T, bool) {
	var zero T
	deadline := time.Now().Add(c.cfg.lockTTL)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, zero, false
		case <-time.After(fillPoll):
		}
		e, err := c.shared.GetFresh(ctx, key)
		if err != nil {
			return nil, zero, false
		}
		if e == nil {
			continue
		}
		if v, ok := decode[T](c, m, e.Value); ok {
			return e, v, true
		}
		return nil, zero, false
	}
	return nil, zero, false
}

// set stores a loaded value in each tier and reports whether it did.
func (c *Cache) set(ctx context.Context, m *Method, key string, v any, asOf hlc.Timestamp, tags []string) bool {
	remote := v
	if c.cfg.maxValue > 0 {
		raw, err := codec.EncodeValue(v)
		if err == nil && len(raw) > c.cfg.maxValue {
			m.count(oversized)
			c.logs.Warn("zoo: a value over the size limit was served, not cached",
				slog.String("method", m.label), slog.Int("bytes", len(raw)), slog.Int("limit", c.cfg.maxValue))
			return false
		}
		if err == nil {
			remote = raw // a byte store embeds it as it is: encoded once
		}
	}
	expires := c.cfg.now().Add(c.ttl(m))
	if c.remote != nil {
		err := c.remote.Set(ctx, key, &store.Entry{Value: remote, AsOf: asOf, Expires: expires, Tags: tags})
		if err != nil {
			m.count(failOpens)
			c.logs.Warn("zoo: store write failed; the value was served but not cached",
				slog.String("method", m.label), slog.String("error", err.Error()))
			return false
		}
	}
	if c.local != nil {
		if err := c.local.Set(ctx, key, &store.Entry{Value: v, AsOf: asOf, Expires: expires, Tags: tags}); err != nil {
			c.logs.Warn("zoo: store write failed; the value was served but not cached",
				slog.String("method", m.label), slog.String("error", err.Error()))
			return false
		}
	}
	return true
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
