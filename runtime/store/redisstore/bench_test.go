package redisstore_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// product is a typical cached value: about 200 bytes of MessagePack.
type product struct {
	OrgID, StoreID, ID int64
	Name               string
	PriceCents         int64
	Tags               []string
	Description        string
}

var sample = product{OrgID: 1, StoreID: 2, ID: 3, Name: "Trail running shoe", PriceCents: 12900,
	Tags: []string{"shoes", "running", "trail"}, Description: strings.Repeat("Light, grippy, durable. ", 5)}

func benchCache(b *testing.B, client redis.UniversalClient, opts ...zoo.Option) (*zoo.Cache, *zoo.Method) {
	b.Helper()
	s := &observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()))}
	c, err := zoo.New(append([]zoo.Option{zoo.WithStore(s), zoo.WithNamespace(namespace(b, client)), zoo.WithLogger(quiet())}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	in := &instance{store: s}
	in.waitUp(b)
	return c, c.Method(zoo.MethodSpec{Interface: "Repo", Method: "Get"})
}

func getProduct(b *testing.B, m *zoo.Method, loads *int) {
	var buf [64]byte
	k := zoo.KeyInt(m.Key(buf[:0]), 3)
	if _, err := zoo.Load(context.Background(), m, k, func(ctx context.Context) (product, error) {
		zoo.AddDeps(ctx, zoo.Tag("org", 1, "store", 2, "product", 3))
		*loads++
		return sample, nil
	}); err != nil {
		b.Fatal(err)
	}
}

// commands returns how many commands the server has run, from INFO
// commandstats.
func commands(b *testing.B, client *redis.Client) int64 {
	info, err := client.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for line := range strings.SplitSeq(info, "\n") {
		if _, rest, ok := strings.Cut(line, ":calls="); ok && strings.HasPrefix(line, "cmdstat_") {
			calls, _, _ := strings.Cut(rest, ",")
			v, _ := strconv.ParseInt(calls, 10, 64)
			n += v
		}
	}
	return n
}

// BenchmarkRedisHit compares strict hits (the decoded value from the
// memory tier, confirmed by one script that is sent its asOf and tags and
// returns an integer; and, without the memory tier, the entry read and
// validated in Redis, then decoded) with the floor: a raw GET of the same
// frame and its decoding. Each reports the commands the server ran per
// operation (INFO commandstats), on a server of its own, and the client's
// CPU time (user and system, of the whole process) per operation.
func BenchmarkRedisHit(b *testing.B) {
	srv := startServer(b)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer client.Close()
	strict := func(b *testing.B, opts ...zoo.Option) {
		_, m := benchCache(b, client, append([]zoo.Option{zoo.WithConsistency(zoo.Strict)}, opts...)...)
		loads := 0
		getProduct(b, m, &loads)
		getProduct(b, m, &loads)
		before := commands(b, client)
		b.ReportAllocs()
		cpu := startCPU(b)
		for b.Loop() {
			getProduct(b, m, &loads)
		}
		cpu.report(b)
		b.ReportMetric(float64(commands(b, client)-before-1)/float64(b.N), "cmds/op")
		if loads != 1 {
			b.Fatalf("%d loads", loads)
		}
	}
	b.Run("strict", func(b *testing.B) { strict(b) })
	b.Run("strict-no-tier", func(b *testing.B) { strict(b, zoo.WithLocalTier(0)) })
	b.Run("raw-get-decode", func(b *testing.B) {
		hit := rawHits(b, client)
		before := commands(b, client)
		b.ReportAllocs()
		cpu := startCPU(b)
		for b.Loop() {
			hit()
		}
		cpu.report(b)
		b.ReportMetric(float64(commands(b, client)-before-1)/float64(b.N), "cmds/op")
	})
}

// BenchmarkRedisHitParallel measures strict hits of one key by 64
// goroutines at once (with the memory tier, confirmed by Check; without it,
// by GetFresh), on a server of its own: the commands the server ran per hit
// (INFO commandstats) and the client's CPU time per hit (the whole
// process's). Concurrent reads of the key share round trips.
func BenchmarkRedisHitParallel(b *testing.B) {
	srv := startServer(b)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer client.Close()
	strict := func(b *testing.B, opts ...zoo.Option) {
		_, m := benchCache(b, client, append([]zoo.Option{zoo.WithConsistency(zoo.Strict)}, opts...)...)
		var loads atomic.Int64
		get := func() {
			var buf [64]byte
			k := zoo.KeyInt(m.Key(buf[:0]), 3)
			if _, err := zoo.Load(context.Background(), m, k, func(ctx context.Context) (product, error) {
				zoo.AddDeps(ctx, zoo.Tag("org", 1, "store", 2, "product", 3))
				loads.Add(1)
				return sample, nil
			}); err != nil {
				b.Error(err)
			}
		}
		get()
		get()
		before := commands(b, client)
		b.ReportAllocs()
		b.SetParallelism(32) // 64 goroutines on 2 cores
		cpu := startCPU(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				get()
			}
		})
		cpu.report(b)
		b.ReportMetric(float64(commands(b, client)-before-1)/float64(b.N), "cmds/op")
		if loads.Load() != 1 {
			b.Fatalf("%d loads", loads.Load())
		}
	}
	b.Run("strict", func(b *testing.B) { strict(b) })
	b.Run("strict-no-tier", func(b *testing.B) { strict(b, zoo.WithLocalTier(0)) })
}

// BenchmarkRedisHitVsRaw runs BenchmarkRedisHit's variants side by side,
// on a server of its own: rounds of hits of each variant in turn, each
// round timed by the CPU time the process used during it (the client's:
// the server is a process of its own, and time the machine gives to other
// processes counts for no variant). It reports each variant's CPU time per
// hit ("<variant>-cpu-µs/hit") and its ratio to the raw GET and decode
// ("<variant>/raw").
func BenchmarkRedisHitVsRaw(b *testing.B) {
	srv := startServer(b)
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer client.Close()
	variants := []struct {
		name string
		hit  func()
	}{
		{"strict", strictHits(b, client)},
		{"strict-no-tier", strictHits(b, client, zoo.WithLocalTier(0))},
		{"raw", rawHits(b, client)},
	}
	const round = 256 // hits of one variant in a row
	spent := make([]time.Duration, len(variants))
	rounds := 0
	for b.Loop() {
		for i, v := range variants {
			start := processCPU(b)
			for range round {
				v.hit()
			}
			spent[i] += processCPU(b) - start
		}
		rounds++
	}
	hits := float64(rounds * round)
	raw := spent[len(spent)-1]
	for i, v := range variants {
		b.ReportMetric(float64(spent[i].Nanoseconds())/1e3/hits, v.name+"-cpu-µs/hit")
		if i < len(variants)-1 {
			b.ReportMetric(float64(spent[i])/float64(raw), v.name+"/raw")
		}
	}
	b.ReportMetric(0, "ns/op") // a round of every variant: meaningless
}

// strictHits returns a strict hit of one product, loaded once, on a cache
// of its own on client.
func strictHits(b *testing.B, client redis.UniversalClient, opts ...zoo.Option) func() {
	_, m := benchCache(b, client, append([]zoo.Option{zoo.WithConsistency(zoo.Strict)}, opts...)...)
	loads := 0
	getProduct(b, m, &loads)
	b.Cleanup(func() {
		if loads != 1 {
			b.Errorf("%d loads", loads)
		}
	})
	return func() { getProduct(b, m, &loads) }
}

// rawHits returns the floor of a hit: a GET of a product's frame, stored
// once, and its decoding.
func rawHits(b *testing.B, client redis.UniversalClient) func() {
	ctx := context.Background()
	frame, err := codec.Codec{}.Encode(&store.Entry{Value: sample, AsOf: hlc.New(time.Now().UnixMilli(), 0),
		Expires: time.Now().Add(time.Hour), Tags: []string{"org:1:store:2:product:3"}})
	if err != nil {
		b.Fatal(err)
	}
	key := "{zoo:raw}:e:" + namespace(b, client)
	client.Set(ctx, key, frame, time.Hour)
	return func() {
		raw, err := client.Get(ctx, key).Bytes()
		if err != nil {
			b.Fatal(err)
		}
		e, err := codec.Codec{}.Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		var p product
		if err := e.Value.(codec.Raw).Decode(&p); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuClock is the CPU time the process had used when a measurement began.
type cpuClock time.Duration

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) cpuClock { return cpuClock(processCPU(b)) }

// report reports the CPU time used since c per operation, in microseconds.
func (c cpuClock) report(b *testing.B) {
	used := processCPU(b) - time.Duration(c)
	b.ReportMetric(float64(used.Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

// BenchmarkLocalTierHit compares a hit on the memory tier in front of Redis
// (local mode) with a hit on a memory-only cache.
func BenchmarkLocalTierHit(b *testing.B) {
	client := sharedClient(b)
	b.Run("redis-local-tier", func(b *testing.B) {
		_, m := benchCache(b, client)
		loads := 0
		getProduct(b, m, &loads)
		b.ReportAllocs()
		for b.Loop() {
			getProduct(b, m, &loads)
		}
	})
	b.Run("memory-only", func(b *testing.B) {
		c, err := zoo.New()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		m := c.Method(zoo.MethodSpec{Interface: "Repo", Method: "Get"})
		loads := 0
		getProduct(b, m, &loads)
		b.ReportAllocs()
		for b.Loop() {
			getProduct(b, m, &loads)
		}
	})
}

// BenchmarkPropagation measures how long an invalidation made by one
// instance takes to reach another over loopback, from the call of
// Invalidate to the event in the other instance; it reports the median and
// the 99th percentile.
func BenchmarkPropagation(b *testing.B) {
	client := sharedClient(b)
	ns := namespace(b, client)
	received := make(chan time.Time, 1)
	watch := &watchStore{Store: redisstore.New(client, redisstore.WithLogger(quiet())), received: received}
	receiver, err := zoo.New(zoo.WithStore(watch), zoo.WithNamespace(ns), zoo.WithLogger(quiet()))
	if err != nil {
		b.Fatal(err)
	}
	defer receiver.Close()
	sender, _ := benchCacheNS(b, client, ns)
	<-watch.up
	ctx := context.Background()
	var delays []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := sender.Invalidate(ctx, zoo.Tag("product", i)); err != nil {
			b.Fatal(err)
		}
		delays = append(delays, (<-received).Sub(start))
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds()), "p99-µs")
}

func benchCacheNS(b *testing.B, client redis.UniversalClient, ns string) (*zoo.Cache, *zoo.Method) {
	s := &observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()))}
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace(ns), zoo.WithLogger(quiet()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	(&instance{store: s}).waitUp(b)
	return c, c.Method(zoo.MethodSpec{Interface: "Repo", Method: "Get"})
}

// watchStore reports when invalidation events arrive.
type watchStore struct {
	*redisstore.Store
	received chan time.Time
	up       chan struct{}
}

func (w *watchStore) Attach(ns string, fn func(store.Event)) error {
	w.up = make(chan struct{})
	var once bool
	return w.Store.Attach(ns, func(ev store.Event) {
		fn(ev)
		switch {
		case ev.Kind == store.EventUp && !once:
			once = true
			close(w.up)
		case ev.Kind == store.EventInvalidate && len(ev.Tags) > 0:
			select {
			case w.received <- time.Now():
			default:
			}
		}
	})
}
