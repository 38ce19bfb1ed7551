package memstore

import (
	"time"

	"github.com/zoogen/zoogen/runtime/store"
)

// DefaultMaxEntries is the number of entries a [Store] holds when it is not
// told otherwise.
const DefaultMaxEntries = 100_000

// An Option configures a [Store] made by [New].
type Option func(*config)

type config struct {
	maxEntries int
	maxWeight  uint64
	weigher    func(key string, e *store.Entry) uint32
	now        func() time.Time
}

// WithMaxEntries bounds the store to about n entries. A non-positive n means
// [DefaultMaxEntries]. It replaces the bound set by an earlier
// [WithMaxEntries] or [WithMaxWeight].
func WithMaxEntries(n int) Option {
	return func(c *config) {
		if n <= 0 {
			n = DefaultMaxEntries
		}
		c.maxEntries, c.maxWeight, c.weigher = n, 0, nil
	}
}

// WithMaxWeight bounds the store by the total weight of its entries, as
// weigher measures them (bytes, for instance), instead of their number. The
// weigher is called once when an entry is set, may be called concurrently,
// and must not call the store; an entry it weighs 0 is never evicted to make
// room. A max of 0 or a nil weigher means the default bound of
// [DefaultMaxEntries] entries. It replaces the bound set by an earlier
// [WithMaxEntries] or [WithMaxWeight].
func WithMaxWeight(max uint64, weigher func(key string, e *store.Entry) uint32) Option {
	return func(c *config) {
		if max == 0 || weigher == nil {
			c.maxEntries, c.maxWeight, c.weigher = DefaultMaxEntries, 0, nil
			return
		}
		c.maxEntries, c.maxWeight, c.weigher = 0, max, weigher
	}
}

// WithClock makes the store read the time from now instead of the system
// clock when it decides whether an entry has expired: on every Get, so
// expiry is as precise as now (the system clock is read once per
// [Resolution]), and a test can move its clock forward and never sleep. now
// is called concurrently. A nil now means the system clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}
