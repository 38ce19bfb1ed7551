package lmdbstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
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
