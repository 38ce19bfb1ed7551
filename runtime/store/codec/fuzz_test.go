package codec

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/zoogen/zoogen/runtime/store"
)

// fuzzEntries are the entries whose encodings seed FuzzDecode.
func fuzzEntries(t testing.TB) []*store.Entry {
	return []*store.Entry{
		{Value: "v", AsOf: 1, Tags: []string{"t"}},
		{Value: nil},
		{Value: sampleProduct(), AsOf: 1 << 40, Expires: time.Unix(1_800_000_000, 5), Tags: []string{"org:1:store:2", "featured"}},
		{Value: largeProduct(), AsOf: 3, Tags: []string{"a"}},
		{Value: strings.Repeat("abc", 300), Expires: time.Unix(0, -7)},
		{Value: mustEncodeValue(t, map[string]any{"k": []any{1, "x", nil}})},
		{Value: randomBytes(700)},
	}
}

// corruptions returns damaged variants of an encoded entry b.
func corruptions(b []byte) [][]byte {
	out := [][]byte{
		b[:len(b)-1],
		b[:len(b)/2],
		b[:headerLen],
		append(bytes.Clone(b), 0),
	}
	for _, i := range []int{0, 2, 3, 4, 5, len(b) / 2, len(b) - 1} {
		c := bytes.Clone(b)
		c[i] ^= 0x41
		out = append(out, c)
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, e := range fuzzEntries(f) {
		for _, c := range []Codec{{}, {CompressAbove: -1}, {CompressAbove: 1}} {
			b, err := c.Encode(e)
			require.NoError(f, err)
			f.Add(b)
			for _, bad := range corruptions(b) {
				f.Add(bad)
			}
		}
	}
	for _, h := range hostileValues {
		f.Add(frame(append([]byte{0x94, 0x00, 0x00, 0x90}, h.in...)...))
	}
	f.Add(frameLZ4(DefaultMaxSize, []byte{0x94, 0x00, 0x00, 0x90, 0x00}))

	f.Fuzz(func(t *testing.T, b []byte) {
		var c Codec
		e, err := c.Decode(b)
		if err != nil {
			require.ErrorIs(t, err, store.ErrCorrupt)
			require.Nil(t, e)
			return
		}
		raw, ok := e.Value.(Raw)
		require.True(t, ok, "Value is a %T", e.Value)
		var v any
		if err := raw.Decode(&v); err != nil {
			require.ErrorIs(t, err, store.ErrCorrupt)
		}

		again, err := c.Encode(e)
		require.NoError(t, err)
		e2, err := c.Decode(again)
		require.NoError(t, err)
		requireSameEntry(t, e, e2)
	})
}

func requireSameEntry(t *testing.T, want, got *store.Entry) {
	t.Helper()
	require.Equal(t, want.AsOf, got.AsOf)
	require.Equal(t, want.Expires.IsZero(), got.Expires.IsZero())
	if !want.Expires.IsZero() {
		require.Equal(t, want.Expires.UnixNano(), got.Expires.UnixNano())
	}
	require.Equal(t, want.Tags, got.Tags)
	require.Equal(t, want.Value, got.Value)
}

// fuzzTarget is what FuzzRawDecode decodes into: a bit of every kind msgpack
// decodes differently.
type fuzzTarget struct {
	I     int64
	U     uint8
	F     float32
	S     string
	B     []byte
	Bool  bool
	T     time.Time
	PT    *time.Time
	L     []int64
	LS    []string
	LB    [][]byte
	Arr   [3]int
	M     map[string][]int64
	MA    map[string]any
	MS    map[string]string
	MI    map[int]*fuzzTarget
	A     any
	AA    []any
	P     *fuzzTarget
	Items []item
}

func FuzzRawDecode(f *testing.F) {
	now := time.Unix(1_700_000_000, 936_000_000)
	for _, v := range []any{
		&fuzzTarget{},
		&fuzzTarget{
			I: -5, U: 200, F: 1.5, S: "s", B: []byte{1, 0xc1}, Bool: true, T: awkwardTimes[0], PT: &now,
			L: []int64{1, -1 << 40}, LS: []string{"a", ""}, LB: [][]byte{nil, {2}}, Arr: [3]int{1, 2, 3},
			M:  map[string][]int64{"k": {7}},
			MA: map[string]any{"t": now, "n": nil, "l": []any{1.5, "x"}},
			MS: map[string]string{"a": "b"},
			MI: map[int]*fuzzTarget{1: {S: "child"}, 2: nil},
			A:  map[string]any{"deep": []any{[]any{}}}, AA: []any{awkwardTimes[3], int8(-1), uint64(1 << 63)},
			P: &fuzzTarget{T: awkwardTimes[4]}, Items: []item{{"a", 1, 2}},
		},
		sampleProduct(),
		[]any{nil, true, 1, "x", map[string]any{}},
	} {
		b := mustEncodeValue(f, v)
		f.Add([]byte(b))
		for _, bad := range corruptions(b) {
			f.Add(bad)
		}
	}
	for _, h := range hostileValues {
		f.Add(h.in)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		var v fuzzTarget
		if err := Raw(b).Decode(&v); err != nil {
			require.ErrorIs(t, err, store.ErrCorrupt)
		} else {
			_, err := EncodeValue(&v)
			require.NoError(t, err)
		}
		var a any
		if err := Raw(b).Decode(&a); err != nil {
			require.ErrorIs(t, err, store.ErrCorrupt)
		}

		// scan agrees with msgpack on what one well-formed value is.
		r := bytes.NewReader(b)
		skipErr := msgpack.NewDecoder(r).Skip()
		oneValue := skipErr == nil && r.Len() == 0
		if err := scan(b, nil); err == nil {
			require.True(t, oneValue, "scan accepts what msgpack does not: %v, %d bytes left", skipErr, r.Len())
		} else if oneValue {
			require.ErrorContains(t, err, "nested deeper", "scan refuses what msgpack accepts")
		}
	})
}
