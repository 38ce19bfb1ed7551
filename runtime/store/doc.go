// Package store defines where a cache keeps its entries.
//
// A [Store] maps keys to [Entry] values: a cached result, the hybrid logical
// timestamp taken before it was loaded, the dependency tags it was loaded
// under, and its expiry. A store knows nothing of tags beyond carrying them:
// deciding whether an entry is still fresh is the cache's job. An entry is
// plain data: what a cache remembers about one (its freshness memo, its
// refresh-ahead state) is the cache's own, outside this contract; the
// memory store keeps it beside the entry (memstore.Item). Backends live in
// the packages below this one: memstore (in process, the default), lmdbstore
// and redisstore. Stores that keep bytes rather than Go values frame entries
// with the codec package; the contract every backend must meet is written down
// as a test suite in storetest.
//
// Optional interfaces say what else a store can do: [Shared] (several
// processes, the authority on versions), [Checker], [Locker], [Reporter],
// and [Batcher], [FreshBatcher] and [BatchWriter], which read and write the
// elements of a batch read in one round trip.
package store
