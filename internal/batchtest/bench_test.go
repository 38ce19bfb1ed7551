package batchtest

import (
	"context"
	"strings"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

// BenchmarkHundred reads 100 products: a batch of 100 of which 90 are
// cached and 10 were just invalidated (batch-90-hits), the same as 100
// single reads (single-90-hits), and 100 hits as a batch (batch-100-hits)
// and as single reads (single-100-hits).
// On Redis the cache keeps no memory tier, so that every hit is read from
// Redis: a batch reads its hits in one round trip, single reads in one
// each. Compare the variants with benchstat -col /read.
func BenchmarkHundred(b *testing.B) {
	for _, s := range stores {
		if s.name != "memory" && s.name != "redis" {
			continue
		}
		for _, read := range []string{"batch-90-hits", "single-90-hits", "batch-100-hits", "single-100-hits"} {
			b.Run("store="+s.name+"/read="+read, func(b *testing.B) {
				c, _ := s.open(b, s.name == "redis")
				r := NewCachedProducts(&Repo{Size: 1000}, c)
				ctx := context.Background()
				all := make([]int64, 100)
				for i := range all {
					all[i] = int64(i + 1)
				}
				if _, err := r.GetProducts(ctx, 1, all); err != nil {
					b.Fatal(err)
				}
				for _, id := range all {
					if _, err := r.Get(ctx, 1, id); err != nil {
						b.Fatal(err)
					}
				}
				tags := make([]string, 10)
				round := 0
				b.ReportAllocs()
				for b.Loop() {
					if !strings.HasSuffix(read, "-100-hits") {
						for j := range tags {
							tags[j] = zoo.Tag("org", 1, "product", all[(round*10+j)%100])
						}
						round++
						if err := c.Invalidate(ctx, tags...); err != nil {
							b.Fatal(err)
						}
					}
					if strings.HasPrefix(read, "batch") {
						got, err := r.GetProducts(ctx, 1, all)
						if err != nil || len(got) != 100 {
							b.Fatal(len(got), err)
						}
						continue
					}
					for _, id := range all {
						if p, err := r.Get(ctx, 1, id); err != nil || p == nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
