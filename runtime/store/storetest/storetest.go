package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
)

// Run checks that the stores newStore makes keep the [store.Store] contract,
// and the [store.Shared] and [store.Locker] contracts if they implement them
// (the subtests of those are skipped otherwise).
// Each subtest calls newStore once, uses the store it gets and closes it when
// it ends; newStore may register its own clean-up with t.Cleanup, which runs
// after that Close. Subtests run one after the other (a server shared with
// other tests is loaded less so); the suite keeps no state outside them, so
// suites may run in parallel with each other.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"Miss", testMiss},
		{"RoundTrip", testRoundTrip},
		{"ValueKinds", testValueKinds},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"SetExpired", testSetExpired},
		{"SetExpiredRemovesOlder", testSetExpiredRemovesOlder},
		{"ZeroExpiresNeverExpires", testZeroExpires},
		{"BinaryKeys", testBinaryKeys},
		{"ReusedKeyBuffer", testReusedKeyBuffer},
		{"LargeValue", testLargeValue},
		{"Concurrent", testConcurrent},
		{"Close", testClose},
		{"Shared/Now", implementing[store.Shared](testSharedNow)},
		{"Shared/InvalidateVersion", implementing[store.Shared](testSharedInvalidateVersion)},
		{"Shared/GetFresh", implementing[store.Shared](testSharedGetFresh)},
		{"Shared/PruneKeepsInvalidations", implementing[store.Shared](testSharedPrune)},
		{"Locker/Exclusive", implementing[store.Locker](testLockerExclusive)},
		{"Checker/Check", implementing[checker](testChecker)},
		{"StaleReader/Retain", implementing[store.StaleReader](testStaleRetain)},
		{"StaleReader/Invalidated", implementing[staleShared](testStaleInvalidated)},
		{"Batcher/GetMany", implementing[batcher](testGetMany)},
		{"FreshBatcher/GetFreshMany", implementing[freshBatcher](testGetFreshMany)},
		{"BatchWriter/SetMany", implementing[batchWriter](testSetMany)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			require.NotNil(t, s, "newStore returned nil")
			t.Cleanup(func() {
				// The Close subtest has closed s already; a second Close
				// need not succeed, it only must not panic.
				err := s.Close()
				if tt.name != "Close" {
					assert.NoError(t, err, "Close")
				}
			})
			tt.test(t, s)
		})
	}
}

// item and sample are the values the suite stores: exported fields of the
// kinds repositories return, with a nested slice, a map and a time.
type item struct {
	SKU  string
	Qty  int
	Tags []string
}

type sample struct {
	ID      int64
	Name    string
	Price   float64
	Active  bool
	Items   []item
	Attrs   map[string]string
	Updated time.Time
	Blob    []byte
}

func newSample(id int64, name string) sample {
	return sample{
		ID:     id,
		Name:   name,
		Price:  12.75,
		Active: true,
		Items: []item{
			{SKU: "sku-1", Qty: 3, Tags: []string{"red", "xl"}},
			{SKU: "sku-\x00:2", Qty: -1, Tags: []string{"ünïcode"}},
		},
		Attrs:   map[string]string{"color": "blue", "k:ey": "v|al"},
		Updated: time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC),
		Blob:    []byte{0, 1, 2, 0xff},
	}
}

// key returns a key for t: keys of different subtests never collide, even
// on a server that several stores share.
func key(t *testing.T, name string) string { return t.Name() + "/" + name }

// stamp returns a timestamp for an entry set in s now: the store's own
// clock if it is shared (entries stamped before it began may count as
// stale, see store.Shared), the wall clock otherwise or once s is closed.
func stamp(t *testing.T, s store.Store) hlc.Timestamp {
	if sh, ok := s.(store.Shared); ok {
		if v, err := sh.Now(t.Context()); err == nil {
			return v
		}
	}
	return hlc.New(time.Now().UnixMilli(), 7)
}

// newEntry returns an entry for s that expires an hour from now, with an
// expiry that is not a whole number of milliseconds.
func newEntry(t *testing.T, s store.Store, value any, tags ...string) *store.Entry {
	now := time.Now()
	return &store.Entry{
		Value:   value,
		AsOf:    stamp(t, s),
		Expires: now.Add(time.Hour + 123456*time.Nanosecond),
		Tags:    tags,
	}
}

// decoder is what a byte store's Value (a codec.Raw) has: a method that
// decodes it into a Go value.
type decoder interface{ Decode(v any) error }

// decodedAs returns got, decoded into a new value of want's type if it is a
// decoder.
func decodedAs(want, got any) (any, error) {
	d, ok := got.(decoder)
	if !ok || want == nil {
		return got, nil
	}
	p := reflect.New(reflect.TypeOf(want))
	if err := d.Decode(p.Interface()); err != nil {
		return nil, fmt.Errorf("decoding the stored value as %T: %w", want, err)
	}
	return p.Elem().Interface(), nil
}

// checkEntry reports how got differs from the entry want that was set, or
// nil. Expires is compared at millisecond precision, which byte stores keep;
// nil and empty Tags are the same.
func checkEntry(want, got *store.Entry) error {
	if got == nil {
		return errors.New("got no entry, want one")
	}
	value, err := decodedAs(want.Value, got.Value)
	if err != nil {
		return err
	}
	if err := checkValue(want.Value, value); err != nil {
		return err
	}
	if got.AsOf != want.AsOf {
		return fmt.Errorf("entry AsOf = %v, want %v", got.AsOf, want.AsOf)
	}
	switch {
	case want.Expires.IsZero():
		if !got.Expires.IsZero() {
			return fmt.Errorf("entry Expires = %v, want the zero time (never)", got.Expires)
		}
	case got.Expires.UnixMilli() != want.Expires.UnixMilli():
		return fmt.Errorf("entry Expires = %v, want %v (at millisecond precision)", got.Expires, want.Expires)
	}
	if len(want.Tags) != 0 || len(got.Tags) != 0 {
		if !reflect.DeepEqual(got.Tags, want.Tags) {
			return fmt.Errorf("entry Tags = %q, want %q", got.Tags, want.Tags)
		}
	}
	return nil
}

// checkValue compares values, samples with their times compared by
// time.Time.Equal (a decoded time may differ in location and monotonic
// reading).
func checkValue(want, got any) error {
	switch w := want.(type) {
	case sample:
		g, ok := got.(sample)
		if !ok {
			return fmt.Errorf("entry Value is a %T, want a %T", got, want)
		}
		return checkSample(w, g)
	case *sample:
		g, ok := got.(*sample)
		if !ok {
			return fmt.Errorf("entry Value is a %T, want a %T", got, want)
		}
		if w == nil || g == nil {
			if w != g {
				return fmt.Errorf("entry Value = %v, want %v", g, w)
			}
			return nil
		}
		return checkSample(*w, *g)
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("entry Value = %#v, want %#v", got, want)
	}
	return nil
}

func checkSample(want, got sample) error {
	if !got.Updated.Equal(want.Updated) {
		return fmt.Errorf("entry Value.Updated = %v, want %v", got.Updated, want.Updated)
	}
	got.Updated, want.Updated = time.Time{}, time.Time{}
	if !reflect.DeepEqual(want, got) {
		if len(want.Blob) > 64 || len(got.Blob) > 64 {
			return fmt.Errorf("entry Value differs (Blob: %d bytes, want %d)", len(got.Blob), len(want.Blob))
		}
		return fmt.Errorf("entry Value = %#v, want %#v", got, want)
	}
	return nil
}

func requireEntry(t *testing.T, want, got *store.Entry) {
	t.Helper()
	require.NoError(t, checkEntry(want, got))
}

func requireGet(t *testing.T, s store.Store, key string, want *store.Entry) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	require.NoError(t, err, "Get(%q)", key)
	requireEntry(t, want, got)
}

func requireMiss(t *testing.T, s store.Store, key string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	require.NoError(t, err, "Get(%q)", key)
	require.Nil(t, got, "Get(%q): want a miss", key)
}

func requireSet(t *testing.T, s store.Store, key string, e *store.Entry) {
	t.Helper()
	require.NoError(t, s.Set(t.Context(), key, e), "Set(%q)", key)
}

// testMiss: Get of a key never set returns nil and a nil error.
func testMiss(t *testing.T, s store.Store) {
	requireMiss(t, s, key(t, "absent"))
}

// testRoundTrip: every field of an entry comes back from Get.
func testRoundTrip(t *testing.T, s store.Store) {
	k := key(t, "product:1")
	want := newEntry(t, s, newSample(1, "Ünïcode \x00 name"), "org:1:store:2:product:1", `product:a\:b`, "featured", "bytes:\x00\xff")
	requireSet(t, s, k, want)
	requireGet(t, s, k, want)
	// Reads do not consume the entry.
	requireGet(t, s, k, want)
}

// testValueKinds: values of the shapes cached methods return round-trip.
func testValueKinds(t *testing.T, s store.Store) {
	p := newSample(2, "pointer")
	values := []struct {
		name  string
		value any
	}{
		{"int", 42},
		{"int64", int64(-1) << 40},
		{"string", "héllo\x00wörld"},
		{"bool", true},
		{"float64", 3.5},
		{"strings", []string{"a", "b:c", ""}},
		{"map", map[string]int{"a": 1, "b:c": 2}},
		{"structs", []item{{SKU: "x", Qty: 1, Tags: []string{"t"}}, {SKU: "y", Qty: 2, Tags: []string{"u", "v"}}}},
		{"struct", newSample(3, "value")},
		{"pointer", &p},
	}
	for _, v := range values {
		want := newEntry(t, s, v.value)
		requireSet(t, s, key(t, v.name), want)
		got, err := s.Get(t.Context(), key(t, v.name))
		require.NoError(t, err, v.name)
		require.NoError(t, checkEntry(want, got), v.name)
	}
}

// testOverwrite: a Set replaces every field of the entry under its key,
// including an expiry the new entry does not have.
func testOverwrite(t *testing.T, s store.Store) {
	k := key(t, "k")
	first := newEntry(t, s, newSample(1, "first"), "a", "b")
	requireSet(t, s, k, first)

	second := &store.Entry{Value: newSample(2, "second"), AsOf: first.AsOf + 1}
	requireSet(t, s, k, second)
	requireGet(t, s, k, second)

	third := newEntry(t, s, newSample(3, "third"), "c")
	requireSet(t, s, k, third)
	requireGet(t, s, k, third)
}

// testDelete: Delete removes the entry, and the key can be set again.
func testDelete(t *testing.T, s store.Store) {
	k, other := key(t, "k"), key(t, "other")
	e, o := newEntry(t, s, newSample(1, "k"), "t"), newEntry(t, s, newSample(2, "other"))
	requireSet(t, s, k, e)
	requireSet(t, s, other, o)

	require.NoError(t, s.Delete(t.Context(), k))
	requireMiss(t, s, k)
	requireGet(t, s, other, o)

	again := newEntry(t, s, newSample(3, "again"))
	requireSet(t, s, k, again)
	requireGet(t, s, k, again)
}

// testDeleteMissing: deleting a key that holds nothing is not an error.
func testDeleteMissing(t *testing.T, s store.Store) {
	require.NoError(t, s.Delete(t.Context(), key(t, "absent")))
	k := key(t, "twice")
	requireSet(t, s, k, newEntry(t, s, 1))
	require.NoError(t, s.Delete(t.Context(), k))
	require.NoError(t, s.Delete(t.Context(), k))
	requireMiss(t, s, k)
}

// testSetExpired: an entry whose Expires has passed is never returned.
func testSetExpired(t *testing.T, s store.Store) {
	past := key(t, "past")
	e := newEntry(t, s, newSample(1, "past"))
	e.Expires = time.Now().Add(-time.Minute)
	requireSet(t, s, past, e)
	requireMiss(t, s, past)

	now := key(t, "now")
	e = newEntry(t, s, newSample(2, "now"))
	e.Expires = time.Now()
	requireSet(t, s, now, e)
	requireMiss(t, s, now)
}

// testSetExpiredRemovesOlder: setting an expired entry over a live one leaves
// neither to be returned.
func testSetExpiredRemovesOlder(t *testing.T, s store.Store) {
	k := key(t, "k")
	requireSet(t, s, k, newEntry(t, s, newSample(1, "live")))
	e := newEntry(t, s, newSample(2, "expired"))
	e.Expires = time.Now().Add(-time.Minute)
	requireSet(t, s, k, e)
	requireMiss(t, s, k)
}

// testZeroExpires: the zero Expires means never, and comes back as zero; an
// expiry far in the future is kept too.
func testZeroExpires(t *testing.T, s store.Store) {
	never := key(t, "never")
	e := newEntry(t, s, newSample(1, "never"), "t")
	e.Expires = time.Time{}
	requireSet(t, s, never, e)
	requireGet(t, s, never, e)

	far := key(t, "far")
	f := newEntry(t, s, newSample(2, "far"))
	f.Expires = time.Now().AddDate(100, 0, 0)
	requireSet(t, s, far, f)
	requireGet(t, s, far, f)
}

// testBinaryKeys: keys are arbitrary bytes; keys that differ in any byte,
// or are prefixes of one another, address different entries.
func testBinaryKeys(t *testing.T, s store.Store) {
	names := []string{
		"\x00",
		"\x00\x00",
		"a",
		"a\x00",
		"a\x00b",
		"a:b",
		"a|b",
		`a\:b`,
		"a b",
		"ключ🔑",
		"\xff\xfe\x80",
		strings.Repeat("k", 1024),
		strings.Repeat("k", 1023) + "\x00",
	}
	entries := make([]*store.Entry, len(names))
	for i, n := range names {
		entries[i] = newEntry(t, s, i, n)
		requireSet(t, s, key(t, n), entries[i])
	}
	for i, n := range names {
		requireGet(t, s, key(t, n), entries[i])
	}
	require.NoError(t, s.Delete(t.Context(), key(t, "a")))
	requireMiss(t, s, key(t, "a"))
	for i, n := range names {
		if n != "a" {
			requireGet(t, s, key(t, n), entries[i])
		}
	}
}

// testReusedKeyBuffer: the key given to Get and Delete may live in a buffer
// the caller overwrites once the call returns (the cache builds keys so);
// the store must not keep it. Set's key is a stable string.
func testReusedKeyBuffer(t *testing.T, s store.Store) {
	a, b, c := key(t, "buf-a"), key(t, "buf-b"), key(t, "buf-c")
	ea, eb, ec := newEntry(t, s, newSample(1, "a")), newEntry(t, s, newSample(2, "b")), newEntry(t, s, newSample(3, "c"))
	requireSet(t, s, a, ea)
	requireSet(t, s, b, eb)

	buf := []byte(a)
	k := unsafe.String(unsafe.SliceData(buf), len(buf))
	scribble := func() {
		for i := range buf {
			buf[i] = 0xff
		}
	}

	requireGet(t, s, k, ea)
	copy(buf, b)
	requireGet(t, s, k, eb)
	copy(buf, c) // a miss must not remember its key either
	requireMiss(t, s, k)
	scribble()
	requireGet(t, s, a, ea)
	requireGet(t, s, b, eb)
	requireMiss(t, s, c)

	requireSet(t, s, c, ec)
	copy(buf, c)
	requireGet(t, s, k, ec)

	copy(buf, a)
	require.NoError(t, s.Delete(t.Context(), k))
	scribble()
	requireMiss(t, s, a)
	requireGet(t, s, b, eb)
	requireGet(t, s, c, ec)
}

// testLargeValue: a 1 MiB value round-trips.
func testLargeValue(t *testing.T, s store.Store) {
	v := newSample(1, "large")
	v.Blob = make([]byte, 1<<20)
	for i := range v.Blob {
		v.Blob[i] = byte(i*31 + i>>8)
	}
	k := key(t, "large")
	want := newEntry(t, s, v, "big")
	requireSet(t, s, k, want)
	requireGet(t, s, k, want)
}

// testConcurrent: goroutines get, set and delete a few keys at once. Every
// Get returns nothing or an entry exactly as one of the writers set it. Run
// with the race detector.
func testConcurrent(t *testing.T, s store.Store) {
	const (
		workers = 8
		ops     = 300
	)
	keys := []string{key(t, "k0"), key(t, "k1"), key(t, "k2"), key(t, "k3")}
	base := max(time.Now().UnixMilli(), stamp(t, s).Wall()+1)
	// entryOf builds the entry that worker w sets as its seq-th write to
	// key i; checkGot rebuilds it from the value read back.
	entryOf := func(i, w, seq int) *store.Entry {
		v := newSample(int64(i)<<40|int64(w)<<20|int64(seq), keys[i])
		v.Items[0].Qty = seq
		v.Attrs["worker"] = fmt.Sprint(w)
		return &store.Entry{
			Value:   v,
			AsOf:    hlc.New(base+int64(seq), uint16(w)),
			Expires: time.UnixMilli(base + int64(time.Hour/time.Millisecond) + int64(seq)),
			Tags:    []string{keys[i], fmt.Sprintf("worker:%d", w)},
		}
	}
	checkGot := func(i int, got *store.Entry) error {
		if got == nil {
			return nil
		}
		v, err := decodedAs(sample{}, got.Value)
		if err != nil {
			return err
		}
		sv, ok := v.(sample)
		if !ok {
			return fmt.Errorf("entry Value is a %T, want a sample", v)
		}
		gi, w, seq := int(sv.ID>>40), int(sv.ID>>20&(1<<20-1)), int(sv.ID&(1<<20-1))
		if gi != i {
			return fmt.Errorf("Get(%q) returned the entry of %q", keys[i], keys[gi])
		}
		return checkEntry(entryOf(i, w, seq), got)
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := t.Context()
			for seq := range ops {
				i := (w + seq) % len(keys)
				switch seq % 5 {
				case 0, 1, 2:
					got, err := s.Get(ctx, keys[i])
					if !assert.NoError(t, err, "Get") {
						return
					}
					if !assert.NoError(t, checkGot(i, got), "worker %d, op %d", w, seq) {
						return
					}
				case 3:
					if !assert.NoError(t, s.Set(ctx, keys[i], entryOf(i, w, seq)), "Set") {
						return
					}
				case 4:
					if !assert.NoError(t, s.Delete(ctx, keys[i]), "Delete") {
						return
					}
				}
			}
		})
	}
	wg.Wait()

	for i, k := range keys {
		got, err := s.Get(t.Context(), k)
		require.NoError(t, err)
		require.NoError(t, checkGot(i, got))
	}
}

// testClose: after Close, every method fails with an error wrapping
// store.ErrClosed, and a second Close does not panic.
func testClose(t *testing.T, s store.Store) {
	k := key(t, "k")
	requireSet(t, s, k, newEntry(t, s, 1))
	require.NoError(t, s.Close())

	require.NotPanics(t, func() {
		got, err := s.Get(t.Context(), k)
		require.ErrorIs(t, err, store.ErrClosed, "Get after Close")
		require.Nil(t, got, "Get after Close")
		require.ErrorIs(t, s.Set(t.Context(), k, newEntry(t, s, 2)), store.ErrClosed, "Set after Close")
		require.ErrorIs(t, s.Delete(t.Context(), k), store.ErrClosed, "Delete after Close")
	})
	require.NotPanics(t, func() { _ = s.Close() }, "second Close")
}

// implementing adapts a test of the contract of interface I (store.Shared,
// store.Locker), skipped for a store that does not implement I.
func implementing[I any](test func(t *testing.T, s I)) func(t *testing.T, s store.Store) {
	return func(t *testing.T, s store.Store) {
		x, ok := s.(I)
		if !ok {
			t.Skipf("%T is not a %v", s, reflect.TypeFor[I]())
		}
		test(t, x)
	}
}

func requireNow(t *testing.T, s store.Shared) hlc.Timestamp {
	t.Helper()
	v, err := s.Now(t.Context())
	require.NoError(t, err, "Now")
	return v
}

func requireInvalidate(t *testing.T, s store.Shared, min hlc.Timestamp, tags ...string) hlc.Timestamp {
	t.Helper()
	v, err := s.Invalidate(t.Context(), tags, min)
	require.NoError(t, err, "Invalidate(%q, %v)", tags, min)
	return v
}

// requireFresh checks that GetFresh returns want, or a miss if want is nil.
func requireFresh(t *testing.T, s store.Shared, key string, want *store.Entry) {
	t.Helper()
	got, err := s.GetFresh(t.Context(), key)
	require.NoError(t, err, "GetFresh(%q)", key)
	if want == nil {
		require.Nil(t, got, "GetFresh(%q): want a miss (stale)", key)
		return
	}
	requireEntry(t, want, got)
}

// testSharedNow: the store's clock never goes back.
func testSharedNow(t *testing.T, s store.Shared) {
	prev := requireNow(t, s)
	require.NotZero(t, prev, "Now")
	for range 100 {
		v := requireNow(t, s)
		require.GreaterOrEqual(t, v, prev, "Now went back")
		prev = v
	}
}

// testSharedInvalidateVersion: an invalidation's version is later than
// every timestamp Now returned before it and than min, and Now returns
// nothing earlier afterwards.
func testSharedInvalidateVersion(t *testing.T, s store.Shared) {
	before := requireNow(t, s)
	v := requireInvalidate(t, s, 0, key(t, "a"))
	require.Greater(t, v, before, "Invalidate's version is not after Now's")
	require.GreaterOrEqual(t, requireNow(t, s), v, "Now after Invalidate is earlier than its version")

	min := hlc.New(v.Wall()+50, 3) // a little ahead of the store's clock
	w := requireInvalidate(t, s, min, key(t, "b"), key(t, "c"))
	require.Greater(t, w, min, "Invalidate's version is not after min")
	require.GreaterOrEqual(t, requireNow(t, s), w, "Now after Invalidate is earlier than its version")
}

// testSharedGetFresh: GetFresh misses an entry once a tag on the path of
// one of its tags (the tag itself or a prefix of it) is invalidated, and
// keeps returning entries no invalidation reaches; an entry stamped after
// the invalidation is fresh.
func testSharedGetFresh(t *testing.T, s store.Shared) {
	org := key(t, "org")
	product := newEntry(t, s, newSample(1, "product"), org+":1:store:2:product:3", "featured")
	other := newEntry(t, s, newSample(2, "other"), org+":2:store:2")
	parent := newEntry(t, s, newSample(3, "parent"), org+":3")
	requireSet(t, s, key(t, "product"), product)
	requireSet(t, s, key(t, "other"), other)
	requireSet(t, s, key(t, "parent"), parent)
	requireFresh(t, s, key(t, "product"), product)
	requireFresh(t, s, key(t, "missing"), nil)

	requireInvalidate(t, s, 0, org+":1")
	requireInvalidate(t, s, 0, org+":3:store:9") // below parent's tag: not on its path
	requireFresh(t, s, key(t, "product"), nil)
	requireFresh(t, s, key(t, "other"), other)
	requireFresh(t, s, key(t, "parent"), parent)

	again := newEntry(t, s, newSample(4, "reloaded"), org+":1:store:2:product:3")
	requireSet(t, s, key(t, "product"), again)
	requireFresh(t, s, key(t, "product"), again)

	requireInvalidate(t, s, 0, org+":2:store:2")
	requireFresh(t, s, key(t, "other"), nil)
}

// testSharedPrune: pruning never makes an invalidated entry fresh again,
// and keeps an entry loaded after the last invalidation fresh while it is
// younger than maxAge.
func testSharedPrune(t *testing.T, s store.Shared) {
	tag := key(t, "tag")
	stale := newEntry(t, s, newSample(1, "stale"), tag)
	requireSet(t, s, key(t, "stale"), stale)
	requireInvalidate(t, s, 0, tag)
	fresh := newEntry(t, s, newSample(2, "fresh"), tag)
	requireSet(t, s, key(t, "fresh"), fresh)

	require.NoError(t, s.Prune(t.Context(), time.Hour), "Prune(1h)")
	requireFresh(t, s, key(t, "stale"), nil)
	requireFresh(t, s, key(t, "fresh"), fresh)

	require.NoError(t, s.Prune(t.Context(), 0), "Prune(0)")
	requireFresh(t, s, key(t, "stale"), nil)
}

// checker is a shared store that can confirm copies of its entries.
type checker interface {
	store.Shared
	store.Checker
}

// testChecker: a copy of an entry is confirmed while the store holds that
// entry and no invalidation of a path of its tags, nor the horizon, is
// later than its asOf.
func testChecker(t *testing.T, s checker) {
	ctx := t.Context()
	k := key(t, "k")
	expires := time.Now().Add(time.Hour)
	set := func(tags ...string) *store.Entry {
		// Each entry stored again expires later: a store may tell copies
		// apart by their expiry, to the millisecond.
		expires = expires.Add(time.Millisecond)
		requireSet(t, s, k, &store.Entry{Value: "v", AsOf: requireNow(t, s), Expires: expires, Tags: tags})
		e, err := s.GetFresh(ctx, k)
		require.NoError(t, err, "GetFresh")
		require.NotNil(t, e, "GetFresh of what was just set")
		return e
	}
	check := func(e *store.Entry) bool {
		t.Helper()
		ok, err := s.Check(ctx, k, e)
		require.NoError(t, err, "Check")
		return ok
	}
	org, user := key(t, "org"), key(t, "user")

	e := set(org+":1:store:2", user+":7")
	assert.True(t, check(e))
	requireInvalidate(t, s, 0, org+":1:store:3", org+":2", user+":77")
	assert.True(t, check(e), "siblings' invalidations")
	requireInvalidate(t, s, 0, user+":7")
	assert.False(t, check(e), "the second tag's invalidation")

	e = set(org + ":1:store:2")
	requireInvalidate(t, s, 0, org+":1")
	assert.False(t, check(e), "an ancestor's invalidation")

	e = set(org + ":1:store:2")
	// Past the store's clock resolution and any lease its versions may be
	// ahead by (LMDB's is a few milliseconds), so that the horizon passes e.
	time.Sleep(30 * time.Millisecond)
	require.NoError(t, s.Prune(ctx, 0), "Prune(0)")
	assert.False(t, check(e), "loaded before the horizon")

	e = set(org + ":1:store:2")
	time.Sleep(2 * time.Millisecond) // a later asOf
	later := set(org + ":1:store:2")
	assert.False(t, check(e), "the entry was stored again")
	assert.True(t, check(later))

	e = set()
	assert.True(t, check(e), "no tags")
	require.NoError(t, s.Delete(ctx, k), "Delete")
	assert.False(t, check(e), "deleted")
}

// testLockerExclusive: one process at a time holds a key's lock; unlock
// releases it, and locks of other keys are independent.
func testLockerExclusive(t *testing.T, s store.Locker) {
	ctx := t.Context()
	k := key(t, "k")
	unlock, ok, err := s.Lock(ctx, k, time.Minute)
	require.NoError(t, err, "Lock")
	require.True(t, ok, "Lock of a free key")

	_, ok, err = s.Lock(ctx, k, time.Minute)
	require.NoError(t, err, "Lock of a held key")
	require.False(t, ok, "Lock of a held key succeeded")

	unlockOther, ok, err := s.Lock(ctx, key(t, "other"), time.Minute)
	require.NoError(t, err, "Lock")
	require.True(t, ok, "Lock of another key")
	unlockOther()

	unlock()
	unlock, ok, err = s.Lock(ctx, k, time.Minute)
	require.NoError(t, err, "Lock after unlock")
	require.True(t, ok, "Lock after unlock")
	unlock()
}

// testStaleRetain: an entry past its Expires and before its Retain is
// stored, missed by Get and returned by GetStale; one past both is neither;
// without a Retain an expired entry is gone for GetStale too.
func testStaleRetain(t *testing.T, s store.StaleReader) {
	st := s.(store.Store)
	kept := key(t, "kept")
	e := newEntry(t, st, newSample(1, "kept"), "org:1:product:2")
	e.Expires = time.Now().Add(-time.Minute)
	e.Retain = time.Now().Add(time.Hour)
	requireSet(t, st, kept, e)
	requireMiss(t, st, kept)
	got, err := s.GetStale(t.Context(), kept)
	require.NoError(t, err, "GetStale(%q)", kept)
	requireEntry(t, e, got)

	live := key(t, "live")
	l := newEntry(t, st, newSample(2, "live"))
	l.Retain = l.Expires.Add(time.Hour)
	requireSet(t, st, live, l)
	requireGet(t, st, live, l)
	got, err = s.GetStale(t.Context(), live)
	require.NoError(t, err, "GetStale(%q)", live)
	requireEntry(t, l, got)

	gone := key(t, "gone")
	g := newEntry(t, st, newSample(3, "gone"))
	g.Expires = time.Now().Add(-time.Hour)
	g.Retain = time.Now().Add(-time.Minute)
	requireSet(t, st, gone, g)
	got, err = s.GetStale(t.Context(), gone)
	require.NoError(t, err, "GetStale(%q)", gone)
	require.Nil(t, got, "GetStale returned an entry past its Retain")

	plain := key(t, "plain")
	p := newEntry(t, st, newSample(4, "plain"))
	p.Expires = time.Now().Add(-time.Minute)
	requireSet(t, st, plain, p)
	got, err = s.GetStale(t.Context(), plain)
	require.NoError(t, err, "GetStale(%q)", plain)
	require.Nil(t, got, "GetStale returned an expired entry with no Retain")

	missing := key(t, "missing")
	got, err = s.GetStale(t.Context(), missing)
	require.NoError(t, err, "GetStale(%q)", missing)
	require.Nil(t, got, "GetStale of a key never set")
}

// staleShared is a shared store that keeps entries past their Expires.
type staleShared interface {
	store.Shared
	store.StaleReader
}

// testStaleInvalidated: a shared store's GetStale never returns an entry an
// invalidation recorded in the store makes stale, expired or not.
func testStaleInvalidated(t *testing.T, s staleShared) {
	k := key(t, "product")
	e := newEntry(t, s, newSample(1, "old"), "org:1:product:2")
	e.Expires = time.Now().Add(-time.Minute)
	e.Retain = time.Now().Add(time.Hour)
	requireSet(t, s, k, e)
	got, err := s.GetStale(t.Context(), k)
	require.NoError(t, err, "GetStale(%q)", k)
	requireEntry(t, e, got)
	requireInvalidate(t, s, 0, "org:1")
	got, err = s.GetStale(t.Context(), k)
	require.NoError(t, err, "GetStale(%q)", k)
	require.Nil(t, got, "GetStale returned an entry invalidated through a prefix of its tag")
}
