// Package codec frames cache entries as bytes, for the stores that keep bytes
// rather than Go values (lmdbstore, redisstore).
//
// A [Codec] turns a [store.Entry] into one byte slice and back. The cached
// value travels as MessagePack (github.com/vmihailenco/msgpack/v5): stores
// hand it back as a [Raw], which the cache decodes with [Raw.Decode] into the
// type it expects. Bodies longer than [Codec.CompressAbove] bytes are
// compressed with LZ4 (github.com/pierrec/lz4/v4, block format), and a short
// header names the format version so that a reader meeting bytes it does not
// understand says so instead of guessing.
//
// # Format
//
// Every entry starts with a fixed four-byte header:
//
//	+------+------+---------+-------+---------------------+------------------+
//	| 0x7a | 0x6f | version | flags | [body length]       | body             |
//	| 'z'  | 'o'  | 0x01    |       | uvarint, if flags&1 | (LZ4 if flags&1) |
//	+------+------+---------+-------+---------------------+------------------+
//	 byte 0 byte 1  byte 2   byte 3   bytes 4..
//
// In the header:
//
//   - bytes 0–1 are the magic "zo";
//   - byte 2 is the format version, 1 ([Version]);
//   - byte 3 holds flags: bit 0 set means the body is LZ4 block-compressed;
//     every other bit is reserved and must be zero.
//
// When bit 0 is set, the header is followed by the uncompressed body length as
// an unsigned varint (encoding/binary's Uvarint) and then by the LZ4 block.
// Otherwise the body follows the header directly. Nothing follows the body.
//
// The body is one MessagePack array of four elements:
//
//	[ asOf, expires, tags, value ]
//
// whose elements are:
//
//   - asOf: unsigned integer, the entry's [hlc.Timestamp];
//   - expires: signed integer, Unix nanoseconds of Expires; 0 stands for the
//     zero time (never expires);
//   - tags: array of strings;
//   - value: the cached value's MessagePack encoding, embedded as it is.
//
// asOf and expires take their shortest MessagePack encoding; Decode also
// accepts longer ones, and binary strings as tags. The value is encoded as
// msgpack.Marshal would, with map keys sorted: encoding is deterministic,
// except that msgpack v5 sorts only the keys of map[string]string,
// map[string]bool and map[string]any, and writes other map types in Go's
// iteration order.
//
// # What a value keeps
//
// The memory store holds Go values; LMDB and Redis hold this encoding, and
// a value read back from them is what msgpack v5 decodes, which is not
// always what was cached. zoogen warns at generate time about result types
// that lose something (and refuses those that cannot be encoded at all);
// keeps_test.go checks every rule below with a real round trip:
//
//   - Exported fields are kept, by name or by the name their msgpack tag
//     gives (`msgpack:"id"`). A field tagged `msgpack:"-"` is left out, and
//     `msgpack:",omitempty"` leaves a zero value out; both come back zero.
//   - Unexported fields are not kept: they come back as zero values on
//     every instance but the one that loaded the value. A struct with no
//     exported field comes back as its zero value.
//   - An embedded struct, exported or not, embedded by value, is inlined:
//     its exported fields are kept. An embedded pointer to an exported
//     struct is kept too. An unexported type embedded any other way (a
//     pointer to an unexported struct, an unexported non-struct type) is
//     encoded but cannot be decoded: every read of it is a miss.
//   - time.Time keeps its instant to the nanosecond, not its location or
//     its monotonic reading: it comes back in time.Local (the zero time in
//     UTC). Compare times with Equal, not ==.
//   - nil and empty differ and survive: a nil slice, map or pointer comes
//     back nil, an empty slice or map comes back empty and not nil.
//   - An interface-typed field (any, or one with methods) is decoded into
//     generic values: a struct comes back as a map[string]any, integers as
//     the smallest type that holds them.
//   - A type with a value-receiver EncodeMsgpack, MarshalMsgpack,
//     MarshalBinary or MarshalText method is encoded by it (and decoded by
//     the matching method). With a pointer receiver, msgpack calls it only
//     on an addressable value (behind a pointer, a slice element, a field
//     of either): as a result itself, a field of a struct value or a map
//     value, encoding fails.
//   - Channels, functions and complex numbers cannot be encoded: such a
//     value is served but never stored in LMDB or Redis (the failed write
//     is logged and counted as a fail-open).
//
// # Untrusted input
//
// [Codec.Decode] and [Raw.Decode] treat their input as untrusted: bytes that
// fail to decode give an error wrapping [store.ErrCorrupt], never a panic.
// Before anything is allocated from a length read in the input, the length is
// checked: the LZ4 body length against [Codec.MaxSize] and against the largest
// ratio LZ4 can achieve, and every MessagePack array, map, string, binary and
// extension length against the bytes that remain. The msgpack decoder
// preallocates slices, maps and byte slices from the lengths it reads, so this
// check is what keeps a few hostile bytes from allocating gigabytes: what
// decoding allocates stays in proportion to the input's length (times the
// size of the largest element type decoded into). Nesting is limited to
// 10000 levels, as in encoding/json, so decoding cannot exhaust the stack.
package codec
