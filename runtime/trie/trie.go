package trie

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// Sep separates the segments of a tag.
const Sep = ':'

// Trie is a versioned prefix trie of tags.
//
// A Trie is safe for concurrent use. Readers ([Trie.Valid], [Trie.Fresh],
// [Trie.Version], [Trie.Generation]) take no lock: they load atomics and
// look children up in tables that writers fill in place (kids.go).
// Writers ([Trie.Invalidate], [Trie.PruneStep]) are serialised by one
// mutex, held for O(depth) by Invalidate and for at most [PruneBudget]
// nodes by a prune step.
// The zero Trie is empty and ready to use.
type Trie struct {
	root    node
	mu      sync.Mutex // serialises writers
	gen     atomic.Uint64
	horizon atomic.Uint64
	nodes   atomic.Int64

	// stamps are the counters of the freshness memo (see [Memo]): every
	// invalidation of a node bumps the one its path hashes to.
	stamps [nstamps]atomic.Uint32

	pruneMu sync.Mutex // one prune at a time; held across its steps
	sweep   []frame    // the prune in progress; guarded by mu and pruneMu
}

type node struct {
	version atomic.Uint64
	// first is one of the node's children, kept in the node itself: most
	// nodes have one child, and reach it without a table. kids are the
	// others, nil until there are any. Writers change both under Trie.mu;
	// readers load them without a lock. A child is in one of them.
	first atomic.Pointer[node]
	kids  atomic.Pointer[kids]
	// seg is the node's segment in its parent, hash its hash and word the
	// segment packed, if it is short (see segKey); immutable.
	seg  string
	hash uint64
	word uint64
}

// child returns n's child of segment seg, whose key segAt returns, or nil.
func (n *node) child(seg string, h, word uint64) *node {
	f, k := n.first.Load(), n.kids.Load()
	if f != nil && f.is(seg, h, word) {
		return f
	}
	if k == nil {
		return nil
	}
	return k.get(seg, h, word)
}

// addChild adds c, which n does not hold, to n's children. Called with
// Trie.mu held.
func (n *node) addChild(c *node) {
	if n.first.Load() == nil {
		n.first.Store(c)
		return
	}
	old := n.kids.Load()
	if k := old.add(c); k != old {
		n.kids.Store(k)
	}
}

// removeChild removes c from n's children and reports whether n held it.
// Called with Trie.mu held.
func (n *node) removeChild(c *node) bool {
	if n.first.Load() == c {
		n.first.Store(nil)
		return true
	}
	old := n.kids.Load()
	if old == nil {
		return false
	}
	k, found := old.remove(c)
	if n, _ := k.count(); n == 0 {
		k = nil
	}
	if k != old {
		n.kids.Store(k)
	}
	return found
}

// leaf reports whether n has no children.
func (n *node) leaf() bool { return n.first.Load() == nil && n.kids.Load() == nil }

// stamp raises the node's version to v; versions never go down.
func (n *node) stamp(v hlc.Timestamp) {
	for {
		old := n.version.Load()
		if old >= uint64(v) || n.version.CompareAndSwap(old, uint64(v)) {
			return
		}
	}
}

// Invalidate stamps the node of tag with version v, creating the nodes on
// its path as needed, so that every entry under tag loaded before v is stale.
// Stamping an older version than the node holds changes nothing.
func (t *Trie) Invalidate(tag string, v hlc.Timestamp) {
	t.mu.Lock()
	n := &t.root
	for i := 0; i <= len(tag); {
		var seg string
		var h, word uint64
		seg, h, word, i = segAt(tag, i)
		c := n.child(seg, h, word)
		if c == nil {
			// The node keeps a copy of its segment, not the caller's tag.
			c = &node{seg: strings.Clone(seg), hash: h, word: word}
			n.addChild(c)
			t.nodes.Add(1)
		}
		n = c
	}
	n.stamp(v)
	t.mu.Unlock()
	// The memo's counter moves after the stamp, and the generation after
	// both: a reader that sees either move also sees the stamp.
	t.stamps[slot(counterOf(tag))].Add(1)
	t.gen.Add(1)
}

// InvalidateAll stamps the root with version v: every entry loaded before v
// is stale.
func (t *Trie) InvalidateAll(v hlc.Timestamp) {
	t.root.stamp(v)
	t.gen.Add(1)
}

// Valid reports whether an entry loaded as of asOf under tags is still
// fresh: asOf is not before the pruning horizon, and no node on the path of
// any tag carries a version newer than asOf.
func (t *Trie) Valid(tags []string, asOf hlc.Timestamp) bool {
	if uint64(asOf) < t.horizon.Load() || t.root.version.Load() > uint64(asOf) {
		return false
	}
	for _, tag := range tags {
		n := &t.root
		for i := 0; i <= len(tag); {
			var seg string
			var h, word uint64
			seg, h, word, i = segAt(tag, i)
			if n = n.child(seg, h, word); n == nil {
				break
			}
			if n.version.Load() > uint64(asOf) {
				return false
			}
		}
	}
	return true
}

// segAt returns the segment of tag that starts at byte i, its key
// (segKey) and the index past the separator that ends it
// (len(tag)+1 for the last): the walk of a path in one pass over its
// bytes, with no call per segment to find the separator.
func segAt(tag string, i int) (seg string, h, word uint64, next int) {
	j := i
	for ; j < len(tag) && tag[j] != Sep; j++ {
		if j-i < 8 {
			word |= uint64(tag[j]) << (8 * (j - i))
		}
	}
	seg = tag[i:j]
	h, word = segKey(seg, word)
	return seg, h, word, j + 1
}

// Version returns the newest version on the path of tag: the timestamp of
// the last invalidation that covers it, or 0 if none is remembered.
func (t *Trie) Version(tag string) hlc.Timestamp {
	n := &t.root
	v := n.version.Load()
	for i := 0; i <= len(tag); {
		var seg string
		var h, word uint64
		seg, h, word, i = segAt(tag, i)
		if n = n.child(seg, h, word); n == nil {
			break
		}
		v = max(v, n.version.Load())
	}
	return hlc.Timestamp(v)
}

// Generation returns a counter that moves after every stamp and every rise
// of the horizon. A caller that found an entry valid after loading
// generation g may skip the check while Generation still returns g.
func (t *Trie) Generation() uint64 { return t.gen.Load() }

// Horizon returns the pruning horizon: entries loaded before it are stale.
func (t *Trie) Horizon() hlc.Timestamp { return hlc.Timestamp(t.horizon.Load()) }

// Len returns the number of nodes below the root.
func (t *Trie) Len() int { return int(t.nodes.Load()) }

// PruneBudget is the most nodes one prune step visits while it holds the
// writers' mutex: an Invalidate waits for at most that many.
const PruneBudget = 512

// Prune raises the horizon to h (it never goes down) and removes every node
// whose version is older than the horizon and that has no children left. It
// returns the number of nodes removed. It sweeps in steps of [PruneStep],
// releasing the writers' mutex between them, so invalidations wait for one
// step at most, never for the whole sweep.
//
// Entries loaded before the horizon become stale, so a caller picks h no
// later than the oldest entry that could still be live (now minus the
// longest TTL); a later h trades hits for memory. Entries loaded at or after
// it keep their memo: pruning removes only nodes no such entry depends on.
func (t *Trie) Prune(h hlc.Timestamp) int {
	t.pruneMu.Lock()
	defer t.pruneMu.Unlock()
	t.raise(h)
	removed := 0
	for {
		_, r, done := t.step(PruneBudget)
		removed += r
		if done {
			return removed
		}
	}
}

// PruneStep raises the horizon to h and continues the sweep in progress (or
// starts one), visiting at most budget nodes with the writers' mutex held.
// It returns the nodes visited and removed, and whether the sweep is
// complete. A node stamped or given a child between steps is kept.
func (t *Trie) PruneStep(h hlc.Timestamp, budget int) (visited, removed int, done bool) {
	t.pruneMu.Lock()
	defer t.pruneMu.Unlock()
	t.raise(h)
	return t.step(budget)
}

// raise raises the horizon to h and moves the generation.
func (t *Trie) raise(h hlc.Timestamp) {
	for {
		old := t.horizon.Load()
		if old >= uint64(h) || t.horizon.CompareAndSwap(old, uint64(h)) {
			break
		}
	}
	t.gen.Add(1)
}

// frame is a node of the sweep in progress whose children are being
// visited: a snapshot of their table, and the position in it.
type frame struct {
	n     *node
	first *node // n's first child when the sweep reached n, until visited
	k     *kids // n's other children when the sweep reached n
	next  int   // the next slot of k to visit
}

func frameOf(n *node) frame { return frame{n: n, first: n.first.Load(), k: n.kids.Load()} }

// step visits at most budget nodes of the sweep, in post-order, removing
// those older than the horizon that have no children. Called with pruneMu
// held.
func (t *Trie) step(budget int) (visited, removed int, done bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	horizon := t.horizon.Load()
	if len(t.sweep) == 0 {
		t.sweep = append(t.sweep, frameOf(&t.root))
	}
	for visited < budget {
		f := &t.sweep[len(t.sweep)-1]
		if c := f.advance(); c != nil {
			visited++
			t.sweep = append(t.sweep, frameOf(c))
			continue
		}
		// Every child of f.n has been visited: f.n itself may go.
		n := f.n
		t.sweep = t.sweep[:len(t.sweep)-1]
		if len(t.sweep) == 0 {
			t.sweep = nil
			t.nodes.Add(-int64(removed))
			return visited, removed, true
		}
		if n.leaf() && n.version.Load() < horizon && t.sweep[len(t.sweep)-1].n.removeChild(n) {
			removed++
		}
	}
	t.nodes.Add(-int64(removed))
	return visited, removed, false
}

// advance returns the next child of f's snapshot, or nil.
func (f *frame) advance() *node {
	if c := f.first; c != nil {
		f.first = nil
		return c
	}
	if f.k == nil {
		return nil
	}
	cells := f.k.cells()
	for f.next < len(cells) {
		c := cells[f.next].c.Load()
		f.next++
		if c != nil && c != tombstone {
			return c
		}
	}
	return nil
}

// Walk calls fn for every node at or below prefix ("" for the whole trie)
// that carries a version, in no particular order, with the node's tag and
// version, until fn returns false. It sees a consistent node but not a
// consistent trie: invalidations may land while it walks.
func (t *Trie) Walk(prefix string, fn func(tag string, v hlc.Timestamp) bool) {
	n := &t.root
	if prefix != "" {
		for i := 0; i <= len(prefix); {
			var seg string
			var h, word uint64
			seg, h, word, i = segAt(prefix, i)
			if n = n.child(seg, h, word); n == nil {
				return
			}
		}
	}
	walk(n, prefix, fn)
}

func walk(n *node, tag string, fn func(string, hlc.Timestamp) bool) bool {
	if v := n.version.Load(); v != 0 && tag != "" {
		if !fn(tag, hlc.Timestamp(v)) {
			return false
		}
	}
	visit := func(c *node) bool {
		child := tag + string(Sep) + c.seg
		if tag == "" {
			child = c.seg
		}
		return walk(c, child, fn)
	}
	if c := n.first.Load(); c != nil && !visit(c) {
		return false
	}
	k := n.kids.Load()
	if k == nil {
		return true
	}
	cells := k.cells()
	for i := range cells {
		if c := cells[i].c.Load(); c != nil && c != tombstone && !visit(c) {
			return false
		}
	}
	return true
}
