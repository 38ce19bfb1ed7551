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
// A Trie is safe for concurrent use. Readers ([Trie.Valid], [Trie.Version],
// [Trie.Generation]) take no lock: they load atomics and look children up in
// lock-free maps. Writers ([Trie.Invalidate], [Trie.Prune]) are serialised
// by one mutex, held for O(depth) by Invalidate and for one sweep by Prune.
// The zero Trie is empty and ready to use.
type Trie struct {
	root    node
	mu      sync.Mutex // serialises writers
	gen     atomic.Uint64
	horizon atomic.Uint64
	nodes   atomic.Int64
}

type node struct {
	version atomic.Uint64
	// children maps a segment to its *node. It is nil until the first child
	// is added; writers create and fill it under Trie.mu, readers load it
	// without a lock.
	children atomic.Pointer[sync.Map]
	nkids    int // guarded by Trie.mu
}

func (n *node) child(seg string) *node {
	kids := n.children.Load()
	if kids == nil {
		return nil
	}
	c, ok := kids.Load(seg)
	if !ok {
		return nil
	}
	return c.(*node)
}

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
	for rest, more := tag, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, string(Sep))
		c := n.child(seg)
		if c == nil {
			c = new(node)
			kids := n.children.Load()
			if kids == nil {
				kids = new(sync.Map)
				n.children.Store(kids)
			}
			kids.Store(seg, c)
			n.nkids++
			t.nodes.Add(1)
		}
		n = c
	}
	n.stamp(v)
	t.mu.Unlock()
	// The generation moves after the stamp: a reader that sees the new
	// generation also sees the stamp.
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
		for rest, more := tag, true; more; {
			var seg string
			seg, rest, more = strings.Cut(rest, string(Sep))
			if n = n.child(seg); n == nil {
				break
			}
			if n.version.Load() > uint64(asOf) {
				return false
			}
		}
	}
	return true
}

// Version returns the newest version on the path of tag: the timestamp of
// the last invalidation that covers it, or 0 if none is remembered.
func (t *Trie) Version(tag string) hlc.Timestamp {
	n := &t.root
	v := n.version.Load()
	for rest, more := tag, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, string(Sep))
		if n = n.child(seg); n == nil {
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

// Prune raises the horizon to h (it never goes down) and removes every node
// whose version is older than the horizon and that has no children left. It
// returns the number of nodes removed.
//
// Entries loaded before the horizon become stale, so a caller picks h no
// later than the oldest entry that could still be live (now minus the
// longest TTL); a later h trades hits for memory.
func (t *Trie) Prune(h hlc.Timestamp) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		old := t.horizon.Load()
		if old >= uint64(h) || t.horizon.CompareAndSwap(old, uint64(h)) {
			break
		}
	}
	t.gen.Add(1)
	removed := t.sweep(&t.root, t.horizon.Load())
	t.nodes.Add(-int64(removed))
	return removed
}

// sweep removes the prunable descendants of n. Called with t.mu held.
func (t *Trie) sweep(n *node, horizon uint64) int {
	kids := n.children.Load()
	if kids == nil {
		return 0
	}
	removed := 0
	kids.Range(func(seg, c any) bool {
		child := c.(*node)
		removed += t.sweep(child, horizon)
		if child.nkids == 0 && child.version.Load() < horizon {
			kids.Delete(seg)
			n.nkids--
			removed++
		}
		return true
	})
	if n.nkids == 0 {
		n.children.Store(nil)
	}
	return removed
}

// Walk calls fn for every node at or below prefix ("" for the whole trie)
// that carries a version, in no particular order, with the node's tag and
// version, until fn returns false. It sees a consistent node but not a
// consistent trie: invalidations may land while it walks.
func (t *Trie) Walk(prefix string, fn func(tag string, v hlc.Timestamp) bool) {
	n := &t.root
	if prefix != "" {
		for rest, more := prefix, true; more; {
			var seg string
			seg, rest, more = strings.Cut(rest, string(Sep))
			if n = n.child(seg); n == nil {
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
	kids := n.children.Load()
	if kids == nil {
		return true
	}
	cont := true
	kids.Range(func(seg, c any) bool {
		child := tag + string(Sep) + seg.(string)
		if tag == "" {
			child = seg.(string)
		}
		cont = walk(c.(*node), child, fn)
		return cont
	})
	return cont
}
