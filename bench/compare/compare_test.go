package compare

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/memstore"

	"github.com/zoogen/zoogen/bench/shop"
)

// TestKeyMatchesDecorator checks that AppendKey writes the key the
// generated decorator stores its entries under, so that every contender is
// measured with the same keys.
func TestKeyMatchesDecorator(t *testing.T) {
	ctx := context.Background()
	s, err := memstore.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := zoo.New(zoo.WithStore(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := shop.NewCachedProductRepo(&shop.DB{}, c).GetProduct(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	key := string(AppendKey(nil, 1, 2, 3))
	if e, err := s.Get(ctx, key); err != nil || e == nil {
		t.Fatalf("the decorator stored nothing under %q (err %v)", key, err)
	}
}

func checkProduct(t *testing.T, p *shop.Product, oid, sid, pid int64) {
	t.Helper()
	if p == nil || p.OrgID != oid || p.StoreID != sid || p.ID != pid || p.Price != 100+pid {
		t.Fatalf("GetProduct(%d, %d, %d) = %+v", oid, sid, pid, p)
	}
}

// TestReaders checks that each contender returns the product asked for,
// loads it once, and serves it from its cache afterwards.
func TestReaders(t *testing.T) {
	ctx := context.Background()
	for _, c := range append(Readers, CacheAside) {
		t.Run(c.Name, func(t *testing.T) {
			db := &shop.DB{}
			r, err := c.New(db, 1000)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for pid := int64(1); pid <= 3; pid++ {
				for range 3 {
					p, err := r.GetProduct(ctx, 1, 2, pid)
					if err != nil {
						t.Fatal(err)
					}
					checkProduct(t, p, 1, 2, pid)
				}
			}
			if got := db.Loads(); got != 3 {
				t.Errorf("%d loads for 3 products read 3 times each, want 3", got)
			}
			if err := warm(ctx, r, db, 1, 2, 100); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStampede checks that the contenders with singleflight load a key
// once for concurrent cold callers.
func TestStampede(t *testing.T) {
	ctx := context.Background()
	for _, c := range Readers {
		t.Run(c.Name, func(t *testing.T) {
			db := &shop.DB{Latency: 20 * time.Millisecond}
			r, err := c.New(db, 1000)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := stampede(ctx, r, 50, 1, 7, 1); err != nil {
				t.Fatal(err)
			}
			if got := db.Loads(); got != 1 {
				t.Errorf("50 concurrent callers caused %d loads, want 1", got)
			}
		})
	}
}

// TestInvalidators checks that invalidating a store drops its products and
// only them.
func TestInvalidators(t *testing.T) {
	ctx := context.Background()
	const n = 2*PerStore + 10
	for _, c := range Invalidators {
		t.Run(c.Name, func(t *testing.T) {
			x, err := c.New(n + n/4)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if err := x.Fill(ctx, n); err != nil {
				t.Fatal(err)
			}
			if err := checkFilled(ctx, x, n); err != nil {
				t.Fatal(err)
			}
			if err := x.InvalidateStore(ctx, 1, 1); err != nil {
				t.Fatal(err)
			}
			if err := checkInvalidated(ctx, x, n, 1); err != nil {
				t.Fatal(err)
			}
			r, ok := x.(restorer)
			if !ok {
				return
			}
			if err := r.Restore(ctx, 1, 1); err != nil {
				t.Fatal(err)
			}
			if err := expectCached(ctx, x, PerStore+7, true); err != nil {
				t.Fatalf("after Restore: %v", err)
			}
			if err := x.InvalidateStore(ctx, 1, 1); err != nil {
				t.Fatal(err)
			}
			if err := checkInvalidated(ctx, x, n, 1); err != nil {
				t.Fatalf("after Restore and InvalidateStore: %v", err)
			}
		})
	}
}

// The helpers below are shared with the benchmarks.

// warm reads products 0..n-1 of store (oid, sid) until a pass loads
// nothing: some caches admit a key only when it is seen again.
func warm(ctx context.Context, r Reader, db *shop.DB, oid, sid int64, n int) error {
	for range 4 {
		before := db.Loads()
		for pid := range int64(n) {
			p, err := r.GetProduct(ctx, oid, sid, pid)
			if err != nil {
				return err
			}
			if p == nil || p.ID != pid || p.StoreID != sid {
				return fmt.Errorf("GetProduct(%d, %d, %d) = %+v", oid, sid, pid, p)
			}
		}
		if db.Loads() == before {
			return nil
		}
	}
	return fmt.Errorf("%d products of store %d still miss after 4 passes", n, sid)
}

// stampede has callers goroutines read product (oid, sid, pid) at once.
func stampede(ctx context.Context, r Reader, callers int, oid, sid, pid int64) error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			<-start
			p, err := r.GetProduct(ctx, oid, sid, pid)
			if err == nil && (p == nil || p.ID != pid || p.StoreID != sid) {
				err = fmt.Errorf("GetProduct(%d, %d, %d) = %+v", oid, sid, pid, p)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

// checkFilled checks that every product of store 0, and the last product
// filled, are cached after Fill(ctx, n).
func checkFilled(ctx context.Context, x Invalidator, n int) error {
	for i := range min(n, PerStore) {
		if err := expectCached(ctx, x, i, true); err != nil {
			return err
		}
	}
	return expectCached(ctx, x, n-1, true)
}

// checkInvalidated checks that the products of store sid are no longer
// served, and that the first product of the next store, if any, still is.
func checkInvalidated(ctx context.Context, x Invalidator, n int, sid int64) error {
	first := int(sid) * PerStore
	for i := first; i < min(n, first+PerStore); i++ {
		if err := expectCached(ctx, x, i, false); err != nil {
			return err
		}
	}
	if next := first + PerStore; next < n {
		return expectCached(ctx, x, next, true)
	}
	if first > 0 {
		return expectCached(ctx, x, 0, true)
	}
	return nil
}

func expectCached(ctx context.Context, x Invalidator, i int, want bool) error {
	oid, sid, pid := product(i)
	got, err := x.Cached(ctx, oid, sid, pid)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("product %d of store %d: cached %v, want %v", pid, sid, got, want)
	}
	return nil
}
