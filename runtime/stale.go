package runtime

import (
	"context"
	"log/slog"
	"time"

	"github.com/zoogen/zoogen/runtime/store"
)

// Stale-if-error (MethodSpec.StaleIfError, the annotation's
// stale-if-error=): stores keep a method's entries for its TTL plus the
// window (store.Entry.Retain), and when the load of a miss fails, the
// flight answers with the entry that expired by time less than the window
// ago, if one is kept and no invalidation made it stale, instead of the
// error; it is counted ([MethodStats].StaleServed), logged, marked on the
// load's span (zoo.stale), and not stored again.
//
// Which failures count: every error the load returns, its own timeouts
// included (a database that does not answer is the case this is for). A
// panic is not served stale. A caller whose own context ends while it
// waits gets ctx.Err(), never a stale value: it asked to stop, and the
// load goes on for the others. Cached errors (errors=) are values, not
// failures. A miss that fails open because the store is down finds no
// stale entry there either, and reports the error.
//
// An invalidated entry is never served: the expired entry is validated
// like a hit (against the tag trie, and in the store as GetFresh does for
// a shared store, see store.StaleReader), and the flight's joiners check
// it as they check any load's result.

// retain returns how long the stores keep an entry of m that expires at
// expires: the zero time (until it expires) unless m serves stale
// entries.
func (m *Method) retain(expires time.Time) time.Time {
	if m.stale == 0 || expires.IsZero() {
		return time.Time{}
	}
	return expires.Add(m.stale)
}

func staleServed(s *methodStats) *counter { return &s.staleServed }

// waitedFor reports whether callers wait for flight f: a failed load that
// every caller left (their contexts ended) answers nobody, and a
// background refresh that failed answers the misses that joined it (its
// entry expired meanwhile) as a miss's load would.
func waitedFor[T any](c *Cache, f *flight[T]) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return f.waiters > 0
}

// serveStale answers the failed load of flight f with the expired entry of
// key, if one is kept, expired less than m's window ago and not made
// stale by an invalidation. It reports whether it did.
func serveStale[T any](ctx context.Context, c *Cache, m *Method, key string, f *flight[T]) bool {
	e := staleEntry(ctx, c, key)
	if e == nil || !e.Expires.IsZero() && !c.cfg.now().Before(e.Expires.Add(m.stale)) {
		return false
	}
	v, ok := decode[T](c, m, e.Value)
	if !ok {
		return false
	}
	c.logs.Warn("zoo: a load failed; serving the expired entry (stale-if-error)",
		slog.String("method", m.label), slog.String("error", f.err.Error()),
		slog.Time("expired", e.Expires))
	m.count(staleServed)
	f.val, f.err, f.asOf, f.tags, f.stale = v, nil, e.AsOf, e.Tags, true
	return true
}

// staleEntry returns the entry kept under key past its Expires (or not
// yet expired) that no invalidation made stale, or nil: from the memory
// tier while the local versions can be trusted, else from the store, if
// it keeps such entries.
func staleEntry(ctx context.Context, c *Cache, key string) *store.Entry {
	if c.local != nil && c.readPath() != readInStore {
		if it := c.local.GetStaleItem(key); it != nil && c.fresh(it) {
			return &it.Entry
		}
	}
	sr, ok := c.remote.(store.StaleReader)
	if !ok {
		return nil
	}
	e, err := sr.GetStale(ctx, key)
	if err != nil || e == nil {
		return nil
	}
	if len(e.TagVersions) > 0 {
		c.catchUp(e.TagVersions)
	}
	if !c.valid(e) {
		return nil
	}
	return e
}
