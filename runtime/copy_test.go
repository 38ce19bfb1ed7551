package runtime_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

// order is a result a caller can mutate through a slice, a map and a
// pointer.
type order struct {
	ID    int64
	Lines []line
	Attrs map[string]string
	Buyer *buyer
}

type line struct {
	SKU string
	Qty int
}

type buyer struct{ Name string }

func freshOrder(id int64) *order {
	return &order{ID: id, Lines: []line{{"A", 1}, {"B", 2}}, Attrs: map[string]string{"gift": "no"}, Buyer: &buyer{Name: "Ada"}}
}

// scribble mutates every part of o a caller can reach.
func scribble(o *order) {
	o.ID = -1
	o.Lines[0].Qty = 99
	o.Lines = append(o.Lines, line{"X", 9})
	o.Attrs["gift"] = "yes"
	o.Attrs["new"] = "key"
	o.Buyer.Name = "Mallory"
}

// orders is a fake repository of orders, decorated as generated code
// decorates
//
//	//zoo:cache deps="order:<id>" copy=true
//	GetOrder(ctx, id int64) (*order, error)
type orders struct {
	loads atomic.Int64
	// release, when not nil, holds every load until it is closed.
	release chan struct{}
	// value, when not nil, makes the value a load returns.
	value func(id int64) *order
}

func (r *orders) get(ctx context.Context, m *zoo.Method, id int64) (*order, error) {
	var buf [64]byte
	k := zoo.KeyInt(m.Key(buf[:0]), id)
	if v, ok := zoo.Lookup[*order](ctx, m, k); ok {
		return v, nil
	}
	return zoo.Load(ctx, m, k, func(ctx context.Context) (*order, error) {
		zoo.AddDeps(ctx, zoo.Tag("order", id))
		r.loads.Add(1)
		if r.release != nil {
			<-r.release
		}
		if r.value != nil {
			return r.value(id), nil
		}
		return freshOrder(id), nil
	})
}

func orderMethod(c *zoo.Cache, copy bool) *zoo.Method {
	return c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "OrderRepo", Method: "GetOrder", Copy: copy})
}

// Without Copy every caller shares the cached value: this is what Copy is
// for.
func TestWithoutCopyCallersShareTheValue(t *testing.T) {
	ctx := context.Background()
	m := orderMethod(newCache(t), false)
	r := &orders{}
	a, err := r.get(ctx, m, 1)
	require.NoError(t, err)
	b, err := r.get(ctx, m, 1)
	require.NoError(t, err)
	assert.Same(t, a, b)
}

func TestCopyMutatingAResultChangesNothingCached(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string][]zoo.Option{
		"memory":           nil,
		"bytes":            {zoo.WithStore(newByteStore())},
		"bytes+local tier": {zoo.WithStore(newByteStore()), zoo.WithLocalTier(100)},
		"size limit":       {zoo.WithMaxValueSize(1 << 20)},
	} {
		t.Run(name, func(t *testing.T) {
			m := orderMethod(newCache(t, opts...), true)
			r := &orders{}
			seen := map[*order]bool{}
			for i := range 4 {
				got, err := r.get(ctx, m, 1)
				require.NoError(t, err)
				require.Equal(t, freshOrder(1), got, "call %d", i)
				require.False(t, seen[got], "call %d got a value another call got", i)
				seen[got] = true
				scribble(got)
			}
			assert.Equal(t, int64(1), r.loads.Load(), "loaded once, then hits")
		})
	}
}

// The loader's own result is not what the cache keeps either.
func TestCopyTheLoaderMutatingItsValueChangesNothingCached(t *testing.T) {
	ctx := context.Background()
	m := orderMethod(newCache(t), true)
	kept := freshOrder(1)
	r := &orders{value: func(int64) *order { return kept }}
	got, err := r.get(ctx, m, 1)
	require.NoError(t, err)
	assert.Same(t, kept, got, "the caller that loaded gets the value itself")
	scribble(kept)
	got, err = r.get(ctx, m, 1)
	require.NoError(t, err)
	assert.Equal(t, freshOrder(1), got)
}

// Callers that joined one load each get a value of their own, and mutate
// them at once: under -race this is race-free.
func TestCopyJoinersOfAFlightGetValuesOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	c := newCache(t, zoo.WithStats(true))
	m := orderMethod(c, true)
	r := &orders{release: make(chan struct{})}
	const n = 8
	results := make([]*order, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got, err := r.get(ctx, m, 1)
			assert.NoError(t, err)
			assert.Equal(t, freshOrder(1), got)
			results[i] = got
			scribble(got)
		})
	}
	waitForWaiters(t, c, zoo.KeyInt(m.Key(nil), 1), n)
	close(r.release)
	wg.Wait()
	require.Equal(t, int64(1), r.loads.Load(), "one load for every caller")
	seen := map[*order]bool{}
	for _, o := range results {
		require.False(t, seen[o], "two callers got the same value")
		seen[o] = true
	}
	got, err := r.get(ctx, m, 1)
	require.NoError(t, err)
	assert.Equal(t, freshOrder(1), got)
	assert.Equal(t, uint64(n-1), c.Stats().Methods[0].Coalesced)
}

// Goroutines that hit, miss, join and mutate their results at once, while
// the entry is invalidated under them: race-free with Copy on.
func TestCopyConcurrentMutationsAreRaceFree(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := orderMethod(c, true)
	r := &orders{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := int64(i % 3)
				got, err := r.get(ctx, m, id)
				if !assert.NoError(t, err) || !assert.Equal(t, freshOrder(id), got) {
					return
				}
				scribble(got)
				if g == 0 && i%10 == 0 {
					assert.NoError(t, c.Invalidate(ctx, zoo.Tag("order", id)))
				}
			}
		})
	}
	wg.Wait()
}

// cursor does not survive a MessagePack round trip: msgpack cannot encode
// a channel.
type cursor struct {
	Next chan int
}

func TestCopyOfAValueThatDoesNotRoundTrip(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer // the handler serialises its writes
	c := newCache(t, zoo.WithStats(true), zoo.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "CursorRepo", Method: "Open", Copy: true})
	var loads atomic.Int64
	release := make(chan struct{})
	get := func() (*cursor, error) {
		k := m.Key(nil)
		if v, ok := zoo.Lookup[*cursor](ctx, m, k); ok {
			return v, nil
		}
		return zoo.Load(ctx, m, k, func(context.Context) (*cursor, error) {
			if loads.Add(1) == 1 {
				<-release
			}
			return &cursor{Next: make(chan int)}, nil
		})
	}
	const n = 4
	results := make([]*cursor, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got, err := get()
			assert.NoError(t, err)
			results[i] = got
		})
	}
	waitForWaiters(t, c, m.Key(nil), n)
	close(release)
	wg.Wait()
	assert.Equal(t, int64(n), loads.Load(), "every joiner loaded a value of its own")
	seen := map[*cursor]bool{}
	for _, v := range results {
		require.NotNil(t, v)
		require.False(t, seen[v], "two callers got the same value")
		seen[v] = true
	}
	_, err := get()
	require.NoError(t, err)
	assert.Equal(t, int64(n+1), loads.Load(), "not cached")
	assert.Equal(t, uint64(2), c.Stats().Methods[0].Uncopyable, "the flight's value and the last load's")
	assert.Contains(t, logs.String(), "does not survive a MessagePack round trip")
}
