package generic

import (
	"context"
	"sync/atomic"
	"testing"

	zoo "github.com/zoogen/zoogen/runtime"
)

type mapRepo[K comparable, V any] struct {
	data  map[K]V
	calls atomic.Int64
}

func (r *mapRepo[K, V]) Get(ctx context.Context, id K) (V, error) {
	r.calls.Add(1)
	return r.data[id], nil
}

func (r *mapRepo[K, V]) List(ctx context.Context, limit int) ([]V, int, error) {
	r.calls.Add(1)
	var out []V
	for _, v := range r.data {
		out = append(out, v)
	}
	return out[:min(limit, len(out))], len(r.data), nil
}

func (r *mapRepo[K, V]) Put(ctx context.Context, id K, v V) error {
	r.calls.Add(1)
	r.data[id] = v
	return nil
}

type summer[N Number] struct{ calls atomic.Int64 }

func (s *summer[N]) Sum(ctx context.Context, xs []N) (N, error) {
	s.calls.Add(1)
	var t N
	for _, x := range xs {
		t += x
	}
	return t, nil
}

func TestGenericDecorators(t *testing.T) {
	ctx := context.Background()
	c, err := zoo.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	names := &mapRepo[int, string]{data: map[int]string{1: "one"}}
	lengths := &mapRepo[int, int]{data: map[int]int{1: 3}}
	cn, cl := NewCachedRepo[int, string](names, c), NewCachedRepo[int, int](lengths, c)
	for range 2 {
		if v, _ := cn.Get(ctx, 1); v != "one" {
			t.Fatalf("Repo[int,string].Get = %q", v)
		}
		if v, _ := cl.Get(ctx, 1); v != 3 {
			t.Fatalf("Repo[int,int].Get = %d: instances shared a key", v)
		}
	}
	if names.calls.Load() != 1 || lengths.calls.Load() != 1 {
		t.Fatalf("calls: %d, %d; want 1 each", names.calls.Load(), lengths.calls.Load())
	}
	if vs, n, _ := cn.List(ctx, 5); len(vs) != 1 || n != 1 {
		t.Fatalf("List = %v, %d", vs, n)
	}
	cn.Put(ctx, 1, "uno")
	if v, _ := cn.Get(ctx, 1); v != "uno" {
		t.Fatalf("after Put, Get = %q", v)
	}
	if v, _ := cl.Get(ctx, 1); v != 3 {
		t.Fatal("the other instance changed")
	}

	s := &summer[float64]{}
	cs := NewCachedStats[float64](s, c)
	cs.Sum(ctx, []float64{1, 2.5})
	if v, _ := cs.Sum(ctx, []float64{1, 2.5}); v != 3.5 || s.calls.Load() != 1 {
		t.Fatalf("Sum = %v after %d calls", v, s.calls.Load())
	}
}
