package lmdbstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

// recordLog keeps the records logged at Warn and above.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *recordLog) WithGroup(string) slog.Handler            { return l }

func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		l.mu.Lock()
		l.recs = append(l.recs, r.Clone())
		l.mu.Unlock()
	}
	return nil
}

// find returns the attributes of the first record whose message contains
// msg, and whether there is one.
func (l *recordLog) find(msg string) (map[string]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if !strings.Contains(r.Message, msg) {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		return attrs, true
	}
	return nil, false
}

// patchFile overwrites the bytes of path from off with b, as a damaged
// disk or a stray write would; a process that has the file mapped sees the
// change at once (the map and the file share the page cache).
func patchFile(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

// offsetOf returns where marker is in the store's data file; it must be
// there once.
func offsetOf(t *testing.T, dir string, marker []byte) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "data.mdb"))
	require.NoError(t, err)
	i := bytes.Index(data, marker)
	require.GreaterOrEqual(t, i, 0, "marker not in the file")
	require.Equal(t, -1, bytes.Index(data[i+1:], marker), "marker twice in the file")
	return int64(i)
}

// TestFlippedValueIsMiss: a value changed in the file without changing its
// length (what a flipped bit or a stray write leaves) fails its checksum:
// the store returns no entry and an error wrapping store.ErrCorrupt, counts
// it, logs a warning naming the key, and the cache loads the value again
// instead of serving the damaged one.
func TestFlippedValueIsMiss(t *testing.T) {
	dir := t.TempDir()
	logs := &recordLog{}
	s := open(t, dir, withLogs(logs))
	in := newInstance(t, s, newDB())
	ctx := context.Background()
	marker := "zoo-marker-8c1f2e"
	key := in.key(7)
	require.NoError(t, s.Set(ctx, key, entry(marker, hlc.FromTime(time.Now()), "org:1:item:7")))
	got, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.NotNil(t, got)

	off := offsetOf(t, dir, []byte(marker))
	patchFile(t, filepath.Join(dir, "data.mdb"), off+4, []byte{'M'}) // "zoo-Marker-...": same length, still MessagePack
	got, err = s.Get(ctx, key)
	require.ErrorIs(t, err, store.ErrCorrupt)
	assert.Nil(t, got, "a value failing its checksum is never returned")
	assert.Equal(t, uint64(1), s.Corrupt())
	attrs, ok := logs.find("undecodable entry")
	require.True(t, ok, "a warning is logged")
	assert.Equal(t, key, attrs["key"], "the warning names the key")
	assert.Contains(t, attrs["error"], "checksum")

	// Through a cache: a miss, and the loader's value is served.
	assert.Equal(t, int64(0), in.get(t, 7))
	assert.Equal(t, int64(1), in.db.loads.Load(), "the damaged entry is loaded again, not served")
}

// withLogs makes a store log to l.
func withLogs(l *recordLog) lmdbstore.Option { return lmdbstore.WithLogger(slog.New(l)) }

// openChildEnv makes the test binary, run again, open the store in the
// directory it names, read the key in ZOO_LMDB_KEY and print what it read
// ("hit", "miss" or "error ..."), logging to stderr: a store that crashes
// on a damaged file kills that process, not the tests.
const openChildEnv = "ZOO_LMDB_OPEN_CHILD"

func runOpenChild() int {
	s, err := lmdbstore.Open(os.Getenv(openChildEnv), lmdbstore.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer s.Close()
	e, err := s.Get(context.Background(), os.Getenv("ZOO_LMDB_KEY"))
	switch {
	case err != nil:
		fmt.Println("error", err)
	case e == nil:
		fmt.Println("miss")
	default:
		fmt.Println("hit")
	}
	return 0
}

// openInChild runs runOpenChild on dir and key in a child process and
// returns its output and its log.
func openInChild(t *testing.T, dir, key string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), openChildEnv+"="+dir, "ZOO_LMDB_KEY="+key,
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var out, log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &log
	err = cmd.Run()
	return strings.TrimSpace(out.String()), log.String(), err
}

// writeFile fills a store in dir with n entries of about size bytes (some
// on overflow pages when size is over a page), so that its trees have
// branch pages, and closes it. Entry i is under key fmt.Sprint("item|", i).
func writeFile(t *testing.T, dir string, n, size int) {
	t.Helper()
	s, err := lmdbstore.Open(dir, lmdbstore.WithLogger(quiet()))
	require.NoError(t, err)
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	for i := range n {
		v := fmt.Sprintf("value-%06d-%s", i, strings.Repeat("x", size))
		require.NoError(t, s.Set(ctx, fmt.Sprint("item|", i), entry(v, now, fmt.Sprint("org:1:item:", i))))
	}
	_, err = s.Invalidate(ctx, []string{"org:2"}, 0)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// TestVerifySoundFile: files the store wrote (small and large values, one
// leaf or several levels of branches) pass the verification Open runs.
func TestVerifySoundFile(t *testing.T) {
	for _, c := range []struct{ n, size int }{{0, 0}, {1, 10}, {3000, 100}, {200, 9000}} {
		dir := t.TempDir()
		writeFile(t, dir, c.n, c.size)
		assert.NoError(t, lmdbstore.VerifyFile(dir), "%d entries of %d bytes", c.n, c.size)
	}
	assert.NoError(t, lmdbstore.VerifyFile(t.TempDir()), "no file")
}

// leafPageOf returns the page size, the number of the leaf page of the
// entries database that holds key, and the offset in the file of the
// key's node: where the key is a node's whole key (in the expiry index, it
// follows the expiry).
func leafPageOf(t *testing.T, dir, key string) (psize, pgno, node int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "data.mdb"))
	require.NoError(t, err)
	psize = int64(binary.LittleEndian.Uint32(data[16+24:]))
	lkey := []byte("k" + key)
	for from := 0; ; {
		i := bytes.Index(data[from:], lkey)
		require.GreaterOrEqual(t, i, 0, "no node has the key")
		off := int64(from + i)
		from += i + 1
		if binary.LittleEndian.Uint16(data[off-2:]) != uint16(len(lkey)) {
			continue
		}
		pgno = off / psize
		page := data[pgno*psize:]
		require.Equal(t, uint64(pgno), binary.LittleEndian.Uint64(page), "page number")
		require.Equal(t, uint16(0x02), binary.LittleEndian.Uint16(page[10:])&0x3f, "a leaf page")
		return psize, pgno, off - 8
	}
}

// TestDamagedLeafPage: 24 bytes of a leaf page overwritten crashed every
// process that read the key, at every start: with the size of the key's
// value made 4 GiB, the read runs off the end of the file (SIGBUS). Open
// now finds the damage before LMDB maps the file, logs why, and starts
// from an empty file: the read is a miss, in a process that lives on. Each
// Open runs in a child process, so that a crash fails this test instead of
// killing the test binary.
func TestDamagedLeafPage(t *testing.T) {
	const key = "item|1234"
	for _, c := range []struct {
		name   string
		damage func(psize, pgno, node int64) (int64, []byte)
	}{
		{"node size", func(_, _, node int64) (int64, []byte) {
			b := binary.LittleEndian.AppendUint32(nil, 0xffff_ffff)          // data size
			b = binary.LittleEndian.AppendUint16(b, 0)                       // flags
			b = binary.LittleEndian.AppendUint16(b, uint16(len(key)+1))      // key size
			b = append(b, "k"+key...)                                        // the key, intact
			return node, append(b, bytes.Repeat([]byte{0xff}, 24-len(b))...) // and the value's first bytes
		}},
		{"node offsets", func(psize, pgno, _ int64) (int64, []byte) {
			return pgno*psize + 16, bytes.Repeat([]byte{0xff}, 24)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, 3000, 100)
			stdout, stderr, err := openInChild(t, dir, key)
			require.NoError(t, err, stderr)
			require.Equal(t, "hit", stdout, "the sound file serves the key")

			psize, pgno, node := leafPageOf(t, dir, key)
			off, b := c.damage(psize, pgno, node)
			require.Len(t, b, 24)
			patchFile(t, filepath.Join(dir, "data.mdb"), off, b)

			stdout, stderr, err = openInChild(t, dir, key)
			require.NoError(t, err, "the process opening the damaged file died:\n%s", stderr)
			assert.Equal(t, "miss", stdout)
			assert.Contains(t, stderr, "the cache file is damaged; starting from an empty file")
			assert.Contains(t, stderr, fmt.Sprintf("page %d", pgno), "the log says where")

			// The new file is sound and empty.
			require.NoError(t, lmdbstore.VerifyFile(dir))
			s := open(t, dir)
			st, err := s.Stats()
			require.NoError(t, err)
			assert.Zero(t, st.Entries, "the damaged file's entries are gone")
		})
	}
}
