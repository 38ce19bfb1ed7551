package runtime

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// counter is a counter that many goroutines increment at once without
// fighting over one cache line: increments land on one of several padded
// stripes, and reads add them up. A goroutine keeps to one stripe, chosen by
// the address of its stack, so goroutines running at the same time on
// different cores mostly write to different lines, and each core keeps
// writing to the line it already holds (a stripe picked at random per
// increment would pull a line from another core on most increments).
type counter struct {
	stripes [stripes]countStripe
}

// countStripe is a stripe of a counter, on a cache line of its own.
type countStripe struct {
	n atomic.Uint64
	_ [56]byte
}

// stripeBits is log2 of the number of stripes of a counter.
const stripeBits = 3

const stripes = 1 << stripeBits

func (c *counter) inc() { c.stripes[stripe()].n.Add(1) }

// add adds n to the counter.
func (c *counter) add(n uint64) { c.stripes[stripe()].n.Add(n) }

func (c *counter) load() uint64 { return sum(c.stripes[:]) }

// hitCounter is the counter that every hit increments: a counter with
// more stripes (4 KiB), so that two goroutines running at once share a
// stripe once in 64 times rather than once in 8. While they share one,
// each increment pulls its line from the other's core: a hit on two cores
// measured 1.5 to 2 times its usual cost.
type hitCounter struct {
	stripes [1 << hitStripeBits]countStripe
}

const hitStripeBits = 6

func (c *hitCounter) inc()         { c.stripes[stripeOf(hitStripeBits)].n.Add(1) }
func (c *hitCounter) add(n uint64) { c.stripes[stripeOf(hitStripeBits)].n.Add(n) }
func (c *hitCounter) load() uint64 { return sum(c.stripes[:]) }

func sum(stripes []countStripe) uint64 {
	var n uint64
	for i := range stripes {
		n += stripes[i].n.Load()
	}
	return n
}

// stripe returns the calling goroutine's stripe of a counter.
func stripe() uint64 { return stripeOf(stripeBits) }

// stripeOf returns the calling goroutine's stripe of a counter of 1<<bits
// stripes: a hash of the address of its stack. The address stays put while
// the goroutine runs (a stack that grows moves, which only moves the
// goroutine to another stripe) and differs between goroutines that run at
// once. The bits below 2 KiB, the smallest stack, depend on the call depth
// rather than the goroutine and are dropped; the multiplication brings the
// bits that tell stacks apart to the top.
func stripeOf(bits uint) uint64 {
	var x byte
	return (uint64(uintptr(unsafe.Pointer(&x))) >> 11) * 0x9e3779b97f4a7c15 >> (64 - bits)
}

// LoadBuckets are the upper bounds, in seconds, of the load duration
// histogram.
var LoadBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// histogram counts durations in LoadBuckets.
type histogram struct {
	counts [15]atomic.Uint64 // one per bucket, and +Inf
	sumNs  atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(LoadBuckets, s)
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

// methodStats are the counters of one Method.
type methodStats struct {
	hits                                     hitCounter
	misses, loads, loadErrors, coalesced     counter
	decodeFailures, failOpens, invalidations counter
	oversized, uncopyable                    counter
	refreshes, refreshErrors, staleServed    counter
	batches, elementsLoaded                  counter // batch reads (batch.go)
	loadDuration                             histogram
}

// Stats is a snapshot of a cache's counters, for metrics exporters, the
// debug handler and the zoo command. Counters only grow; rates are
// differences between snapshots.
type Stats struct {
	// Instance identifies the cache among the processes sharing its store.
	Instance  string
	Namespace string
	// Consistency is "local" or "strict".
	Consistency string
	// Shared reports whether the store is shared with other processes, and
	// Connected whether their invalidations reach this one.
	Shared, Connected bool
	// Invalidations counts calls of Cache.Invalidate and of invalidating
	// methods.
	Invalidations uint64
	// Evictions counts entries the memory tier dropped for room.
	Evictions uint64
	// TagNodes is the size of the tag trie.
	TagNodes int
	// Clock is the latest timestamp the cache has seen.
	Clock hlc.Timestamp
	// MethodCounters reports whether the per-method counters are on
	// (WithStats(true)); without them Methods is empty.
	MethodCounters bool
	// Methods has one row per cached or invalidating method.
	Methods []MethodStats
	// At is when the snapshot was taken.
	At time.Time
}

// MethodStats are the counters of one method.
type MethodStats struct {
	Package, Interface, Method string
	// Hits and Misses count calls served from the cache and not; for a
	// batch read (each=), elements served from the cache and not.
	Hits, Misses uint64
	// Loads counts calls of the repository made for misses; LoadErrors
	// those that failed (and were not cached).
	Loads, LoadErrors uint64
	// Coalesced counts callers that waited for another caller's load.
	Coalesced uint64
	// DecodeFailures counts entries in the store that did not decode.
	DecodeFailures uint64
	// FailOpens counts calls that went to the repository because the store
	// failed.
	FailOpens uint64
	// Invalidations counts invalidations made by the method.
	Invalidations uint64
	// Oversized counts loaded values too large to cache (WithMaxValueSize).
	Oversized uint64
	// Uncopyable counts loaded values of a method that copies (MethodSpec.Copy)
	// that did not survive a MessagePack round trip: served to the caller
	// that loaded them only, and not cached.
	Uncopyable uint64
	// Refreshes counts the background reloads of entries older than the
	// method's refresh interval (they count as Loads too); RefreshErrors
	// those that failed, leaving the old entry in place.
	Refreshes, RefreshErrors uint64
	// StaleServed counts failed loads answered with an expired entry
	// (stale-if-error).
	StaleServed uint64
	// Batches counts calls of a batch read (each=), and ElementsLoaded
	// the elements its loads asked the repository for (Loads counts the
	// loads).
	Batches, ElementsLoaded uint64
	// LoadDuration is a histogram of load durations: counts per bucket of
	// LoadBuckets, then the count above the last, and the sum in seconds.
	LoadDurationCounts []uint64
	LoadDurationSum    float64
}

// Stats returns a snapshot of the cache's counters. Methods created with
// the same spec (several decorators of one interface) share a handle and a
// row; specs that differ only in TTL share a row. With
// WithStats(false) the method rows are empty.
func (c *Cache) Stats() Stats {
	s := Stats{
		Instance:      c.instance,
		Namespace:     c.cfg.namespace,
		Consistency:   "local",
		Shared:        c.shared != nil,
		Connected:     c.watchUp.Load(),
		Invalidations: c.invalidations.load(),
		TagNodes:      c.trie.Len(),
		Clock:         c.clock.Last(),
		At:            c.cfg.now(),

		MethodCounters: c.cfg.stats,
	}
	if c.strict {
		s.Consistency = "strict"
	}
	if c.local != nil {
		s.Evictions = c.local.Evictions()
	}
	rows := c.methods.snapshot()
	if len(rows) > 0 {
		s.Methods = make([]MethodStats, len(rows))
	}
	for i, row := range rows {
		spec := row.spec
		s.Methods[i] = MethodStats{Package: spec.Package, Interface: spec.Interface, Method: spec.Method,
			LoadDurationCounts: make([]uint64, len(LoadBuckets)+1)}
		r := &s.Methods[i]
		st := row.stats
		r.Hits += st.hits.load()
		r.Misses += st.misses.load()
		r.Loads += st.loads.load()
		r.LoadErrors += st.loadErrors.load()
		r.Coalesced += st.coalesced.load()
		r.DecodeFailures += st.decodeFailures.load()
		r.FailOpens += st.failOpens.load()
		r.Invalidations += st.invalidations.load()
		r.Oversized += st.oversized.load()
		r.Uncopyable += st.uncopyable.load()
		r.Refreshes += st.refreshes.load()
		r.RefreshErrors += st.refreshErrors.load()
		r.StaleServed += st.staleServed.load()
		r.Batches += st.batches.load()
		r.ElementsLoaded += st.elementsLoaded.load()
		for b := range st.loadDuration.counts {
			r.LoadDurationCounts[b] += st.loadDuration.counts[b].Load()
		}
		r.LoadDurationSum += time.Duration(st.loadDuration.sumNs.Load()).Seconds()
	}
	return s
}

// TagVersion is a tag the cache has seen invalidated, and when.
type TagVersion struct {
	Tag     string
	Version hlc.Timestamp
}

// Tags returns up to limit (all if limit <= 0) tags at or below prefix that this process has
// seen invalidated and not yet pruned, with their versions, sorted by tag:
// what the zoo command's inspect shows.
func (c *Cache) Tags(prefix string, limit int) []TagVersion {
	var out []TagVersion
	c.trie.Walk(prefix, func(tag string, v hlc.Timestamp) bool {
		out = append(out, TagVersion{Tag: tag, Version: v})
		return limit <= 0 || len(out) < limit
	})
	slices.SortFunc(out, func(a, b TagVersion) int { return strings.Compare(a.Tag, b.Tag) })
	return out
}
