package store

import "context"

// Batcher is implemented by stores that read many keys in one round trip
// (Redis: one pipeline; LMDB: one read transaction). The cache reads the
// elements of a batch read (the each= annotation) through it; a store
// without it is read key by key.
type Batcher interface {
	// GetMany is [Store.Get] for each of keys: entries[i] is the entry
	// under keys[i], nil on a miss, len(entries) == len(keys). A key may
	// appear more than once. An error wrapping [ErrCorrupt] comes with the
	// entries of the other keys (nil for those whose bytes do not decode);
	// any other error (the store is unreachable) comes with none.
	GetMany(ctx context.Context, keys []string) (entries []*Entry, err error)
}

// FreshBatcher is implemented by shared stores that can do what
// [Shared.GetFresh] does for many keys in one round trip: strict batch
// reads.
type FreshBatcher interface {
	// GetFreshMany is GetFresh for each of keys, returned as GetMany
	// returns them: a stale entry is nil, as a missing one.
	GetFreshMany(ctx context.Context, keys []string) (entries []*Entry, err error)
}

// BatchWriter is implemented by stores that write many entries in one
// round trip (Redis: one pipeline). The cache stores the elements a batch
// read loaded through it.
type BatchWriter interface {
	// SetMany is [Store.Set] for each key and the entry at the same index.
	// An error means that some entries may not have been stored.
	SetMany(ctx context.Context, keys []string, entries []*Entry) error
}
