package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
)

// topologies are the Redis deployments the cluster benchmarks compare, in
// one run: a server of the benchmark's own, and a 3-master cluster of its
// own. Compare them with benchstat -col /topology.
func topologies(b *testing.B) []struct {
	name   string
	client redis.UniversalClient
} {
	srv := startServer(b)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	b.Cleanup(func() { client.Close() })
	c := redistest.NewCluster(b, 3, false)
	return []struct {
		name   string
		client redis.UniversalClient
	}{{"topology=server", client}, {"topology=cluster", c.Client}}
}

// BenchmarkClusterStrictHit: a strict hit (from the memory tier, confirmed
// in Redis; and without the tier, the entry read and checked) on one
// server and on a 3-master cluster, where the entry and its versions'
// shard live on different masters as often as not.
func BenchmarkClusterStrictHit(b *testing.B) {
	for _, tier := range []struct {
		name string
		opts []zoo.Option
	}{{"tier=memory", nil}, {"tier=none", []zoo.Option{zoo.WithLocalTier(0)}}} {
		b.Run(tier.name, func(b *testing.B) {
			for _, top := range topologies(b) {
				b.Run(top.name, func(b *testing.B) {
					_, m := benchCache(b, top.client, append([]zoo.Option{zoo.WithConsistency(zoo.Strict)}, tier.opts...)...)
					loads := 0
					getProduct(b, m, &loads)
					getProduct(b, m, &loads)
					b.ReportAllocs()
					for b.Loop() {
						getProduct(b, m, &loads)
					}
					if loads != 1 {
						b.Fatalf("%d loads", loads)
					}
				})
			}
		})
	}
}

// BenchmarkClusterInvalidate: the cost of an invalidation, on one server
// and on a 3-master cluster: of a tag with a shard (item:<n>: the clock,
// then one shard), and of a root (featured: the clock, then every shard,
// pipelined per node).
func BenchmarkClusterInvalidate(b *testing.B) {
	for _, kind := range []string{"tag=leaf", "tag=root"} {
		b.Run(kind, func(b *testing.B) {
			for _, top := range topologies(b) {
				b.Run(top.name, func(b *testing.B) {
					c, _ := benchCache(b, top.client)
					ctx := context.Background()
					b.ReportAllocs()
					for i := 0; b.Loop(); i++ {
						tag := zoo.Tag("item", i)
						if kind == "tag=root" {
							tag = "featured"
						}
						if err := c.Invalidate(ctx, tag); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
