package trie

import (
	"hash/maphash"
	"slices"
	"sync/atomic"
)

// kids is the table of a node's children: a hash table whose buckets are
// immutable slices, replaced whole on write (copy-on-write). Readers load
// the table and one bucket without a lock; writers, serialised by Trie.mu,
// copy one bucket per insert or delete, and the whole table when it grows,
// so that a node with many children costs O(1) amortised per insert.
type kids struct {
	buckets []atomic.Pointer[[]kid]
	n       int // children in the table; guarded by Trie.mu
}

type kid struct {
	seg  string
	node *node
}

// maxLoad is the mean bucket length above which a table doubles.
const maxLoad = 4

var seed = maphash.MakeSeed()

func (k *kids) bucket(seg string) *atomic.Pointer[[]kid] {
	if len(k.buckets) == 1 {
		return &k.buckets[0]
	}
	return &k.buckets[maphash.String(seed, seg)&uint64(len(k.buckets)-1)]
}

func (k *kids) get(seg string) *node {
	b := k.bucket(seg).Load()
	if b == nil {
		return nil
	}
	for _, e := range *b {
		if e.seg == seg {
			return e.node
		}
	}
	return nil
}

// add returns the table with c added under seg, which it does not hold: k
// itself, or a larger copy the caller publishes. Called with Trie.mu held.
func (k *kids) add(seg string, c *node) *kids {
	if k == nil {
		k = &kids{buckets: make([]atomic.Pointer[[]kid], 1)}
	} else if k.n >= maxLoad*len(k.buckets) {
		k = k.grown()
	}
	b := k.bucket(seg)
	var nb []kid
	if old := b.Load(); old != nil {
		nb = slices.Clip(append(slices.Clone(*old), kid{seg, c}))
	} else {
		nb = []kid{{seg, c}}
	}
	b.Store(&nb)
	k.n++
	return k
}

// grown returns a copy of k with twice as many buckets. Called with Trie.mu
// held.
func (k *kids) grown() *kids {
	g := &kids{buckets: make([]atomic.Pointer[[]kid], 2*len(k.buckets)), n: k.n}
	parts := make([][]kid, len(g.buckets))
	for i := range k.buckets {
		if b := k.buckets[i].Load(); b != nil {
			for _, e := range *b {
				j := maphash.String(seed, e.seg) & uint64(len(g.buckets)-1)
				parts[j] = append(parts[j], e)
			}
		}
	}
	for j, p := range parts {
		if p != nil {
			p = slices.Clip(p)
			g.buckets[j].Store(&p)
		}
	}
	return g
}

// remove drops the child under seg, if any. Called with Trie.mu held.
func (k *kids) remove(seg string) {
	b := k.bucket(seg)
	old := b.Load()
	if old == nil {
		return
	}
	i := slices.IndexFunc(*old, func(e kid) bool { return e.seg == seg })
	if i < 0 {
		return
	}
	if len(*old) == 1 {
		b.Store(nil)
	} else {
		nb := slices.Delete(slices.Clone(*old), i, i+1)
		b.Store(&nb)
	}
	k.n--
}
