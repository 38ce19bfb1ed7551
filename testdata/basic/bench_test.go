package basic

import (
	"context"
	"testing"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// BenchmarkGetProductHit compares a hit through the generated decorator
// with the floor: a bare otter lookup, configured like the memory store,
// with the same key building.
func BenchmarkGetProductHit(b *testing.B) {
	ctx := context.Background()
	b.Run("decorator", func(b *testing.B) {
		c, err := zoo.New()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		repo := NewCachedProductRepo(newFakeRepo(), c)
		if _, err := repo.GetProduct(ctx, 1, 2, 1); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := repo.GetProduct(ctx, 1, 2, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("otter", func(b *testing.B) {
		cache := otter.Must(&otter.Options[string, *Product]{
			MaximumSize: memstore.DefaultMaxEntries,
			ExpiryCalculator: otter.ExpiryWritingFunc(func(otter.Entry[string, *Product]) time.Duration {
				return 10 * time.Minute
			}),
		})
		defer cache.StopAllGoroutines()
		c, _ := zoo.New()
		defer c.Close()
		m := c.Method(zoo.MethodSpec{Package: "zoogen.test/basic", Interface: "ProductRepo", Method: "GetProduct"})
		get := func(oid, sid, pid int64) (*Product, bool) {
			var buf [128]byte
			k := m.Key(buf[:0])
			k = zoo.KeyInt(k, oid)
			k = zoo.KeyInt(k, sid)
			k = zoo.KeyInt(k, pid)
			return cache.GetIfPresent(unsafe.String(unsafe.SliceData(k), len(k)))
		}
		var buf [128]byte
		k := zoo.KeyInt(zoo.KeyInt(zoo.KeyInt(m.Key(buf[:0]), 1), 2), 1)
		cache.Set(string(k), &Product{ID: 1})
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := get(1, 2, 1); !ok {
				b.Fatal("miss")
			}
		}
	})
}
