package memstore

import (
	"errors"
	"fmt"
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
	weighted   bool // WithMaxWeight was the last bound given
	maxWeight  uint64
	weigher    func(key string, e *store.Entry) uint32
	now        func() time.Time
}

func defaultConfig() config { return config{maxEntries: DefaultMaxEntries} }

// WithMaxEntries bounds the store to about n entries; n must be positive.
// The default is [DefaultMaxEntries]. It replaces the bound set by an
// earlier [WithMaxEntries] or [WithMaxWeight].
func WithMaxEntries(n int) Option {
	return func(c *config) { c.maxEntries, c.weighted, c.maxWeight, c.weigher = n, false, 0, nil }
}

// WithMaxWeight bounds the store by the total weight of its entries, as
// weigher measures them (bytes, for instance), instead of their number: max
// must be positive and weigher not nil. The weigher is called once when an
// entry is set, may be called concurrently, and must not call the store; an
// entry it weighs 0 is never evicted to make room. It replaces the bound
// set by an earlier [WithMaxEntries] or [WithMaxWeight].
func WithMaxWeight(max uint64, weigher func(key string, e *store.Entry) uint32) Option {
	return func(c *config) { c.maxEntries, c.weighted, c.maxWeight, c.weigher = 0, true, max, weigher }
}

// WithClock makes the store read the time from now instead of the system
// clock when it decides whether an entry has expired: on every Get, so
// expiry is as precise as now (the system clock is read once per
// [Resolution]), and a test can move its clock forward and never sleep. now
// is called concurrently. A nil now means the system clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// validate checks the options. Its errors wrap [store.ErrBadOption] (which
// is zoo.ErrBadOption) and name the option and its value.
func (c *config) validate() error {
	var errs []error
	if c.weighted {
		if c.maxWeight == 0 {
			errs = append(errs, fmt.Errorf("%w: memstore: max weight %d is not positive", store.ErrBadOption, c.maxWeight))
		}
		if c.weigher == nil {
			errs = append(errs, fmt.Errorf("%w: memstore: max weight %d with a nil weigher", store.ErrBadOption, c.maxWeight))
		}
	} else if c.maxEntries <= 0 {
		errs = append(errs, fmt.Errorf("%w: memstore: max entries %d is not positive", store.ErrBadOption, c.maxEntries))
	}
	return errors.Join(errs...)
}
