package store

import (
	"context"
	"errors"
	"time"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// ErrClosed is returned by a store's methods after Close.
var ErrClosed = errors.New("zoo: store closed")

// ErrBadOption is wrapped by the errors that constructors (of a cache, a
// store, an HTTP middleware) return for an option with an invalid value.
// The runtime package exports it as zoo.ErrBadOption.
var ErrBadOption = errors.New("zoo: bad option")

// Store keeps cache entries by key. Implementations are safe for concurrent
// use.
//
// Get returns a nil entry and a nil error on a miss, and never returns an
// entry whose Expires has passed, give or take the precision a store
// documents (memstore reads a coarse clock). The key passed to Get and Delete is only
// valid for the duration of the call (the cache may build it in a reused
// buffer): a store that keeps it must copy it. The key and entry passed to
// Set are the store's to keep: callers treat an entry as immutable, and never
// pass a nil one, once they hand it to Set. An entry whose Expires (or, when
// later, Retain) has passed when Set is called is not stored and removes
// what was stored under its key.
// Stores that keep bytes keep Expires to the millisecond at least.
//
// Stores that keep Go values (memstore) return the Value they were given.
// Stores that keep bytes encode Value on Set and return it on Get as a
// codec.Raw holding its MessagePack encoding, which the cache decodes into the
// type it expects. Bytes that cannot be decoded are reported as an error
// wrapping [ErrCorrupt]; the cache treats them as a miss.
//
// After Close, the other methods return an error wrapping [ErrClosed]; a
// second Close does nothing.
type Store interface {
	Get(ctx context.Context, key string) (*Entry, error)
	Set(ctx context.Context, key string, e *Entry) error
	Delete(ctx context.Context, key string) error
	// Close releases what the store holds. Entries in persistent stores
	// survive it.
	Close() error
}

// ErrCorrupt is wrapped by errors for stored bytes that fail to decode.
var ErrCorrupt = errors.New("zoo: corrupt entry")

// Entry is one cached result. It is plain data: stores copy entries as
// they please, and a cache keeps its own per-entry state (the memory store
// offers it room beside the entry: memstore.Item), not in the entry.
type Entry struct {
	// Value is the cached result; see Store for its form in byte stores.
	// It comes first, with Tags, so that the fields a memory hit reads are
	// near each other.
	Value any
	// Tags are the dependency tags the value was loaded under.
	Tags []string
	// AsOf is the timestamp taken before the value was loaded. The entry is
	// stale once any of its tags is invalidated at a later timestamp.
	AsOf hlc.Timestamp
	// Expires is when the entry stops being served. The zero time means
	// never.
	Expires time.Time
	// Retain, when later than Expires, is how long the store keeps the
	// entry: past Expires, Get no longer returns it, and a store that
	// implements [StaleReader] returns it from GetStale until Retain (a
	// method with stale-if-error serves it when its load fails). The zero
	// time keeps the entry until Expires. Stores keep Retain to the
	// millisecond, and need not return it from Get.
	Retain time.Time
	// TagVersions, filled by shared stores on Get, are the versions the
	// paths of Tags had when the entry was stored. A reader whose own
	// versions are older catches up from them (passive resynchronisation).
	// Stores need not keep them otherwise.
	TagVersions map[string]hlc.Timestamp
}

// KeepUntil returns when the store may drop e: Retain if it is later than
// Expires, else Expires.
func (e *Entry) KeepUntil() time.Time {
	if !e.Expires.IsZero() && e.Retain.After(e.Expires) {
		return e.Retain
	}
	return e.Expires
}

// StaleReader is implemented by stores that keep entries past their
// Expires until their Retain (memory, LMDB, Redis), for stale-if-error.
type StaleReader interface {
	// GetStale is Get for an entry whose Expires may have passed: it
	// returns the entry stored under key until its Retain passes. A shared
	// store validates it as GetFresh does: it returns nil for an entry that
	// an invalidation recorded in the store makes stale.
	GetStale(ctx context.Context, key string) (*Entry, error)
}

// Expired reports whether e has expired at now.
func (e *Entry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}
