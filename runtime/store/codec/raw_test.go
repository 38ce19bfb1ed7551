package codec

import (
	"bytes"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/zoogen/zoogen/runtime/store"
)

func TestRawDecodeErrors(t *testing.T) {
	valid := mustEncodeValue(t, sampleProduct())
	tests := []struct {
		name string
		raw  Raw
		into any
	}{
		{"empty", Raw{}, new(any)},
		{"nil", nil, new(any)},
		{"truncated", valid[:len(valid)-1], new(product)},
		{"trailing", append(bytes.Clone(valid), 0x00), new(product)},
		{"wrong type", mustEncodeValue(t, "x"), new(int)},
		{"struct into int", valid, new(int)},
		{"not a pointer", valid, product{}},
		{"nil pointer", valid, (*product)(nil)},
		{"invalid code", Raw{0xc1}, new(any)},
		// msgpack panics decoding the second "A" into the float32 it
		// stored in the interface field the first time.
		{"repeated key into an interface field", Raw{0x82, 0xa1, 'A', 0xca, 0, 0, 0, 0, 0xa1, 'A', 0xca, 0, 0, 0, 0}, new(struct{ A any })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.raw.Decode(tt.into)
			require.ErrorIs(t, err, store.ErrCorrupt)
			assert.True(t, strings.HasPrefix(err.Error(), "zoo: corrupt entry: codec: value: "), "%q", err)
		})
	}
}

func TestEncodeValue(t *testing.T) {
	r := mustEncodeValue(t, []int{1, 2})
	assert.Equal(t, Raw{0x92, 0x01, 0x02}, r)

	same, err := EncodeValue(r)
	require.NoError(t, err)
	assert.Same(t, &r[0], &same[0], "a Raw is returned as is")

	want, err := msgpack.Marshal(sampleProduct())
	require.NoError(t, err)
	got := mustEncodeValue(t, sampleProduct())
	var a, b product
	require.NoError(t, msgpack.Unmarshal(want, &a))
	require.NoError(t, got.Decode(&b))
	assert.Equal(t, a, b)

	_, err = EncodeValue(func() {})
	require.Error(t, err)
	assert.NotErrorIs(t, err, store.ErrCorrupt)
}

func TestRawDecodeAwkwardTimes(t *testing.T) {
	// Extension payloads that start with a map or nil code decode wherever a
	// time belongs (see guardedReader).
	type withTimes struct {
		At    time.Time
		ByKey map[string]time.Time
		List  []any
	}
	want := withTimes{At: awkwardTimes[0], ByKey: map[string]time.Time{}}
	for i, tm := range awkwardTimes {
		want.ByKey[strings.Repeat("k", i+1)] = tm
		want.List = append(want.List, tm)
	}
	var got withTimes
	require.NoError(t, mustEncodeValue(t, want).Decode(&got))
	assert.Equal(t, want, got)
}

func TestScanAcceptsEveryKind(t *testing.T) {
	values := []any{
		nil, true, false,
		0, 127, -1, -32, -33, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, uint64(math.MaxUint64),
		math.MinInt8, math.MinInt16, math.MinInt32, int64(math.MinInt64),
		float32(1.5), 2.5,
		"", strings.Repeat("s", 31), strings.Repeat("s", 32), strings.Repeat("s", 255), strings.Repeat("s", 256),
		strings.Repeat("s", 65535), strings.Repeat("s", 65536),
		[]byte{}, make([]byte, 255), make([]byte, 256), make([]byte, 65536),
		[]int{}, make([]int, 15), make([]int, 16), make([]int, 65536),
		map[string]int{}, bigMap(15), bigMap(16), bigMap(65536),
		awkwardTimes,
		[]any{map[string]any{"a": []any{nil, map[string]any{}}}, []any{}},
		sampleProduct(), largeProduct(),
	}
	for _, v := range values {
		b := mustEncodeValue(t, v)
		require.NoError(t, scan(b, nil), "%T % x", v, b[:min(len(b), 16)])
		require.Error(t, scan(b[:len(b)-1], nil), "%T truncated", v)
		require.Error(t, scan(append(bytes.Clone(b), 0), nil), "%T with a trailing byte", v)
	}

	// Extensions, empty and not, through msgpack's RawMessage.
	for _, ext := range [][]byte{
		{0xd4, 1, 0}, {0xd5, 1, 0, 0}, {0xd6, 1, 0, 0, 0, 0}, {0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		append([]byte{0xd8, 1}, make([]byte, 16)...),
		{0xc7, 0, 1}, {0xc7, 1, 1, 0}, {0xc8, 0, 1, 1, 0}, {0xc9, 0, 0, 0, 1, 1, 0},
	} {
		require.NoError(t, scan(ext, nil), "% x", ext)
		require.Error(t, scan(ext[:len(ext)-1], nil), "% x truncated", ext)
	}

	depth := func(n int) []byte { return append(bytes.Repeat([]byte{0x91}, n-1), 0x90) }
	require.NoError(t, scan(depth(maxDepth), nil))
	require.Error(t, scan(depth(maxDepth+1), nil))
}

func bigMap(n int) map[int]int {
	m := make(map[int]int, n)
	for i := range n {
		m[i] = i
	}
	return m
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

type (
	withMap     struct{ M map[string][]int64 }
	withAnyMap  struct{ M map[string]any }
	withStrings struct{ M map[string]string }
)

var max32 = []byte{0x7f, 0xff, 0xff, 0xff}

// hostileValues are MessagePack values with lengths out of proportion to
// their size. Without scan and guardedReader, decoding each of them into
// what into returns makes msgpack allocate gigabytes (or crash with "out of
// memory") before it finds out that the input is short.
var hostileValues = []struct {
	name       string
	in         []byte
	into       func() any
	wellFormed bool
}{
	{"array32 into []int64", append([]byte{0xdd}, max32...), func() any { return new([]int64) }, false},
	{"array32 into []any", append([]byte{0xdd}, max32...), func() any { return new([]any) }, false},
	{"array32 into any", append([]byte{0xdd}, max32...), func() any { return new(any) }, false},
	{"array32 into []string", append([]byte{0xdd}, max32...), func() any { return new([]string) }, false},
	{"nested array32", append([]byte{0x91, 0xdd}, max32...), func() any { return new([][]int64) }, false},
	{"bin32 into []byte", append([]byte{0xc6}, max32...), func() any { return new([]byte) }, false},
	{"bin32 into any", append([]byte{0xc6}, max32...), func() any { return new(any) }, false},
	{"str32 into string", append([]byte{0xdb}, max32...), func() any { return new(string) }, false},
	{"map32 into map[string]any", append([]byte{0xdf}, max32...), func() any { return new(map[string]any) }, false},
	{"map32 into map[int]string", append([]byte{0xdf}, max32...), func() any { return new(map[int]string) }, false},
	{"map32 into any", append([]byte{0xdf}, max32...), func() any { return new(any) }, false},
	{"map32 into struct", append([]byte{0xdf}, max32...), func() any { return new(product) }, false},
	{"ext32", append(append([]byte{0xc9}, max32...), 0xff), func() any { return new(time.Time) }, false},
	{
		// An extension where a map belongs: msgpack skips its header
		// and reads a map, then an array of 2^31-1 int64, from its
		// payload, which scan took for opaque bytes.
		"extension instead of a map",
		[]byte{0x81, 0xa1, 'M', 0xc7, 12, 0xff, 0xdf, 0, 0, 0, 1, 0xa1, 'k', 0xdd, 0x7f, 0xff, 0xff, 0xff},
		func() any { return new(withMap) },
		true,
	},
	{
		"time extension instead of a map",
		[]byte{0x81, 0xa1, 'M', 0xd7, 0xff, 0x81, 0xa1, 'k', 0xdf, 0x7f, 0xff, 0xff, 0xff},
		func() any { return new(withAnyMap) },
		true,
	},
	{
		"fixext instead of a map of strings",
		[]byte{0x81, 0xa1, 'M', 0xd7, 0xff, 0x81, 0xa1, 'k', 0xdb, 0x7f, 0xff, 0xff, 0xff},
		func() any { return new(withStrings) },
		true,
	},
}

func TestHostileLengths(t *testing.T) {
	for _, tt := range hostileValues {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { err = Raw(tt.in).Decode(tt.into()) })
			require.ErrorIs(t, err, store.ErrCorrupt)
			assert.Less(t, n, uint64(64<<10), "allocated %d bytes", n)
			t.Log(err)

			// Framed as an entry, Decode refuses the body as well, unless
			// the value is well-formed: Decode does not look into it.
			in := frame(append([]byte{0x94, 0x00, 0x00, 0x90}, tt.in...)...)
			n = allocated(func() { _, err = Codec{}.Decode(in) })
			if tt.wellFormed {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, store.ErrCorrupt)
			}
			assert.Less(t, n, uint64(64<<10), "allocated %d bytes", n)
		})
	}
}

func TestDecodeBoundsLZ4Allocation(t *testing.T) {
	body := []byte{0x94, 0x00, 0x00, 0x90, 0x00}
	in := frameLZ4(DefaultMaxSize, body)
	var err error
	n := allocated(func() { _, err = Codec{}.Decode(in) })
	require.ErrorIs(t, err, store.ErrCorrupt)
	assert.Less(t, n, uint64(64<<10), "allocated %d bytes", n)
}
