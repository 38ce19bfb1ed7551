package runtime_test

import (
	"context"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

// BenchmarkHitMissToken measures what the Miss that Find returns costs a
// hit (an atomic load of a counter on a cache line of its own): "find" is
// the generated code's lookup, "untokened" the same lookup without the
// load. Run with -count 6 or more: the sub-benchmarks interleave.
func BenchmarkHitMissToken(b *testing.B) {
	ctx := context.Background()
	c := newCache(b, zoo.WithStats(false))
	m := productMethod(c)
	r := &repo{}
	if _, err := r.getProduct(ctx, m, 1, 2, 3); err != nil {
		b.Fatal(err)
	}
	find := func() bool { return findHit(ctx, m) }
	untokened := func() bool { return untokenedHit(ctx, m) }
	for _, v := range []struct {
		name string
		hit  func() bool
	}{{"find", find}, {"untokened", untokened}} {
		b.Run("v="+v.name+"/g=1", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !v.hit() {
					b.Fatal("missed")
				}
			}
		})
		b.Run("v="+v.name+"/g=P", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !v.hit() {
						b.Fatal("missed")
					}
				}
			})
		})
	}
}

func findHit(ctx context.Context, m *zoo.Method) bool {
	var buf [64]byte
	_, ok, _ := zoo.Find[product](ctx, m, hitKey(m, buf[:0]))
	return ok
}

func untokenedHit(ctx context.Context, m *zoo.Method) bool {
	var buf [64]byte
	_, ok := zoo.LookupWithoutMiss[product](ctx, m, hitKey(m, buf[:0]))
	return ok
}

// hitKey appends the key of product 1, 2, 3 to dst.
func hitKey(m *zoo.Method, dst []byte) []byte {
	return zoo.KeyInt(zoo.KeyInt(zoo.KeyInt(m.Key(dst), 1), 2), 3)
}
