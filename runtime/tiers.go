package runtime

import (
	"context"
	"errors"
	"log/slog"

	"github.com/zoogen/zoogen/runtime/store"
)

// readPath is which tier answers a read, as [Cache.readPath] decides it.
type readPath uint8

const (
	// readMemory: there is no store outside the process; the memory tier
	// answers alone.
	readMemory readPath = iota
	// readLocalFirst: the local versions can be trusted (the shared store's
	// invalidations reach this process, or no process shares the store):
	// the memory tier answers, then the remote store, whose entries are
	// validated against the local trie and kept in the memory tier.
	readLocalFirst
	// readInStore: only the shared store knows every invalidation (strict
	// consistency, or its invalidations do not reach this process): the
	// store validates every read. With a store that can check a copy
	// ([store.Checker]), the memory tier keeps decoded values and the
	// store confirms them without sending the value; otherwise the store
	// answers alone and the memory tier is skipped.
	readInStore
)

// readPath decides which tier answers a read now. It is the one place that
// decides it: the answer changes while the shared store's invalidations
// stop and start reaching this process, so callers ask at each step.
func (c *Cache) readPath() readPath {
	switch {
	case c.remote == nil:
		return readMemory
	case c.shared != nil && (c.strict || !c.watchUp.Load()):
		return readInStore
	default:
		return readLocalFirst
	}
}

// lookupLocal reads key from the memory tier, which answers alone while
// the local versions can be trusted: always for a memory cache, and for a
// shared store while its invalidations reach this process. It returns the
// entry it served too.
func lookupLocal[T any](ctx context.Context, m *Method, key string) (T, *store.Entry, bool) {
	if e := m.c.localHit(key); e != nil {
		v, ok := kept[T](ctx, m, e)
		return v, e, ok
	}
	var zero T
	return zero, nil, false
}

// localHit returns the entry of the memory tier under key if the memory
// tier answers alone (see lookupLocal) and the entry is fresh, or nil. It
// is not generic, so that the memory store's lookup and the memo's test
// are inlined into it.
func (c *Cache) localHit(key string) *store.Entry {
	if c.local == nil || c.remote != nil && c.readPath() == readInStore {
		return nil
	}
	e, _ := c.local.Get(context.Background(), key) // the memory store ignores ctx
	if e == nil || !e.Memo.Holds(&c.trie) && !c.recheck(e) {
		return nil
	}
	return e
}

// kept returns the value of e, an entry of the memory tier found fresh.
func kept[T any](ctx context.Context, m *Method, e *store.Entry) (T, bool) {
	if !m.copy {
		if v, ok := e.Value.(T); ok {
			propagate(ctx, e.Tags)
			return v, true
		}
	}
	return keptSlow[T](ctx, m, e)
}

// keptSlow is kept for a method that copies, and for a value that is not a
// T: the nil value of an interface result, or a value of another type.
func keptSlow[T any](ctx context.Context, m *Method, e *store.Entry) (T, bool) {
	if m.copy {
		v, ok := decode[T](m.c, m, e.Value)
		if ok {
			propagate(ctx, e.Tags)
		}
		return v, ok
	}
	// A nil interface matches no type: it is the value of a method whose
	// result is an interface (any, error) and that returned nil. (A value
	// of any other type is never nil once it is an any.)
	var zero T
	if e.Value != nil {
		return zero, false
	}
	propagate(ctx, e.Tags)
	return zero, true
}

// lookupChecked reads key from the memory tier in front of a store that
// validates every read: a copy is served once the store confirms it
// (one round trip, no value sent or decoded). done is false when the
// memory tier cannot answer and the store must be read.
func lookupChecked[T any](ctx context.Context, m *Method, key string) (v T, e *store.Entry, ok, done bool) {
	c := m.c
	e, _ = c.local.Get(ctx, key)
	if e == nil || !c.fresh(e) {
		return v, nil, false, false
	}
	fresh, err := c.checker.Check(ctx, key, e)
	if err != nil {
		storeFailed(m, err)
		return v, nil, false, true
	}
	if !fresh {
		_ = c.local.Delete(ctx, key)
		return v, nil, false, false
	}
	v, ok = kept[T](ctx, m, e)
	return v, e, ok, ok
}

// storeFailed reports a failed read of the store outside the process.
func storeFailed(m *Method, err error) {
	if errors.Is(err, store.ErrCorrupt) {
		m.count(decodeFailures)
		m.c.logs.Warn("zoo: corrupt entry in the store; treating it as a miss",
			slog.String("method", m.label), slog.String("error", err.Error()))
		return
	}
	m.count(failOpens)
	m.c.logs.Warn("zoo: store read failed; serving from the repository", slog.String("error", err.Error()))
}

// lookupRemote reads key from the store outside the process. It returns
// the entry it served too.
func lookupRemote[T any](ctx context.Context, m *Method, key string) (T, *store.Entry, bool) {
	var zero T
	c := m.c
	inStore := c.readPath() == readInStore
	var e *store.Entry
	var err error
	if inStore {
		if c.checker != nil {
			if v, e, ok, done := lookupChecked[T](ctx, m, key); done {
				return v, e, ok
			}
		}
		e, err = c.shared.GetFresh(ctx, key)
	} else {
		e, err = c.remote.Get(ctx, key)
	}
	if err != nil {
		storeFailed(m, err)
		return zero, nil, false
	}
	v, ok := remoteEntry[T](ctx, m, key, e, inStore)
	if !ok {
		return zero, nil, false
	}
	return v, e, true
}

// remoteEntry returns the value of e, the entry under key the store
// outside the process returned (nil for a miss), if it is fresh, and keeps
// it in the memory tier when that tier may answer for it.
func remoteEntry[T any](ctx context.Context, m *Method, key string, e *store.Entry, inStore bool) (T, bool) {
	var zero T
	c := m.c
	// Expiry by the cache's clock too, which tests move (the store's is
	// the system's): an entry kept past its Expires for stale-if-error is
	// a miss; so is one stamped past what the clock admits.
	if e == nil || e.Expired(c.cfg.now()) || !c.admit(e) {
		return zero, false
	}
	if len(e.TagVersions) > 0 {
		c.catchUp(e.TagVersions)
	}
	if !c.fresh(e) {
		return zero, false
	}
	v, ok := decode[T](c, m, e.Value)
	if !ok {
		return zero, false
	}
	if c.local != nil && (!inStore || c.checker != nil) {
		var kept any = v
		keep := true
		if m.copy {
			kept, keep = encodeCopy(c, m, v)
		}
		if keep {
			retain := e.Retain
			if retain.IsZero() {
				retain = m.retain(e.Expires)
			}
			_ = c.local.Set(ctx, key, &store.Entry{Value: kept, AsOf: e.AsOf, Expires: e.Expires, Retain: retain, Tags: e.Tags})
		}
	}
	propagate(ctx, e.Tags)
	return v, true
}
