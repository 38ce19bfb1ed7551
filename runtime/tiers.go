package runtime

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/memstore"
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
// shared store while its invalidations reach this process.
func lookupLocal[T any](ctx context.Context, m *Method, key string) (T, bool) {
	if it := m.c.localHit(key); it != nil {
		return kept[T](ctx, m, &it.Entry)
	}
	var zero T
	return zero, false
}

// localHit returns the item of the memory tier under key if the memory
// tier answers alone (see lookupLocal) and its entry is fresh, or nil. It
// is not generic, so that it is compiled once, with the memo's test
// (Memo.Holds) inlined into it.
func (c *Cache) localHit(key string) *memstore.Item {
	if c.local == nil || c.remote != nil && c.readPath() == readInStore {
		return nil
	}
	it := c.local.GetItem(key)
	if it == nil || !it.Memo.Holds(&c.trie) && !c.recheck(it) {
		return nil
	}
	return it
}

// kept returns the value of e, the entry of an item of the memory tier
// found fresh.
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

// checks reports whether reads go through the memory tier's copies, each
// confirmed by the store ([store.Checker]) before it is served.
func (c *Cache) checks() bool { return c.checker != nil && c.readPath() == readInStore }

// checked returns the memory tier's item under key once the store, which
// validates every read, has confirmed it: one round trip, with no value
// sent or decoded. done is false when the memory tier cannot answer and
// the store must be read: it holds no fresh copy, or the store found the
// copy stale. key is read during the call only (the store is given the
// item's own key), so callers may pass one in a buffer of theirs.
//
// It is not generic, so that the value is copied once, by the caller.
func (c *Cache) checked(ctx context.Context, m *Method, key string) (it *memstore.Item, done bool) {
	it = c.local.GetItem(key)
	if it == nil || !c.fresh(it) {
		return nil, false
	}
	fresh, err := c.checker.Check(ctx, it.Key(), &it.Entry)
	if err != nil {
		storeFailed(m, err)
		return nil, true
	}
	if !fresh {
		_ = c.local.Delete(ctx, it.Key())
		return nil, false
	}
	return it, true
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

// lookupRemote reads key from the store outside the process: from a
// copy in the memory tier that the store confirms, when it checks copies,
// or from the store. It returns the entry it served too, and the memory
// tier's item of that entry when that tier keeps it (nil otherwise): the
// item holds the entry's refresh-ahead state.
func lookupRemote[T any](ctx context.Context, m *Method, key string) (T, *store.Entry, *memstore.Item, bool) {
	if c := m.c; c.checks() {
		if it, done := c.checked(ctx, m, key); done {
			if it == nil {
				var zero T
				return zero, nil, nil, false
			}
			if v, ok := kept[T](ctx, m, &it.Entry); ok {
				return v, &it.Entry, it, true
			}
		}
	}
	return lookupStore[T](ctx, m, key)
}

// lookupStore is lookupRemote past the memory tier: a read of the store.
// It keeps the entry in the memory tier, under key.
func lookupStore[T any](ctx context.Context, m *Method, key string) (T, *store.Entry, *memstore.Item, bool) {
	var zero T
	c := m.c
	inStore := c.readPath() == readInStore
	var e *store.Entry
	var err error
	if inStore {
		e, err = c.shared.GetFresh(ctx, key)
	} else {
		e, err = c.remote.Get(ctx, key)
	}
	if err != nil {
		storeFailed(m, err)
		return zero, nil, nil, false
	}
	v, it, ok := remoteEntry[T](ctx, m, key, e, inStore)
	if !ok {
		return zero, nil, nil, false
	}
	return v, e, it, true
}

// remoteEntry returns the value of e, the entry under key the store
// outside the process returned (nil for a miss), if it is fresh, and keeps
// it in the memory tier when that tier may answer for it; it returns the
// item it kept there, or nil.
func remoteEntry[T any](ctx context.Context, m *Method, key string, e *store.Entry, inStore bool) (T, *memstore.Item, bool) {
	var zero T
	c := m.c
	// Expiry by the cache's clock too, which tests move (the store's is
	// the system's): an entry kept past its Expires for stale-if-error is
	// a miss; so is one stamped past what the clock admits.
	if e == nil || e.Expired(c.cfg.now()) || !c.admit(e) {
		return zero, nil, false
	}
	if len(e.TagVersions) > 0 {
		c.catchUp(e.TagVersions)
	}
	if !c.valid(e) {
		return zero, nil, false
	}
	v, ok := decode[T](c, m, e.Value)
	if !ok {
		return zero, nil, false
	}
	var it *memstore.Item
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
			it, _ = c.keepLocal(key, kept, e.AsOf, e.Expires, retain, e.Tags)
		}
	}
	propagate(ctx, e.Tags)
	return v, it, true
}

// keepLocal stores in the memory tier, under key, the entry of value v
// loaded at asOf under tags, expiring at expires and kept until retain,
// with the cache's state beside it: one allocation, the item, which it
// returns.
func (c *Cache) keepLocal(key string, v any, asOf hlc.Timestamp, expires, retain time.Time, tags []string) (*memstore.Item, error) {
	it := &memstore.Item{Entry: store.Entry{Value: v, AsOf: asOf, Expires: expires, Retain: retain, Tags: tags}}
	return it, c.local.SetItem(key, it)
}
