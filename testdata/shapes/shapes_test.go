package shapes

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
	"github.com/zoogen/zoogen/runtime/store/memstore"
)

type fakeCatalog struct{ calls atomic.Int64 }

func (f *fakeCatalog) Count(org OrgID) int { f.calls.Add(1); return int(org) * 10 }

func (f *fakeCatalog) Lookup(ctx context.Context, org OrgID, slug Slug) (Item, bool, error) {
	f.calls.Add(1)
	if slug == "" {
		return Item{}, false, nil
	}
	return Item{ID: int64(org), Slug: slug, Price: 1.5}, true, nil
}

func (f *fakeCatalog) Many(ctx context.Context, ids ...int64) ([]Item, error) {
	f.calls.Add(1)
	out := make([]Item, len(ids))
	for i, id := range ids {
		out[i].ID = id
	}
	return out, nil
}

func (f *fakeCatalog) Seen(ctx context.Context, addr netip.Addr, at time.Time, raw []byte, level Level, strict bool) (time.Duration, error) {
	f.calls.Add(1)
	return time.Duration(level) * time.Second, nil
}

func (f *fakeCatalog) Search(ctx context.Context, w Window, flt *Filter, pages []int, extra map[string]int, any any) ([]Item, error) {
	f.calls.Add(1)
	return []Item{{ID: int64(len(pages))}}, nil
}

var errDB = errors.New("database unavailable")

func (f *fakeCatalog) Get(ctx context.Context, id int64) (*Item, error) {
	f.calls.Add(1)
	switch id {
	case 404:
		return nil, ErrNotFound
	case 410:
		return nil, ErrGone
	case 500:
		return nil, errDB
	}
	return &Item{ID: id}, nil
}

func (f *fakeCatalog) Touch(org OrgID) { f.calls.Add(1) }

func (f *fakeCatalog) Save(ctx context.Context, org OrgID, it Item) (int64, error) {
	f.calls.Add(1)
	return it.ID, nil
}

func (f *fakeCatalog) Raw(ctx context.Context, q string, args ...any) error {
	f.calls.Add(1)
	return nil
}

// byteStore keeps entries as codec bytes, as the LMDB and Redis stores do,
// so that the cached shapes are shown to survive serialisation.
type byteStore struct {
	mem   *memstore.Store
	codec codec.Codec
}

func (s byteStore) Get(ctx context.Context, key string) (*store.Entry, error) {
	e, err := s.mem.Get(ctx, key)
	if e == nil || err != nil {
		return nil, err
	}
	return s.codec.Decode(e.Value.([]byte))
}

func (s byteStore) Set(ctx context.Context, key string, e *store.Entry) error {
	b, err := s.codec.Encode(e)
	if err != nil {
		return err
	}
	return s.mem.Set(ctx, key, &store.Entry{Value: b, Expires: e.Expires})
}

func (s byteStore) Delete(ctx context.Context, key string) error { return s.mem.Delete(ctx, key) }
func (s byteStore) Close() error                                 { return s.mem.Close() }

func stores() map[string]func(t *testing.T) zoo.Option {
	return map[string]func(t *testing.T) zoo.Option{
		"memory": func(t *testing.T) zoo.Option { return zoo.WithStore(newMemstore(t)) },
		"bytes":  func(t *testing.T) zoo.Option { return zoo.WithStore(byteStore{mem: newMemstore(t)}) },
	}
}

func newMemstore(t *testing.T) *memstore.Store {
	t.Helper()
	s, err := memstore.New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func setup(t *testing.T, opt zoo.Option) (*CachedCatalog, *fakeCatalog, *zoo.Cache) {
	t.Helper()
	c, err := zoo.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inner := &fakeCatalog{}
	return NewCachedCatalog(inner, c), inner, c
}

func expect(t *testing.T, f *fakeCatalog, want int64) {
	t.Helper()
	if got := f.calls.Load(); got != want {
		t.Fatalf("%d calls reached the repository, want %d", got, want)
	}
}

func TestShapes(t *testing.T) {
	for name, opt := range stores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cat, inner, c := setup(t, opt(t))

			// No context, no error.
			if cat.Count(3) != 30 || cat.Count(3) != 30 {
				t.Fatal("Count")
			}
			expect(t, inner, 1)

			// Several results.
			for range 2 {
				it, ok, err := cat.Lookup(ctx, 1, "shoe")
				if err != nil || !ok || it.Slug != "shoe" || it.Price != 1.5 {
					t.Fatalf("Lookup = %+v, %v, %v", it, ok, err)
				}
			}
			expect(t, inner, 2)

			// Variadic arguments: different lists are different keys.
			cat.Many(ctx, 1, 2)
			cat.Many(ctx, 1, 2)
			cat.Many(ctx, 12)
			cat.Many(ctx)
			expect(t, inner, 5)

			// Imported and unsigned types.
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			addr := netip.MustParseAddr("10.0.0.1")
			d, _ := cat.Seen(ctx, addr, at, []byte("x"), 3, true)
			cat.Seen(ctx, addr, at.In(time.FixedZone("x", 3600)), []byte("x"), 3, true) // the same instant
			if d != 3*time.Second {
				t.Fatalf("Seen = %v", d)
			}
			expect(t, inner, 6)
			cat.Seen(ctx, netip.MustParseAddr("10.0.0.2"), at, []byte("x"), 3, true)
			expect(t, inner, 7)

			// Structs, pointers, slices, maps: nil and non-nil differ, equal
			// values share.
			w := Window{From: at, To: at.Add(time.Hour), limit: 5}
			owner := OrgID(9)
			cat.Search(ctx, w, nil, nil, nil, nil)
			cat.Search(ctx, w, &Filter{Owner: &owner, Labels: map[string]string{"a": "1", "b": "2"}}, []int{1}, map[string]int{"x": 1}, 7)
			cat.Search(ctx, w, &Filter{Owner: &owner, Labels: map[string]string{"b": "2", "a": "1"}}, []int{1}, map[string]int{"x": 1}, 7)
			expect(t, inner, 9)
			cat.Search(ctx, Window{From: at, To: at.Add(time.Hour), limit: 6}, nil, nil, nil, nil)
			expect(t, inner, 10)

			// Sentinel errors are cached; other errors are not.
			for range 2 {
				if _, err := cat.Get(ctx, 404); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get(404) err = %v", err)
				}
				if _, err := cat.Get(ctx, 410); !errors.Is(err, ErrGone) {
					t.Fatalf("Get(410) err = %v", err)
				}
				if it, err := cat.Get(ctx, 1); err != nil || it.ID != 1 {
					t.Fatalf("Get(1) = %v, %v", it, err)
				}
			}
			expect(t, inner, 13)
			cat.Get(ctx, 500)
			cat.Get(ctx, 500)
			expect(t, inner, 15)

			// Writes invalidate, with or without context and error.
			cat.Touch(3)
			cat.Count(3)
			expect(t, inner, 17)
			cat.Save(ctx, 1, Item{ID: 404, Slug: "shoe"})
			cat.Get(ctx, 404)
			cat.Lookup(ctx, 1, "shoe")
			expect(t, inner, 20)

			cat.Raw(ctx, "q", 1, 2)
			expect(t, inner, 21)
			_ = c
		})
	}
}
