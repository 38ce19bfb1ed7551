package runtime

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// AddDeps adds dependency tags to the load running in ctx: the entry it
// stores is invalidated by these tags as well as by the method's declared
// ones. Use it for dependencies known only while loading:
//
//	zoo.AddDeps(ctx, zoo.Tag("store", p.StoreID))
//
// Outside a load AddDeps does nothing. It is safe to call from goroutines the
// loader starts, until the loader returns.
func AddDeps(ctx context.Context, tags ...string) {
	if d := depsFrom(ctx); d != nil {
		d.add(tags)
	}
}

type depsKey struct{}

// deps collects the tags of one load.
type deps struct {
	asOf hlc.Timestamp // set before the load starts
	tagLog
	ttl    time.Duration // from SetTTL (ttl.go), guarded by tagLog.mu
	ttlSet bool
}

// tagLog collects tags, from any goroutine, until it is sealed.
type tagLog struct {
	mu     sync.Mutex
	tags   []string
	sealed bool
}

// LoadVersion returns the timestamp of the load running in ctx: the
// version of the entry it will store, which changes whenever the entry is
// loaded again. Outside a load it returns false. The HTTP middleware makes
// ETags of it.
func LoadVersion(ctx context.Context) (hlc.Timestamp, bool) {
	if d := depsFrom(ctx); d != nil {
		return d.asOf, true
	}
	return 0, false
}

func depsFrom(ctx context.Context) *deps {
	d, _ := ctx.Value(depsKey{}).(*deps)
	return d
}

func (d *tagLog) add(tags []string) {
	d.mu.Lock()
	if !d.sealed {
		d.tags = append(d.tags, tags...)
	}
	d.mu.Unlock()
}

// seal stops collection and returns the tags, deduplicated in order.
func (d *tagLog) seal() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sealed = true
	out := d.tags[:0:0]
	seen := make(map[string]struct{}, len(d.tags))
	for _, t := range d.tags {
		if _, dup := seen[t]; !dup {
			seen[t] = struct{}{}
			out = append(out, t)
		}
	}
	return out
}

// activeLoads counts loads in progress in this process. While it is zero, a
// hit cannot be nested in a load, and skips looking for one in its context.
var activeLoads atomic.Int64

// propagate hands the tags of a result read inside another load to that
// load: a value computed from a cached value depends on its tags too. It
// tests the count of loads first: none runs, on most hits.
func propagate(ctx context.Context, tags []string) {
	if activeLoads.Load() == 0 || len(tags) == 0 {
		return
	}
	AddDeps(ctx, tags...)
}
