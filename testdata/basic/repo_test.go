package basic

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

// fakeRepo is the inner repository: it counts the calls that reach it.
type fakeRepo struct {
	products map[int64]*Product
	calls    map[string]*atomic.Int64
	failNext atomic.Bool
}

func newFakeRepo() *fakeRepo {
	r := &fakeRepo{products: map[int64]*Product{}, calls: map[string]*atomic.Int64{}}
	for _, m := range []string{"GetProduct", "Reviews", "UpdateProduct", "Ping"} {
		r.calls[m] = new(atomic.Int64)
	}
	for pid := int64(1); pid <= 3; pid++ {
		r.products[pid] = &Product{OrgID: 1, StoreID: 1 + pid%2, ID: pid, Price: 100 * pid}
	}
	return r
}

func (r *fakeRepo) GetProduct(ctx context.Context, oid, sid, pid int64) (*Product, error) {
	r.calls["GetProduct"].Add(1)
	if r.failNext.Swap(false) {
		return nil, errors.New("database unavailable")
	}
	p, ok := r.products[pid]
	if !ok {
		return nil, ErrNotFound
	}
	// A dependency known only while loading: the product's price list.
	zoo.AddDeps(ctx, zoo.Tag("pricelist", p.Price/100))
	cp := *p
	return &cp, nil
}

func (r *fakeRepo) Reviews(ctx context.Context, q ReviewQuery) ([]Review, error) {
	r.calls["Reviews"].Add(1)
	return []Review{{ProductID: q.ProductID, Stars: 5, Text: "good"}}, nil
}

func (r *fakeRepo) UpdateProduct(ctx context.Context, p Product) error {
	r.calls["UpdateProduct"].Add(1)
	if p.ID == 0 {
		return errors.New("no id")
	}
	cp := p
	r.products[p.ID] = &cp
	return nil
}

func (r *fakeRepo) Ping(ctx context.Context) error {
	r.calls["Ping"].Add(1)
	return nil
}

func setup(t *testing.T) (*CachedProductRepo, *fakeRepo, *zoo.Cache) {
	t.Helper()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inner := newFakeRepo()
	return NewCachedProductRepo(inner, c), inner, c
}

func expectCalls(t *testing.T, r *fakeRepo, method string, want int64) {
	t.Helper()
	if got := r.calls[method].Load(); got != want {
		t.Fatalf("%s reached the repository %d times, want %d", method, got, want)
	}
}

func TestHitAndMiss(t *testing.T) {
	ctx := context.Background()
	repo, inner, _ := setup(t)
	for range 3 {
		p, err := repo.GetProduct(ctx, 1, 2, 1)
		if err != nil || p.Price != 100 {
			t.Fatalf("GetProduct = %+v, %v", p, err)
		}
	}
	expectCalls(t, inner, "GetProduct", 1)
	if _, err := repo.GetProduct(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, inner, "GetProduct", 2) // another key
}

func TestWriteInvalidates(t *testing.T) {
	ctx := context.Background()
	repo, inner, _ := setup(t)
	repo.GetProduct(ctx, 1, 2, 1)
	repo.GetProduct(ctx, 1, 1, 2)
	if err := repo.UpdateProduct(ctx, Product{OrgID: 1, StoreID: 2, ID: 1, Price: 150}); err != nil {
		t.Fatal(err)
	}
	p, _ := repo.GetProduct(ctx, 1, 2, 1)
	if p.Price != 150 {
		t.Fatalf("after the update, price %d, want 150", p.Price)
	}
	repo.GetProduct(ctx, 1, 1, 2)
	expectCalls(t, inner, "GetProduct", 3) // product 1 again, product 2 still cached

	// A failed write invalidates nothing.
	if err := repo.UpdateProduct(ctx, Product{OrgID: 1, StoreID: 2}); err == nil {
		t.Fatal("want the inner error")
	}
	repo.GetProduct(ctx, 1, 2, 1)
	expectCalls(t, inner, "GetProduct", 3)
}

func TestPrefixInvalidation(t *testing.T) {
	ctx := context.Background()
	repo, inner, c := setup(t)
	repo.GetProduct(ctx, 1, 2, 1)
	repo.GetProduct(ctx, 1, 1, 2)
	repo.GetProduct(ctx, 1, 2, 3)
	if err := c.Invalidate(ctx, zoo.Tag("org", 1, "store", 2)); err != nil {
		t.Fatal(err)
	}
	repo.GetProduct(ctx, 1, 2, 1)
	repo.GetProduct(ctx, 1, 1, 2)
	repo.GetProduct(ctx, 1, 2, 3)
	expectCalls(t, inner, "GetProduct", 5) // the two products of store 2
	c.Invalidate(ctx, zoo.Tag("org", 1))
	repo.GetProduct(ctx, 1, 2, 1)
	repo.GetProduct(ctx, 1, 1, 2)
	expectCalls(t, inner, "GetProduct", 7) // everything under org 1
}

func TestFieldPathAndStaticTags(t *testing.T) {
	ctx := context.Background()
	repo, inner, c := setup(t)
	q := ReviewQuery{ProductID: 7, MinStars: 4}
	repo.Reviews(ctx, q)
	repo.Reviews(ctx, q)
	repo.Reviews(ctx, ReviewQuery{ProductID: 7, MinStars: 3}) // every field is part of the key
	expectCalls(t, inner, "Reviews", 2)
	c.Invalidate(ctx, zoo.Tag("product", 7, "reviews"))
	repo.Reviews(ctx, q)
	expectCalls(t, inner, "Reviews", 3)
	c.Invalidate(ctx, zoo.Tag("product", 8))
	repo.Reviews(ctx, q)
	expectCalls(t, inner, "Reviews", 3)
	c.Invalidate(ctx, "featured") // the static tag
	repo.Reviews(ctx, q)
	expectCalls(t, inner, "Reviews", 4)
}

func TestAddDepsFromTheInnerRepository(t *testing.T) {
	ctx := context.Background()
	repo, inner, c := setup(t)
	repo.GetProduct(ctx, 1, 2, 3) // price 300: price list 3
	c.Invalidate(ctx, zoo.Tag("pricelist", 2))
	repo.GetProduct(ctx, 1, 2, 3)
	expectCalls(t, inner, "GetProduct", 1)
	c.Invalidate(ctx, zoo.Tag("pricelist", 3))
	repo.GetProduct(ctx, 1, 2, 3)
	expectCalls(t, inner, "GetProduct", 2)
}

func TestErrorsAreNotCached(t *testing.T) {
	ctx := context.Background()
	repo, inner, _ := setup(t)
	inner.failNext.Store(true)
	if _, err := repo.GetProduct(ctx, 1, 2, 1); err == nil {
		t.Fatal("want the inner error")
	}
	if p, err := repo.GetProduct(ctx, 1, 2, 1); err != nil || p == nil {
		t.Fatalf("GetProduct = %v, %v", p, err)
	}
	if _, err := repo.GetProduct(ctx, 1, 2, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	repo.GetProduct(ctx, 1, 2, 99)
	expectCalls(t, inner, "GetProduct", 4) // not found is not cached without errors=
}

func TestPassThrough(t *testing.T) {
	ctx := context.Background()
	repo, inner, _ := setup(t)
	repo.Ping(ctx)
	repo.Ping(ctx)
	expectCalls(t, inner, "Ping", 2)
}
