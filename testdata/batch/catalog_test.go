package batch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// fakeCatalog is the inner repository: it records the elements each call
// asked for, and products 1..20 of org 1 exist (SKUs "sku-<id>").
type fakeCatalog struct {
	mu     sync.Mutex
	calls  map[string][][]int64 // method → the ids of each call
	loads  map[int64]int        // GetProducts: how often each id was asked for
	fail   atomic.Bool
	during func(ids []int64) // called inside GetProducts, before it returns
	gate   chan struct{}     // if set, GetProducts waits for it to close
	names  map[int64]string
}

func newFake() *fakeCatalog {
	return &fakeCatalog{calls: map[string][][]int64{}, loads: map[int64]int{}, names: map[int64]string{}}
}

func product(oid, id int64) *Product {
	return &Product{ID: id, OrgID: oid, SKU: SKU(fmt.Sprintf("sku-%d", id)), Name: fmt.Sprintf("p%d", id)}
}

func exists(id int64) bool { return id >= 1 && id <= 20 }

func (f *fakeCatalog) record(method string, ids []int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method] = append(f.calls[method], slices.Clone(ids))
}

func (f *fakeCatalog) callsOf(method string) [][]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls[method])
}

func (f *fakeCatalog) GetProduct(ctx context.Context, oid, pid int64) (*Product, error) {
	f.record("GetProduct", []int64{pid})
	return product(oid, pid), nil
}

func (f *fakeCatalog) GetProducts(ctx context.Context, oid int64, ids []int64) (map[int64]*Product, error) {
	f.record("GetProducts", ids)
	f.mu.Lock()
	for _, id := range ids {
		f.loads[id]++
	}
	f.mu.Unlock()
	if f.gate != nil {
		<-f.gate
	}
	if f.during != nil {
		f.during(ids)
	}
	if f.fail.Load() {
		return nil, errors.New("database unavailable")
	}
	if slices.Contains(ids, 666) {
		panic("unlucky")
	}
	out := map[int64]*Product{}
	for _, id := range ids {
		if exists(id) {
			out[id] = product(oid, id)
		}
	}
	return out, nil
}

func (f *fakeCatalog) ListByIDs(ctx context.Context, oid int64, ids []int64) ([]Product, error) {
	f.record("ListByIDs", ids)
	var out []Product
	// The database's order, not the caller's.
	for _, id := range slices.Sorted(slices.Values(ids)) {
		if exists(id) {
			out = append(out, *product(oid, id))
		}
	}
	return out, nil
}

func (f *fakeCatalog) BySKU(ctx context.Context, skus ...SKU) ([]*Product, error) {
	ids := make([]int64, len(skus))
	out := []*Product{nil} // a nil value is left out
	for i, s := range skus {
		var id int64
		fmt.Sscanf(string(s), "sku-%d", &id)
		ids[i] = id
		if exists(id) {
			out = append(out, product(1, id))
		}
	}
	f.record("BySKU", ids)
	return out, nil
}

func (f *fakeCatalog) Names(oid int64, ids []int64) map[int64]string {
	f.record("Names", ids)
	out := map[int64]string{}
	for _, id := range ids {
		out[id] = fmt.Sprintf("name %d", id)
	}
	return out
}

func (f *fakeCatalog) SaveProduct(ctx context.Context, p Product) error { return nil }

func setup(t *testing.T, opts ...zoo.Option) (*CachedCatalog, *fakeCatalog, *zoo.Cache) {
	t.Helper()
	c, err := zoo.New(append([]zoo.Option{zoo.WithStats(true)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := newFake()
	return NewCachedCatalog(f, c), f, c
}

func wantCalls(t *testing.T, f *fakeCatalog, method string, want ...[]int64) {
	t.Helper()
	got := f.callsOf(method)
	if len(got) != len(want) {
		t.Fatalf("%s reached the repository with %v, want %v", method, got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("%s reached the repository with %v, want %v", method, got, want)
		}
	}
}

func wantProducts(t *testing.T, got map[int64]*Product, oid int64, ids ...int64) {
	t.Helper()
	if len(got) != len(ids) {
		t.Fatalf("got %d products, want %v", len(got), ids)
	}
	for _, id := range ids {
		if p := got[id]; p == nil || p.ID != id || p.OrgID != oid {
			t.Fatalf("product %d: got %+v", id, got[id])
		}
	}
}

func ids(list ...int64) []int64 { return list }

func methodStats(t *testing.T, c *zoo.Cache, method string) zoo.MethodStats {
	t.Helper()
	for _, m := range c.Stats().Methods {
		if m.Method == method {
			return m
		}
	}
	t.Fatalf("no statistics for %s", method)
	return zoo.MethodStats{}
}

// A batch serves the elements it holds and asks the repository once for
// the others; statistics count elements.
func TestPartialHits(t *testing.T) {
	ctx := context.Background()
	r, f, c := setup(t)
	got, err := r.GetProducts(ctx, 1, ids(1, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	wantProducts(t, got, 1, 1, 2, 3)
	got, err = r.GetProducts(ctx, 1, ids(2, 3, 4, 5))
	if err != nil {
		t.Fatal(err)
	}
	wantProducts(t, got, 1, 2, 3, 4, 5)
	got, _ = r.GetProducts(ctx, 1, ids(5, 4, 3, 2, 1))
	wantProducts(t, got, 1, 1, 2, 3, 4, 5)
	wantCalls(t, f, "GetProducts", ids(1, 2, 3), ids(4, 5))

	st := methodStats(t, c, "GetProducts")
	if st.Batches != 3 || st.Hits != 2+5 || st.Misses != 3+2 || st.Loads != 2 || st.ElementsLoaded != 5 {
		t.Fatalf("statistics: %+v", st)
	}
}

// Elements the repository does not return are absent and not cached: the
// next batch asks for them again.
func TestAbsentNotCached(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	got, _ := r.GetProducts(ctx, 1, ids(1, 99))
	wantProducts(t, got, 1, 1)
	got, _ = r.GetProducts(ctx, 1, ids(1, 99))
	wantProducts(t, got, 1, 1)
	wantCalls(t, f, "GetProducts", ids(1, 99), ids(99))
}

// Invalidating one element's tag reloads that element alone.
func TestElementInvalidation(t *testing.T) {
	ctx := context.Background()
	r, f, c := setup(t)
	r.GetProducts(ctx, 1, ids(1, 2, 3))
	if err := r.SaveProduct(ctx, *product(1, 2)); err != nil {
		t.Fatal(err)
	}
	got, _ := r.GetProducts(ctx, 1, ids(1, 2, 3))
	wantProducts(t, got, 1, 1, 2, 3)
	if err := c.Invalidate(ctx, zoo.Tag("org", 1, "product", 3)); err != nil {
		t.Fatal(err)
	}
	r.GetProducts(ctx, 1, ids(1, 2, 3))
	wantCalls(t, f, "GetProducts", ids(1, 2, 3), ids(2), ids(3))
}

// Invalidating a prefix reloads every element under it, and no other.
func TestPrefixInvalidation(t *testing.T) {
	ctx := context.Background()
	r, f, c := setup(t)
	r.GetProducts(ctx, 1, ids(1, 2))
	r.GetProducts(ctx, 2, ids(1, 2))
	if err := c.Invalidate(ctx, "org:1"); err != nil {
		t.Fatal(err)
	}
	got, _ := r.GetProducts(ctx, 1, ids(1, 2))
	wantProducts(t, got, 1, 1, 2)
	got, _ = r.GetProducts(ctx, 2, ids(1, 2))
	wantProducts(t, got, 2, 1, 2)
	wantCalls(t, f, "GetProducts", ids(1, 2), ids(1, 2), ids(1, 2))
}

// The other arguments are part of each element's key: org 2's product 1 is
// not org 1's.
func TestOtherArgumentsKey(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	r.GetProducts(ctx, 1, ids(1))
	got, _ := r.GetProducts(ctx, 2, ids(1))
	wantProducts(t, got, 2, 1)
	wantCalls(t, f, "GetProducts", ids(1), ids(1))
}

// A slice result comes back in the order asked, each element once, absent
// ones left out, whatever order the repository returns.
func TestSliceInAskedOrder(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	order := func(ps []Product) []int64 {
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	got, err := r.ListByIDs(ctx, 1, ids(3, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order(got), ids(3, 1, 2)) {
		t.Fatalf("got %v, want 3 1 2", order(got))
	}
	got, _ = r.ListByIDs(ctx, 1, ids(2, 99, 5, 1, 2, 3))
	if !slices.Equal(order(got), ids(2, 5, 1, 3)) {
		t.Fatalf("got %v, want 2 5 1 3", order(got))
	}
	wantCalls(t, f, "ListByIDs", ids(3, 1, 2), ids(99, 5))
}

// Duplicates reach the repository once, in first-seen order.
func TestDuplicates(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	got, _ := r.GetProducts(ctx, 1, ids(2, 2, 1, 2, 1))
	wantProducts(t, got, 1, 1, 2)
	got, _ = r.GetProducts(ctx, 1, ids(3, 1, 3, 2))
	wantProducts(t, got, 1, 1, 2, 3)
	wantCalls(t, f, "GetProducts", ids(2, 1), ids(3))
}

// A variadic batch of a named type, with a nil value from the repository.
func TestVariadic(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	got, err := r.BySKU(ctx, "sku-2", "sku-1", "sku-99")
	if err != nil || len(got) != 2 || got[0].ID != 2 || got[1].ID != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	got, _ = r.BySKU(ctx, "sku-1", "sku-3")
	if len(got) != 2 || got[0].ID != 1 || got[1].ID != 3 {
		t.Fatalf("got %+v", got)
	}
	wantCalls(t, f, "BySKU", ids(2, 1, 99), ids(3))
	if err := r.SaveProduct(ctx, *product(1, 1)); err != nil { // invalidates sku:sku-1
		t.Fatal(err)
	}
	r.BySKU(ctx, "sku-1", "sku-2", "sku-3")
	wantCalls(t, f, "BySKU", ids(2, 1, 99), ids(3), ids(1))
}

// A batch read without a context or an error result.
func TestWithoutContextOrError(t *testing.T) {
	r, f, _ := setup(t)
	if got := r.Names(1, ids(1, 2)); got[1] != "name 1" || got[2] != "name 2" {
		t.Fatalf("got %v", got)
	}
	r.Names(1, ids(2, 3))
	wantCalls(t, f, "Names", ids(1, 2), ids(3))
}

// A failed load returns the error and caches nothing.
func TestLoadError(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	r.GetProducts(ctx, 1, ids(1))
	f.fail.Store(true)
	if _, err := r.GetProducts(ctx, 1, ids(1, 2)); err == nil {
		t.Fatal("want the repository's error")
	}
	f.fail.Store(false)
	got, err := r.GetProducts(ctx, 1, ids(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	wantProducts(t, got, 1, 1, 2)
	wantCalls(t, f, "GetProducts", ids(1), ids(2), ids(2))
}

// The stale-set rule holds per element: an element whose tag is
// invalidated while the batch loads is returned, not cached; the others
// are cached.
func TestStaleSetPerElement(t *testing.T) {
	ctx := context.Background()
	r, f, c := setup(t)
	f.during = func([]int64) {
		f.during = nil
		if err := c.Invalidate(ctx, zoo.Tag("org", 1, "product", 2)); err != nil {
			t.Error(err)
		}
	}
	got, _ := r.GetProducts(ctx, 1, ids(1, 2, 3))
	wantProducts(t, got, 1, 1, 2, 3)
	r.GetProducts(ctx, 1, ids(1, 2, 3))
	wantCalls(t, f, "GetProducts", ids(1, 2, 3), ids(2))
}

// Entries expire by their TTL, on the cache's clock.
func TestTTL(t *testing.T) {
	ctx := context.Background()
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	r, f, _ := setup(t, zoo.WithClock(func() time.Time { return time.Unix(0, now.Load()) }))
	r.GetProducts(ctx, 1, ids(1))
	now.Add(int64(5 * time.Minute))
	r.GetProducts(ctx, 1, ids(1, 2))
	now.Add(int64(6 * time.Minute)) // 1 is 11 minutes old, 2 is 6
	r.GetProducts(ctx, 1, ids(1, 2))
	wantCalls(t, f, "GetProducts", ids(1), ids(2), ids(1))
}

// A batch element and the single read of the same element do not share an
// entry: their keys name their methods. One write invalidates both.
func TestSingleReadApart(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	r.GetProducts(ctx, 1, ids(2))
	r.GetProduct(ctx, 1, 2)
	r.GetProduct(ctx, 1, 2)
	wantCalls(t, f, "GetProduct", ids(2))
	r.SaveProduct(ctx, *product(1, 2))
	r.GetProduct(ctx, 1, 2)
	r.GetProducts(ctx, 1, ids(2))
	wantCalls(t, f, "GetProduct", ids(2), ids(2))
	wantCalls(t, f, "GetProducts", ids(2), ids(2))
}

// A batch that overlaps one being loaded waits for the shared elements and
// loads only the others.
func TestOverlappingBatchWaits(t *testing.T) {
	ctx := context.Background()
	r, f, c := setup(t)
	f.gate = make(chan struct{})
	var wg sync.WaitGroup
	results := make([]map[int64]*Product, 2)
	wg.Go(func() { results[0], _ = r.GetProducts(ctx, 1, ids(1, 2, 3, 4)) })
	waitFor(t, func() bool { return len(f.callsOf("GetProducts")) == 1 })
	wg.Go(func() { results[1], _ = r.GetProducts(ctx, 1, ids(3, 4, 5, 6)) })
	waitFor(t, func() bool { return len(f.callsOf("GetProducts")) == 2 })
	waitFor(t, func() bool { return methodStats(t, c, "GetProducts").Coalesced == 2 })
	close(f.gate)
	wg.Wait()
	wantProducts(t, results[0], 1, 1, 2, 3, 4)
	wantProducts(t, results[1], 1, 3, 4, 5, 6)
	wantCalls(t, f, "GetProducts", ids(1, 2, 3, 4), ids(5, 6))
}

// Many concurrent overlapping batches load each element once (run with
// -race).
func TestConcurrentBatchesLoadEachOnce(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 50 {
				var batch []int64
				for range 1 + rng.IntN(8) {
					batch = append(batch, 1+rng.Int64N(20))
				}
				got, err := r.GetProducts(ctx, 1, batch)
				if err != nil {
					t.Error(err)
					return
				}
				for _, id := range batch {
					if p := got[id]; p == nil || p.ID != id {
						t.Errorf("batch %v: product %d is %+v", batch, id, p)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, n := range f.loads {
		if n != 1 {
			t.Errorf("product %d was loaded %d times, want once", id, n)
		}
	}
}

// A caller whose context ends stops waiting; the load goes on for the
// others and caches its elements.
func TestCallerGivesUp(t *testing.T) {
	r, f, _ := setup(t)
	f.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := r.GetProducts(ctx, 1, ids(1, 2))
		done <- err
	}()
	waitFor(t, func() bool { return len(f.callsOf("GetProducts")) == 1 })
	var wg sync.WaitGroup
	var other map[int64]*Product
	wg.Go(func() { other, _ = r.GetProducts(context.Background(), 1, ids(2)) })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	close(f.gate)
	wg.Wait()
	wantProducts(t, other, 1, 2)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// A load that panics makes the caller panic with a *zoo.PanicError, and
// caches nothing; an empty batch calls nothing.
func TestPanicAndEmpty(t *testing.T) {
	ctx := context.Background()
	r, f, _ := setup(t)
	func() {
		defer func() {
			if p, ok := recover().(*zoo.PanicError); !ok || p.Value != "unlucky" {
				t.Fatalf("recovered %v, want a *zoo.PanicError", p)
			}
		}()
		r.GetProducts(ctx, 1, ids(12, 666))
		t.Fatal("no panic")
	}()
	got, err := r.GetProducts(ctx, 1, ids(12))
	if err != nil {
		t.Fatal(err)
	}
	wantProducts(t, got, 1, 12)
	if got, err := r.GetProducts(ctx, 1, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty batch: %v, %v", got, err)
	}
	if got, err := r.ListByIDs(ctx, 1, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty batch: %v, %v", got, err)
	}
	wantCalls(t, f, "GetProducts", ids(12, 666), ids(12))
}
