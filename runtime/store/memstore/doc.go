// Package memstore keeps cache entries in process memory: the store a cache
// uses when it is given none.
//
// A [Store] holds the [store.Entry] values it is given, Go values and all, so
// a hit costs one hash table lookup and no serialization. It is bounded,
// either by a number of entries ([WithMaxEntries], [DefaultMaxEntries] by
// default) or by a total weight such as bytes ([WithMaxWeight]), and drops
// each entry when its Expires passes. Eviction and expiry are
// github.com/maypok86/otter/v2's: when the store is full, otter's W-TinyLFU
// policy chooses what to drop, and [Store.Evictions] counts those drops.
//
// Expiry is precise to [Resolution] (10ms): a Get does not read the system
// clock, which would be a large part of a hit, but compares the entry's
// deadline with the time a clock goroutine reads once per Resolution
// (otter's CoarseClock, stopped by [Store.Close]). An entry is never served
// before its Expires, and may be served up to about Resolution after it
// (longer if the process is starved of CPU); Set compares Expires with the
// precise time.
//
// Tests that need to move time forward give the store their own clock with
// [WithClock], which is also how to get expiry to the nanosecond. The store
// then reads that clock on every Get and runs no periodic clean-up: an entry
// expires the moment the clock passes its Expires, so such tests never sleep.
package memstore
