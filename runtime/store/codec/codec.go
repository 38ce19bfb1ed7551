package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pierrec/lz4/v4"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
)

// Version is the format version [Codec.Encode] writes and the only one
// [Codec.Decode] reads.
const Version = 1

// DefaultCompressAbove is the body size, in bytes, above which a zero
// [Codec] compresses.
//
// LZ4 finds matches only in repeated runs of four bytes or more. A single
// small record (a struct of a few fields, around 200 bytes) has too few of
// them: in this package's benchmarks it does not shrink at all, and the
// attempt costs as much as encoding the record. Lists repeat themselves (a
// struct's field names are written again for each element): a 700-byte slice
// of structs shrinks by about 45%, an 8 KiB one by about 60%, and
// decompressing is no slower than copying the uncompressed bytes. 512 keeps
// compression away from single small records and applies it to lists and
// large records, where it pays.
const DefaultCompressAbove = 512

// DefaultMaxSize is the largest body, in bytes, a zero [Codec] encodes or
// decodes: 64 MiB.
const DefaultMaxSize = 64 << 20

// ErrTooLarge is wrapped by the error [Codec.Encode] returns for an entry
// whose body is larger than [Codec.MaxSize].
var ErrTooLarge = errors.New("zoo: codec: entry too large")

// Codec frames entries as bytes; see the package documentation for the
// format. The zero Codec uses the defaults. A Codec is a plain value: its
// methods are safe for concurrent use.
type Codec struct {
	// CompressAbove: bodies longer than this many bytes are LZ4-compressed,
	// when that makes them smaller. 0 means DefaultCompressAbove; a negative
	// value means never compress.
	CompressAbove int
	// MaxSize bounds the body size, in bytes, that Encode writes and Decode
	// accepts, before compression: a guard against decompression bombs and
	// hostile length headers. 0 (or a negative value) means DefaultMaxSize.
	MaxSize int
}

const (
	magic0, magic1 = 'z', 'o'
	headerLen      = 4
	flagLZ4        = 1 << 0
	// maxLZ4Ratio bounds what LZ4 can make of one compressed byte: a match
	// length grows by at most 255 per byte of the compressed block.
	maxLZ4Ratio = 255
)

func (c Codec) compressAbove() int {
	if c.CompressAbove == 0 {
		return DefaultCompressAbove
	}
	return c.CompressAbove
}

func (c Codec) maxSize() int {
	if c.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return c.MaxSize
}

// Encode returns e framed as bytes. e.Value may be anything msgpack can
// encode; a [Raw] value is embedded as it is, after a check that it holds one
// well-formed MessagePack value. Encode keeps no reference to e or to the
// returned slice.
//
// Expires must be the zero time or a time that Unix nanoseconds in an int64
// can represent other than the Unix epoch itself (that is, between the
// years 1678 and 2262).
func (c Codec) Encode(e *store.Entry) ([]byte, error) {
	if e == nil {
		return nil, errors.New("zoo: codec: encode a nil entry")
	}
	var expires int64
	if !e.Expires.IsZero() {
		expires = e.Expires.UnixNano()
		if expires == 0 || !time.Unix(0, expires).Equal(e.Expires) {
			return nil, fmt.Errorf("zoo: codec: expiry %v cannot be encoded", e.Expires)
		}
	}

	w := getEncoder()
	defer putEncoder(w)
	if err := writeBody(w.enc, e, expires); err != nil {
		return nil, err
	}
	body := w.buf.Bytes()
	if len(body) > c.maxSize() {
		return nil, fmt.Errorf("%w: a %d-byte body is over the %d-byte limit", ErrTooLarge, len(body), c.maxSize())
	}

	if limit := c.compressAbove(); limit >= 0 && len(body) > limit {
		if out := w.compress(body); out != nil {
			return out, nil
		}
	}
	out := make([]byte, 0, headerLen+len(body))
	out = append(out, magic0, magic1, Version, 0)
	return append(out, body...), nil
}

// writeBody writes the MessagePack body of e.
func writeBody(enc *msgpack.Encoder, e *store.Entry, expires int64) error {
	// Writing to a bytes.Buffer fails only for a value that cannot be
	// encoded, so only the value's error is checked.
	_ = enc.EncodeArrayLen(4)
	_ = enc.EncodeUint(uint64(e.AsOf))
	_ = enc.EncodeInt(expires)
	_ = enc.EncodeArrayLen(len(e.Tags))
	for _, t := range e.Tags {
		_ = enc.EncodeString(t)
	}
	if r, ok := e.Value.(Raw); ok {
		if err := scan(r, nil); err != nil {
			return corruptf("Raw value: %w", err)
		}
		w := enc.Writer()
		_, err := w.Write(r)
		return err
	}
	if err := enc.Encode(e.Value); err != nil {
		return fmt.Errorf("zoo: codec: encode %T: %w", e.Value, err)
	}
	return nil
}

// compress returns body framed as an LZ4-compressed entry, or nil when
// compression does not make it smaller.
func (w *encoder) compress(body []byte) []byte {
	if w.lz == nil {
		w.lz = new(lz4.Compressor)
	}
	bound := lz4.CompressBlockBound(len(body))
	if cap(w.dst) < bound {
		w.dst = make([]byte, bound)
	}
	n, err := w.lz.CompressBlock(body, w.dst[:bound])
	var size [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(size[:], uint64(len(body)))
	if err != nil || n == 0 || k+n >= len(body) {
		return nil
	}
	out := make([]byte, 0, headerLen+k+n)
	out = append(out, magic0, magic1, Version, flagLZ4)
	out = append(out, size[:k]...)
	return append(out, w.dst[:n]...)
}

// Decode parses an entry framed by [Codec.Encode]. The entry's Value is a
// [Raw]. Every error wraps [store.ErrCorrupt] and says what is wrong; no
// input makes Decode panic, and what it allocates is bounded by MaxSize and
// in proportion to len(b). The entry does not keep references into b, which
// the caller may reuse.
func (c Codec) Decode(b []byte) (*store.Entry, error) {
	if len(b) < headerLen {
		return nil, corruptf("%d bytes, shorter than the %d-byte header", len(b), headerLen)
	}
	if b[0] != magic0 || b[1] != magic1 {
		return nil, corruptf("bad magic %q (want %q)", b[:2], []byte{magic0, magic1})
	}
	if b[2] != Version {
		return nil, corruptf("unknown format version %d (this build reads %d)", b[2], Version)
	}
	flags := b[3]
	if flags&^flagLZ4 != 0 {
		return nil, corruptf("unknown flags %#02x", flags&^flagLZ4)
	}

	body := b[headerLen:]
	fresh := false // whether body is a new slice rather than part of b
	if flags&flagLZ4 != 0 {
		size, k := binary.Uvarint(body)
		if k <= 0 {
			return nil, corruptf("bad body length header")
		}
		src := body[k:]
		switch {
		case size > uint64(c.maxSize()):
			return nil, corruptf("a %d-byte body is over the %d-byte limit", size, c.maxSize())
		case size > uint64(len(src))*maxLZ4Ratio:
			return nil, corruptf("a %d-byte body cannot come from %d bytes of LZ4", size, len(src))
		}
		body = make([]byte, size)
		n, err := lz4.UncompressBlock(src, body)
		if err != nil {
			return nil, corruptf("LZ4 body: %w", err)
		}
		if n != len(body) {
			return nil, corruptf("LZ4 body: %d bytes, the header says %d", n, len(body))
		}
		fresh = true
	} else if len(body) > c.maxSize() {
		return nil, corruptf("a %d-byte body is over the %d-byte limit", len(body), c.maxSize())
	}

	if err := scan(body, nil); err != nil {
		return nil, corruptf("body: %w", err)
	}
	e, value, err := readBody(body)
	if err != nil {
		return nil, corruptf("body: %w", err)
	}
	if !fresh {
		value = bytes.Clone(value)
	}
	e.Value = Raw(value)
	return e, nil
}

// readBody reads a body that scan has accepted. It returns the entry without
// its value and the value's bytes, the rest of body.
func readBody(body []byte) (*store.Entry, []byte, error) {
	r := bytes.NewReader(body)
	d := msgpack.GetDecoder()
	defer msgpack.PutDecoder(d)
	d.Reset(r)

	n, err := d.DecodeArrayLen()
	if err != nil {
		return nil, nil, err
	}
	if n != 4 {
		return nil, nil, fmt.Errorf("an array of %d elements, want 4", max(n, 0))
	}
	asOf, err := d.DecodeUint64()
	if err != nil {
		return nil, nil, fmt.Errorf("asOf: %w", err)
	}
	expires, err := d.DecodeInt64()
	if err != nil {
		return nil, nil, fmt.Errorf("expires: %w", err)
	}
	n, err = d.DecodeArrayLen()
	if err != nil {
		return nil, nil, fmt.Errorf("tags: %w", err)
	}
	if n < 0 {
		return nil, nil, errors.New("tags: nil, want an array")
	}
	var tags []string
	if n > 0 {
		tags = make([]string, n) // n is bounded by len(body): see scan
		for i := range tags {
			if tags[i], err = d.DecodeString(); err != nil {
				return nil, nil, fmt.Errorf("tag %d: %w", i, err)
			}
		}
	}

	e := &store.Entry{AsOf: hlc.Timestamp(asOf), Tags: tags}
	if expires != 0 {
		e.Expires = time.Unix(0, expires)
	}
	// scan saw one array of four values, so the fourth runs to the end.
	return e, body[len(body)-r.Len():], nil
}

// corruptf returns an error wrapping [store.ErrCorrupt] that says what is
// wrong.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: codec: "+format, append([]any{store.ErrCorrupt}, args...)...)
}
