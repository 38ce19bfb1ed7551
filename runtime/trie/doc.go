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
// Nodes are pruned to keep memory bounded. Pruning forgets versions, so it
// could make an invalidated entry look fresh again; it therefore raises a
// horizon first, and every entry loaded before the horizon is stale. Only
// nodes older than the horizon are removed, so no entry that a removed node
// would have invalidated can still pass.
//
// Segments are compared as raw strings: the trie does no escaping. Callers
// that put values into tags escape ':' in them (runtime.Tag does).
package trie
