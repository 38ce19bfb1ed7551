package codec

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// The tests of this file pin down what a value keeps through the codec, as
// the package documentation states it (section "What a value keeps") and
// as zoogen's generate-time warnings assume: each is a real round trip
// through EncodeValue and Raw.Decode.

// roundTrip encodes v and decodes it into a new T.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	raw, err := EncodeValue(v)
	require.NoError(t, err)
	var out T
	require.NoError(t, raw.Decode(&out))
	return out
}

type base struct {
	Shared string
	hidden string
}

type tagged struct {
	Renamed string `msgpack:"r"`
	Skipped string `msgpack:"-"`
	Empty   string `msgpack:",omitempty"`
	Kept    int
	secret  string
	base
}

func TestKeepsExportedFieldsAndTags(t *testing.T) {
	in := tagged{Renamed: "a", Skipped: "b", Kept: 3, secret: "s", base: base{Shared: "x", hidden: "h"}}
	out := roundTrip(t, in)
	assert.Equal(t, tagged{Renamed: "a", Kept: 3, base: base{Shared: "x"}}, out,
		"exported fields and those of an embedded struct survive, unexported ones and `msgpack:\"-\"` come back zero")

	raw, err := EncodeValue(in)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, raw.Decode(&m))
	assert.Equal(t, map[string]any{"r": "a", "Kept": int8(3), "Shared": "x"}, m,
		"tags rename fields, omitempty leaves zero values out, an embedded struct is inlined")
}

type opaque struct{ n, m int }

func TestNoExportedFieldsKeepNothing(t *testing.T) {
	assert.Equal(t, opaque{}, roundTrip(t, opaque{n: 1, m: 2}))
	assert.Equal(t, []opaque{{}, {}}, roundTrip(t, []opaque{{1, 2}, {3, 4}}))
}

func TestTimeKeepsTheInstantNotTheLocation(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	in := time.Date(2024, 3, 1, 12, 30, 0, 123456789, paris)
	out := roundTrip(t, in)
	assert.True(t, out.Equal(in), "the instant survives, to the nanosecond")
	assert.Equal(t, time.Local, out.Location(), "it comes back in time.Local")
	assert.NotEqual(t, in, out, "== and reflect.DeepEqual see the location change")

	now := time.Now() // with a monotonic reading
	assert.Equal(t, now.Round(0), roundTrip(t, now).In(now.Location()).Round(0), "no monotonic reading")
	assert.Equal(t, time.UTC, roundTrip(t, time.Time{}).Location(), "the zero time comes back in UTC")
	assert.True(t, roundTrip(t, time.Time{}).IsZero())
}

func TestNilAndEmptySlicesAndMaps(t *testing.T) {
	type lists struct {
		NilSlice   []int
		EmptySlice []int
		NilMap     map[string]int
		EmptyMap   map[string]int
		NilPtr     *int
	}
	out := roundTrip(t, lists{EmptySlice: []int{}, EmptyMap: map[string]int{}})
	assert.Nil(t, out.NilSlice)
	assert.NotNil(t, out.EmptySlice)
	assert.Empty(t, out.EmptySlice)
	assert.Nil(t, out.NilMap)
	assert.NotNil(t, out.EmptyMap)
	assert.Empty(t, out.EmptyMap)
	assert.Nil(t, out.NilPtr)

	assert.Nil(t, roundTrip[[]string](t, nil))
	assert.Equal(t, []string{}, roundTrip(t, []string{}))
	assert.Nil(t, roundTrip[map[int]bool](t, nil))
	assert.Equal(t, map[int]bool{}, roundTrip(t, map[int]bool{}))
}

type product2 struct{ ID int }

func TestInterfaceFieldsComeBackGeneric(t *testing.T) {
	type holder struct{ V any }
	out := roundTrip(t, holder{V: product2{ID: 7}})
	assert.Equal(t, map[string]any{"ID": int8(7)}, out.V, "a struct in an interface comes back as a map")
}

func TestChanFuncComplexCannotBeEncoded(t *testing.T) {
	for name, v := range map[string]any{
		"chan":          struct{ C chan int }{},
		"func":          struct{ F func() }{},
		"complex":       struct{ Z complex128 }{},
		"unexported ok": struct{ c chan int }{},
		"skipped ok": struct {
			C chan int `msgpack:"-"`
		}{},
		"in a slice":      []func(){nil},
		"chan at the top": make(chan int),
	} {
		_, err := EncodeValue(v)
		if name == "unexported ok" || name == "skipped ok" {
			assert.NoError(t, err, name)
			continue
		}
		assert.Error(t, err, name)
	}
}

// celsius marshals itself with value receivers: msgpack uses its methods
// wherever it is.
type celsius struct{ deg int }

func (c celsius) MarshalBinary() ([]byte, error) { return []byte(strconv.Itoa(c.deg)), nil }
func (c *celsius) UnmarshalBinary(b []byte) error {
	n, err := strconv.Atoi(string(b))
	c.deg = n
	return err
}

// kelvin marshals itself with a pointer receiver: msgpack uses it only on
// an addressable value.
type kelvin struct{ deg int }

func (k *kelvin) EncodeMsgpack(e *msgpack.Encoder) error { return e.EncodeInt(int64(k.deg)) }
func (k *kelvin) DecodeMsgpack(d *msgpack.Decoder) error {
	n, err := d.DecodeInt()
	k.deg = n
	return err
}

func TestMarshalersAreHonoured(t *testing.T) {
	assert.Equal(t, celsius{21}, roundTrip(t, celsius{21}), "value receiver, at the top")
	assert.Equal(t, []celsius{{1}, {2}}, roundTrip(t, []celsius{{1}, {2}}))
	assert.Equal(t, &kelvin{300}, roundTrip(t, &kelvin{300}), "pointer receiver, behind a pointer")
	assert.Equal(t, []kelvin{{1}}, roundTrip(t, []kelvin{{1}}), "slice elements are addressable")
	type in struct{ K kelvin }
	assert.Equal(t, &in{kelvin{5}}, roundTrip(t, &in{kelvin{5}}), "a field of a struct behind a pointer is addressable")

	_, err := EncodeValue(kelvin{300})
	assert.ErrorContains(t, err, "non-addressable", "pointer receiver, value at the top")
	_, err = EncodeValue(in{kelvin{5}})
	assert.ErrorContains(t, err, "non-addressable", "pointer receiver, field of a struct value")
	_, err = EncodeValue(map[string]kelvin{"a": {1}})
	assert.ErrorContains(t, err, "non-addressable", "pointer receiver, map value")
}

type secretID int

type Inner struct{ A int }

type inner struct{ A int }

func TestEmbeddedFields(t *testing.T) {
	type byValue struct {
		inner
		X int
	}
	assert.Equal(t, byValue{inner{3}, 1}, roundTrip(t, byValue{inner{3}, 1}), "an unexported struct embedded by value is inlined")
	type exportedPtr struct {
		*Inner
		X int
	}
	assert.Equal(t, exportedPtr{&Inner{3}, 1}, roundTrip(t, exportedPtr{&Inner{3}, 1}), "an exported struct embedded by pointer")

	// An unexported type embedded other than as a struct value is encoded,
	// but decoding must set an unexported field: every read fails, so a
	// shared store never serves the value.
	type unexportedPtr struct {
		*inner
		X int
	}
	type nonStruct struct {
		secretID
		X int
	}
	for _, v := range []any{unexportedPtr{&inner{3}, 1}, nonStruct{5, 1}} {
		raw, err := EncodeValue(v)
		require.NoError(t, err)
		switch v.(type) {
		case unexportedPtr:
			err = raw.Decode(new(unexportedPtr))
		case nonStruct:
			err = raw.Decode(new(nonStruct))
		}
		assert.ErrorContains(t, err, "unexported field", "%T", v)
	}
}
