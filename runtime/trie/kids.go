package trie

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
	"unsafe"
)

// kids is the table of a node's children: an open-addressing hash table,
// probed linearly, of pointers to the children, each of which holds its own
// segment, the segment's hash and, for a segment of up to 8 bytes, the
// segment itself packed in a word; each cell also holds its child's hash. A
// lookup loads the table, a cell and the child it looks for: no bucket to
// follow, no other child to load, and for short segments no string to
// compare.
//
// Readers probe without a lock. A cell goes from empty to a child, from a
// child to a tombstone and from a tombstone to another child, never back to
// empty, so a reader sees a child or passes it, and stops at the first
// empty cell. Writers, serialised by Trie.mu, fill cells in place and replace the whole table when it would be more
// than three quarters full (tombstones count) or a quarter of it is
// tombstones, so that an insert costs O(1) amortised and a probe always
// ends at an empty cell.
//
// A table is one allocation: two cells of header (its size; its counts of
// children and tombstones) and then its cells, so that a lookup goes from
// the node straight to the cells, with no struct between them to load.
type kids struct {
	size   cell // hash: the number of cells, a power of two; immutable
	counts cell // hash: children<<32 | tombstones; guarded by Trie.mu
}

// newKids returns an empty table of size cells.
func newKids(size int) *kids {
	all := make([]cell, 2+size)
	k := (*kids)(unsafe.Pointer(&all[0]))
	k.size.hash.Store(uint64(size))
	return k
}

// cells returns the table's cells, which follow its header.
func (k *kids) cells() []cell {
	return unsafe.Slice((*cell)(unsafe.Add(unsafe.Pointer(k), unsafe.Sizeof(kids{}))), k.size.hash.Load())
}

// count returns the children and the tombstones in the table. Called with
// Trie.mu held, as is setCount.
func (k *kids) count() (n, dead int) {
	v := k.counts.hash.Load()
	return int(v >> 32), int(uint32(v))
}

func (k *kids) setCount(n, dead int) { k.counts.hash.Store(uint64(n)<<32 | uint64(uint32(dead))) }

// cell is one place of a table: a child and its hash, so that a probe passes
// the children of other segments without loading them. The hash is stored
// before the child and loaded after it.
type cell struct {
	hash atomic.Uint64
	c    atomic.Pointer[node]
}

// tombstone fills the cell of a removed child.
var tombstone = new(node)

// The seeds of segment hashes, random per process so that no one can choose
// segments that collide.
var (
	seed               = maphash.MakeSeed()
	shortSeed, lenSeed = rand.Uint64(), rand.Uint64()
)

// segKey returns the key of a segment: its hash and, for a segment of at
// most 8 bytes, the segment packed in a word (0 otherwise). word is the
// segment's first bytes packed so (segAt packs them as it reads them).
func segKey(seg string, word uint64) (h, w uint64) {
	if len(seg) > 8 {
		return maphash.String(seed, seg), 0
	}
	hi, lo := bits.Mul64(word^shortSeed, uint64(len(seg))^lenSeed)
	return hi ^ lo, word
}

// is reports whether c is the child of segment seg, of key h and word.
func (c *node) is(seg string, h, word uint64) bool {
	if c.hash != h || len(c.seg) != len(seg) || c == tombstone {
		return false
	}
	if len(seg) <= 8 {
		return c.word == word
	}
	return c.seg == seg
}

func (k *kids) get(seg string, h, word uint64) *node {
	cells := k.cells()
	mask := uint64(len(cells) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &cells[i]
		c := s.c.Load()
		if c == nil {
			return nil
		}
		if s.hash.Load() == h && c.is(seg, h, word) {
			return c
		}
	}
}

// add returns the table with c added, which it does not hold: k itself, or
// a larger copy the caller publishes. Called with Trie.mu held.
func (k *kids) add(c *node) *kids {
	if k == nil {
		k = k.rebuilt(1)
	} else if n, dead := k.count(); 4*(n+dead+1) > 3*len(k.cells()) {
		k = k.rebuilt(1)
	}
	k.put(c)
	n, dead := k.count()
	k.setCount(n+1, dead)
	return k
}

// put stores c in the first free cell of its probe. Called with Trie.mu
// held, on a table with a free cell.
func (k *kids) put(c *node) {
	cells := k.cells()
	mask := uint64(len(cells) - 1)
	for i := c.hash & mask; ; i = (i + 1) & mask {
		if s := cells[i].c.Load(); s == nil || s == tombstone {
			if s == tombstone {
				n, dead := k.count()
				k.setCount(n, dead-1)
			}
			cells[i].hash.Store(c.hash)
			cells[i].c.Store(c)
			return
		}
	}
}

// rebuilt returns a new table holding k's children (k may be nil), with
// room for extra more at half load at most. Called with Trie.mu held.
func (k *kids) rebuilt(extra int) *kids {
	n := extra
	if k != nil {
		kn, _ := k.count()
		n += kn
	}
	size := 2
	for size < 2*n {
		size *= 2
	}
	r := newKids(size)
	if k != nil {
		cells := k.cells()
		for i := range cells {
			if c := cells[i].c.Load(); c != nil && c != tombstone {
				r.put(c)
			}
		}
		kn, _ := k.count()
		r.setCount(kn, 0)
	}
	return r
}

// remove drops child c, if the table holds it, and returns the table: k
// itself, or a smaller copy without tombstones the caller publishes. found
// reports whether c was there. Called with Trie.mu held.
func (k *kids) remove(c *node) (_ *kids, found bool) {
	cells := k.cells()
	mask := uint64(len(cells) - 1)
	for i := c.hash & mask; ; i = (i + 1) & mask {
		s := cells[i].c.Load()
		if s == nil {
			return k, false
		}
		if s == c {
			cells[i].c.Store(tombstone)
			n, dead := k.count()
			k.setCount(n-1, dead+1)
			break
		}
	}
	if n, dead := k.count(); n > 0 && 4*dead > len(cells) {
		return k.rebuilt(0), true
	}
	return k, true
}
