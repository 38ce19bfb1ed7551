package history_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/history"
	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

// The worker side of TestLMDB: a process of the service, run by
// re-executing the test binary. It opens the shared directory, runs its
// clients against the database in Redis, and prints its history as JSON
// lines.
func lmdbWorker() int {
	dir, name := os.Getenv("ZOO_HISTORY_DIR"), os.Getenv("ZOO_HISTORY_NAME")
	mode := zoo.Local
	if os.Getenv("ZOO_HISTORY_MODE") == "strict" {
		mode = zoo.Strict
	}
	skew, _ := time.ParseDuration(os.Getenv("ZOO_HISTORY_SKEW"))
	duration, _ := time.ParseDuration(os.Getenv("ZOO_HISTORY_DURATION"))
	s, err := lmdbstore.Open(dir, lmdbstore.WithLogger(quiet()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("history"), zoo.WithConsistency(mode),
		zoo.WithClock(func() time.Time { return time.Now().Add(skew) }), zoo.WithLogger(quiet()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	rc := redistest.ClientFor(redistest.Addr())
	defer rc.Close()
	db := history.NewRedisDB(rc, os.Getenv("ZOO_HISTORY_PREFIX"), faults)
	for !c.Stats().Connected {
		time.Sleep(time.Millisecond)
	}
	cfg := config
	cfg.Workers, cfg.Duration = 3, duration
	ops := history.Run(context.Background(), []history.Client{{Name: name, Cache: c, Rows: history.NewCachedRows(db, c)}}, cfg)
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	for _, op := range ops {
		_ = enc.Encode(op)
	}
	_ = w.Flush()
	return 0
}

// TestLMDB runs three processes on one LMDB directory, with clocks skewed
// by up to ten seconds and loaders that panic, fail, time out and are
// cancelled; the database is a set of counters in Redis that all of them
// share. Strict mode allows no stale read; local mode only within the
// polling window.
func TestLMDB(t *testing.T) {
	client := redistest.Client(t)
	for _, mode := range []string{"strict", "local"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			prefix := redistest.Namespace(t, client) + ":row:"
			var mu sync.Mutex
			var ops []history.Op
			var wg sync.WaitGroup
			for i, skew := range []time.Duration{0, 10 * time.Second, -7 * time.Second} {
				wg.Go(func() {
					cmd := exec.Command(os.Args[0], "-test.run=^$")
					cmd.Env = append(os.Environ(), "ZOO_HISTORY_WORKER=lmdb", "ZOO_HISTORY_DIR="+dir,
						"ZOO_HISTORY_NAME=p"+strconv.Itoa(i), "ZOO_HISTORY_MODE="+mode, "ZOO_HISTORY_SKEW="+skew.String(),
						"ZOO_HISTORY_DURATION=2s", "ZOO_HISTORY_PREFIX="+prefix)
					out, err := cmd.Output()
					if err != nil {
						var stderr []byte
						if ee, ok := err.(*exec.ExitError); ok {
							stderr = ee.Stderr
						}
						t.Errorf("worker %d: %v\n%s", i, err, stderr)
						return
					}
					sc := bufio.NewScanner(bytes.NewReader(out))
					var mine []history.Op
					for sc.Scan() {
						var op history.Op
						if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
							t.Errorf("worker %d: %v", i, err)
							return
						}
						mine = append(mine, op)
					}
					mu.Lock()
					ops = append(ops, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			r := history.Check(ops)
			t.Logf("%s: %v", mode, r)
			require.Greater(t, r.Reads, minReads, "too few reads to test anything")
			if mode == "strict" {
				require.Empty(t, r.Violations, "stale reads in strict mode:\n%s", r)
			} else {
				require.Empty(t, r.Stale(localWindow), "stale reads beyond the polling window:\n%s", r)
			}
		})
	}
}
