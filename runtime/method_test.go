package runtime_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

// decorator stands for a generated decorator: a struct of method handles
// made by each NewCachedX call.
type decorator struct {
	get, list, update *zoo.Method
}

func newDecorator(c *zoo.Cache) *decorator {
	spec := func(name string) zoo.MethodSpec {
		return zoo.MethodSpec{Package: "example.com/shop", Interface: "ProductRepo", Method: name, TTL: time.Minute}
	}
	return &decorator{get: c.Method(spec("Get")), list: c.Method(spec("List")), update: c.Method(spec("Update"))}
}

// TestMethodHandlesAreInterned: a decorator built per request or per
// transaction keeps nothing in the cache. 200,000 of them leave the heap
// where one left it, and every one gets the same handles.
func TestMethodHandlesAreInterned(t *testing.T) {
	c := newCache(t, zoo.WithStats(true))
	first := newDecorator(c)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for range 200_000 {
		d := newDecorator(c)
		if d.get != first.get || d.list != first.list || d.update != first.update {
			t.Fatal("the same spec got a new handle")
		}
	}
	after := heap()
	// Without interning each decorator kept three handles with their
	// counters: ~5 KB, 1 GiB for 200,000. The bound is generous: the heap
	// of other tests' goroutines moves too.
	assert.Less(t, int64(after)-int64(before), int64(4<<20), "heap grew from %d to %d bytes", before, after)
	require.Len(t, c.Stats().Methods, 3, "one row per method")
}

// TestMethodHandlesOfDifferentSpecs: specs that differ in any field get
// handles of their own; those that differ only in TTL share a row of
// statistics.
func TestMethodHandlesOfDifferentSpecs(t *testing.T) {
	c := newCache(t, zoo.WithStats(true))
	base := zoo.MethodSpec{Package: "p", Interface: "I", Method: "M"}
	specs := []zoo.MethodSpec{base}
	for _, change := range []func(*zoo.MethodSpec){
		func(s *zoo.MethodSpec) { s.Package = "q" },
		func(s *zoo.MethodSpec) { s.Interface = "J" },
		func(s *zoo.MethodSpec) { s.Method = "N" },
		func(s *zoo.MethodSpec) { s.TTL = time.Hour },
		func(s *zoo.MethodSpec) { s.Copy = true },
	} {
		s := base
		change(&s)
		specs = append(specs, s)
	}
	seen := map[*zoo.Method]zoo.MethodSpec{}
	for _, s := range specs {
		m := c.Method(s)
		require.Equal(t, s, m.Spec())
		if other, dup := seen[m]; dup {
			t.Fatalf("%+v and %+v share a handle", s, other)
		}
		seen[m] = s
		assert.Same(t, m, c.Method(s))
	}

	ctx := context.Background()
	long := c.Method(zoo.MethodSpec{Package: "p", Interface: "I", Method: "M", TTL: time.Hour})
	for _, m := range []*zoo.Method{c.Method(base), long} {
		_, err := zoo.Load(ctx, m, m.Key(nil), func(context.Context) (int, error) { return 1, nil })
		require.NoError(t, err)
	}
	var rows []zoo.MethodStats
	for _, r := range c.Stats().Methods {
		if r.Package == "p" && r.Interface == "I" && r.Method == "M" {
			rows = append(rows, r)
		}
	}
	require.Len(t, rows, 2, "one row for the TTL variants, one for copy=true")
	assert.Equal(t, [2]uint64{1, 1}, [2]uint64{rows[0].Misses, rows[0].Hits},
		"the TTL variants share a key and a row: a miss, then a hit")
}
