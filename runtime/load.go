package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// Lookup returns the value cached under key if a fresh entry of type T is
// present. A caller that loads after a miss calls [Find] and [LoadMiss]
// instead, so that the load does not read the store again.
//
// key is read during the call only; callers build it in a stack buffer.
func Lookup[T any](ctx context.Context, m *Method, key []byte) (T, bool) {
	v, ok, _ := find[T](ctx, m, key, false)
	return v, ok
}

// Miss is what a lookup that found nothing hands on to [LoadMiss]: how many
// loads had stored an entry when it began, and, for a hit on an entry due
// for a refresh (MethodSpec.Refresh), the entry and its value, which
// LoadMiss returns as it starts the reload. Called by generated code.
type Miss struct {
	stored uint64
	due    *dueHit
}

// Find is [Lookup] for a caller that loads on a miss: it also returns the
// Miss to pass to [LoadMiss]. Called by generated code, so that a hit
// builds no closure and a miss reads the store once.
//
// key is read during the call only; callers build it in a stack buffer.
//
// For a method with a refresh interval (MethodSpec.Refresh), a hit on an
// entry older than it reports ok false, with the cached value, for one
// caller per entry: its LoadMiss returns that value at once and reloads the
// entry in the background.
func Find[T any](ctx context.Context, m *Method, key []byte) (T, bool, Miss) {
	return find[T](ctx, m, key, true)
}

// find is Find; refresh says whether the caller reloads an entry due for
// a refresh.
func find[T any](ctx context.Context, m *Method, key []byte, refresh bool) (T, bool, Miss) {
	miss := Miss{stored: m.c.stored.Load()}
	// The key stays in the caller's stack buffer: the memory tier does not
	// keep it, and is called directly (through an interface the key would
	// escape). The remote path copies it.
	//
	// A hit of the memory tier is spelled out here rather than through
	// lookupLocal, kept and m.hit: generic functions are not inlined into
	// each other, and each call would cost a frame on every hit. A method
	// that copies, refreshes (which looks at the entry's age) or records
	// hit spans takes the longer way.
	it := m.c.localHit(unsafe.String(unsafe.SliceData(key), len(key)))
	if it != nil && m.plain {
		if v, ok := it.Entry.Value.(T); ok {
			// Tested here, not in propagate alone: passing the tags would
			// load them, from the item's next cache line, on every hit.
			if activeLoads.Load() != 0 {
				propagate(ctx, it.Entry.Tags)
			}
			if m.stats != nil {
				m.stats.hits.inc()
			}
			return v, true, miss
		}
	}
	return findPast[T](ctx, m, key, it, refresh, miss)
}

// findPast is find past the memory tier's common hit, given it, the memory
// tier's fresh item under key or nil: a method that copies or refreshes, a
// nil interface value, or a miss of the memory tier.
func findPast[T any](ctx context.Context, m *Method, key []byte, it *memstore.Item, refresh bool, miss Miss) (T, bool, Miss) {
	var v T
	var e *store.Entry
	ok := false
	if it != nil {
		e = &it.Entry
		v, ok = kept[T](ctx, m, e)
	}
	if !ok && m.c.readPath() != readMemory {
		// lookupRemote, spelled out: a copy the store confirms is found
		// with the key in the caller's buffer, and its value copied once.
		done := false
		if m.c.checks() {
			if it, done = m.c.checked(ctx, m, unsafe.String(unsafe.SliceData(key), len(key))); it != nil {
				e = &it.Entry
				v, ok = kept[T](ctx, m, e)
				done = ok
			}
		}
		if !done {
			v, e, it, ok = lookupStore[T](ctx, m, string(key))
		}
	}
	if ok {
		m.hit(ctx)
		if m.refresh != 0 && refresh && m.due(e, it) {
			miss.due = &dueHit{item: it, value: v}
			return v, false, miss
		}
	}
	return v, ok, miss
}

// lookup is Lookup for a key the caller owns.
func lookup[T any](ctx context.Context, m *Method, key string) (T, bool) {
	v, ok := lookupLocal[T](ctx, m, key)
	if !ok && m.c.readPath() != readMemory {
		v, _, _, ok = lookupRemote[T](ctx, m, key)
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
	if m.hitSpans {
		m.hitSpan(ctx)
	}
}

// hitSpan records a span for a hit.
func (m *Method) hitSpan(ctx context.Context) {
	_, span := m.c.tracer.Start(ctx, "zoo.hit", m.attrs)
	span.SetAttributes(attribute.Bool("zoo.hit", true))
	span.End()
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
	// Raw comes first: a T that is an interface (any) would match the
	// encoded bytes themselves.
	switch v := value.(type) {
	case nil: // the nil value of an interface result (see kept)
		var zero T
		return zero, true
	case codec.Raw:
		var out T
		if err := v.Decode(&out); err != nil {
			m.count(decodeFailures)
			c.logs.Warn("zoo: cached value does not decode; treating it as a miss",
				slog.String("method", m.label), slog.String("error", err.Error()))
			return out, false
		}
		return out, true
	case T:
		if m.copy {
			return clone(c, m, v)
		}
		return v, true
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
	v, ok, miss := Find[T](ctx, m, key)
	if ok {
		return v, nil
	}
	return LoadMiss(ctx, m, key, miss, load)
}

// LoadMiss is [Load] for a caller whose [Find] of key just missed: it does
// not look key up again, unless a load stored an entry since the Find
// began. After a Find that found an entry due for a refresh, it returns
// the cached value at once and reloads it with load in the background.
// Called by generated code.
func LoadMiss[T any](ctx context.Context, m *Method, key []byte, miss Miss, load func(context.Context) (T, error)) (T, error) {
	if miss.due != nil {
		v, _ := miss.due.value.(T)
		startRefresh(ctx, m, string(key), miss.due, load)
		return v, nil
	}
	return loadShared(ctx, m, string(key), miss, load)
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

// remoteValue returns what the store outside the process is given of v:
// v, or its encoding when the cache bounds the size of values; false, counted
// and logged, for a value over the bound, which is not cached.
func (c *Cache) remoteValue(m *Method, v any) (any, bool) {
	if c.cfg.maxValue <= 0 {
		return v, true
	}
	raw, err := codec.EncodeValue(v)
	if err != nil {
		return v, true
	}
	if len(raw) > c.cfg.maxValue {
		m.count(oversized)
		c.logs.Warn("zoo: a value over the size limit was served, not cached",
			slog.String("method", m.label), slog.Int("bytes", len(raw)), slog.Int("limit", c.cfg.maxValue))
		return nil, false
	}
	return raw, true // a byte store embeds it as it is: encoded once
}

// set stores a loaded value in each tier and reports whether it did. ttl
// is the loader's (SetTTL), or 0 for the method's.
func (c *Cache) set(ctx context.Context, m *Method, key string, v any, asOf hlc.Timestamp, tags []string, ttl time.Duration) bool {
	remote, ok := c.remoteValue(m, v)
	if !ok {
		return false
	}
	if ttl == 0 {
		ttl = c.ttl(m)
	} else {
		c.coverTTL(ttl + m.stale) // the loader's own (SetTTL)
	}
	expires := c.cfg.now().Add(ttl)
	retain := m.retain(expires)
	if c.remote != nil {
		err := c.remote.Set(ctx, key, &store.Entry{Value: remote, AsOf: asOf, Expires: expires, Retain: retain, Tags: tags})
		if err != nil {
			m.count(failOpens)
			c.logs.Warn("zoo: store write failed; the value was served but not cached",
				slog.String("method", m.label), slog.String("error", err.Error()))
			return false
		}
	}
	if c.local != nil {
		if _, err := c.keepLocal(key, v, asOf, expires, retain, tags); err != nil {
			c.logs.Warn("zoo: store write failed; the value was served but not cached",
				slog.String("method", m.label), slog.String("error", err.Error()))
			return false
		}
	}
	return true
}
