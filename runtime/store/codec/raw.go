package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pierrec/lz4/v4"
	"github.com/vmihailenco/msgpack/v5"
)

// Raw is the MessagePack encoding of a cached value, as byte stores return it
// in [store.Entry.Value]. It holds exactly one MessagePack value. The cache
// decodes it with [Raw.Decode] into the type it expects; [Codec.Encode]
// embeds a Raw value as it is.
type Raw []byte

// Decode decodes r into v, a non-nil pointer, as msgpack.Unmarshal does.
// Every error wraps [store.ErrCorrupt], including a value that no longer fits
// the type of v, so that the cache treats what it cannot decode as a miss; a
// panic while decoding (in msgpack, or in a type's own decoding method) is
// returned as such an error too.
//
// r is checked before it is decoded (see the package documentation), so that
// hostile bytes cannot make Decode allocate out of proportion to len(r). v
// does not keep references into r. Decode only reads r and may be called
// concurrently.
//
// A type registered with msgpack.RegisterExtDecoder must read its payload
// with Decoder.ReadFull (or let msgpack.RegisterExt do it), not with the
// Decoder's other Decode methods; see guardedReader.
func (r Raw) Decode(v any) (err error) {
	var exts []int
	if err := scan(r, &exts); err != nil {
		return corruptf("value: %w", err)
	}
	d := msgpack.GetDecoder()
	defer msgpack.PutDecoder(d)
	// msgpack panics on some malformed input (a key repeated in a map whose
	// first value went into an interface field, for one): that is corrupt
	// input too.
	defer func() {
		if p := recover(); p != nil {
			err = corruptf("value: decode into %T: panic: %v", v, p)
		}
	}()
	d.Reset(&guardedReader{b: r, exts: exts})
	if err := d.Decode(v); err != nil {
		return corruptf("value: decode into %T: %w", v, err)
	}
	return nil
}

// EncodeValue returns the MessagePack encoding of v, with map keys sorted
// where msgpack sorts them (see the package documentation). A Raw is
// returned as it is.
func EncodeValue(v any) (Raw, error) {
	if r, ok := v.(Raw); ok {
		return r, nil
	}
	w := getEncoder()
	defer putEncoder(w)
	if err := w.enc.Encode(v); err != nil {
		return nil, fmt.Errorf("zoo: codec: encode %T: %w", v, err)
	}
	return bytes.Clone(w.buf.Bytes()), nil
}

// encoder is the reusable state of an encoding.
type encoder struct {
	buf bytes.Buffer     // the MessagePack body
	enc *msgpack.Encoder // writes to buf
	lz  *lz4.Compressor  // 136 KiB: allocated on first compression
	dst []byte           // the compressed body
}

// maxPooled is the largest buffer put back into the pool, so that a rare
// huge entry does not keep its memory alive.
const maxPooled = 1 << 20

var encoders = sync.Pool{New: func() any {
	w := new(encoder)
	w.enc = msgpack.NewEncoder(&w.buf)
	w.enc.SetSortMapKeys(true)
	return w
}}

func getEncoder() *encoder {
	w := encoders.Get().(*encoder)
	w.buf.Reset()
	return w
}

func putEncoder(w *encoder) {
	if w.buf.Cap() > maxPooled {
		w.buf = bytes.Buffer{} // w.enc keeps writing to &w.buf
	}
	if cap(w.dst) > maxPooled {
		w.dst = nil
	}
	encoders.Put(w)
}

// guardedReader is the reader [Raw.Decode] gives the msgpack decoder. It
// refuses the one read that would take the decoder into an alignment that
// scan has not checked.
//
// When msgpack decodes into a map and meets an extension instead
// (Decoder.DecodeMapLen), it skips the extension's header and goes on to read
// a map from the extension's payload: from there it parses the bytes in
// another alignment than scan did, where no length was checked. Well-formed
// data never has an extension where a map is expected, and msgpack reads
// extension payloads with Read (time.Time, msgpack.RegisterExt types, Skip);
// only that detour reads a payload's first byte with ReadByte, as a type
// code. So ReadByte fails there.
type guardedReader struct {
	b    []byte
	i    int
	exts []int // offsets of non-empty extension payloads, ascending, as scan found them
}

var errExtAsCode = errors.New("extension payload read as a MessagePack value (an extension where a map belongs?)")

func (r *guardedReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func (r *guardedReader) ReadByte() (byte, error) {
	for len(r.exts) > 0 && r.exts[0] < r.i {
		r.exts = r.exts[1:]
	}
	if len(r.exts) > 0 && r.exts[0] == r.i {
		return 0, errExtAsCode
	}
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

func (r *guardedReader) UnreadByte() error {
	if r.i == 0 {
		return errors.New("zoo: codec: UnreadByte at the start")
	}
	r.i--
	return nil
}
