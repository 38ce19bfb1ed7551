// Package runtime is the cache engine behind zoogen's generated decorators.
// Programs import it as zoo:
//
//	import zoo "github.com/zoogen/zoogen/runtime"
//
// A [Cache] keeps the results of repository reads under dependency tags, and
// [Cache.Invalidate] expires every result under a tag path in O(depth):
// invalidating "org:1" expires what was loaded under "org:1:store:2:product:3"
// too. Generated code calls [Find] and, on a miss, [LoadMiss]; services call
// [Load]; a batch read (each=) calls [Batch], which caches each element of
// its batch as an entry of its own and loads only the missing ones, in one
// call. A loader adds tags known only while it runs with [AddDeps]; [Tag]
// builds tags from values, escaped so that no value can change the
// hierarchy.
//
// # Consistency
//
// Every entry records a hybrid logical timestamp taken before its load
// began, and every invalidation stamps its tag's node in a prefix trie with a
// later one. An entry is served only while no node on the path of any of its
// tags is newer than the entry. Because the entry's timestamp precedes the
// load, a value read from the database before a concurrent invalidation
// finished is never served after it: the stale-set race of memcache-style
// caches cannot happen. Concurrent misses on one key share one load
// (singleflight), and a caller that joins a load already under way gets its
// result only if no invalidation of the result's tags completed before it
// joined.
//
// # Refresh-ahead, stale-if-error, per-entry TTLs
//
// A method with a refresh interval ([MethodSpec].Refresh, refresh=) serves
// an entry older than it and reloads it once in the background, under the
// same stamping rule; one with a stale-if-error window
// ([MethodSpec].StaleIfError, stale-if-error=) answers a failed load with
// the entry that expired less than the window ago. Neither ever serves an
// invalidated entry. A loader sets its entry's own TTL with [SetTTL].
//
// # Clocks
//
// With a shared store (Redis, LMDB) the store is the clock: loads take their
// timestamp from it and it issues the versions of invalidations. The cache's
// own clock follows it (each reply of the store renews the offset between
// the store's clock and this process's), so versions and load timestamps
// are judged on the store's scale however far this process's clock is off.
// A version heard from elsewhere (another process's message, an entry's tag
// versions) is trusted up to one minute past the store's clock as this
// process last read it, and stamped as of that bound beyond it; an entry
// read from the store with a timestamp past the bound is a miss. Either way
// the stamp is later than every entry the process serves, so a skew or a
// jump of either clock costs misses, never a stale read. The bound is tested
// with clocks 70 s and 10 min behind and 10 min ahead of the store's, and
// with the store's clock jumping 10 min ahead. Expiry is measured on each
// process's own clock ([WithClock]).
//
// # Stores
//
// Entries live in a [store.Store]: by default in process memory
// (memstore), bounded and expiring. See [WithStore].
package runtime
