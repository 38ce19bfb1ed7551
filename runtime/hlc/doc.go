// Package hlc implements a hybrid logical clock.
//
// A [Timestamp] packs a physical time in milliseconds (the high 48 bits) and a
// logical counter (the low 16 bits) into one uint64, so timestamps compare with
// < and fit in one atomic word. A [Clock] never goes backwards: when the wall
// clock stalls or jumps back, the logical counter advances instead, and when
// the counter overflows it carries into the physical part. [Clock.Update]
// merges a timestamp received from another process so that every event
// stamped afterwards orders after it, whatever the skew between the two
// machines' wall clocks.
//
// A Clock can also follow an authoritative clock: [Clock.Sync] takes in a
// reading of it and moves the Clock's physical time onto its scale (an
// offset from the local wall clock, renewed at each reading), and
// [Clock.Bound] is how far past that scale a timestamp from a peer may be
// trusted. An instance whose wall clock is minutes off, or whose store's
// clock jumped, then still judges versions and load timestamps on one scale.
//
// zoogen stamps trie nodes and cache entries with these timestamps; see the
// consistency rules in the runtime package.
package hlc
