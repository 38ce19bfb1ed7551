package runtime

import (
	"context"
	"unsafe"
)

// Waiters returns how many callers wait on the flight of key, for tests that
// must line callers up before releasing a load.
func Waiters(c *Cache, key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flights[key]
	if !ok {
		return 0
	}
	return f.(interface{ waiting() int }).waiting()
}

// waiting returns the number of callers waiting on f. Called with Cache.mu
// held.
func (f *flight[T]) waiting() int { return f.waiters }

// Prune runs the trie pruning the cache runs every minute.
func Prune(c *Cache) { c.prune() }

// TagNodes returns the size of the cache's tag trie.
func TagNodes(c *Cache) int { return c.trie.Len() }

// LoadAfterMiss is Load for a caller whose lookup missed just before
// another caller's flight stored the value.
func LoadAfterMiss[T any](ctx context.Context, m *Method, key []byte, load func(context.Context) (T, error)) (T, error) {
	return loadShared(ctx, m, string(key), Miss{stored: m.c.stored.Load() - 1}, load)
}

// LookupWithoutMiss is Find as it was before it read the count of stored
// flights, for the benchmark that measures what the read costs a hit.
func LookupWithoutMiss[T any](ctx context.Context, m *Method, key []byte) (T, bool) {
	v, ok := lookupLocal[T](ctx, m, unsafe.String(unsafe.SliceData(key), len(key)))
	if !ok && m.c.readPath() != readMemory {
		v, _, _, ok = lookupRemote[T](ctx, m, string(key))
	}
	if ok {
		m.hit(ctx)
	}
	return v, ok
}
