// Package memstore keeps cache entries in process memory: the store a cache
// uses when it is given none.
//
// A [Store] holds the [store.Entry] values it is given, Go values and all, so
// a hit costs one hash table lookup and no serialization. Each is kept in an
// [Item], which also holds the per-entry state of the cache whose memory
// tier the store is ([Store.GetItem], [Store.SetItem]). It is bounded,
// either by a number of entries ([WithMaxEntries], [DefaultMaxEntries] by
// default) or by a total weight such as bytes ([WithMaxWeight]). Eviction is
// github.com/maypok86/otter/v2's: when the store is full, otter's W-TinyLFU
// policy chooses what to drop, and [Store.Evictions] counts those drops.
//
// Expiry is the store's own, kept in each entry's Expires, and precise to
// [Resolution] (10ms): Get does not read the system clock, which would be a
// large part of a hit, but compares Expires with the time a goroutine reads
// once per Resolution, a load that inlines into Get. An entry is never served
// before its Expires, and may be served up to about Resolution after it
// (longer if the process is starved of CPU); Set compares Expires with the
// precise time. Expired entries are swept out every [SweepEvery]. Otter
// itself is configured as a cache bounded by size alone, with no per-entry
// deadline or timer wheel to keep.
//
// Tests that need to move time forward give the store their own clock with
// [WithClock], which is also how to get expiry to the nanosecond. The store
// then reads that clock on every Get and in its sweeps: an entry expires the
// moment the clock passes its Expires, so such tests never sleep.
package memstore
