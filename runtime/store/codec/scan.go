package codec

import (
	"encoding/binary"
	"fmt"

	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// maxDepth bounds the nesting of arrays and maps that scan accepts. The
// msgpack decoder recurses once per level; encoding/json draws its line at
// the same depth.
const maxDepth = 10000

// scan checks that b holds exactly one well-formed MessagePack value, nested
// at most maxDepth deep, whose every length is plausible: no array, map,
// string, binary or extension claims more elements or bytes than remain in b.
//
// The msgpack decoder allocates from a length before it reads what the length
// announces (a slice of n elements, a map sized for n entries, a byte slice of
// n bytes), so a five-byte array header could otherwise make it allocate
// gigabytes. Once scan has accepted b, every length the decoder reads, while
// it reads b in the same alignment as scan, is bounded by len(b).
//
// When exts is not nil, scan appends to it the offset of the first payload
// byte of every non-empty extension, for [guardedReader].
func scan(b []byte, exts *[]int) error {
	var stack [16]int
	open := stack[:0] // values still to read in each open array or map
	pending := 0      // the sum of open
	i := 0
	for {
		if i >= len(b) {
			return fmt.Errorf("truncated: a value is missing at offset %d", i)
		}
		at := i
		c := b[i]
		i++

		// Work out how many payload bytes (size) and how many nested
		// values (n) follow the code and its length field.
		var (
			size, n   uint64
			container bool // an array or a map, even an empty one
			ext       bool
			err       error
		)
		switch {
		case msgpcode.IsFixedNum(c):
		case msgpcode.IsFixedMap(c):
			n, container = 2*uint64(c&msgpcode.FixedMapMask), true
		case msgpcode.IsFixedArray(c):
			n, container = uint64(c&msgpcode.FixedArrayMask), true
		case msgpcode.IsFixedString(c):
			size = uint64(c & msgpcode.FixedStrMask)
		default:
			switch c {
			case msgpcode.Nil, msgpcode.False, msgpcode.True:
			case msgpcode.Uint8, msgpcode.Int8:
				size = 1
			case msgpcode.Uint16, msgpcode.Int16:
				size = 2
			case msgpcode.Uint32, msgpcode.Int32, msgpcode.Float:
				size = 4
			case msgpcode.Uint64, msgpcode.Int64, msgpcode.Double:
				size = 8
			case msgpcode.Bin8, msgpcode.Str8:
				size, i, err = readLen(b, i, 1)
			case msgpcode.Bin16, msgpcode.Str16:
				size, i, err = readLen(b, i, 2)
			case msgpcode.Bin32, msgpcode.Str32:
				size, i, err = readLen(b, i, 4)
			case msgpcode.FixExt1, msgpcode.FixExt2, msgpcode.FixExt4, msgpcode.FixExt8, msgpcode.FixExt16:
				size, ext = 1<<(c-msgpcode.FixExt1), true
			case msgpcode.Ext8:
				size, i, err = readLen(b, i, 1)
				ext = true
			case msgpcode.Ext16:
				size, i, err = readLen(b, i, 2)
				ext = true
			case msgpcode.Ext32:
				size, i, err = readLen(b, i, 4)
				ext = true
			case msgpcode.Array16:
				n, i, err = readLen(b, i, 2)
				container = true
			case msgpcode.Array32:
				n, i, err = readLen(b, i, 4)
				container = true
			case msgpcode.Map16:
				n, i, err = readLen(b, i, 2)
				n, container = 2*n, true
			case msgpcode.Map32:
				n, i, err = readLen(b, i, 4)
				n, container = 2*n, true
			default:
				return fmt.Errorf("invalid code %#x at offset %d", c, at)
			}
		}
		if err != nil {
			return fmt.Errorf("code %#x at offset %d: %w", c, at, err)
		}
		if ext {
			// The extension's type byte comes before its payload.
			if exts != nil && size > 0 {
				*exts = append(*exts, i+1)
			}
			size++
		}
		if left := uint64(len(b) - i); size > left {
			return fmt.Errorf("code %#x at offset %d: %d payload bytes, %d left", c, at, size, left)
		}
		i += int(size)

		// The value is one of its parent's; an array or map opens a level.
		if len(open) > 0 {
			open[len(open)-1]--
			pending--
		}
		if container && len(open) == maxDepth {
			return fmt.Errorf("nested deeper than %d levels at offset %d", maxDepth, at)
		}
		if n > 0 {
			// Every value announced takes at least one byte.
			if want, left := uint64(pending)+n, uint64(len(b)-i); want > left {
				return fmt.Errorf("code %#x at offset %d: %d values announced, %d bytes left", c, at, want, left)
			}
			open = append(open, int(n))
			pending += int(n)
		}
		for len(open) > 0 && open[len(open)-1] == 0 {
			open = open[:len(open)-1]
		}
		if len(open) == 0 {
			break
		}
	}
	if i != len(b) {
		return fmt.Errorf("%d bytes of trailing data at offset %d", len(b)-i, i)
	}
	return nil
}

// readLen reads a big-endian length of width bytes at b[i:] and returns it
// with the offset that follows it.
func readLen(b []byte, i, width int) (uint64, int, error) {
	if len(b)-i < width {
		return 0, i, fmt.Errorf("truncated length (%d of %d bytes)", len(b)-i, width)
	}
	var n uint64
	switch width {
	case 1:
		n = uint64(b[i])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b[i:]))
	default:
		n = uint64(binary.BigEndian.Uint32(b[i:]))
	}
	return n, i + width, nil
}
