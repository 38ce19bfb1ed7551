package compare

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoogen/zoogen/bench/shop"
)

// newReader returns c's Reader of a fresh database, closed when b ends.
func newReader(b *testing.B, c Contender, db *shop.DB) Reader {
	r, err := c.New(db, Capacity)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := r.Close(); err != nil {
			b.Error(err)
		}
	})
	return r
}

// BenchmarkHit reads cached products through each contender, one goroutine,
// cycling through HotKeys keys. The floor is otter.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	for _, c := range Readers {
		b.Run(c.Name, func(b *testing.B) {
			db := &shop.DB{}
			r := newReader(b, c, db)
			if err := warm(ctx, r, db, 1, 2, HotKeys); err != nil {
				b.Fatal(err)
			}
			loads := db.Loads()
			b.ReportAllocs()
			var pid int64
			for b.Loop() {
				if _, err := r.GetProduct(ctx, 1, 2, pid); err != nil {
					b.Fatal(err)
				}
				pid = (pid + 1) & (HotKeys - 1)
			}
			if n := db.Loads() - loads; n > 0 {
				b.Fatalf("%d misses while timing hits", n)
			}
		})
	}
}

// BenchmarkHitParallel is BenchmarkHit on every core (b.RunParallel, one
// goroutine per GOMAXPROCS). Each goroutine starts at a different key.
func BenchmarkHitParallel(b *testing.B) {
	ctx := context.Background()
	for _, c := range Readers {
		b.Run(c.Name, func(b *testing.B) {
			db := &shop.DB{}
			r := newReader(b, c, db)
			if err := warm(ctx, r, db, 1, 2, HotKeys); err != nil {
				b.Fatal(err)
			}
			loads := db.Loads()
			var seq atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				pid := seq.Add(HotKeys/8) & (HotKeys - 1)
				for pb.Next() {
					if _, err := r.GetProduct(ctx, 1, 2, pid); err != nil {
						b.Error(err)
						return
					}
					pid = (pid + 1) & (HotKeys - 1)
				}
			})
			if n := db.Loads() - loads; n > 0 {
				b.Fatalf("%d misses while timing hits", n)
			}
		})
	}
}

// BenchmarkStampede has StampedeCallers goroutines read one cold key at
// once, a new key each iteration, from a database that takes
// StampedeLatency to answer. It reports the loads that reached the database
// per stampede: 1 with singleflight. An iteration ends when every caller
// has its product, so its time includes starting the goroutines.
func BenchmarkStampede(b *testing.B) {
	ctx := context.Background()
	for _, c := range append(Readers[:len(Readers):len(Readers)], CacheAside) {
		switch c.Name {
		case "sturdyc-fetch", "goredis-once", "gocache-loadable":
			continue // on a miss, the same calls as their plain variants
		}
		b.Run(c.Name, func(b *testing.B) {
			db := &shop.DB{Latency: StampedeLatency}
			r := newReader(b, c, db)
			var sid int64
			for b.Loop() {
				sid++
				if err := stampede(ctx, r, StampedeCallers, 1, sid, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(db.Loads())/float64(sid), "loads/op")
		})
	}
}

// BenchmarkInvalidate drops the products of one store (PerStore entries)
// with 1k, 100k and 1M products cached. Filling happens once per size,
// before the timer; its cost per entry is reported as fill-ns/entry. Where
// invalidation deletes entries, the store's products are put back after each
// one with the timer stopped, so that every iteration has as much to delete
// as the first.
func BenchmarkInvalidate(b *testing.B) {
	ctx := context.Background()
	for _, c := range Invalidators {
		b.Run(c.Name, func(b *testing.B) {
			for _, n := range InvalidateSizes {
				b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
					x, err := c.New(n + n/4)
					if err != nil {
						b.Fatal(err)
					}
					defer func() {
						if err := x.Close(); err != nil {
							b.Error(err)
						}
						x = nil
						runtime.GC() // give the next size the memory back
					}()
					start := time.Now()
					if err := x.Fill(ctx, n); err != nil {
						b.Fatal(err)
					}
					fill := time.Since(start)
					if err := checkFilled(ctx, x, n); err != nil {
						b.Fatal(err)
					}
					r, restore := x.(restorer)
					b.ReportAllocs()
					for b.Loop() {
						if err := x.InvalidateStore(ctx, 1, 0); err != nil {
							b.Fatal(err)
						}
						if restore {
							b.StopTimer()
							if err := r.Restore(ctx, 1, 0); err != nil {
								b.Fatal(err)
							}
							b.StartTimer()
						}
					}
					if err := x.InvalidateStore(ctx, 1, 0); err != nil {
						b.Fatal(err)
					}
					if err := checkInvalidated(ctx, x, n, 0); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(fill.Nanoseconds())/float64(n), "fill-ns/entry")
				})
			}
		})
	}
}
