package lmdbstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	zoo "github.com/zoogen/zoogen/runtime"
)

// TestCloseLeavesNothing: a cache on the store, after hits, misses,
// invalidations and pruning, leaves no goroutine and no open file behind
// once it is closed; the directory can be opened again at once.
func TestCloseLeavesNothing(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	fdsBefore := openFiles()
	dir := t.TempDir()
	for _, mode := range modes {
		d := newDB()
		s := open(t, dir)
		c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("shop"), zoo.WithLogger(quiet()), zoo.WithConsistency(mode))
		require.NoError(t, err)
		in := &instance{cache: c, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
		ctx := context.Background()
		for id := range int64(20) {
			in.get(t, id)
			in.get(t, id)
		}
		require.NoError(t, c.Invalidate(ctx, "org:1"))
		in.get(t, 1)
		require.NoError(t, s.Prune(ctx, time.Hour))
		require.NoError(t, c.Close())
	}
	goleak.VerifyNone(t, ignore)
	if fdsBefore >= 0 {
		assert.Equal(t, fdsBefore, openFiles(), "open files")
	}
}

// openFiles returns the number of files the process has open, or -1 where
// the system does not tell.
func openFiles() int {
	entries, err := os.ReadDir(filepath.Join("/proc", "self", "fd"))
	if err != nil {
		return -1
	}
	return len(entries)
}
