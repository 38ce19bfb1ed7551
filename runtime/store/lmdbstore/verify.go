package lmdbstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// The structure of an LMDB data file, as lmdb's mdb.c lays it out on a
// 64-bit little-endian host (the only hosts verifyFile reads files of; on
// others it does not verify). verifyFile reads the file with plain reads,
// never through LMDB's map: LMDB follows the page numbers and offsets it
// finds without checking them, and a damaged page makes it fault (SIGSEGV,
// SIGBUS) inside cgo, which no Go code can recover from.
const (
	pageHeaderLen = 16 // MDB_page: pgno u64, pad u16, flags u16, lower u16, upper u16
	nodeHeaderLen = 8  // MDB_node: lo u16, hi u16, flags u16, ksize u16
	dbLen         = 48 // MDB_db: pad u32, flags u16, depth u16, branch, leaf, overflow, entries, root u64
	metaMagic     = 0xBEEFC0DE
	metaVersion   = 1

	pageBranch   = 0x01
	pageLeaf     = 0x02
	pageOverflow = 0x04
	pageMeta     = 0x08
	pageLeaf2    = 0x20

	nodeBigData = 0x01
	nodeSubData = 0x02
	nodeDupData = 0x04

	maxDepth = 64 // far deeper than any tree a file can hold
)

// errDamaged is wrapped by the errors of verifyFile for a damaged file.
var errDamaged = errors.New("damaged data file")

// hostLayout reports whether this host lays LMDB files out as verifyFile
// reads them.
func hostLayout() bool {
	return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 && strconv.IntSize == 64
}

// dbInfo is an MDB_db record: a tree's root and what it holds.
type dbInfo struct {
	depth                           uint16
	branch, leaf, overflow, entries uint64
	root                            uint64
}

func readDB(b []byte) dbInfo {
	le := binary.LittleEndian
	return dbInfo{
		depth:  le.Uint16(b[6:]),
		branch: le.Uint64(b[8:]), leaf: le.Uint64(b[16:]), overflow: le.Uint64(b[24:]),
		entries: le.Uint64(b[32:]), root: le.Uint64(b[40:]),
	}
}

// noPage is the root of an empty tree (P_INVALID).
const noPage = ^uint64(0)

// fileWalker reads the pages of a data file.
type fileWalker struct {
	f     io.ReaderAt
	psize uint64
	pages uint64 // pages that may be referred to: up to the last page, within the file
	seen  map[uint64]bool
	buf   []byte
}

// verifyFile checks the structure of the LMDB data file at path: both meta
// pages, and every branch, leaf and overflow page of the free-page tree,
// the main tree and every named database, so that no page number, node
// offset or size LMDB would follow points outside its page or the file,
// and the counts recorded for each tree match what it holds. It returns an
// error wrapping errDamaged when the file is not sound, and nil for a
// missing or empty file.
func verifyFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	damaged := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", errDamaged, fmt.Sprintf(format, args...))
	}
	head := make([]byte, pageHeaderLen+136)
	if _, err := f.ReadAt(head, 0); err != nil {
		return damaged("the first meta page cannot be read: %v", err)
	}
	psize := uint64(binary.LittleEndian.Uint32(head[pageHeaderLen+24:]))
	if psize < 512 || psize > 1<<16 || psize&(psize-1) != 0 {
		return damaged("page size %d", psize)
	}
	if uint64(fi.Size()) < 2*psize {
		return damaged("%d bytes: shorter than its two meta pages", fi.Size())
	}
	// The meta page with the later transaction is the current one.
	var cur []byte
	var curTxn uint64
	for i := range uint64(2) {
		m := make([]byte, pageHeaderLen+136)
		if _, err := f.ReadAt(m, int64(i*psize)); err != nil {
			return damaged("meta page %d cannot be read: %v", i, err)
		}
		le := binary.LittleEndian
		body := m[pageHeaderLen:]
		switch {
		case le.Uint64(m) != i || le.Uint16(m[10:])&pageMeta == 0:
			return damaged("meta page %d has the header of another page", i)
		case le.Uint32(body) != metaMagic || le.Uint32(body[4:]) != metaVersion:
			return damaged("meta page %d: bad magic or version", i)
		case uint64(le.Uint32(body[24:])) != psize:
			return damaged("meta page %d: another page size", i)
		}
		if txn := le.Uint64(body[128:]); cur == nil || txn > curTxn {
			cur, curTxn = body, txn
		}
	}
	lastPg := binary.LittleEndian.Uint64(cur[120:])
	w := &fileWalker{f: f, psize: psize, pages: min(lastPg+1, uint64(fi.Size())/psize),
		seen: map[uint64]bool{}, buf: make([]byte, psize)}
	if lastPg < 1 {
		return damaged("last page %d", lastPg)
	}
	for i, name := range []string{"free-page tree", "main tree"} {
		if err := w.tree(readDB(cur[24+i*dbLen:]), name); err != nil {
			return fmt.Errorf("%w: %s", errDamaged, err)
		}
	}
	return nil
}

// tree checks the tree db describes.
func (w *fileWalker) tree(db dbInfo, name string) error {
	if db.root == noPage {
		if db.depth != 0 || db.entries != 0 || db.branch+db.leaf+db.overflow != 0 {
			return fmt.Errorf("%s: no root, but counts", name)
		}
		return nil
	}
	var got dbInfo
	if err := w.page(db.root, name, 1, int(db.depth), &got); err != nil {
		return err
	}
	if got.branch != db.branch || got.leaf != db.leaf || got.overflow != db.overflow || got.entries != db.entries {
		return fmt.Errorf("%s: holds %d branch, %d leaf, %d overflow pages and %d entries; its record says %d, %d, %d and %d",
			name, got.branch, got.leaf, got.overflow, got.entries, db.branch, db.leaf, db.overflow, db.entries)
	}
	return nil
}

// read reads page pgno into w.buf.
func (w *fileWalker) read(pgno uint64, name string) ([]byte, error) {
	if pgno < 2 || pgno >= w.pages {
		return nil, fmt.Errorf("%s: page number %d outside pages 2 to %d", name, pgno, w.pages-1)
	}
	if w.seen[pgno] {
		return nil, fmt.Errorf("%s: page %d reached twice", name, pgno)
	}
	w.seen[pgno] = true
	if _, err := w.f.ReadAt(w.buf, int64(pgno*w.psize)); err != nil {
		return nil, fmt.Errorf("%s: page %d cannot be read: %w", name, pgno, err)
	}
	if got := binary.LittleEndian.Uint64(w.buf); got != pgno {
		return nil, fmt.Errorf("%s: page %d says it is page %d", name, pgno, got)
	}
	return w.buf, nil
}

// page checks the page pgno of a tree, at depth in a tree depth levels
// deep, and the pages under it, and counts them into got.
func (w *fileWalker) page(pgno uint64, name string, depth, want int, got *dbInfo) error {
	if depth > want || depth > maxDepth {
		return fmt.Errorf("%s: deeper than its depth %d", name, want)
	}
	p, err := w.read(pgno, name)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	flags := le.Uint16(p[10:])
	lower, upper := uint64(le.Uint16(p[12:])), uint64(le.Uint16(p[14:]))
	if lower < pageHeaderLen || lower > upper || upper > w.psize || (lower-pageHeaderLen)%2 != 0 {
		return fmt.Errorf("%s: page %d: free space from %d to %d", name, pgno, lower, upper)
	}
	n := int((lower - pageHeaderLen) / 2)
	branch := flags&(pageBranch|pageLeaf|pageOverflow|pageMeta|pageLeaf2) == pageBranch
	leaf := flags&(pageBranch|pageLeaf|pageOverflow|pageMeta|pageLeaf2) == pageLeaf
	switch {
	case !branch && !leaf:
		return fmt.Errorf("%s: page %d: flags %#x", name, pgno, flags)
	case leaf && depth != want, branch && depth == want:
		return fmt.Errorf("%s: page %d: a %s at level %d of %d", name, pgno, map[bool]string{true: "leaf", false: "branch"}[leaf], depth, want)
	case n == 0:
		return fmt.Errorf("%s: page %d: %d nodes", name, pgno, n)
	}
	// The nodes are read from a copy: the children are read into w.buf.
	page := append([]byte(nil), p...)
	if branch {
		got.branch++
	} else {
		got.leaf++
	}
	for i := range n {
		off := uint64(le.Uint16(page[pageHeaderLen+2*i:]))
		if off < upper || off+nodeHeaderLen > w.psize {
			return fmt.Errorf("%s: page %d: node %d at offset %d", name, pgno, i, off)
		}
		node := page[off:]
		lo, hi, nflags, ksize := uint64(le.Uint16(node)), uint64(le.Uint16(node[2:])), le.Uint16(node[4:]), uint64(le.Uint16(node[6:]))
		room := w.psize - off - nodeHeaderLen
		if ksize > room {
			return fmt.Errorf("%s: page %d: node %d: a %d-byte key", name, pgno, i, ksize)
		}
		if branch {
			child := lo | hi<<16 | uint64(nflags)<<32
			if err := w.page(child, name, depth+1, want, got); err != nil {
				return err
			}
			continue
		}
		got.entries++
		size := lo | hi<<16
		data := node[nodeHeaderLen+ksize:]
		switch {
		case nflags&^uint16(nodeBigData|nodeSubData) != 0 || nflags&nodeDupData != 0:
			return fmt.Errorf("%s: page %d: node %d: flags %#x", name, pgno, i, nflags)
		case nflags&nodeBigData != 0:
			if nflags&nodeSubData != 0 || room-ksize < 8 {
				return fmt.Errorf("%s: page %d: node %d: a bad overflow reference", name, pgno, i)
			}
			if err := w.overflow(le.Uint64(data), size, name, got); err != nil {
				return err
			}
		case size > room-ksize:
			return fmt.Errorf("%s: page %d: node %d: %d bytes of data in %d", name, pgno, i, size, room-ksize)
		case nflags&nodeSubData != 0:
			if size != dbLen {
				return fmt.Errorf("%s: page %d: node %d: a database record of %d bytes", name, pgno, i, size)
			}
			if err := w.tree(readDB(data), fmt.Sprintf("database %q", node[nodeHeaderLen:nodeHeaderLen+ksize])); err != nil {
				return err
			}
		}
	}
	return nil
}

// overflow checks the run of overflow pages from pgno holding size bytes.
func (w *fileWalker) overflow(pgno, size uint64, name string, got *dbInfo) error {
	p, err := w.read(pgno, name)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	n := uint64(le.Uint32(p[12:]))
	switch {
	case le.Uint16(p[10:])&pageOverflow == 0:
		return fmt.Errorf("%s: page %d: not an overflow page", name, pgno)
	case n == 0 || pgno+n > w.pages:
		return fmt.Errorf("%s: overflow page %d: a run of %d pages", name, pgno, n)
	case size > n*w.psize-pageHeaderLen:
		return fmt.Errorf("%s: overflow page %d: %d bytes in %d pages", name, pgno, size, n)
	}
	for i := uint64(1); i < n; i++ {
		if w.seen[pgno+i] {
			return fmt.Errorf("%s: page %d reached twice", name, pgno+i)
		}
		w.seen[pgno+i] = true
	}
	got.overflow += n
	return nil
}
