package runtime

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// MethodSpec names a cached method. Called by generated code.
type MethodSpec struct {
	// Package is the import path of the interface's package.
	Package string
	// Interface is the interface's name, with its type arguments for an
	// instance of a generic interface ("Repo[int]").
	Interface string
	// Method is the method's name.
	Method string
	// TTL overrides the cache's TTL when positive.
	TTL time.Duration
	// Copy makes every caller get a value of its own: a value the cache
	// serves, or that a load shares with the callers that joined it, is a
	// deep copy made by a MessagePack round trip (runtime/store/codec), so
	// that a caller mutating a result changes neither the cache nor another
	// caller's result. The memory tier then keeps the value's encoding and
	// each hit decodes it: a hit costs a decode. Unexported fields are not
	// copied (they are zero in a copy), and what MessagePack does not carry
	// (a time's monotonic reading, the difference between a nil and an empty
	// slice or map) is lost. The caller whose call loaded the value gets the
	// value itself.
	//
	// A value that does not survive the round trip (msgpack cannot encode it,
	// or its encoding does not decode into the result type) is never cached
	// nor shared: the caller that loaded it gets it, every caller that joined
	// the load calls the repository itself, and the failure is logged and
	// counted ([MethodStats].Uncopyable). The annotation option is copy=true.
	Copy bool
	// Refresh, when positive and shorter than the TTL, makes a hit on an
	// entry older than it return the cached value at once and reload the
	// entry in the background (refresh-ahead; see [WithMaxRefreshes]). The
	// annotation option is refresh=.
	Refresh time.Duration
	// StaleIfError, when positive, makes a miss whose load fails return
	// the entry that expired less than StaleIfError ago, if no
	// invalidation made it stale, instead of the error; stores keep
	// entries that much longer than their TTL. The annotation option is
	// stale-if-error=.
	StaleIfError time.Duration
}

// Method is a cached method bound to a cache: its key prefix, TTL and
// identity, computed once when a decorator is built so that calls do no
// work for them. Called by generated code.
//
// A Method is immutable and safe for concurrent use.
type Method struct {
	// What a hit reads comes first, in one cache line.
	c     *Cache
	stats *methodStats // nil when statistics are off
	// plain is set when a hit of the memory tier serves the entry's value
	// as it is and does nothing more than count: the method neither
	// copies nor refreshes, and hits record no span.
	plain    bool
	copy     bool // spec.Copy
	hitSpans bool // the cache's WithHitSpans
	prefix   string
	// refresh is spec.Refresh in milliseconds, or 0 when the method does
	// not refresh (refresh.go).
	refresh int64

	spec  MethodSpec
	label string // Interface.Method, for logs
	ttl   time.Duration
	attrs trace.SpanStartEventOption
	// stale is spec.StaleIfError, or 0 (stale.go).
	stale time.Duration
}

// Method returns the handle a decorator uses for one of its methods. Called
// by generated code.
//
// Handles are interned: every call with the same spec returns the same
// *Method, so that a decorator built per request or per transaction costs
// its own struct and keeps nothing in the cache. Specs that differ only in
// TTL get handles of their own that share one row of statistics.
func (c *Cache) Method(spec MethodSpec) *Method {
	c.methods.mu.RLock()
	m := c.methods.bySpec[spec]
	c.methods.mu.RUnlock()
	if m != nil {
		return m
	}
	return c.methods.add(c, spec)
}

// methodTable holds a cache's method handles, one per spec, and their rows
// of statistics, one per spec without its TTL. It is safe for concurrent
// use.
type methodTable struct {
	mu     sync.RWMutex
	bySpec map[MethodSpec]*Method
	byRow  map[MethodSpec]*methodStats // by spec with a zero TTL
	rows   []methodRow                 // in creation order
}

// methodRow is one row of statistics: the spec (with a zero TTL) of the
// handles that share it.
type methodRow struct {
	spec  MethodSpec
	stats *methodStats
}

// add returns the handle of spec, making it if no other caller did first.
func (t *methodTable) add(c *Cache, spec MethodSpec) *Method {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m := t.bySpec[spec]; m != nil {
		return m
	}
	ttl := spec.TTL
	if ttl <= 0 {
		ttl = c.cfg.ttl
	}
	if ttl > MaxTTL {
		c.logs.Warn("zoo: a method's TTL is longer than MaxTTL; its entries live MaxTTL",
			slog.String("method", spec.Interface+"."+spec.Method), slog.Duration("ttl", ttl))
		ttl = MaxTTL
	}
	refresh, stale := c.refreshSpec(spec, ttl)
	c.coverTTL(ttl + stale)
	m := &Method{
		c:        c,
		spec:     spec,
		prefix:   c.cfg.namespace + "|" + spec.Package + "." + spec.Interface + "." + spec.Method + "|",
		label:    spec.Interface + "." + spec.Method,
		ttl:      ttl,
		copy:     spec.Copy,
		hitSpans: c.cfg.hitSpans,
		attrs: trace.WithAttributes(attribute.String("zoo.package", spec.Package),
			attribute.String("zoo.interface", spec.Interface), attribute.String("zoo.method", spec.Method)),
	}
	m.refresh, m.stale = refresh, stale
	m.plain = !m.copy && m.refresh == 0 && !m.hitSpans
	if c.cfg.stats {
		row := spec
		row.TTL = 0
		if m.stats = t.byRow[row]; m.stats == nil {
			m.stats = new(methodStats)
			if t.byRow == nil {
				t.byRow = make(map[MethodSpec]*methodStats)
			}
			t.byRow[row] = m.stats
			t.rows = append(t.rows, methodRow{spec: row, stats: m.stats})
		}
	}
	if t.bySpec == nil {
		t.bySpec = make(map[MethodSpec]*Method)
	}
	t.bySpec[spec] = m
	return m
}

// snapshot returns the rows of statistics.
func (t *methodTable) snapshot() []methodRow {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Clone(t.rows)
}

// Key appends the method's key prefix (namespace, package, interface,
// method) to dst; the arguments follow, written by the Key functions.
// Called by generated code.
func (m *Method) Key(dst []byte) []byte { return append(dst, m.prefix...) }

// Spec returns what the method was created with.
func (m *Method) Spec() MethodSpec { return m.spec }

// Invalidate invalidates tags after the write method m stands for has
// succeeded. A failure is logged rather than returned: the write itself
// succeeded, and the caller must not retry it. Called by generated code.
func (m *Method) Invalidate(ctx context.Context, tags ...string) {
	if m.stats != nil {
		m.stats.invalidations.inc()
	}
	if err := m.c.invalidate(ctx, m, tags); err != nil {
		m.c.logs.Warn("zoo: invalidation after a write failed",
			slog.String("method", m.label), slog.String("error", err.Error()))
	}
}
