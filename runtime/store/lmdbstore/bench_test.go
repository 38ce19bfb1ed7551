package lmdbstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/zoogen/zoogen/internal/benchtest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

// product is a typical cached value: about 200 bytes of MessagePack, the
// same as in the Redis store's benchmarks.
type product struct {
	OrgID, StoreID, ID int64
	Name               string
	PriceCents         int64
	Tags               []string
	Description        string
}

var sample = product{OrgID: 1, StoreID: 2, ID: 3, Name: "Trail running shoe", PriceCents: 12900,
	Tags: []string{"shoes", "running", "trail"}, Description: strings.Repeat("Light, grippy, durable. ", 5)}

func benchCache(b testing.TB, opts ...zoo.Option) (*zoo.Cache, *zoo.Method) {
	b.Helper()
	c, err := zoo.New(append([]zoo.Option{zoo.WithNamespace("bench"), zoo.WithLogger(quiet())}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c, c.Method(zoo.MethodSpec{Package: "bench", Interface: "Repo", Method: "Get"})
}

// getProduct reads product id through the cache, as a generated decorator
// does: Lookup first, so that a hit builds no closure, then Load.
func getProduct(b testing.TB, m *zoo.Method, id int64, loads *int) {
	var buf [64]byte
	k := zoo.KeyInt(m.Key(buf[:0]), id)
	ctx := context.Background()
	if _, ok := zoo.Lookup[product](ctx, m, k); ok {
		return
	}
	if _, err := zoo.Load(ctx, m, k, func(ctx context.Context) (product, error) {
		zoo.AddDeps(ctx, zoo.Tag("org", 1, "store", 2, "product", id))
		*loads++
		p := sample
		p.ID = id
		return p, nil
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHit compares strict hits (the decoded value from the memory
// tier, confirmed by a read transaction that reads the entry's header and
// the versions of every path of its tag; and, without the memory tier, a
// read transaction that also decodes the entry) with a hit on the memory
// tier in front of LMDB (local mode) and a hit on a memory-only cache.
func BenchmarkHit(b *testing.B) {
	run := func(b *testing.B, m *zoo.Method) {
		loads := 0
		getProduct(b, m, 3, &loads)
		b.ReportAllocs()
		for b.Loop() {
			getProduct(b, m, 3, &loads)
		}
		if loads != 1 {
			b.Fatalf("%d loads", loads)
		}
	}
	b.Run("lmdb-strict", func(b *testing.B) {
		_, m := benchCache(b, zoo.WithStore(open(b, b.TempDir())), zoo.WithConsistency(zoo.Strict))
		run(b, m)
	})
	b.Run("lmdb-strict-no-tier", func(b *testing.B) {
		_, m := benchCache(b, zoo.WithStore(open(b, b.TempDir())), zoo.WithConsistency(zoo.Strict), zoo.WithLocalTier(0))
		run(b, m)
	})
	b.Run("lmdb-local-tier", func(b *testing.B) {
		s := open(b, b.TempDir())
		up := make(chan struct{})
		_, m := benchCache(b, zoo.WithStore(upStore{s, up}))
		<-up
		run(b, m)
	})
	b.Run("memory-only", func(b *testing.B) {
		_, m := benchCache(b)
		run(b, m)
	})
}

// BenchmarkHitVsMemory runs strict hits on LMDB (the memory tier's
// decoded copies, confirmed by the file) and hits on a memory-only cache
// in alternation, going round 1024 products, and reports each one's time
// per hit and their ratio ("lmdb-strict/memory"), on one goroutine and on
// every core. The copies are confirmed from the store's memo: a read
// transaction only after a write.
func BenchmarkHitVsMemory(b *testing.B) {
	const keys = 1024
	hits := func(b *testing.B, opts ...zoo.Option) func(int64) bool {
		_, m := benchCache(b, opts...)
		loads := 0
		for id := range int64(keys) {
			getProduct(b, m, id, &loads)
		}
		return func(id int64) bool {
			getProduct(b, m, id, &loads)
			return loads == keys
		}
	}
	for _, procs := range []int{1, goruntime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("goroutines=%d", procs), func(b *testing.B) {
			benchtest.SideBySide(b, procs, keys, "hit", []benchtest.Variant{
				{Name: "lmdb-strict", Call: hits(b, zoo.WithStore(open(b, b.TempDir())), zoo.WithConsistency(zoo.Strict))},
				{Name: "memory", Call: hits(b)},
			})
		})
	}
}

// BenchmarkGetFresh is the store's part of a strict hit: the read
// transaction, the entry, the versions of its tag's six paths and the
// horizon, and the decoding of the frame, but not of the value, which the
// cache decodes.
func BenchmarkGetFresh(b *testing.B) {
	s := open(b, b.TempDir())
	if err := s.Attach("bench", func(store.Event) {}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	e := &store.Entry{Value: sample, AsOf: hlc.FromTime(time.Now()), Expires: time.Now().Add(time.Hour),
		Tags: []string{zoo.Tag("org", 1, "store", 2, "product", 3)}}
	if err := s.Set(ctx, "bench|product|3", e); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if e, err := s.GetFresh(ctx, "bench|product|3"); err != nil || e == nil {
			b.Fatal(e, err)
		}
	}
}

// upStore closes up when the store first reports EventUp.
type upStore struct {
	*lmdbstore.Store
	up chan struct{}
}

func (u upStore) Attach(ns string, fn func(store.Event)) error {
	once := false
	return u.Store.Attach(ns, func(ev store.Event) {
		fn(ev)
		if ev.Kind == store.EventUp && !once {
			once = true
			close(u.up)
		}
	})
}

// fill stores products 0 to n-1 in s as the cache would, in a random
// order (as a cache fills), in write transactions of 10,000 entries.
func fill(b *testing.B, s *lmdbstore.Store, m *zoo.Method, n int) {
	b.Helper()
	asOf := hlc.FromTime(time.Now())
	expires := time.Now().Add(time.Hour)
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	err := s.Fill(n, 10_000, func(i int) (string, *store.Entry) {
		i = order[i]
		p := sample
		p.ID = int64(i)
		return string(zoo.KeyInt(m.Key(nil), int64(i))), &store.Entry{
			Value: p, AsOf: asOf, Expires: expires,
			Tags: []string{zoo.Tag("org", 1, "store", 2, "product", i)},
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHit1M is a strict hit on one of a million entries in the file,
// a different one each time (a miss in the CPU caches, and a B-tree four
// levels deep).
func BenchmarkHit1M(b *testing.B) {
	const n = 1_000_000
	s := open(b, b.TempDir())
	_, m := benchCache(b, zoo.WithStore(s), zoo.WithConsistency(zoo.Strict))
	fill(b, s, m, n)
	st, err := s.Stats()
	if err != nil {
		b.Fatal(err)
	}
	loads := 0
	b.ReportAllocs()
	id := int64(0)
	for b.Loop() {
		id = (id + 7919) % n
		getProduct(b, m, id, &loads)
	}
	if loads != 0 {
		b.Fatalf("%d loads", loads)
	}
	b.ReportMetric(float64(st.FileBytes)/(1<<20), "file-MiB")
	b.ReportMetric(float64(st.UsedBytes)/(1<<20), "used-MiB")
}

// BenchmarkInvalidate is Cache.Invalidate of one tag: a write transaction
// that issues the version, records it and appends it to the log.
func BenchmarkInvalidate(b *testing.B) {
	c, _ := benchCache(b, zoo.WithStore(open(b, b.TempDir())))
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := c.Invalidate(ctx, zoo.Tag("org", 1, "store", 2, "product", i%10_000)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSet is Store.Set of a product: a write transaction that checks
// its tag's versions and stores the entry and its expiry.
func BenchmarkSet(b *testing.B) {
	s := open(b, b.TempDir())
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		e := &store.Entry{Value: sample, AsOf: hlc.FromTime(time.Now()), Expires: time.Now().Add(time.Hour),
			Tags: []string{zoo.Tag("org", 1, "store", 2, "product", i)}}
		if err := s.Set(ctx, fmt.Sprint("bench|product|", i%100_000), e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNow is Store.Now: mostly a read transaction; one call in ten
// milliseconds extends the lease in a write transaction.
func BenchmarkNow(b *testing.B) {
	s := open(b, b.TempDir())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Now(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileSize fills a file with 100,000 products, in a random order,
// and reports its size: the data file, what it occupies on disk, and the
// pages in use. The file's high-water mark depends on how it was written:
// a transaction copies the pages it changes, and the old copies are free
// for reuse only after it commits, so a big transaction of random writes
// leaves about a copy of the tree free behind it (which later writes
// reuse). "batched" writes 10,000 entries per transaction, as the 1M
// benchmark fills its file; "set" stores each entry with Store.Set, as a
// cache does.
func BenchmarkFileSize(b *testing.B) {
	const n = 100_000
	run := func(b *testing.B, write func(s *lmdbstore.Store, m *zoo.Method)) {
		for b.Loop() {
			b.StopTimer()
			s, err := lmdbstore.Open(b.TempDir(), lmdbstore.WithLogger(quiet()))
			if err != nil {
				b.Fatal(err)
			}
			_, m := benchCache(b)
			b.StartTimer()
			write(s, m)
			b.StopTimer()
			st, err := s.Stats()
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
			b.ReportMetric(float64(st.FileBytes)/(1<<20), "file-MiB/100k")
			b.ReportMetric(float64(st.DiskBytes)/(1<<20), "disk-MiB/100k")
			b.ReportMetric(float64(st.UsedBytes)/(1<<20), "used-MiB/100k")
			b.StartTimer()
		}
	}
	b.Run("batched", func(b *testing.B) {
		run(b, func(s *lmdbstore.Store, m *zoo.Method) { fill(b, s, m, n) })
	})
	b.Run("set", func(b *testing.B) {
		run(b, func(s *lmdbstore.Store, m *zoo.Method) {
			ctx := context.Background()
			expires := time.Now().Add(time.Hour)
			for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
				p := sample
				p.ID = int64(i)
				e := &store.Entry{Value: p, AsOf: hlc.FromTime(time.Now()), Expires: expires,
					Tags: []string{zoo.Tag("org", 1, "store", 2, "product", i)}}
				if err := s.Set(ctx, string(zoo.KeyInt(m.Key(nil), int64(i))), e); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
