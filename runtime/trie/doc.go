// Package trie implements the versioned prefix trie of dependency tags.
//
// A tag is a path of segments joined by ':' ("org:1:store:2"). Every node of
// the [Trie] carries a version: the hybrid logical timestamp of the last
// invalidation that named it. Invalidating a tag stamps one node, in
// O(depth), whatever the number of cached entries under it. An entry loaded
// as of a timestamp is fresh while no node on the path of any of its tags
// carries a newer version, which [Trie.Valid] checks in O(total depth). No
// operation ever visits entries: the trie holds only the nodes that
// invalidations created.
//
// A hit need not walk at all: [Trie.Fresh] keeps a [Memo] per entry. Every
// invalidation also bumps one of a few thousand counters, picked by hashing
// the invalidated path; an entry remembers the sum of the counters of its
// tags' prefixes, and while that sum is unchanged nothing on its paths was
// invalidated, whatever happened elsewhere. When an unrelated invalidation
// lands on one of its counters, only the tags whose own counters moved are
// walked. A caller on a hot path asks [Memo.Holds] (inlined) first and
// [Trie.Recheck] only when it fails. A node keeps one child in
// itself and the others in an open-addressing hash table of (hash, child)
// cells, which writers fill in place and readers probe without a lock; a
// lookup in a big trie loads a cell and the child per level.
//
// Nodes are pruned to keep memory bounded. Pruning forgets versions, so it
// could make an invalidated entry look fresh again; it therefore raises a
// horizon first, and every entry loaded before the horizon is stale. Only
// nodes older than the horizon are removed, so no entry that a removed node
// would have invalidated can still pass. [Trie.Prune] sweeps in steps of a
// bounded number of nodes, so writers never wait for a whole sweep, and it
// leaves the memos of entries loaded after the horizon as they are.
//
// Segments are compared as raw strings: the trie does no escaping. Callers
// that put values into tags escape ':' in them (runtime.Tag does).
package trie
