package runtime_test

import (
	"context"
	"fmt"
	goruntime "runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"

	"github.com/zoogen/zoogen/internal/benchtest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// BenchmarkHit compares a hit through the load helper, as generated code
// makes it, with the floor: a bare otter lookup with a size bound only (no
// expiry, no statistics) and the same key building. BenchmarkHitVsFloor
// measures the same in alternation, for a ratio that holds on a busy
// machine.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	for _, v := range statsVariants {
		b.Run(v.name, func(b *testing.B) {
			c := newCache(b, zoo.WithStats(v.stats))
			m := productMethod(c)
			r := &repo{}
			if _, err := r.getProduct(ctx, m, 1, 2, 0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.getProduct(ctx, m, 1, 2, 0); err != nil {
					b.Fatal(err)
				}
			}
			if r.loads.Load() != 1 {
				b.Fatal("missed")
			}
		})
	}
	b.Run("otter", func(b *testing.B) {
		get := otterFloor(b, 1)
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := get(1, 2, 0); !ok {
				b.Fatal("missed")
			}
		}
	})
}

// statsVariants name the caches the hit benchmarks measure: per-method
// counters on ("zoo", WithStats(true)) and off ("zoo-nostats", the
// default since the counters cost about 5 ns a hit).
var statsVariants = []struct {
	name  string
	stats bool
}{{"zoo", true}, {"zoo-nostats", false}}

// otterFloor returns a lookup in a bare otter cache, bounded by size only,
// holding pids 0 to n-1 under the keys productMethod's hits build.
func otterFloor(b *testing.B, n int64) func(oid, sid, pid int64) (product, bool) {
	cache := otter.Must(&otter.Options[string, product]{MaximumSize: memstore.DefaultMaxEntries})
	b.Cleanup(func() { cache.StopAllGoroutines() })
	prefix := string(productMethod(newCache(b)).Key(nil))
	for pid := range n {
		var buf [64]byte
		k := zoo.KeyInt(zoo.KeyInt(zoo.KeyInt(append(buf[:0], prefix...), 1), 2), pid)
		cache.Set(string(k), product{ID: pid})
	}
	return func(oid, sid, pid int64) (product, bool) {
		var buf [64]byte
		k := append(buf[:0], prefix...)
		k = zoo.KeyInt(k, oid)
		k = zoo.KeyInt(k, sid)
		k = zoo.KeyInt(k, pid)
		return cache.GetIfPresent(unsafe.String(unsafe.SliceData(k), len(k)))
	}
}

// BenchmarkHitParallel is BenchmarkHit on every core, each goroutine going
// round 1024 keys.
func BenchmarkHitParallel(b *testing.B) {
	ctx := context.Background()
	const keys = 1024
	for _, v := range statsVariants {
		b.Run(v.name, func(b *testing.B) {
			c := newCache(b, zoo.WithStats(v.stats))
			m := productMethod(c)
			r := &repo{}
			for pid := range int64(keys) {
				if _, err := r.getProduct(ctx, m, 1, 2, pid); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var pid int64
				for pb.Next() {
					pid = (pid + 1) & (keys - 1)
					if _, err := r.getProduct(ctx, m, 1, 2, pid); err != nil {
						panic(err)
					}
				}
			})
			if r.loads.Load() != keys {
				b.Fatal("missed")
			}
		})
	}
	b.Run("otter", func(b *testing.B) {
		get := otterFloor(b, keys)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var pid int64
			for pb.Next() {
				pid = (pid + 1) & (keys - 1)
				if _, ok := get(1, 2, pid); !ok {
					panic("missed")
				}
			}
		})
	})
}

// BenchmarkHitVsFloor runs the variants of BenchmarkHit in alternation,
// in rounds of a few thousand hits each on 1 and on GOMAXPROCS goroutines
// going round 1024 keys, and reports each variant's time per hit and its
// ratio to the otter floor ("zoo/otter"): a burst of load on a shared
// machine slows every variant of a round alike. (Allocations are
// BenchmarkHit's.)
func BenchmarkHitVsFloor(b *testing.B) {
	ctx := context.Background()
	const keys = 1024
	for _, procs := range []int{1, goruntime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("goroutines=%d", procs), func(b *testing.B) {
			var variants []benchtest.Variant
			for _, v := range statsVariants {
				m := productMethod(newCache(b, zoo.WithStats(v.stats)))
				r := &repo{}
				variants = append(variants, benchtest.Variant{Name: v.name, Call: func(pid int64) bool {
					_, err := r.getProduct(ctx, m, 1, 2, pid)
					return err == nil && r.loads.Load() <= keys
				}})
				for pid := range int64(keys) {
					variants[len(variants)-1].Call(pid)
				}
			}
			floor := otterFloor(b, keys)
			variants = append(variants, benchtest.Variant{Name: "otter", Call: func(pid int64) bool {
				_, ok := floor(1, 2, pid)
				return ok
			}})
			benchtest.SideBySide(b, procs, keys, "hit", variants)
		})
	}
}

// BenchmarkInvalidate measures Invalidate with n entries cached, each under
// its own product tag, and as many tag nodes in the trie, invalidating tags
// spread over the whole trie in turn: the cost barely depends on n.
// BenchmarkInvalidateVsSmall measures the same in alternation, for a ratio
// that holds on a busy machine.
func BenchmarkInvalidate(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1_000, 300_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			c, tags := invalidateCache(b, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := c.Invalidate(ctx, tags[i&1023]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// invalidateCache returns a cache of n entries, each under its own product
// tag, with as many tag nodes in its trie, and 1024 of the tags, one every
// n/1024 entries.
func invalidateCache(b *testing.B, n int) (*zoo.Cache, []string) {
	ctx := context.Background()
	s, err := memstore.New(memstore.WithMaxEntries(n))
	if err != nil {
		b.Fatal(err)
	}
	c := newCache(b, zoo.WithStore(s))
	m := productMethod(c)
	r := &repo{}
	for i := range n {
		sid, pid := int64(i/1000), int64(i%1000)
		if err := c.Invalidate(ctx, zoo.Tag("org", 1, "store", sid, "product", pid)); err != nil {
			b.Fatal(err)
		}
		if _, err := r.getProduct(ctx, m, 1, sid, pid); err != nil {
			b.Fatal(err)
		}
	}
	tags := make([]string, 1024)
	for i := range tags {
		e := i * n / len(tags)
		tags[i] = zoo.Tag("org", 1, "store", e/1000, "product", e%1000)
	}
	return c, tags
}

// BenchmarkInvalidateVsSmall runs BenchmarkInvalidate's caches of 300k and
// 1k entries in alternation, in rounds of 4096 invalidations each, and
// reports each one's time per invalidation and the ratio of the large to
// the small ("300k/1k").
func BenchmarkInvalidateVsSmall(b *testing.B) {
	ctx := context.Background()
	var variants []benchtest.Variant
	for _, n := range []int{300_000, 1_000} {
		c, tags := invalidateCache(b, n)
		variants = append(variants, benchtest.Variant{Name: fmt.Sprintf("%dk", n/1000), Call: func(i int64) bool {
			return c.Invalidate(ctx, tags[i&1023]) == nil
		}})
	}
	benchtest.SideBySide(b, 1, 1024, "invalidate", variants)
}

// BenchmarkHitWhileInvalidating compares hits on 1024 entries of 1, 3 or 5
// tags each while nothing is invalidated (quiet) and while an unrelated tag
// is invalidated every 100 hits (busy): the freshness memo keeps the busy
// hits near the quiet ones. BenchmarkHitWhileInvalidatingVsQuiet measures
// the same in alternation, for a ratio that holds on a busy machine.
func BenchmarkHitWhileInvalidating(b *testing.B) {
	for _, ntags := range []int{1, 3, 5} {
		for _, busy := range []bool{false, true} {
			name := fmt.Sprintf("tags=%d/load=quiet", ntags)
			if busy {
				name = fmt.Sprintf("tags=%d/load=busy", ntags)
			}
			b.Run(name, func(b *testing.B) {
				every := 0
				if busy {
					every = 100
				}
				hit := taggedHits(b, ntags, every)
				b.ReportAllocs()
				i := int64(0)
				for b.Loop() {
					if !hit(i * 7) {
						b.Fatal("a hit missed")
					}
					i++
				}
			})
		}
	}
}

// BenchmarkHitWhileInvalidatingVsQuiet runs BenchmarkHitWhileInvalidating's
// busy and quiet caches in alternation, in rounds of 4096 hits each, and
// reports each one's time per hit and the ratio of busy to quiet
// ("busy/quiet"). A third cache, settled, had one unrelated tag
// invalidated after its entries were loaded, and none since: its hits
// find their entries fresh by their sums ("settled/quiet").
func BenchmarkHitWhileInvalidatingVsQuiet(b *testing.B) {
	for _, ntags := range []int{1, 3, 5} {
		b.Run(fmt.Sprintf("tags=%d", ntags), func(b *testing.B) {
			benchtest.SideBySide(b, 1, 1024, "hit", []benchtest.Variant{
				{Name: "busy", Call: taggedHits(b, ntags, 100)},
				{Name: "settled", Call: taggedHits(b, ntags, -1)},
				{Name: "quiet", Call: taggedHits(b, ntags, 0)},
			})
		})
	}
}

// taggedHits returns a hit of entry pid&1023 of a cache of 1024 entries of
// ntags tags each, all loaded, which reports whether it hit. With every > 0
// the hits invalidate an unrelated tag every that many hits; with every < 0
// one unrelated tag is invalidated once, after the entries are loaded.
func taggedHits(b *testing.B, ntags int, every int) func(pid int64) bool {
	ctx := context.Background()
	const entries = 1024
	c := newCache(b)
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "ProductRepo", Method: "GetTagged"})
	get := func(pid int64) (int64, error) {
		var buf [64]byte
		k := zoo.KeyInt(m.Key(buf[:0]), pid)
		if v, ok := zoo.Lookup[int64](ctx, m, k); ok {
			return v, nil
		}
		return zoo.Load(ctx, m, k, func(ctx context.Context) (int64, error) {
			tags := []string{zoo.Tag("org", 1, "store", 2, "product", pid), zoo.Tag("featured"),
				zoo.Tag("product", pid, "reviews"), zoo.Tag("brand", pid%10), zoo.Tag("category", pid%7, "shelf", pid%3)}
			zoo.AddDeps(ctx, tags[:ntags]...)
			return pid, nil
		})
	}
	for pid := range int64(entries) {
		if _, err := get(pid); err != nil {
			b.Fatal(err)
		}
	}
	unrelated := make([]string, 1000)
	for i := range unrelated {
		unrelated[i] = zoo.Tag("org", 1, "store", 9, "product", i)
	}
	if every < 0 {
		if err := c.Invalidate(ctx, unrelated[0]); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	return func(pid int64) bool {
		pid &= entries - 1
		if v, err := get(pid); err != nil || v != pid {
			return false
		}
		i++
		if every > 0 && i%every == 0 {
			if err := c.Invalidate(ctx, unrelated[(i/100)%len(unrelated)]); err != nil {
				return false
			}
		}
		return true
	}
}

// wideRow is a typical row of ten fields, cached as a pointer.
type wideRow struct {
	ID, OrgID, StoreID int64
	Name, SKU          string
	PriceCents         int64
	Stock              int
	Active             bool
	Labels             []string
	Created            time.Time
}

// BenchmarkHitCopy compares a hit of a *wideRow with MethodSpec.Copy off
// (every caller shares the cached pointer) and on (each hit decodes a copy
// of its own).
func BenchmarkHitCopy(b *testing.B) {
	ctx := context.Background()
	row := &wideRow{ID: 3, OrgID: 1, StoreID: 2, Name: "Espresso machine", SKU: "EM-1", PriceCents: 19950,
		Stock: 7, Active: true, Labels: []string{"kitchen", "coffee"}, Created: time.Unix(1_600_000_000, 0).UTC()}
	for _, copy := range []bool{false, true} {
		b.Run(fmt.Sprintf("copy=%v", copy), func(b *testing.B) {
			c := newCache(b)
			m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "ProductRepo", Method: "GetRow", Copy: copy})
			get := func(pid int64) (*wideRow, error) {
				var buf [64]byte
				k := zoo.KeyInt(m.Key(buf[:0]), pid)
				if v, ok := zoo.Lookup[*wideRow](ctx, m, k); ok {
					return v, nil
				}
				return zoo.Load(ctx, m, k, func(context.Context) (*wideRow, error) { return row, nil })
			}
			if _, err := get(3); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if v, err := get(3); err != nil || v.ID != 3 {
					b.Fatal(v, err)
				}
			}
		})
	}
}
