package clash

import (
	stdcontext "context"
	"sync/atomic"
	"testing"

	zooruntime "github.com/zoogen/zoogen/runtime"
)

type fake struct{ calls atomic.Int64 }

func (f *fake) Find(c stdcontext.Context, _k string, _v int, _r bool, _buf []byte) (string, int, error) {
	f.calls.Add(1)
	if _k == "missing" {
		return "", 0, ErrMissing
	}
	return _k + string(_buf), _v, nil
}

func (f *fake) Drop(_ stdcontext.Context, _k string) error { f.calls.Add(1); return nil }

func TestNamesThatClash(t *testing.T) {
	ctx := stdcontext.Background()
	c, err := zooruntime.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inner := &fake{}
	r := NewCachedRepo(inner, c)
	for range 2 {
		if s, n, err := r.Find(ctx, "k", 2, true, []byte("!")); s != "k!" || n != 2 || err != nil {
			t.Fatalf("Find = %q, %d, %v", s, n, err)
		}
		if _, _, err := r.Find(ctx, "missing", 0, false, nil); err != ErrMissing {
			t.Fatalf("Find(missing) err = %v", err)
		}
	}
	if inner.calls.Load() != 2 {
		t.Fatalf("%d calls, want 2", inner.calls.Load())
	}
	r.Drop(ctx, "k")
	r.Find(ctx, "k", 2, true, []byte("!"))
	if inner.calls.Load() != 4 {
		t.Fatalf("%d calls, want 4", inner.calls.Load())
	}
}

type clock struct{ calls atomic.Int64 }

func (c *clock) At(_ stdcontext.Context, zoo1 string, time1 int) (string, error) {
	c.calls.Add(1)
	return zoo1, nil
}

// TestParametersNamedLikeImports: the decorator compiles (its imports do
// not hide behind the parameters) and caches.
func TestParametersNamedLikeImports(t *testing.T) {
	c, err := zooruntime.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inner := &clock{}
	r := NewCachedClock(inner, c)
	for range 2 {
		if s, err := r.At(stdcontext.Background(), "noon", 12); s != "noon" || err != nil {
			t.Fatalf("At = %q, %v", s, err)
		}
	}
	if inner.calls.Load() != 1 {
		t.Fatalf("the inner clock was called %d times, want 1", inner.calls.Load())
	}
}
