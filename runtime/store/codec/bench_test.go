package codec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/store"
)

// benchProduct is a typical cached row: about 200 bytes of MessagePack.
func benchProduct() *product {
	return &product{
		ID:      42,
		Name:    "Espresso machine",
		Labels:  []string{"kitchen", "coffee"},
		Attrs:   map[string]string{"color": "red"},
		Items:   []item{{"EM-1", 2, 199.5}},
		Created: time.Unix(1_600_000_000, 987_654_321),
	}
}

// benchPage is a page of results: about 8 KiB of MessagePack.
func benchPage() []item {
	items := make([]item, 240)
	for i := range items {
		items[i] = item{SKU: "SKU-" + string(rune('A'+i%26)) + "-" + string(rune('a'+i%23)), Qty: i, Price: float64(i) * 1.25}
	}
	return items
}

var benchCases = []struct {
	name   string
	value  func() any
	decode func(Raw) error
}{
	{"struct200B", func() any { return benchProduct() }, func(r Raw) error { var p product; return r.Decode(&p) }},
	{"value8KiB", func() any { return benchPage() }, func(r Raw) error { var p []item; return r.Decode(&p) }},
}

func benchEntry(v any) *store.Entry {
	return &store.Entry{Value: v, AsOf: 1 << 40, Expires: time.Unix(1_800_000_000, 0), Tags: []string{"org:1:store:2:product:42", "featured"}}
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			e := benchEntry(bc.value())
			raw := mustEncodeValue(b, e.Value)
			out, err := Codec{}.Encode(e)
			require.NoError(b, err)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Codec{}).Encode(e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out)), "framed-bytes")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			e := benchEntry(bc.value())
			raw := mustEncodeValue(b, e.Value)
			in, err := Codec{}.Encode(e)
			require.NoError(b, err)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Codec{}).Decode(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeValue is what a byte store's hit costs: Decode, then
// Raw.Decode into the cached type.
func BenchmarkDecodeValue(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			e := benchEntry(bc.value())
			raw := mustEncodeValue(b, e.Value)
			in, err := Codec{}.Encode(e)
			require.NoError(b, err)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := Codec{}.Decode(in)
				if err != nil {
					b.Fatal(err)
				}
				if err := bc.decode(got.Value.(Raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
