package store

import (
	"context"
	"errors"
	"time"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// ErrUnavailable is wrapped by the errors of a shared store that cannot
// reach its server, or has stopped trying for a while after failures (its
// breaker is open). The cache answers from the repository meanwhile.
var ErrUnavailable = errors.New("zoo: store unavailable")

// Shared is implemented by stores that several processes use at once
// (Redis, LMDB). Such a store is the authority on versions: the cache takes
// the timestamps of its loads from it and records its invalidations in it,
// so that processes whose clocks disagree still agree on what is fresh.
//
// A cache calls Attach once, before anything else, and owns the store from
// then on.
type Shared interface {
	Store

	// Attach binds the store to a cache's namespace and starts delivering
	// events to fn, from a goroutine of the store's, until Close. Attach
	// returns at once, even when the server is unreachable.
	//
	// The store delivers every invalidation recorded by any process (this
	// one included) as an EventInvalidate, in no particular order. When it
	// may have missed some (its subscription broke), it delivers EventDown;
	// once it has caught up, replaying every version recorded meanwhile as
	// EventInvalidate, it delivers EventUp. The first event is EventDown or
	// EventUp; until EventUp, the cache validates entries in the store.
	Attach(namespace string, fn func(Event)) error

	// Now returns a timestamp no earlier than every invalidation the store
	// has recorded: the asOf of a load about to start.
	Now(ctx context.Context) (hlc.Timestamp, error)

	// Invalidate records that tags are invalidated at a version later than
	// every timestamp Now has returned and later than min, announces it to
	// every attached cache, and returns it.
	Invalidate(ctx context.Context, tags []string, min hlc.Timestamp) (hlc.Timestamp, error)

	// GetFresh is Get for an entry that no invalidation recorded in the
	// store makes stale, decided in the same round trip as the read; it
	// returns nil for a stale entry as for a missing one.
	GetFresh(ctx context.Context, key string) (*Entry, error)

	// Prune forgets the versions older than maxAge, after raising the
	// store's horizon: entries loaded before it count as stale.
	Prune(ctx context.Context, maxAge time.Duration) error
}

// Checker is implemented by shared stores that can confirm a copy of an
// entry without reading its value again: a cache in strict mode keeps the
// decoded values GetFresh returned in its memory tier, and asks the store
// on each read whether the copy may still be served.
type Checker interface {
	// Check reports whether the store still holds under key the entry e is
	// a copy of (one GetFresh returned: same AsOf, Tags and Expires), and
	// no invalidation recorded in the store makes it stale, decided in one
	// round trip that reads versions, never the value. Check neither
	// modifies nor keeps e.
	Check(ctx context.Context, key string, e *Entry) (bool, error)
}

// Locker is implemented by shared stores that can make several processes
// missing the same key load it once: the first takes a short lock, the
// others wait for the entry it stores.
type Locker interface {
	// Lock tries to take the lock of key for ttl. If another process holds
	// it, Lock returns ok false. unlock releases a lock that was taken; a
	// lock whose holder died expires after ttl.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventInvalidate reports that Tags were invalidated at Version.
	EventInvalidate EventKind = iota
	// EventDown reports that invalidations may be missed from now on.
	EventDown
	// EventUp reports that every invalidation missed since EventDown has
	// been delivered. Version is the store's clock when it caught up: an
	// entry a process loaded before it may have missed invalidations whose
	// recording the outage delayed, and the cache treats it as stale.
	EventUp
)

// Event is what a shared store tells an attached cache.
type Event struct {
	Kind    EventKind
	Tags    []string
	Version hlc.Timestamp
}

// Reporter is implemented by shared stores through which processes publish
// their statistics, for operators' tools (the zoo command) to read.
type Reporter interface {
	// Report publishes the statistics of one process, replacing what it
	// published before. Reports older than ttl count as gone.
	Report(ctx context.Context, instance string, stats []byte, ttl time.Duration) error
	// Reports returns the current reports of every process, by instance.
	Reports(ctx context.Context) (map[string][]byte, error)
}
