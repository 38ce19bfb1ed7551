package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"unsafe"

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
	var zero T
	c := m.c
	var e *store.Entry
	var err error
	if c.mem != nil {
		// A direct call lets the key stay in the caller's stack buffer: a
		// call through the interface would make it escape.
		e, err = c.mem.Get(ctx, unsafe.String(unsafe.SliceData(key), len(key)))
	} else {
		e, err = c.store.Get(ctx, string(key))
	}
	if err != nil {
		if errors.Is(err, store.ErrCorrupt) {
			c.logs.warn("zoo: corrupt entry in the store; treating it as a miss",
				slog.String("method", m.spec.Interface+"."+m.spec.Method), slog.String("error", err.Error()))
		} else {
			c.logs.warn("zoo: store read failed; serving from the repository", slog.String("error", err.Error()))
		}
		return zero, false
	}
	if e == nil || !c.fresh(e) {
		return zero, false
	}
	switch v := e.Value.(type) {
	case T:
		propagate(ctx, e.Tags)
		return v, true
	case codec.Raw:
		var out T
		if err := v.Decode(&out); err != nil {
			c.logs.warn("zoo: cached value does not decode; treating it as a miss",
				slog.String("method", m.spec.Interface+"."+m.spec.Method), slog.String("error", err.Error()))
			return zero, false
		}
		propagate(ctx, e.Tags)
		return out, true
	default:
		return zero, false
	}
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

	asOf hlc.Timestamp // taken before the load
	gen  uint64        // trie generation after asOf

	val      T
	err      error
	panicked *PanicError
	tags     []string
	fresh    bool // the result was still valid when the load returned

	waiters int // guarded by Cache.mu
	cancel  context.CancelFunc
}

// maxJoins bounds how often a caller joins a flight whose result turned out
// stale for it before it calls the repository itself.
const maxJoins = 3

func loadShared[T any](ctx context.Context, m *Method, key string, load func(context.Context) (T, error)) (T, error) {
	c := m.c
	for range maxJoins {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return load(ctx)
		}
		f, joined := c.flights[key].(*flight[T])
		if joined {
			f.waiters++
		} else {
			lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			f = &flight[T]{
				done:    make(chan struct{}),
				asOf:    c.clock.Now(),
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
		// The caller that started the flight arrived before asOf, and so did
		// a joiner if no invalidation completed between asOf and its
		// arrival: the result is fresh enough for them. Others need a result
		// still valid at the end of the load.
		if !joined || joinGen == f.gen || f.fresh {
			propagate(ctx, f.tags)
			return f.val, nil
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
	d := new(deps)
	returned := false
	defer func() {
		activeLoads.Add(-1)
		f.tags = d.seal()
		if !returned {
			f.err = fmt.Errorf("zoo: load of %s.%s exited its goroutine", m.spec.Interface, m.spec.Method)
		}
		f.fresh = c.trie.Valid(f.tags, f.asOf)
		if f.err == nil && f.panicked == nil && f.fresh {
			c.set(ctx, m, key, f.val, f.asOf, f.tags)
		}
		c.mu.Lock()
		if c.flights[key] == any(f) {
			delete(c.flights, key)
		}
		c.mu.Unlock()
		f.cancel()
		close(f.done)
	}()
	returned = f.call(context.WithValue(ctx, depsKey{}, d), load)
}

// set stores a loaded value.
func (c *Cache) set(ctx context.Context, m *Method, key string, v any, asOf hlc.Timestamp, tags []string) {
	e := &store.Entry{
		Value:   v,
		AsOf:    asOf,
		Expires: c.cfg.now().Add(c.ttl(m)),
		Tags:    tags,
	}
	if err := c.store.Set(ctx, key, e); err != nil {
		c.logs.warn("zoo: store write failed; the value was served but not cached",
			slog.String("method", m.spec.Interface+"."+m.spec.Method), slog.String("error", err.Error()))
	}
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
