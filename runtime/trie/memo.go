package trie

import (
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// nstamps is the number of the memo's counters: enough that an
// invalidation rarely shares one with an unrelated entry's path (an entry
// of 5 tags sums 12 of them), few enough to stay in the caches (32 KiB of
// 32-bit counters). With 4096 counters of 64 bits and a counter for every
// prefix (16 for such an entry), hits of such entries while unrelated tags
// were invalidated cost 1.34x the quiet ones; with 8192 of 32 bits, 1.28x;
// with a counter for fewer prefixes (see counted), about 1.24x
// (BenchmarkHitWhileInvalidatingVsQuiet).
const (
	stampBits = 13
	nstamps   = 1 << stampBits
)

// The FNV-1a hash of tag paths.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// pathHash is the FNV-1a hash of a tag path.
func pathHash(tag string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(tag); i++ {
		h = (h ^ uint64(tag[i])) * fnvPrime
	}
	return h
}

// slot maps a path hash to one of the memo's counters.
func slot(h uint64) uint16 { return uint16((h * 0x9E3779B97F4A7C15) >> (64 - stampBits)) }

// maxSlots is the most counters an entry's memo sums: an entry with more
// tag prefixes than that (thousands of tags) is walked on every check
// that the generation does not settle.
const maxSlots = 1<<16 - 1

// Not every prefix of a tag has a counter of its own. A prefix of an odd
// number of segments past the first (a name without its value, such as
// org:1:store in org:1:store:2) shares the counter of the prefix before it
// (org:1), which an invalidation of it bumps instead. Tags come in names
// and values (zoo.Tag writes them in pairs), so such prefixes are seldom
// invalidated, and an entry of five tags sums 12 counters rather than 16.
// What sharing costs is a walk, never a stale read: an invalidation of
// org:1:store makes the entries under org:1 walk their tags there, and the
// walk, which is exact, finds org:1:invoice:9 fresh.

// counted reports whether the prefixes of n segments have counters of
// their own.
func counted(n int) bool { return n == 1 || n%2 == 0 }

// countedPrefixes is the number of prefixes of tag with counters of their
// own.
func countedPrefixes(tag string) int { return 1 + (1+strings.Count(tag, string(Sep)))/2 }

// counterOf returns the hash of the path whose counter an invalidation of
// tag bumps: tag's own, or, for a tag of an odd number of segments past the
// first, that of tag without its last segment.
func counterOf(tag string) uint64 {
	if !counted(1 + strings.Count(tag, string(Sep))) {
		tag = tag[:strings.LastIndexByte(tag, Sep)]
	}
	return pathHash(tag)
}

// slotsOf returns the counters of every prefix of every tag, those that an
// invalidation covering one of the tags bumps, as a list whose first
// element is the number of counters that follow (so that a memo reaches
// them through one pointer); nil if there are more than maxSlots.
func slotsOf(tags []string) []uint16 {
	n := 0
	for _, tag := range tags {
		n += countedPrefixes(tag)
	}
	if n > maxSlots {
		return nil
	}
	slots := make([]uint16, 1, 1+n)
	slots[0] = uint16(n)
	for _, tag := range tags {
		h, segs := uint64(fnvOffset), 1
		for i := 0; i < len(tag); i++ {
			if tag[i] == Sep {
				if counted(segs) {
					slots = append(slots, slot(h))
				}
				segs++
			}
			h = (h ^ uint64(tag[i])) * fnvPrime
		}
		if counted(segs) {
			slots = append(slots, slot(h))
		}
	}
	return slots
}

// walkAlways is the list of a memo whose entry has more than maxSlots
// counters.
var walkAlways = [1]uint16{maxSlots}

// Memo remembers that an entry was found fresh, so that [Trie.Fresh] can
// skip the walk of its tags while nothing that covers them changed. It
// belongs to one entry (one list of tags, one asOf) and to the first Trie
// that checks it; the zero Memo is ready to use. It must not be copied.
type Memo struct {
	// owner is the trie the memo belongs to, kept in the memo itself so
	// that a hit reads nothing outside the entry but the trie's counters.
	owner atomic.Pointer[Trie]
	gen   atomic.Uint64 // 1 + the generation at which the entry was last found fresh
	sum   atomic.Uint64 // the sum of its counters when it was last walked and found fresh
	// slots is the list slotsOf returns, by its first element (or
	// walkAlways), nil until the first check.
	slots atomic.Pointer[uint16]
	// tagSums are, per tag, the sum of the tag's counters when the tag
	// was last walked and found fresh (unknown before), so that a sum that
	// moved costs a walk of the tags whose counters moved, not of every
	// tag. nil until the sum first moves.
	tagSums atomic.Pointer[[]atomic.Uint64]
}

// unknownSum is the sum of a tag that has not been walked yet: no sum of
// counters that count invalidations reaches it.
const unknownSum = ^uint64(0)

// list returns the counters of m's entry, nil and false before they are
// known or when there are too many to sum.
func (m *Memo) list() ([]uint16, bool) {
	p := m.slots.Load()
	if p == nil || p == &walkAlways[0] {
		return nil, false
	}
	n := *p
	if n == 0 { // no tags: nothing past the length
		return nil, true
	}
	return unsafe.Slice((*uint16)(unsafe.Add(unsafe.Pointer(p), 2)), n), true
}

// Fresh is [Trie.Valid] for an entry that keeps a memo: an entry is fresh
// while asOf is not before the horizon, the root is not newer, and either
// nothing changed in the trie since the entry was last found fresh (one
// atomic load) or nothing changed on its paths: the sum of the counters its
// paths hash to is what it was (a load per path prefix, no lookups). Only
// when that sum moved does it walk the tags, and remember the new sum if
// the entry is still fresh. An invalidation elsewhere costs an entry the
// sum, not the walk; a prune costs it nothing more.
//
// The counters move after the stamp they stand for and the sum is taken
// before the walk, so a sum that includes an invalidation was followed by a
// walk that saw it, and is never remembered for a stale entry.
func (t *Trie) Fresh(m *Memo, tags []string, asOf hlc.Timestamp) bool {
	// The horizon and the root need no look here: a rise of either moves
	// the generation.
	if m.Holds(t) {
		return true
	}
	return t.fresh(m, tags, asOf)
}

// Recheck is [Trie.Fresh] for a caller that asked [Memo.Holds] first and
// got false: it goes straight to the sum, in one call.
func (t *Trie) Recheck(m *Memo, tags []string, asOf hlc.Timestamp) bool {
	return t.fresh(m, tags, asOf)
}

// Holds reports whether t found m's entry fresh at its current generation,
// when [Trie.Fresh] returns true at once. It is small enough to inline: a
// caller on a hot path asks it first and calls Fresh only when it is false.
func (m *Memo) Holds(t *Trie) bool {
	return m.owner.Load() == t && m.gen.Load() == t.gen.Load()+1
}

// fresh is Fresh past its first test. It loads the generation before it
// looks at anything else: the generation it remembers is one at which
// every check passed. For an entry of this trie's memo whose generation
// moved, it sums the entry's counters, walks the tags if the sum moved,
// and remembers the generation if the entry is fresh (as gen+1, so that
// the zero memo matches no generation). It is one function, so that a hit
// after an invalidation elsewhere costs one call.
func (t *Trie) fresh(m *Memo, tags []string, asOf hlc.Timestamp) bool {
	gen := t.gen.Load()
	if uint64(asOf) < t.horizon.Load() || t.root.version.Load() > uint64(asOf) {
		return false
	}
	slots, ok := m.list()
	if !ok || m.owner.Load() != t {
		return t.claim(m, tags, asOf)
	}
	var sum uint64
	for _, s := range slots {
		sum += uint64(t.stamps[s&(nstamps-1)].Load())
	}
	// Past maxBumps generations the counters may have wrapped back to
	// the sums remembered: every tag is walked.
	wrapped := gen+1-m.gen.Load() > maxBumps
	if wrapped || sum != m.sum.Load() {
		if !t.revalidate(m, tags, asOf, slots, wrapped) {
			return false
		}
		m.sum.Store(sum)
	}
	m.gen.Store(gen + 1)
	return true
}

// maxBumps bounds the generations between two checks of a memo across
// which an unchanged sum proves that none of its counters moved. The
// counters are 32 bits and wrap; each generation bumps at most one, and a
// counter appears at most maxSlots times in a memo's list, so a sum moves
// by less than 2^32 over maxBumps generations, and returns to its value
// only if no counter in it moved. A memo checked less often walks its
// tags (one walk, then it is summed again).
const maxBumps = 1 << 16

// claim is fresh for a memo that no trie has checked yet, that another
// trie owns, or whose entry has too many tags to sum: it makes the memo
// this trie's and computes its counters, or walks.
func (t *Trie) claim(m *Memo, tags []string, asOf hlc.Timestamp) bool {
	if m.owner.Load() != t && !m.owner.CompareAndSwap(nil, t) && m.owner.Load() != t {
		return t.Valid(tags, asOf) // another trie's memo
	}
	if m.slots.Load() == nil {
		p := &walkAlways[0]
		if slots := slotsOf(tags); slots != nil {
			p = &slots[0]
		}
		m.slots.CompareAndSwap(nil, p)
	}
	if _, ok := m.list(); !ok { // too many to sum
		return t.Valid(tags, asOf)
	}
	return t.fresh(m, tags, asOf)
}

// revalidate is fresh for an entry whose sum moved: it walks the tags
// whose own counters' sum moved (every tag the first time, or with all),
// and remembers the sum of each it finds fresh. As for the entry's sum, each tag's sum
// is taken before its walk.
func (t *Trie) revalidate(m *Memo, tags []string, asOf hlc.Timestamp, slots []uint16, all bool) bool {
	p := m.tagSums.Load()
	if p == nil {
		sums := make([]atomic.Uint64, len(tags))
		for i := range sums {
			sums[i].Store(unknownSum)
		}
		if !m.tagSums.CompareAndSwap(nil, &sums) {
			p = m.tagSums.Load()
		} else {
			p = &sums
		}
	}
	sums := *p
	for i, tag := range tags {
		n := countedPrefixes(tag)
		var sum uint64
		for _, s := range slots[:n] {
			sum += uint64(t.stamps[s&(nstamps-1)].Load())
		}
		slots = slots[n:]
		if sum == sums[i].Load() && !all {
			continue
		}
		if !t.Valid(tags[i:i+1], asOf) {
			return false
		}
		sums[i].Store(sum)
	}
	return true
}
