package lmdbstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

// The byte layout of the file; see the package documentation.

// formatVersion names the layout below. A file of another layout is refused
// rather than read or overwritten: a process of another build may be using
// it. Layout 2 added the checksum of entry values.
const formatVersion = "zoo-lmdbstore/2"

// Names of the databases (DBIs) in the environment.
const (
	dbEntries  = "entries"
	dbExpiry   = "expiry"
	dbVersions = "versions"
	dbMeta     = "meta"
	dbLog      = "log"
)

// Keys of the meta database.
var (
	metaFormat = []byte("format")
	metaLast   = []byte("last")   // the last version issued by Invalidate
	metaLease  = []byte("lease")  // no timestamp Now returned is later than this
	metaSeq    = []byte("seq")    // the sequence number of the last log record
	metaReaped = []byte("reaped") // Unix ms of the last expiry sweep, by any process
	metaGen    = []byte("gen")    // the change count of the last write that bumped it (see genCounter)
)

// metaHorizon is the meta key of a namespace's horizon: entries of the
// namespace loaded before it are stale.
func metaHorizon(ns string) []byte { return append([]byte("h:"), ns...) }

// Prefixes of keys in the entries and versions databases.
const (
	keyDirect = 'k' // the key itself follows
	keyHashed = '#' // the SHA-256 of the full key follows; the value holds the full key
	keyPath   = 'p' // versions: the namespace (length-prefixed) and the tag path follow
)

// endKey is the last key of the versions and meta databases, after every
// key that holds something.
var endKey = []byte{0xff}

// Kinds of stored entry values (the first byte).
const (
	valueDirect = 0x01 // header, codec frame, checksum
	valueHashed = 0x02 // header, uvarint key length, key, codec frame, checksum
)

// valueHeaderLen is the kind byte and the expiry.
const valueHeaderLen = 1 + 8

// checksumLen is the length of the CRC-32C (Castagnoli) that ends every
// entry value, computed over the bytes before it.
const checksumLen = 4

// castagnoli is the CRC-32C table: the polynomial CPUs compute in
// hardware (SSE 4.2, ARMv8), a few bytes per cycle.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// neverExpires is the expiry-index time of an entry without expiry: after
// every other, so that eviction takes it last and the reaper never.
const neverExpires = math.MaxUint64

// maxNamespace bounds a namespace's length, so that it fits in one length
// byte and in meta keys.
const maxNamespace = 255

// errBadValue is what parseValue returns for bytes that are not an entry;
// errChecksum for bytes whose checksum does not match them.
var (
	errBadValue = errors.New("bad entry value")
	errChecksum = errors.New("entry value fails its checksum")
)

// entryKey appends to dst the key under which key is stored in the entries
// database: the key itself when it fits beside an expiry in the index, or
// its SHA-256, in which case the value carries the full key.
func entryKey(dst []byte, key string, maxKey int) (lkey []byte, hashed bool) {
	if 1+len(key) <= maxKey-8 {
		dst = append(dst, keyDirect)
		return append(dst, key...), false
	}
	h := sha256.New()
	h.Write([]byte(key))
	dst = append(dst, keyHashed)
	return h.Sum(dst), true
}

// expiryMillis returns the expiry index time of an entry.
func expiryMillis(e int64, zero bool) uint64 {
	if zero {
		return neverExpires
	}
	return uint64(max(e, 0))
}

// indexKey appends to dst the expiry index key of an entry.
func indexKey(dst []byte, expMs uint64, lkey []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, expMs)
	return append(dst, lkey...)
}

// encodeValue returns the stored form of an entry.
func encodeValue(key string, hashed bool, expMs uint64, frame []byte) []byte {
	n := valueHeaderLen + len(frame) + checksumLen
	if hashed {
		n += binary.MaxVarintLen64 + len(key)
	}
	v := make([]byte, 0, n)
	if hashed {
		v = append(v, valueHashed)
	} else {
		v = append(v, valueDirect)
	}
	v = binary.BigEndian.AppendUint64(v, expMs)
	if hashed {
		v = binary.AppendUvarint(v, uint64(len(key)))
		v = append(v, key...)
	}
	v = append(v, frame...)
	return binary.BigEndian.AppendUint32(v, crc32.Checksum(v, castagnoli))
}

// parseValue reads a stored entry value: its expiry index time, the full
// key of a hashed entry (nil for a direct one), and the codec frame. Bytes
// whose checksum does not match are errChecksum, bytes of no known kind
// errBadValue. It never panics, whatever val holds.
func parseValue(val []byte) (expMs uint64, fullKey, frame []byte, err error) {
	if len(val) < valueHeaderLen+checksumLen {
		return 0, nil, nil, errBadValue
	}
	body := val[:len(val)-checksumLen]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(val[len(body):]) {
		return 0, nil, nil, errChecksum
	}
	expMs = binary.BigEndian.Uint64(body[1:9])
	rest := body[valueHeaderLen:]
	switch val[0] {
	case valueDirect:
		return expMs, nil, rest, nil
	case valueHashed:
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return 0, nil, nil, errBadValue
		}
		rest = rest[k:]
		return expMs, rest[:n], rest[n:], nil
	}
	return 0, nil, nil, errBadValue
}

// nsPrefix returns the prefix of the version keys of namespace ns.
func nsPrefix(ns string) []byte {
	p := make([]byte, 0, 2+len(ns))
	p = append(p, keyPath, byte(len(ns)))
	return append(p, ns...)
}

// versionKey appends to dst the key of the version of tag path under the
// namespace prefix pfx, and reports whether it is hashed. A hashed key is
// the SHA-256 of the direct one, which full then holds (the value carries
// it, so that the versions of a namespace can be listed).
func versionKey(dst, pfx []byte, path string, maxKey int) (vkey []byte, full []byte) {
	start := len(dst)
	dst = append(dst, pfx...)
	dst = append(dst, path...)
	if len(dst)-start <= maxKey {
		return dst, nil
	}
	full = bytes.Clone(dst[start:])
	sum := sha256.Sum256(full)
	dst = append(dst[:start], keyHashed)
	return append(dst, sum[:]...), full
}

// versionValue returns the stored form of a version: 8 bytes, followed by
// the direct key for a hashed one.
func versionValue(v hlc.Timestamp, full []byte) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(full)), uint64(v))
	return append(b, full...)
}

// readVersion reads a stored version; bytes that are not one read as a
// version later than any (stale, never fresh: a corrupt version must not
// make an entry servable).
func readVersion(b []byte) hlc.Timestamp {
	if len(b) < 8 {
		return hlc.Timestamp(math.MaxUint64)
	}
	return hlc.Timestamp(binary.BigEndian.Uint64(b))
}

// u64 encodes a meta number.
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// readU64 reads a meta number; missing or malformed bytes read as 0.
func readU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// record is one invalidation in the log, written as the MessagePack array
// [ns, version, [tags...]].
type record struct {
	NS      string
	Version uint64
	Tags    []string
}

// EncodeMsgpack writes r as an array.
func (r *record) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeArrayLen(3); err != nil {
		return err
	}
	if err := enc.EncodeString(r.NS); err != nil {
		return err
	}
	if err := enc.EncodeUint(r.Version); err != nil {
		return err
	}
	return enc.Encode(r.Tags)
}

// DecodeMsgpack reads what EncodeMsgpack writes.
func (r *record) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return err
	}
	if n != 3 {
		return fmt.Errorf("a log record of %d elements, want 3", max(n, 0))
	}
	if r.NS, err = dec.DecodeString(); err != nil {
		return err
	}
	if r.Version, err = dec.DecodeUint64(); err != nil {
		return err
	}
	return dec.Decode(&r.Tags)
}

func encodeRecord(ns string, v hlc.Timestamp, tags []string) ([]byte, error) {
	return msgpack.Marshal(&record{NS: ns, Version: uint64(v), Tags: tags})
}

// decodeRecord reads a log record. The bytes are checked before they are
// decoded (codec.Raw), so that a corrupt record cannot make it allocate out
// of proportion.
func decodeRecord(b []byte) (record, error) {
	var r record
	if err := codec.Raw(b).Decode(&r); err != nil {
		return record{}, err
	}
	return r, nil
}
