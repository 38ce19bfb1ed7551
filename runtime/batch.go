package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

// Batch reads: a method annotated with each=<param> caches each element of
// its batch parameter as an entry of its own, keyed by the other arguments
// and the element, tagged with the element's tags. A call serves the fresh
// elements from the cache and calls the repository once with the others.

// Batch serves a batch read of ids cached per element, and loads the
// missing elements with one call of load. Called by generated code.
//
// key appends the key of one element (the method's other arguments, then
// the element) to a buffer that holds the method's key prefix; tags returns
// the element's declared tags. load is called with the missing elements,
// duplicates removed, in the order they are first asked for; the elements
// it leaves out of its map are absent from the result and not cached.
// Tags load adds with [AddDeps] apply to every element it returns.
//
// Each element is its own entry: invalidating one element's tag reloads it
// alone next time, and an element loaded while one of its tags was
// invalidated is returned to the caller but not cached (its asOf is taken
// before load starts). An element that another call is loading is waited
// for, not loaded again. Failures are those of [Load]: load's error is
// returned and nothing it returned is cached, a panic reaches every caller
// waiting on one of its elements, and a store that cannot be reached
// fails open. With a store that implements [store.Batcher] (Redis, LMDB),
// the elements the memory tier lacks are read in one round trip.
//
// Statistics count elements: a hit is an element served from the cache, a
// miss one that was not; Loads counts calls of load and ElementsLoaded the
// elements they asked for.
func Batch[E comparable, V any](ctx context.Context, m *Method, ids []E,
	key func(dst []byte, id E) []byte,
	tags func(id E) []string,
	load func(ctx context.Context, ids []E) (map[E]V, error)) (map[E]V, error) {
	b := &batch[E, V]{m: m, key: key, tags: tags, load: load}
	if m.stats != nil {
		m.stats.batches.inc()
	}
	return b.run(ctx, ids)
}

// InOrder returns the values of m for ids, in the order of ids, each id
// once (at its first place) and ids absent from m left out: the slice
// result of a batch read. Called by generated code.
func InOrder[E comparable, V any](ids []E, m map[E]V) []V {
	out := make([]V, 0, len(m))
	seen := make(map[E]struct{}, len(m))
	for _, id := range ids {
		v, ok := m[id]
		if !ok {
			continue
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, v)
	}
	return out
}

// batch is one call of Batch.
type batch[E comparable, V any] struct {
	m    *Method
	key  func([]byte, E) []byte
	tags func(E) []string
	load func(context.Context, []E) (map[E]V, error)

	ids    []E      // distinct, in first-seen order
	keys   []string // of ids
	out    map[E]V
	stored uint64 // Cache.stored when the last lookup began
}

func (b *batch[E, V]) run(ctx context.Context, asked []E) (map[E]V, error) {
	b.stored = b.m.c.stored.Load()
	b.distinct(asked)
	b.out = make(map[E]V, len(b.ids))
	missing := b.lookup(ctx, allIndexes(len(b.ids)), true, b.found)
	if len(missing) == 0 {
		return b.out, nil
	}
	if b.m.stats != nil {
		b.m.stats.misses.add(uint64(len(missing)))
	}
	for range maxJoins {
		retry, err := b.round(ctx, missing)
		if err != nil {
			return nil, err
		}
		if missing = retry; len(missing) == 0 {
			return b.out, nil
		}
	}
	// Shared results kept turning out stale for this caller: it asks the
	// repository itself, and caches nothing.
	if err := b.alone(ctx, missing); err != nil {
		return nil, err
	}
	return b.out, nil
}

// distinct sets b.ids to the distinct elements of asked, in first-seen
// order, and b.keys to their keys.
func (b *batch[E, V]) distinct(asked []E) {
	seen := make(map[E]struct{}, len(asked))
	b.ids = make([]E, 0, len(asked))
	for _, id := range asked {
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			b.ids = append(b.ids, id)
		}
	}
	// The keys are views of one buffer, which only grows: bytes a key
	// views are never written again (an append that moves the buffer
	// leaves them in the old array). A key a store keeps is cloned
	// (keep).
	b.keys = make([]string, len(b.ids))
	buf := make([]byte, 0, len(b.ids)*(len(b.m.prefix)+24))
	for i, id := range b.ids {
		start := len(buf)
		buf = b.key(b.m.Key(buf), id)
		k := buf[start:]
		b.keys[i] = unsafe.String(unsafe.SliceData(k), len(k))
	}
}

// keep returns a key of b.keys as a string of its own, for a store or a
// map that keeps it past the call: a view would keep the call's whole
// buffer alive.
func keep(key string) string { return strings.Clone(key) }

// found records the value of the element at index i for the caller.
func (b *batch[E, V]) found(i int, v V) { b.out[b.ids[i]] = v }

// pick returns the elements at indexes is.
func (b *batch[E, V]) pick(is []int) []E {
	out := make([]E, len(is))
	for j, i := range is {
		out[j] = b.ids[i]
	}
	return out
}

func allIndexes(n int) []int {
	is := make([]int, n)
	for i := range is {
		is[i] = i
	}
	return is
}

// lookup serves the elements at indexes is from the cache, to found, and
// returns the indexes of those it did not find: the memory tier first,
// then the store outside the process, read in one round trip when it
// implements store.Batcher. It counts the hits when count is set.
func (b *batch[E, V]) lookup(ctx context.Context, is []int, count bool, found func(i int, v V)) (missing []int) {
	m, c := b.m, b.m.c
	path := c.readPath()
	hits := 0
	for _, i := range is {
		if v, ok := lookupLocal[V](ctx, m, b.keys[i]); ok {
			found(i, v)
			hits++
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 && path != readMemory {
		missing, hits = b.lookupRemote(ctx, missing, path == readInStore, hits, found)
	}
	if hits > 0 && count {
		if m.stats != nil {
			m.stats.hits.add(uint64(hits))
		}
		if c.cfg.hitSpans {
			_, span := c.tracer.Start(ctx, "zoo.hit", m.attrs)
			span.SetAttributes(attribute.Bool("zoo.hit", true), attribute.Int("zoo.elements_hit", hits))
			span.End()
		}
	}
	return missing
}

// lookupRemote is lookup's read of the store outside the process, for the
// elements at is; hits counts the elements found so far.
func (b *batch[E, V]) lookupRemote(ctx context.Context, is []int, inStore bool, hits int, found func(int, V)) ([]int, int) {
	m, c := b.m, b.m.c
	var many func(context.Context, []string) ([]*store.Entry, error)
	if inStore {
		if fb, ok := c.remote.(store.FreshBatcher); ok {
			many = fb.GetFreshMany
		}
	} else if sb, ok := c.remote.(store.Batcher); ok {
		many = sb.GetMany
	}
	var missing []int
	if many == nil || len(is) == 1 {
		for _, i := range is {
			if v, _, _, ok := lookupRemote[V](ctx, m, keep(b.keys[i])); ok {
				found(i, v)
				hits++
			} else {
				missing = append(missing, i)
			}
		}
		return missing, hits
	}
	keys := make([]string, len(is))
	for j, i := range is {
		keys[j] = b.keys[i]
	}
	entries, err := many(ctx, keys)
	if err != nil {
		storeFailed(m, err)
	}
	if err != nil && !errors.Is(err, store.ErrCorrupt) || len(entries) != len(keys) {
		return is, hits // the store failed: every element is a miss
	}
	for j, i := range is {
		key := keys[j]
		if entries[j] != nil {
			key = keep(key) // the memory tier may keep it
		}
		if v, _, ok := remoteEntry[V](ctx, m, key, entries[j], inStore); ok {
			found(i, v)
			hits++
		} else {
			missing = append(missing, i)
		}
	}
	return missing, hits
}

// batchFlight is the load of one element of a batch, shared by the callers
// that miss on it at once; one batchLoad fills several.
type batchFlight[V any] struct {
	done chan struct{} // closed when the fields below are final

	gen uint64 // trie generation when the load started

	asOf     hlc.Timestamp
	stamped  bool // asOf was taken: the store's clock answered
	val      V
	raw      codec.Raw // the encoding of val, if the method copies and val survives it
	found    bool      // the repository returned the element, or hit is set
	hit      bool      // the element was found in the cache when the load began
	err      error
	panicked *PanicError
	tags     []string

	waiters int    // guarded by Cache.mu
	release func() // called once when the last waiter leaves (guarded by Cache.mu)
}

func (f *batchFlight[V]) waiting() int { return f.waiters }

// joined is an element's flight a caller waits on.
type joined[V any] struct {
	i   int // index in batch.ids
	f   *batchFlight[V]
	own bool // the caller started it
}

// round loads the elements at missing: it joins the flights of those
// another caller is loading, starts one load for the others, and waits.
// It returns the elements whose shared result is stale for this caller.
func (b *batch[E, V]) round(ctx context.Context, missing []int) ([]int, error) {
	m, c := b.m, b.m.c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, b.alone(ctx, missing)
	}
	var waits []joined[V]
	join := func(i int) bool { // called with c.mu held
		f, ok := c.flights[b.keys[i]].(*batchFlight[V])
		if ok {
			f.waiters++
			waits = append(waits, joined[V]{i: i, f: f})
			if m.stats != nil {
				m.stats.coalesced.inc()
			}
		}
		return ok
	}
	var free []int
	for _, i := range missing {
		if !join(i) {
			free = append(free, i)
		}
	}
	if len(free) > 0 {
		// A load that ended since the lookup began may have stored some of
		// these elements (a flight is forgotten only after storing): the
		// new load looks them up again first, while its flights keep other
		// callers from loading them, rather than load them twice.
		recheck := c.stored.Load() != b.stored
		waits = append(waits, b.start(ctx, free, recheck)...)
	}
	joinGen := c.trie.Generation()
	c.mu.Unlock()

	for n, w := range waits {
		select {
		case <-w.f.done:
		case <-ctx.Done():
			for _, rest := range waits[n:] {
				leaveBatch(c, b.keys[rest.i], rest.f)
			}
			return nil, ctx.Err()
		}
	}
	var retry []int
	var failed error
	for _, w := range waits {
		f := w.f
		switch {
		case f.panicked != nil:
			panic(f.panicked)
		case f.err != nil:
			failed = f.err
			continue
		}
		id := b.ids[w.i]
		if w.own {
			// The caller that started the load arrived before it began:
			// whatever it read is fresh enough for it.
			if f.found {
				b.out[id] = f.val
				propagate(ctx, f.tags)
			}
			continue
		}
		if c.readPath() == readInStore {
			// Only the store knows every invalidation: a joiner takes what
			// the store holds now, which the load stored unless it was
			// already stale.
			if v, _, _, ok := lookupRemote[V](ctx, m, keep(b.keys[w.i])); ok {
				b.out[id] = v
			} else {
				retry = append(retry, w.i)
			}
			continue
		}
		// As in loadShared: the result is fresh for a joiner if no
		// invalidation it could know of completed between the load's start
		// and its arrival, or if the result is still valid now.
		if joinGen != f.gen && !(f.stamped && c.trie.Valid(f.tags, f.asOf)) {
			retry = append(retry, w.i)
			continue
		}
		if !f.found {
			continue
		}
		v := f.val
		if m.copy {
			var ok bool
			if v, ok = copyOf[V](f.raw); !ok {
				retry = append(retry, w.i) // not copyable: its loader's alone
				continue
			}
		}
		b.out[id] = v
		propagate(ctx, f.tags)
	}
	if failed != nil {
		return nil, failed
	}
	return retry, nil
}

// alone loads the elements at is outside any flight (the cache is
// closed, or shared results kept turning out stale for this caller), into
// b.out, and caches nothing.
func (b *batch[E, V]) alone(ctx context.Context, is []int) error {
	vals, err := loadAlone(ctx, func(ctx context.Context) (map[E]V, error) { return b.load(ctx, b.pick(is)) })
	if err != nil {
		return err
	}
	for _, i := range is {
		if v, ok := vals[b.ids[i]]; ok {
			b.out[b.ids[i]] = v
		}
	}
	return nil
}

// start starts one load of the elements at own, each with a flight of its
// own that other callers can join. Called with Cache.mu held.
func (b *batch[E, V]) start(ctx context.Context, own []int, recheck bool) []joined[V] {
	c := b.m.c
	// The load has the caller's values, not its cancellation: it serves
	// every caller waiting on one of its elements.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	left := len(own) // flights with a waiter; the load is cancelled when none is left
	release := func() {
		if left--; left == 0 {
			cancel()
		}
	}
	gen := c.trie.Generation()
	flights := make([]*batchFlight[V], len(own))
	waits := make([]joined[V], len(own))
	for j, i := range own {
		once := false
		f := &batchFlight[V]{done: make(chan struct{}), gen: gen, waiters: 1}
		f.release = func() {
			if !once {
				once = true
				release()
			}
		}
		flights[j] = f
		waits[j] = joined[V]{i: i, f: f, own: true}
		b.keys[i] = keep(b.keys[i]) // the flight and the stores keep it
		c.flights[b.keys[i]] = f
	}
	c.running++
	go runBatch(b, own, flights, recheck, lctx, cancel)
	return waits
}

// leaveBatch drops a caller that stopped waiting for an element; the last
// one out forgets the flight, so that the next caller starts afresh, and
// lets its load be cancelled once no element of it has a waiter.
func leaveBatch[V any](c *Cache, key string, f *batchFlight[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.waiters--; f.waiters > 0 {
		return
	}
	if c.flights[key] == any(f) {
		delete(c.flights, key)
	}
	f.release()
}

// runBatch performs one load of the elements at own, stores each element
// it returned under its own tags, and releases the callers. The release is
// deferred so that it happens even if load exits its goroutine.
func runBatch[E comparable, V any](b *batch[E, V], own []int, flights []*batchFlight[V], recheck bool, ctx context.Context, cancel context.CancelFunc) {
	m, c := b.m, b.m.c
	defer c.ended()
	activeLoads.Add(1)
	ids := b.pick(own)
	ctx, span := c.tracer.Start(ctx, "zoo.load", m.attrs)
	d := new(deps)
	var asOf hlc.Timestamp
	cacheable := true
	var vals map[E]V
	var err error
	var panicked *PanicError
	returned := false
	defer func() {
		activeLoads.Add(-1)
		extra := d.seal()
		if !returned {
			err = fmt.Errorf("zoo: load of %s exited its goroutine", m.label)
		}
		ok := err == nil && panicked == nil
		found := 0
		var w batchWrite
		for j, f := range flights {
			i := own[j]
			if f.hit {
				// Stored by a load that ended since the caller's lookup: a
				// joiner takes it if no invalidation came since it joined.
				f.tags = b.tags(b.ids[i])
				continue
			}
			f.asOf, f.stamped, f.err, f.panicked = asOf, cacheable, err, panicked
			f.tags = elementTags(b.tags(b.ids[i]), extra)
			if !ok {
				continue
			}
			f.val, f.found = vals[b.ids[i]]
			if !f.found {
				continue
			}
			found++
			var kept any = f.val
			keep := true
			if m.copy {
				f.raw, keep = encodeCopy(c, m, f.val)
				kept = f.raw
			}
			// The stale-set rule, per element: one whose tag was
			// invalidated while the load ran is served, not cached.
			if keep && cacheable && c.trie.Valid(f.tags, asOf) {
				w.add(b.keys[i], kept, f.tags)
			}
		}
		stored := 0
		c.stores.RLock()
		if !c.storesGone { // else Close gave up on this load: callers only
			stored = c.setMany(ctx, m, &w, asOf)
		}
		c.stores.RUnlock()
		span.SetAttributes(attribute.Bool("zoo.hit", false), attribute.Int("zoo.elements_loaded", len(ids)),
			attribute.Int("zoo.elements_found", found), attribute.Int("zoo.elements_stored", stored))
		switch {
		case panicked != nil:
			span.SetStatus(codes.Error, "load panicked")
		case err != nil:
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
		c.mu.Lock()
		for j, f := range flights {
			if key := b.keys[own[j]]; c.flights[key] == any(f) {
				delete(c.flights, key)
			}
		}
		if stored > 0 {
			// After the stores, before a caller that missed can find the
			// flights gone: it looks again.
			c.stored.Add(1)
		}
		c.mu.Unlock()
		cancel()
		for _, f := range flights {
			close(f.done)
		}
	}()

	if recheck {
		pos := make(map[int]*batchFlight[V], len(own))
		for j, i := range own {
			pos[i] = flights[j]
		}
		rest := b.lookup(ctx, own, false, func(i int, v V) {
			f := pos[i]
			f.val, f.found, f.hit = v, true, true
		})
		if len(rest) == 0 {
			returned = true
			return
		}
		ids = b.pick(rest)
	}
	if c.shared == nil {
		asOf = c.clock.Now()
	} else if asOf, err = c.shared.Now(ctx); err != nil {
		// Fail open: without the store's clock the result cannot be
		// stamped, so it is served and not cached.
		c.logs.Warn("zoo: the store's clock is unreachable; serving from the repository uncached",
			slog.String("error", err.Error()))
		m.count(failOpens)
		cacheable, err = false, nil
	}
	d.asOf = asOf
	start := time.Now()
	returned = func() (returned bool) {
		defer func() {
			if r := recover(); r != nil {
				panicked = &PanicError{Value: r, Stack: debug.Stack()}
				returned = true
			}
		}()
		vals, err = b.load(context.WithValue(ctx, depsKey{}, d), ids)
		return true
	}()
	if m.stats != nil {
		m.stats.loads.inc()
		m.stats.elementsLoaded.add(uint64(len(ids)))
		m.stats.loadDuration.observe(time.Since(start))
		if err != nil || panicked != nil || !returned {
			m.stats.loadErrors.inc()
		}
	}
}

// batchWrite is what a batch load stores: values under keys and tags.
type batchWrite struct {
	keys []string
	vals []any
	tags [][]string
}

func (w *batchWrite) add(key string, v any, tags []string) {
	w.keys = append(w.keys, key)
	w.vals = append(w.vals, v)
	w.tags = append(w.tags, tags)
}

// setMany stores the values of w loaded at asOf in each tier, as set does
// one, and returns how many it stored. A store that implements
// store.BatchWriter (Redis) takes them all at once (two round trips on
// Redis: their tags' versions, then the writes); if that fails,
// none is kept in the memory tier either.
func (c *Cache) setMany(ctx context.Context, m *Method, w *batchWrite, asOf hlc.Timestamp) int {
	bw, ok := c.remote.(store.BatchWriter)
	if !ok || len(w.keys) < 2 {
		stored := 0
		for i, key := range w.keys {
			if c.set(ctx, m, key, w.vals[i], asOf, w.tags[i], 0) {
				stored++
			}
		}
		return stored
	}
	keys := make([]string, 0, len(w.keys))
	entries := make([]*store.Entry, 0, len(w.keys))
	kept := make([]int, 0, len(w.keys)) // indexes in w of the entries
	for i, key := range w.keys {
		remote, ok := c.remoteValue(m, w.vals[i])
		if !ok {
			continue
		}
		keys = append(keys, key)
		entries = append(entries, &store.Entry{Value: remote, AsOf: asOf, Expires: c.cfg.now().Add(c.ttl(m)), Tags: w.tags[i]})
		kept = append(kept, i)
	}
	if err := bw.SetMany(ctx, keys, entries); err != nil {
		m.count(failOpens)
		c.logs.Warn("zoo: store write failed; the values were served but not cached",
			slog.String("method", m.label), slog.Int("elements", len(keys)), slog.String("error", err.Error()))
		return 0
	}
	if c.local != nil {
		for j, i := range kept {
			if _, err := c.keepLocal(keys[j], w.vals[i], asOf, entries[j].Expires, time.Time{}, w.tags[i]); err != nil {
				c.logs.Warn("zoo: store write failed; the value was served but not cached",
					slog.String("method", m.label), slog.String("error", err.Error()))
			}
		}
	}
	return len(keys)
}

// elementTags returns an element's declared tags followed by those its
// load added, without repeats.
func elementTags(declared, extra []string) []string {
	if len(extra) == 0 {
		return declared
	}
	out := make([]string, 0, len(declared)+len(extra))
	seen := make(map[string]struct{}, len(declared)+len(extra))
	for _, list := range [][]string{declared, extra} {
		for _, t := range list {
			if _, dup := seen[t]; !dup {
				seen[t] = struct{}{}
				out = append(out, t)
			}
		}
	}
	return out
}
