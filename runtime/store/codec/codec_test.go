package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
)

type item struct {
	SKU   string
	Qty   int
	Price float64
}

type product struct {
	ID       int64
	Name     string
	Labels   []string
	Attrs    map[string]string
	Stock    map[string]int
	Items    []item
	Parent   *product
	Created  time.Time
	Updated  *time.Time
	Times    []time.Time
	ByStore  map[int64][]item
	Blob     []byte
	Matrix   [][]int
	Optional *int
}

// awkwardTimes are times whose MessagePack encoding starts its extension
// payload with a byte that reads as a map or nil code (see guardedReader):
// decoding them must still work.
var awkwardTimes = []time.Time{
	time.Unix(1_700_000_000, 550_000_000), // 8-byte form, first byte 0x83 (fixmap)
	time.Unix(1_700_000_000, 806_000_000), // first byte 0xc0 (nil)
	time.Unix(1_700_000_000, 932_000_000), // first byte 0xde (map16)
	time.Unix(1_700_000_000, 936_000_000), // first byte 0xdf (map32)
	time.Unix(1<<31+5, 0),                 // 4-byte form, first byte 0x80 (fixmap)
	time.Unix(1_700_000_000, 1),
	time.Unix(-5, 0), // 12-byte form
}

func sampleProduct() *product {
	updated := time.Unix(1_700_000_100, 123_456_789)
	seven := 7
	return &product{
		ID:      42,
		Name:    "Espresso machine",
		Labels:  []string{"kitchen", "coffee"},
		Attrs:   map[string]string{"color": "red", "voltage": "230V"},
		Stock:   map[string]int{"paris": 3, "lyon": 0},
		Items:   []item{{"EM-1", 2, 199.5}, {"EM-2", 1, 249}},
		Parent:  &product{ID: 1, Name: "Appliances"},
		Created: time.Unix(1_600_000_000, 987_654_321),
		Updated: &updated,
		Times:   awkwardTimes,
		ByStore: map[int64][]item{
			7: {{"EM-1", 1, 199.5}},
			9: nil,
		},
		Blob:     []byte{0, 1, 2, 0xc1, 0xff},
		Matrix:   [][]int{{1, 2}, {}, {3}},
		Optional: &seven,
	}
}

// largeProduct returns a product whose encoding is several kilobytes and
// compresses well.
func largeProduct() *product {
	p := sampleProduct()
	for i := range 100 {
		p.Items = append(p.Items, item{SKU: "SKU-" + strings.Repeat("x", i%7), Qty: i, Price: float64(i) / 4})
	}
	return p
}

func decodeAs[T any](r Raw) (any, error) {
	v := new(T)
	err := r.Decode(v)
	return v, err
}

func mustEncodeValue(t testing.TB, v any) Raw {
	t.Helper()
	r, err := EncodeValue(v)
	require.NoError(t, err)
	return r
}

func TestRoundTrip(t *testing.T) {
	expires := time.Unix(1_800_000_000, 123_456_789) // nanoseconds must survive
	tests := []struct {
		name       string
		codec      Codec
		entry      *store.Entry
		want       any // what the value decodes to, through decode
		decode     func(Raw) (any, error)
		compressed bool
	}{
		{
			name:   "small string",
			entry:  &store.Entry{Value: "hello", AsOf: 1, Expires: expires, Tags: []string{"org:1"}},
			want:   ptr("hello"),
			decode: decodeAs[string],
		},
		{
			name:   "nil value",
			entry:  &store.Entry{Value: nil, AsOf: 2},
			want:   ptr[any](nil),
			decode: decodeAs[any],
		},
		{
			name:       "struct",
			entry:      &store.Entry{Value: sampleProduct(), AsOf: hlc.New(1_700_000_000_000, 3), Expires: expires, Tags: []string{"org:1:store:2:product:42", "featured"}},
			want:       sampleProduct(),
			decode:     decodeAs[product],
			compressed: true, // 529 bytes
		},
		{
			name:       "struct by value",
			entry:      &store.Entry{Value: *sampleProduct(), AsOf: 4},
			want:       sampleProduct(),
			decode:     decodeAs[product],
			compressed: true,
		},
		{
			name:   "small struct",
			entry:  &store.Entry{Value: &item{"EM-1", 2, 199.5}, AsOf: 4, Tags: []string{"x"}},
			want:   &item{"EM-1", 2, 199.5},
			decode: decodeAs[item],
		},
		{
			name:       "large struct is compressed",
			entry:      &store.Entry{Value: largeProduct(), AsOf: 5, Expires: expires, Tags: []string{"a", "b"}},
			want:       largeProduct(),
			decode:     decodeAs[product],
			compressed: true,
		},
		{
			name:       "large slice is compressed",
			entry:      &store.Entry{Value: bytes.Repeat([]byte("abcd"), 10_000), AsOf: 6},
			want:       ptr(bytes.Repeat([]byte("abcd"), 10_000)),
			decode:     decodeAs[[]byte],
			compressed: true,
		},
		{
			name:   "Raw is embedded as is",
			entry:  &store.Entry{Value: mustEncodeValue(t, []int{1, 2, 3}), AsOf: 7},
			want:   ptr([]int{1, 2, 3}),
			decode: decodeAs[[]int],
		},
		{
			name:   "empty tags",
			entry:  &store.Entry{Value: 1, Tags: []string{}},
			want:   ptr(1),
			decode: decodeAs[int],
		},
		{
			name:   "empty tag string",
			entry:  &store.Entry{Value: 1, Tags: []string{""}},
			want:   ptr(1),
			decode: decodeAs[int],
		},
		{
			name:   "max AsOf and negative Expires",
			entry:  &store.Entry{Value: true, AsOf: math.MaxUint64, Expires: time.Unix(0, -1)},
			want:   ptr(true),
			decode: decodeAs[bool],
		},
		{
			name:   "latest Expires",
			entry:  &store.Entry{Value: 1.5, Expires: time.Unix(0, math.MaxInt64)},
			want:   ptr(1.5),
			decode: decodeAs[float64],
		},
		{
			name:   "never compress",
			codec:  Codec{CompressAbove: -1},
			entry:  &store.Entry{Value: largeProduct()},
			want:   largeProduct(),
			decode: decodeAs[product],
		},
		{
			name:       "low threshold",
			codec:      Codec{CompressAbove: 10},
			entry:      &store.Entry{Value: strings.Repeat("ab", 20)},
			want:       ptr(strings.Repeat("ab", 20)),
			decode:     decodeAs[string],
			compressed: true,
		},
		{
			name:   "incompressible stays uncompressed",
			entry:  &store.Entry{Value: randomBytes(4096)},
			want:   ptr(randomBytes(4096)),
			decode: decodeAs[[]byte],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.codec.Encode(tt.entry)
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(b), headerLen)
			assert.Equal(t, tt.compressed, b[3]&flagLZ4 != 0, "compressed flag")

			got, err := tt.codec.Decode(b)
			require.NoError(t, err)
			assert.Equal(t, tt.entry.AsOf, got.AsOf)
			if tt.entry.Expires.IsZero() {
				assert.True(t, got.Expires.IsZero(), "Expires = %v, want zero", got.Expires)
			} else {
				assert.True(t, tt.entry.Expires.Equal(got.Expires), "Expires = %v, want %v", got.Expires, tt.entry.Expires)
				assert.Equal(t, tt.entry.Expires.UnixNano(), got.Expires.UnixNano())
			}
			if len(tt.entry.Tags) == 0 {
				assert.Nil(t, got.Tags)
			} else {
				assert.Equal(t, tt.entry.Tags, got.Tags)
			}

			require.IsType(t, Raw(nil), got.Value)
			v, err := tt.decode(got.Value.(Raw))
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestEncodeCompressesOnlyAboveThreshold(t *testing.T) {
	c := Codec{CompressAbove: 100}
	for _, tt := range []struct {
		bodyLen    int
		compressed bool
	}{
		{99, false},
		{100, false},
		{101, true},
	} {
		// A body is [asOf, expires, tags, value]: 4 bytes here, then the
		// string's 2-byte header (str8) and its bytes.
		e := &store.Entry{Value: strings.Repeat("a", tt.bodyLen-6)}
		b, err := c.Encode(e)
		require.NoError(t, err)
		assert.Equal(t, tt.compressed, b[3]&flagLZ4 != 0, "body of %d bytes", tt.bodyLen)
		if !tt.compressed {
			assert.Len(t, b, headerLen+tt.bodyLen)
		}
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	e := &store.Entry{
		Value: map[string]any{"b": 1, "a": map[string]string{"y": "1", "x": "2", "z": "3"}, "c": []any{"x", 1.5}},
		AsOf:  9,
		Tags:  []string{"t"},
	}
	first, err := Codec{}.Encode(e)
	require.NoError(t, err)
	for range 20 {
		b, err := Codec{}.Encode(e)
		require.NoError(t, err)
		require.Equal(t, first, b)
	}
}

func TestEncodeFormat(t *testing.T) {
	b, err := Codec{}.Encode(&store.Entry{Value: "v", AsOf: 1, Expires: time.Unix(0, 2), Tags: []string{"t"}})
	require.NoError(t, err)
	assert.Equal(t, []byte{
		'z', 'o', 1, 0, // magic, version, flags
		0x94,      // array of 4
		0x01,      // asOf
		0x02,      // expires
		0x91,      // tags: array of 1
		0xa1, 't', // "t"
		0xa1, 'v', // value "v"
	}, b)
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		codec   Codec
		entry   *store.Entry
		corrupt bool
		tooBig  bool
	}{
		{name: "nil entry"},
		{name: "unencodable value", entry: &store.Entry{Value: make(chan int)}},
		{name: "invalid Raw", entry: &store.Entry{Value: Raw{0x92, 0x01}}, corrupt: true},
		{name: "empty Raw", entry: &store.Entry{Value: Raw{}}, corrupt: true},
		{name: "Raw with trailing bytes", entry: &store.Entry{Value: Raw{0x01, 0x02}}, corrupt: true},
		{name: "expiry past 2262", entry: &store.Entry{Expires: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "expiry before 1678", entry: &store.Entry{Expires: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "expiry at the epoch", entry: &store.Entry{Expires: time.Unix(0, 0)}},
		{name: "too large", codec: Codec{MaxSize: 100}, entry: &store.Entry{Value: strings.Repeat("x", 100)}, tooBig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.codec.Encode(tt.entry)
			require.Error(t, err)
			assert.Nil(t, b)
			assert.True(t, strings.HasPrefix(err.Error(), "zoo: "), "%q", err)
			assert.Equal(t, tt.corrupt, errors.Is(err, store.ErrCorrupt), "%v", err)
			assert.Equal(t, tt.tooBig, errors.Is(err, ErrTooLarge), "%v", err)
		})
	}
}

func TestDecodeDoesNotKeepInput(t *testing.T) {
	for _, c := range []Codec{{CompressAbove: -1}, {CompressAbove: 1}} {
		b, err := c.Encode(&store.Entry{Value: strings.Repeat("ab", 100), Tags: []string{"tag"}})
		require.NoError(t, err)
		e, err := c.Decode(b)
		require.NoError(t, err)
		clear(b)
		var s string
		require.NoError(t, e.Value.(Raw).Decode(&s))
		assert.Equal(t, strings.Repeat("ab", 100), s)
		assert.Equal(t, []string{"tag"}, e.Tags)
	}
}

// frame returns an uncompressed entry holding body.
func frame(body ...byte) []byte {
	return append([]byte{magic0, magic1, Version, 0}, body...)
}

// frameLZ4 returns a compressed entry holding body, with size as the length
// header.
func frameLZ4(size uint64, body []byte) []byte {
	dst := make([]byte, lz4.CompressBlockBound(len(body)))
	n, err := new(lz4.Compressor).CompressBlock(body, dst)
	if err != nil {
		panic(err)
	}
	b := binary.AppendUvarint([]byte{magic0, magic1, Version, flagLZ4}, size)
	return append(b, dst[:n]...)
}

func TestDecodeCorrupt(t *testing.T) {
	valid, err := Codec{}.Encode(&store.Entry{Value: "v", AsOf: 1, Tags: []string{"t"}})
	require.NoError(t, err)
	big := bytes.Repeat([]byte{0x01}, 1000)
	bigBody := append([]byte{0x94, 0x00, 0x00, 0x90, 0xc5, 0x03, 0xe8}, big...) // value: bin16 of 1000 bytes
	compressed, err := Codec{}.Encode(&store.Entry{Value: big})
	require.NoError(t, err)
	require.NotZero(t, compressed[3]&flagLZ4)

	tests := []struct {
		name  string
		codec Codec
		in    []byte
		want  string // in the message
	}{
		{"empty", Codec{}, nil, "shorter than the 4-byte header"},
		{"short header", Codec{}, []byte{'z', 'o', 1}, "shorter than the 4-byte header"},
		{"bad magic", Codec{}, append([]byte{'z', 'p'}, valid[2:]...), "bad magic"},
		{"other magic", Codec{}, []byte{0x04, 0x22, 0x4d, 0x18, 0}, "bad magic"},
		{"unknown version", Codec{}, append([]byte{'z', 'o', 2}, valid[3:]...), "unknown format version 2"},
		{"version zero", Codec{}, append([]byte{'z', 'o', 0}, valid[3:]...), "unknown format version 0"},
		{"unknown flag", Codec{}, append([]byte{'z', 'o', 1, 0x02}, valid[4:]...), "unknown flags 0x02"},
		{"high flag", Codec{}, append([]byte{'z', 'o', 1, 0x81}, valid[4:]...), "unknown flags 0x80"},
		{"header only", Codec{}, frame(), "truncated"},
		{"truncated body", Codec{}, valid[:len(valid)-1], "1 payload bytes, 0 left"},
		{"truncated string", Codec{}, frame(0x94, 0x00, 0x00, 0x90, 0xa3, 'a'), "payload bytes"},
		{"trailing garbage", Codec{}, append(bytes.Clone(valid), 0x00), "trailing"},
		{"body not an array", Codec{}, frame(0xa1, 'x'), "array"},
		{"body nil", Codec{}, frame(0xc0), "array"},
		{"array of 3", Codec{}, frame(0x93, 0x00, 0x00, 0x90), "3 elements"},
		{"array of 5", Codec{}, frame(0x95, 0x00, 0x00, 0x90, 0x00, 0x00), "5 elements"},
		{"asOf not an integer", Codec{}, frame(0x94, 0xa1, 'x', 0x00, 0x90, 0x00), "asOf"},
		{"expires not an integer", Codec{}, frame(0x94, 0x00, 0xc3, 0x90, 0x00), "expires"},
		{"tags nil", Codec{}, frame(0x94, 0x00, 0x00, 0xc0, 0x00), "tags"},
		{"tags not an array", Codec{}, frame(0x94, 0x00, 0x00, 0x80, 0x00), "tags"},
		{"tag not a string", Codec{}, frame(0x94, 0x00, 0x00, 0x91, 0x01, 0x00), "tag 0"},
		{"invalid code", Codec{}, frame(0x94, 0x00, 0x00, 0x90, 0xc1), "invalid code 0xc1"},
		{"hostile array length", Codec{}, frame(0x94, 0x00, 0x00, 0x90, 0xdd, 0xff, 0xff, 0xff, 0xff), "values announced"},
		{"hostile tags length", Codec{}, frame(0x94, 0x00, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00), "values announced"},
		{"hostile string length", Codec{}, frame(0x94, 0x00, 0x00, 0x90, 0xdb, 0xff, 0xff, 0xff, 0xff), "payload bytes"},
		{"hostile map length", Codec{}, frame(0x94, 0x00, 0x00, 0x90, 0xdf, 0x80, 0x00, 0x00, 0x00), "values announced"},
		{"too deep", Codec{}, frame(append(append([]byte{0x94, 0x00, 0x00, 0x90}, bytes.Repeat([]byte{0x91}, maxDepth+1)...), 0x00)...), "nested deeper"},
		{"body over MaxSize", Codec{MaxSize: len(bigBody) - 1}, frame(bigBody...), "limit"},
		{"LZ4 length over MaxSize", Codec{MaxSize: 999}, compressed, "limit"},
		{"LZ4 length over MaxSize by default", Codec{}, frameLZ4(DefaultMaxSize+1, bigBody), "limit"},
		{"LZ4 length beyond what LZ4 can do", Codec{}, frameLZ4(1<<20, bigBody), "cannot come from"},
		{"LZ4 length too short", Codec{}, frameLZ4(uint64(len(bigBody)-1), bigBody), "LZ4 body"},
		{"LZ4 length too long", Codec{}, frameLZ4(uint64(len(bigBody)+1), bigBody), "LZ4 body"},
		{"LZ4 length missing", Codec{}, []byte{'z', 'o', 1, flagLZ4}, "length"},
		{"LZ4 length overflows", Codec{}, append([]byte{'z', 'o', 1, flagLZ4}, bytes.Repeat([]byte{0xff}, 11)...), "length"},
		{"LZ4 block truncated", Codec{}, compressed[:len(compressed)-3], "LZ4 body"},
		{"LZ4 block empty", Codec{}, []byte{'z', 'o', 1, flagLZ4, 0x05}, ""},
		{"LZ4 garbage", Codec{}, append([]byte{'z', 'o', 1, flagLZ4, 0x40}, randomBytes(40)...), ""},
		{"LZ4 body with trailing garbage", Codec{}, frameLZ4(uint64(len(bigBody)+1), append(bytes.Clone(bigBody), 0x00)), "trailing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.codec.Decode(tt.in)
			require.Error(t, err)
			assert.Nil(t, e)
			require.ErrorIs(t, err, store.ErrCorrupt)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "zoo: corrupt entry: codec: "), "%q", err)
		})
	}
}

func TestDecodeAcceptsOtherEncodings(t *testing.T) {
	// Integers and strings in longer encodings than Encode writes, and binary
	// tags, still decode.
	b := frame(0x94,
		0xcf, 0, 0, 0, 0, 0, 0, 0, 9, // asOf as uint64
		0xd3, 0, 0, 0, 0, 0, 0, 0, 10, // expires as int64
		0x92, 0xd9, 1, 'a', 0xc4, 1, 'b', // tags as str8 and bin8
		0x07)
	e, err := Codec{}.Decode(b)
	require.NoError(t, err)
	assert.Equal(t, hlc.Timestamp(9), e.AsOf)
	assert.Equal(t, int64(10), e.Expires.UnixNano())
	assert.Equal(t, []string{"a", "b"}, e.Tags)
	assert.Equal(t, Raw{0x07}, e.Value)
}

func TestMaxLZ4Ratio(t *testing.T) {
	// The most compressible input there is stays within maxLZ4Ratio.
	body := make([]byte, 8<<20)
	dst := make([]byte, lz4.CompressBlockBound(len(body)))
	n, err := new(lz4.Compressor).CompressBlock(body, dst)
	require.NoError(t, err)
	t.Logf("%d bytes compress to %d (ratio %.1f)", len(body), n, float64(len(body))/float64(n))
	assert.LessOrEqual(t, len(body), n*maxLZ4Ratio)

	e := &store.Entry{Value: make([]byte, 1<<20)}
	b, err := Codec{}.Encode(e)
	require.NoError(t, err)
	_, err = Codec{}.Decode(b)
	require.NoError(t, err)
}
