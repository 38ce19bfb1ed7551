package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"

	"github.com/zoogen/zoogen/internal/redistest"
)

// modes are the consistency modes every operations test runs in.
var modes = []struct {
	name string
	mode zoo.Consistency
}{{"strict", zoo.Strict}, {"local", zoo.Local}}

func clientOf(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// staleReads reads every id through in and counts the values older than
// the database's.
func staleReads(t *testing.T, in *instance, ids []int64) int {
	t.Helper()
	stale := 0
	for _, id := range ids {
		got, err := in.get(context.Background(), id)
		require.NoError(t, err)
		in.db.mu.Lock()
		want := in.db.versions[id]
		in.db.mu.Unlock()
		if got != want {
			stale++
		}
	}
	return stale
}

// An operator restarts Redis from a snapshot older than the last
// invalidations (RDB persistence, kill -9): what those invalidations
// expired must not come back, neither from Redis to a new instance nor from
// the memory tier of one that kept running.
func TestRestartFromOlderSnapshot(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := redistest.Start(t)
			d := newDB()
			ids := []int64{1, 2, 3, 4, 5}
			a := newInstance(t, clientOf(t, srv.Addr()), "snap", d, zoo.WithConsistency(m.mode))
			a.waitUp(t)
			for _, id := range ids {
				a.update(context.Background(), id)
				mustGet(t, a, id) // stored in Redis, and in a's memory tier
			}
			srv.Save()
			for _, id := range ids {
				a.update(context.Background(), id) // acknowledged, then lost
			}
			_, ups := a.store.state()
			srv.Kill()
			srv.Restart() // loads the snapshot
			eventually(t, 10*time.Second, func() bool { up, n := a.store.state(); return up && n > ups },
				"the running instance never resubscribed")

			b := newInstance(t, clientOf(t, srv.Addr()), "snap", d, zoo.WithConsistency(m.mode))
			b.waitUp(t)
			assert.Zero(t, staleReads(t, b, ids), "a new instance served values the lost invalidations expired")
			assert.Zero(t, staleReads(t, a, ids), "the running instance served values the lost invalidations expired")
		})
	}
}

// A master acknowledges invalidations its replica never receives, dies,
// and the replica is promoted (what Sentinel does): entries the lost
// invalidations expired must not be served from the promoted replica.
func TestFailoverToAReplicaBehind(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			master := redistest.Start(t)
			replica := redistest.StartReplica(t, master)
			d := newDB()
			ids := make([]int64, 20)
			for i := range ids {
				ids[i] = int64(i + 1)
			}
			a := newInstance(t, clientOf(t, master.Addr()), "failover", d, zoo.WithConsistency(m.mode))
			a.waitUp(t)
			for _, id := range ids {
				mustGet(t, a, id)
			}
			require.NoError(t, master.Client().Do(context.Background(), "WAIT", 1, 2000).Err())
			replica.StopReplication()
			for _, id := range ids {
				a.update(context.Background(), id) // acknowledged by the master only
			}
			master.Kill()
			replica.Promote()

			b := newInstance(t, clientOf(t, replica.Addr()), "failover", d, zoo.WithConsistency(m.mode))
			b.waitUp(t)
			assert.Zero(t, staleReads(t, b, ids), "the promoted replica served what the lost invalidations expired")
		})
	}
}

// FLUSHDB empties the namespace under running instances: a Local memory
// tier must not keep serving what it loaded before, once an instance has
// started the new epoch.
func TestFlushReachesLocalTiers(t *testing.T) {
	srv := redistest.Start(t)
	d := newDB()
	ids := []int64{1, 2, 3}
	a := newInstance(t, clientOf(t, srv.Addr()), "flush", d)
	b := newInstance(t, clientOf(t, srv.Addr()), "flush", d)
	a.waitUp(t)
	b.waitUp(t)
	for _, id := range ids {
		mustGet(t, a, id)
	}
	ctx := context.Background()
	for round, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			for _, id := range ids {
				mustGet(t, a, id)
			}
			// The database changes without an invalidation reaching Redis:
			// the flush is what must expire a's copies.
			for _, id := range ids {
				d.write(id)
			}
			if async {
				require.NoError(t, srv.Client().Do(ctx, "FLUSHDB", "ASYNC").Err())
			} else {
				require.NoError(t, srv.Client().FlushDB(ctx).Err())
			}
			// b starts the new epoch with its next load.
			mustGet(t, b, int64(100+round))
			eventually(t, 2*time.Second, func() bool { return staleReads(t, a, ids) == 0 },
				"a's memory tier kept serving what it loaded before the flush")
		})
	}
}

// A Strict read right after Redis restarted from an old snapshot, before
// the subscription is back (or anyone ran a script on the new server), must
// not trust what the snapshot brought back.
func TestStrictReadRightAfterRestart(t *testing.T) {
	srv := redistest.Start(t)
	d := newDB()
	ids := []int64{1, 2, 3, 4, 5}
	// go-redis's defaults: a command that meets a dead connection is
	// retried on a new one, so the restart is invisible to the caller.
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	a := newInstance(t, client, "snapnow", d, zoo.WithConsistency(zoo.Strict))
	a.waitUp(t)
	for _, id := range ids {
		a.update(context.Background(), id)
		mustGet(t, a, id)
	}
	srv.Save()
	for _, id := range ids {
		a.update(context.Background(), id)
	}
	srv.Kill()
	srv.Restart()
	assert.Zero(t, staleReads(t, a, ids), "a strict read trusted what the snapshot brought back")
}

// Redis out of memory (a volatile-* policy with nothing left to evict)
// refuses invalidations: Invalidate must say so with store.ErrUnavailable,
// the other instances must stop serving what it expired, and the
// invalidation must be recorded once Redis accepts writes again.
func TestInvalidationRefusedOutOfMemory(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "volatile-lru")
	ctx := context.Background()
	d := newDB()
	a := newInstance(t, clientOf(t, srv.Addr()), "oom", d)
	b := newInstance(t, clientOf(t, srv.Addr()), "oom", d)
	a.waitUp(t)
	b.waitUp(t)
	const id = 7
	mustGet(t, b, id) // in b's memory tier

	admin := srv.Client()
	filler := strings.Repeat("x", 64<<10)
	for i := range 64 {
		require.NoError(t, admin.Set(ctx, fmt.Sprintf("filler:%d", i), filler, 0).Err())
	}
	info, err := admin.Info(ctx, "memory").Result()
	require.NoError(t, err)
	used := regexp.MustCompile(`used_memory:(\d+)`).FindStringSubmatch(info)[1]
	n, _ := strconv.Atoi(used)
	require.NoError(t, admin.ConfigSet(ctx, "maxmemory", strconv.Itoa(n/2)).Err())

	v := d.write(id)
	err = a.cache.Invalidate(ctx, zoo.Tag("item", id))
	require.Error(t, err, "Redis is out of memory: the invalidation cannot have been recorded")
	assert.ErrorIs(t, err, store.ErrUnavailable)
	eventually(t, 2*time.Second, func() bool { return mustGet(t, b, id) == v },
		"b kept serving what a's refused invalidation expired")

	for i := range 64 {
		require.NoError(t, admin.Del(ctx, fmt.Sprintf("filler:%d", i)).Err())
	}
	c := newInstance(t, clientOf(t, srv.Addr()), "oom", d, zoo.WithConsistency(zoo.Strict))
	eventually(t, 5*time.Second, func() bool {
		vs, err := admin.HGet(ctx, redisstore.VersionsKey("oom", "item:7"), "t:item:7").Result()
		return err == nil && vs != ""
	}, "the refused invalidation was never recorded once Redis had memory again")
	assert.Equal(t, v, mustGet(t, c, id))
}

// The tag versions evicted (or deleted) under a running namespace: an
// instance that did not hear the invalidations they recorded must not serve
// what those invalidations expired, from its memory tier or from Redis.
func TestVersionsLost(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	d := newDB()
	ids := []int64{1, 2, 3}
	w := newInstance(t, clientOf(t, srv.Addr()), "lost", d, zoo.WithConsistency(zoo.Strict))
	s := deaf{&observed{Store: redisstore.New(clientOf(t, srv.Addr()), redisstore.WithLogger(quiet()))}}
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("lost"), zoo.WithLogger(quiet()), zoo.WithConsistency(zoo.Strict))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	r := &instance{cache: c, store: s.observed, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
	w.waitUp(t)
	r.waitUp(t)
	for _, id := range ids {
		mustGet(t, r, id) // in r's memory tier and in Redis
		w.update(ctx, id) // recorded in the versions; r does not hear it
	}
	require.NoError(t, srv.Client().Del(ctx, redisstore.ShardKeys("lost")...).Err())
	assert.Zero(t, staleReads(t, r, ids), "an instance served entries whose versions were evicted")
}

// A policy that may evict keys without a TTL is reported at start.
func TestEvictionPolicyWarning(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "allkeys-lru")
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	s := redisstore.New(clientOf(t, srv.Addr()), redisstore.WithLogger(logger))
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("policy"), zoo.WithLogger(quiet()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	eventually(t, 2*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "maxmemory-policy=allkeys-lru")
	}, "no warning about allkeys-lru")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// WithReplicas: Invalidate returns once a replica acknowledged it, and
// fails with store.ErrUnavailable (the cache replays it) when none did.
func TestInvalidateWaitsForReplicas(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	ctx := context.Background()
	// A generous wait: a loaded machine may take a while to ack.
	s := redisstore.New(clientOf(t, master.Addr()), redisstore.WithLogger(quiet()),
		redisstore.WithTimeout(3*time.Second), redisstore.WithReplicas(1, 2*time.Second))
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("wait"), zoo.WithLogger(quiet()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })

	require.NoError(t, c.Invalidate(ctx, "item:1"))
	v, err := replica.Client().HGet(ctx, redisstore.VersionsKey("wait", "item:1"), "t:item:1").Result()
	require.NoError(t, err, "Invalidate returned before the replica had the invalidation")
	assert.NotEmpty(t, v)

	replica.StopReplication()
	err = c.Invalidate(ctx, "item:2")
	assert.ErrorIs(t, err, store.ErrUnavailable, "no replica acknowledged, yet Invalidate succeeded")
}
