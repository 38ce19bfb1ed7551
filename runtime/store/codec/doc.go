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
