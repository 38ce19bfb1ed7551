package runtime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

type sku struct{ code string }

func (s sku) String() string { return "sku-" + s.code }

func TestTagFormatsAndEscapes(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{zoo.Tag("org", 1, "store", int64(-2)), "org:1:store:-2"},
		{zoo.Tag("user", "a:b"), "user:a%3Ab"},
		{zoo.Tag("user", "100%"), "user:100%25"},
		{zoo.Tag("user", "a%3Ab"), "user:a%253Ab"},
		{zoo.Tag("b", []byte("x:y"), true, uint8(7), 1.5), "b:x%3Ay:true:7:1.5"},
		{zoo.Tag("t", time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))), "t:2026-01-02T02%3A04%3A05Z"},
		{zoo.Tag("s", sku{"a:1"}), "s:sku-a%3A1"},
		{zoo.Tag("e", struct{ A int }{3}), "e:{3}"},
		{zoo.Tag(), ""},
		{zoo.Tag(""), ""},
		{zoo.Tag("", ""), ":"},
	} {
		assert.Equal(t, c.want, c.got)
	}
}

// TestTagValuesCannotInjectHierarchy: a user named "a:b" is not user "a"'s
// child "b", so invalidating user a leaves it alone, and invalidating it
// leaves user a alone.
func TestTagValuesCannotInjectHierarchy(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := c.Method(zoo.MethodSpec{Interface: "Users", Method: "Get"})
	loads := map[string]int{}
	get := func(name string) {
		_, err := zoo.Load(ctx, m, zoo.KeyString(m.Key(nil), name), func(ctx context.Context) (string, error) {
			zoo.AddDeps(ctx, zoo.Tag("user", name))
			loads[name]++
			return name, nil
		})
		require.NoError(t, err)
	}
	get("a")
	get("a:b")
	require.NoError(t, c.Invalidate(ctx, zoo.Tag("user", "a")))
	get("a")
	get("a:b")
	assert.Equal(t, map[string]int{"a": 2, "a:b": 1}, loads)
	require.NoError(t, c.Invalidate(ctx, zoo.Tag("user", "a:b")))
	get("a")
	get("a:b")
	assert.Equal(t, map[string]int{"a": 2, "a:b": 2}, loads)
}

func TestKeysAreUnambiguous(t *testing.T) {
	key := func(f func(k []byte) []byte) string { return string(f(nil)) }
	distinct := []string{
		key(func(k []byte) []byte { return zoo.KeyString(zoo.KeyString(k, "a:b"), "c") }),
		key(func(k []byte) []byte { return zoo.KeyString(zoo.KeyString(k, "a"), "b:c") }),
		key(func(k []byte) []byte { return zoo.KeyString(zoo.KeyString(k, "a"), "bc") }),
		key(func(k []byte) []byte { return zoo.KeyString(zoo.KeyString(k, "ab"), "c") }),
		key(func(k []byte) []byte { return zoo.KeyString(zoo.KeyString(k, ""), "abc") }),
		key(func(k []byte) []byte { return zoo.KeyString(k, "1") }),
		key(func(k []byte) []byte { return zoo.KeyInt(k, 1) }),
		key(func(k []byte) []byte { return zoo.KeyUint(k, 1) }),
		key(func(k []byte) []byte { return zoo.KeyInt(zoo.KeyInt(k, 12), 3) }),
		key(func(k []byte) []byte { return zoo.KeyInt(zoo.KeyInt(k, 1), 23) }),
		key(func(k []byte) []byte { return zoo.KeyFloat(k, 0) }),
		key(func(k []byte) []byte { return zoo.KeyFloat(k, negZero()) }),
		key(func(k []byte) []byte { return zoo.KeyBool(k, true) }),
		key(func(k []byte) []byte { return zoo.KeyBytes(k, []byte("1")) }),
		key(func(k []byte) []byte { return zoo.KeyNil(k) }),
		key(func(k []byte) []byte { return zoo.KeyInt(zoo.KeyPtr(k), 1) }),
		key(func(k []byte) []byte { return zoo.KeyLen(k, 0) }),
		key(func(k []byte) []byte { return zoo.KeyString(zoo.KeyLen(k, 1), "") }),
		key(func(k []byte) []byte { return zoo.KeyTime(k, time.Unix(1, 0)) }),
		key(func(k []byte) []byte { return zoo.KeyAny(k, map[string]int{"a": 1}) }),
	}
	seen := map[string]int{}
	for i, k := range distinct {
		if j, dup := seen[k]; dup {
			t.Errorf("keys %d and %d are both %q", j, i, k)
		}
		seen[k] = i
	}

	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, key(func(k []byte) []byte { return zoo.KeyTime(k, t0) }),
		key(func(k []byte) []byte { return zoo.KeyTime(k, t0.In(time.FixedZone("x", 7200))) }),
		"equal instants share a key")
	m := map[string]int{"b": 2, "a": 1, "c": 3}
	assert.Equal(t, key(func(k []byte) []byte { return zoo.KeyAny(k, m) }),
		key(func(k []byte) []byte { return zoo.KeyAny(k, map[string]int{"c": 3, "a": 1, "b": 2}) }),
		"map keys are sorted")
}

func negZero() float64 {
	z := 0.0
	return -z
}

// FuzzKeyInjective: two different argument lists never give one key.
func FuzzKeyInjective(f *testing.F) {
	f.Add("a:b", "c", int64(1), "a", "b:c", int64(1))
	f.Add("", "s1:x", int64(0), "s1:x", "", int64(0))
	f.Add("1", "", int64(-1), "1", "", int64(1))
	f.Fuzz(func(t *testing.T, a, b string, i int64, c, d string, j int64) {
		k1 := zoo.KeyInt(zoo.KeyString(zoo.KeyString(nil, a), b), i)
		k2 := zoo.KeyInt(zoo.KeyString(zoo.KeyString(nil, c), d), j)
		if (a == c && b == d && i == j) != (string(k1) == string(k2)) {
			t.Fatalf("(%q,%q,%d) -> %q, (%q,%q,%d) -> %q", a, b, i, k1, c, d, j, k2)
		}
	})
}

// FuzzTagInjective: every argument is exactly one segment, and different
// segment lists never give one tag.
func FuzzTagInjective(f *testing.F) {
	f.Add("a:b", "c", "a", "b:c")
	f.Add("%3A", "", ":", "")
	f.Add("a%", "b", "a", "%b")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		t1, t2 := zoo.Tag(a, b), zoo.Tag(c, d)
		if (a == c && b == d) != (t1 == t2) {
			t.Fatalf("(%q,%q) -> %q, (%q,%q) -> %q", a, b, t1, c, d, t2)
		}
		if n := strings.Count(t1, ":"); n != 1 {
			t.Fatalf("Tag(%q, %q) = %q has %d separators", a, b, t1, n)
		}
	})
}

func TestHitDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	m := productMethod(c)
	r := &repo{}
	_, err := r.getProduct(ctx, m, 1, 2, 3)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.getProduct(ctx, m, 1, 2, 3); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	require.NoError(t, c.Invalidate(ctx, "org:9")) // forces one walk of the tags
	allocs = testing.AllocsPerRun(1000, func() { _, _ = r.getProduct(ctx, m, 1, 2, 3) })
	assert.Zero(t, allocs, "after an invalidation too")
	assert.Equal(t, int64(1), r.loads.Load())
}
