package runtime

import (
	"context"
	"time"
)

// SetTTL sets the TTL of the entry the load running in ctx stores, in
// place of the method's: a token cached until its own expiry, a record
// until its valid_until.
//
//	tok, err := issuer.Token(ctx, account)
//	if err == nil {
//		zoo.SetTTL(ctx, time.Until(tok.Expiry))
//	}
//
// The shortest of several calls wins (a value built from several parts
// expires with the first of them). A d that is not positive means the
// value must not be cached: it is returned to the callers of the load and
// not stored. A d longer than [MaxTTL] is MaxTTL. The cache's TTL jitter
// ([WithTTLJitter]) does not apply to it. A method with stale-if-error
// keeps the entry for d plus its window. Outside a load SetTTL does
// nothing; like [AddDeps], it may be called from goroutines the loader
// starts, until the loader returns.
func SetTTL(ctx context.Context, d time.Duration) {
	if dp := depsFrom(ctx); dp != nil {
		dp.setTTL(d)
	}
}

// setTTL records a TTL the loader asked for; the shortest wins.
func (d *deps) setTTL(ttl time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sealed {
		return
	}
	if !d.ttlSet || ttl < d.ttl {
		d.ttl, d.ttlSet = ttl, true
	}
}

// ttlOf returns the TTL the loader set with SetTTL (0 for the method's),
// and false if the value must not be cached. Called once the load has
// returned and the deps are sealed.
func (d *deps) ttlOf() (time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case !d.ttlSet:
		return 0, true
	case d.ttl <= 0:
		return 0, false
	}
	return min(d.ttl, MaxTTL), true
}
