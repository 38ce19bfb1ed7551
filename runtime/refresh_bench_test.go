package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/zoogen/zoogen/internal/benchtest"
	zoo "github.com/zoogen/zoogen/runtime"
)

// BenchmarkHitRefreshVsPlain measures what BenchmarkHitRefresh does in
// alternation, in rounds of a few thousand hits going round 1024 keys, and
// reports each variant's time per hit and the ratio "refresh/plain": a
// burst of load on a shared machine slows both variants of a round alike.
func BenchmarkHitRefreshVsPlain(b *testing.B) {
	const keys = 1024
	var variants []benchtest.Variant
	for _, v := range refreshVariants {
		get, loads := refreshGetter(b, v.refresh)
		for pid := range int64(keys) {
			if _, err := get(1, 2, pid); err != nil {
				b.Fatal(err)
			}
		}
		variants = append(variants, benchtest.Variant{Name: v.name, Call: func(pid int64) bool {
			_, err := get(1, 2, pid)
			return err == nil && *loads == keys
		}})
	}
	benchtest.SideBySide(b, 1, keys, "hit", variants)
}

// refreshVariants are the methods the refresh benchmarks hit: with
// refresh= and without, the floor last.
var refreshVariants = []struct {
	name    string
	refresh time.Duration
}{{"refresh", time.Minute}, {"plain", 0}}

// refreshGetter returns a read through a method with the refresh interval
// refresh (0: none), made as generated code makes it (Find, then LoadMiss
// on a miss), and the count of its loads.
func refreshGetter(b *testing.B, refresh time.Duration) (func(oid, sid, pid int64) (product, error), *int) {
	ctx := context.Background()
	m := newCache(b).Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "ProductRepo", Method: "GetProduct",
		TTL: 10 * time.Minute, Refresh: refresh})
	loads := new(int)
	return func(oid, sid, pid int64) (product, error) {
		var buf [64]byte
		k := m.Key(buf[:0])
		k = zoo.KeyInt(k, oid)
		k = zoo.KeyInt(k, sid)
		k = zoo.KeyInt(k, pid)
		p, ok, miss := zoo.Find[product](ctx, m, k)
		if !ok {
			var err error
			p, err = zoo.LoadMiss[product](ctx, m, k, miss, func(ctx context.Context) (product, error) {
				zoo.AddDeps(ctx, zoo.Tag("org", oid, "store", sid, "product", pid))
				*loads++
				return product{ID: pid}, nil
			})
			if err != nil {
				return p, err
			}
		}
		return p, nil
	}, loads
}

// BenchmarkHitRefresh compares a hit on a method with refresh= (an entry
// younger than the interval: the check is one comparison of its age) with
// a hit on the same method without it, both through Find and LoadMiss as
// generated code calls them. Run its variants in alternating rounds and
// compare them with benchstat -col /v.
func BenchmarkHitRefresh(b *testing.B) {
	for _, v := range refreshVariants {
		b.Run("v="+v.name, func(b *testing.B) {
			get, loads := refreshGetter(b, v.refresh)
			if _, err := get(1, 2, 0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := get(1, 2, 0); err != nil {
					b.Fatal(err)
				}
			}
			if *loads != 1 {
				b.Fatalf("%d loads, want 1", *loads)
			}
		})
	}
}
