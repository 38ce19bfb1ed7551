package history_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/history"
	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// minReads is the fewest reads a run must make to have tested anything. Runs
// are bounded in time, so a busy machine makes fewer: the bound is low
// enough for 2 cores shared with other work (a quiet run makes 10k+).
const minReads = 100

func TestMain(m *testing.M) {
	redistest.Quiet()
	if os.Getenv("ZOO_HISTORY_WORKER") == "lmdb" {
		os.Exit(lmdbWorker())
	}
	os.Exit(m.Run())
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// faults are the loader faults of every run: panics, loads slower than the
// readers' timeout, failures, and readers cancelled midway.
var faults = history.Faults{Panic: 0.005, Fail: 0.01, Slow: 0.02, SlowFor: 30 * time.Millisecond}

var config = history.Config{Rows: 8, Workers: 6, Duration: 2 * time.Second, Timeout: 20 * time.Millisecond, Cancel: 0.02}

func TestMemory(t *testing.T) {
	db := history.NewDB(faults)
	c, err := zoo.New(zoo.WithLogger(quiet()))
	require.NoError(t, err)
	defer c.Close()
	ops := history.Run(context.Background(), []history.Client{{Name: "mem", Cache: c, Rows: history.NewCachedRows(db, c)}}, config)
	r := history.Check(ops)
	t.Log(r)
	require.Greater(t, r.Reads, minReads, "too few reads to test anything")
	require.Empty(t, r.Violations, "stale reads on the memory store:\n%s", r)
}

// skewedClock is a wall clock offset from the real one; it may jump.
type skewedClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (s *skewedClock) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

func (s *skewedClock) jump(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// localWindow is what local consistency allows: a read may miss an
// invalidation made elsewhere for as long as its message takes to arrive
// (a fraction of a millisecond on loopback; see BenchmarkPropagation), or
// the subscription's loss takes to notice.
const localWindow = 100 * time.Millisecond

// TestRedis runs three instances on a Redis of the test's own, with clocks
// skewed by up to ten seconds (one jumps back mid-run), while the
// subscriptions are killed, Redis is paused, and Redis is killed and
// restarted. Strict mode allows no stale read; local mode only within the
// propagation window.
func TestRedis(t *testing.T) {
	for _, mode := range []zoo.Consistency{zoo.Strict, zoo.Local} {
		t.Run(mode.String(), func(t *testing.T) {
			srv := redistest.Start(t)
			db := history.NewDB(faults)
			offsets := []time.Duration{0, 10 * time.Second, -7 * time.Second}
			clocks := make([]*skewedClock, len(offsets))
			var clients []history.Client
			for i, off := range offsets {
				clocks[i] = &skewedClock{offset: off}
				rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
				defer rc.Close()
				c, err := zoo.New(zoo.WithStore(redisstore.New(rc, redisstore.WithLogger(quiet()))),
					zoo.WithNamespace("history"), zoo.WithConsistency(mode), zoo.WithClock(clocks[i].now),
					zoo.WithLogger(quiet()), zoo.WithInstance(string(rune('a'+i))))
				require.NoError(t, err)
				defer c.Close()
				clients = append(clients, history.Client{Name: string(rune('a' + i)), Cache: c, Rows: history.NewCachedRows(db, c)})
			}
			require.Eventually(t, func() bool {
				for _, cl := range clients {
					if !cl.Cache.Stats().Connected {
						return false
					}
				}
				return true
			}, 5*time.Second, 5*time.Millisecond)

			cfg := config
			cfg.Duration = 3 * time.Second
			admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
			defer admin.Close()
			ctx := context.Background()
			faultsDone := make(chan struct{})
			go func() {
				defer close(faultsDone)
				time.Sleep(400 * time.Millisecond)
				admin.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub") // every subscription drops
				time.Sleep(400 * time.Millisecond)
				clocks[2].jump(-10 * time.Second)      // c's clock steps back
				admin.Do(ctx, "DEBUG", "SLEEP", "0.3") // Redis stalls past the command timeout
				time.Sleep(400 * time.Millisecond)
				srv.Kill() // Redis dies...
				time.Sleep(300 * time.Millisecond)
				srv.Restart() // ...and comes back empty
			}()
			ops := history.Run(ctx, clients, cfg)
			<-faultsDone
			r := history.Check(ops)
			t.Logf("%s: %v", mode, r)
			require.Greater(t, r.Reads, minReads, "too few reads to test anything")
			switch mode {
			case zoo.Strict:
				require.Empty(t, r.Violations, "stale reads in strict mode:\n%s", r)
			case zoo.Local:
				require.Empty(t, r.Stale(localWindow), "stale reads beyond the propagation window in local mode:\n%s", r)
			}
		})
	}
}
