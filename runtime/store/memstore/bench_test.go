package memstore

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/zoogen/zoogen/runtime/store"
)

// The Get benchmarks come in pairs: the store, and a bare otter cache made
// with the very options the store gives otter, read with the same keys. The
// difference is what the store adds to a hit.

const benchKeys = 1 << 12

func benchData() ([]string, []*store.Entry) {
	keys := make([]string, benchKeys)
	entries := make([]*store.Entry, benchKeys)
	expires := time.Now().Add(time.Hour)
	for i := range keys {
		keys[i] = "zoo:shop:ProductRepo.GetProduct:" + strconv.Itoa(i)
		entries[i] = &store.Entry{Value: i, Expires: expires, Tags: []string{"product:" + strconv.Itoa(i)}}
	}
	return keys, entries
}

func benchStore(b *testing.B) (*Store, []string) {
	keys, entries := benchData()
	s := mustNew(b)
	for i, k := range keys {
		if err := s.Set(context.Background(), k, entries[i]); err != nil {
			b.Fatal(err)
		}
	}
	return s, keys
}

func benchOtter(b *testing.B) (*otter.Cache[string, *Item], []string) {
	keys, entries := benchData()
	cfg := defaultConfig()
	c := otter.Must((&Store{}).otterOptions(&cfg))
	b.Cleanup(func() { c.StopAllGoroutines() })
	for i, k := range keys {
		c.Set(k, &Item{Entry: *entries[i], exp: nanos(entries[i].Expires)})
	}
	return c, keys
}

func BenchmarkGet(b *testing.B) {
	s, keys := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if e, _ := s.Get(ctx, keys[i&(benchKeys-1)]); e == nil {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkOtterGet(b *testing.B) {
	c, keys := benchOtter(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if it, _ := c.GetIfPresent(keys[i&(benchKeys-1)]); it == nil {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s, keys := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if e, _ := s.Get(ctx, keys[i&(benchKeys-1)]); e == nil {
				panic("miss")
			}
			i++
		}
	})
}

func BenchmarkOtterGetParallel(b *testing.B) {
	c, keys := benchOtter(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if it, _ := c.GetIfPresent(keys[i&(benchKeys-1)]); it == nil {
				panic("miss")
			}
			i++
		}
	})
}

func BenchmarkSet(b *testing.B) {
	keys, entries := benchData()
	s := mustNew(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i & (benchKeys - 1)
		if err := s.Set(ctx, keys[j], entries[j]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMemoryPerEntry reports the heap a store holds per entry, over
// 100k entries shaped like the cache's (a 40-byte key, one tag) and stored
// as the cache stores them (SetItem): "B/entry" counts the store's own
// bookkeeping (otter's node and table), "total-B/entry" adds the keys and
// items the caller allocated, and "objects/entry" counts the heap objects
// of both.
func BenchmarkMemoryPerEntry(b *testing.B) {
	const n = 100_000
	heap := func() (bytes, objects uint64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, ms.HeapObjects
	}
	for b.Loop() {
		start, startObjects := heap()
		keys := make([]string, n)
		items := make([]*Item, n)
		expires := time.Now().Add(time.Hour)
		for i := range keys {
			keys[i] = fmt.Sprintf("zoo:shop:ProductRepo.GetProduct:%08d", i)
			items[i] = &Item{Entry: store.Entry{Value: i, Expires: expires, Tags: []string{"product:" + strconv.Itoa(i)}}}
		}
		given, _ := heap()
		s, err := New(WithMaxEntries(2 * n))
		if err != nil {
			b.Fatal(err)
		}
		for i, k := range keys {
			if err := s.SetItem(k, items[i]); err != nil {
				b.Fatal(err)
			}
		}
		s.cache.CleanUp()
		held, heldObjects := heap()
		b.ReportMetric(float64(held-given)/n, "B/entry")
		b.ReportMetric(float64(held-start)/n, "total-B/entry")
		b.ReportMetric(float64(heldObjects-startObjects)/n, "objects/entry")
		runtime.KeepAlive(keys)
		runtime.KeepAlive(items)
		_ = s.Close()
	}
}
