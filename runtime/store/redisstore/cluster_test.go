package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"

	"github.com/zoogen/zoogen/internal/redistest"
)

// clusterEntries is how many entries the cluster tests spread.
const clusterEntries = 3000

// fill loads ids 1..n through in, one entry each.
func fill(t *testing.T, in *instance, n int) {
	t.Helper()
	for id := int64(1); id <= int64(n); id++ {
		mustGet(t, in, id)
	}
}

// perMaster counts, on each master, the keys of namespace ns matching
// pattern (a redisstore key pattern).
func perMaster(t *testing.T, c *redistest.Cluster, pattern string) []int {
	t.Helper()
	out := make([]int, len(c.Masters))
	for i, m := range c.Masters {
		mc := m.Client()
		n := 0
		iter := mc.Scan(context.Background(), 0, pattern, 1000).Iterator()
		for iter.Next(context.Background()) {
			n++
		}
		require.NoError(t, iter.Err())
		out[i] = n
	}
	return out
}

// TestClusterKeysPerMaster: one namespace's entries spread over every
// master of a 3-master cluster, and so do its tag versions.
func TestClusterKeysPerMaster(t *testing.T) {
	c := redistest.NewCluster(t, 3, false)
	ns, d := namespace(t, c.Client), newDB()
	a := newInstance(t, c.Client, ns, d, zoo.WithConsistency(zoo.Strict))
	a.waitUp(t)
	fill(t, a, clusterEntries)
	entries := perMaster(t, c, redisstore.EntryPattern(ns))
	t.Logf("entries per master: %v", entries)
	total := 0
	for i, n := range entries {
		total += n
		assert.GreaterOrEqual(t, n, clusterEntries/5, "master %d holds %d of %d entries", i, n, clusterEntries)
	}
	assert.Equal(t, clusterEntries, total)
	for id := int64(1); id <= 300; id++ {
		a.update(context.Background(), id)
	}
	shards := make([]int, len(c.Masters))
	for i, m := range c.Masters {
		for _, k := range redisstore.ShardKeys(ns) {
			if n, err := m.Client().HLen(context.Background(), k).Result(); err == nil && n > 0 {
				shards[i]++
			}
		}
	}
	t.Logf("version shards per master: %v", shards)
	for i, n := range shards {
		assert.GreaterOrEqual(t, n, 8, "master %d holds %d of 32 version shards", i, n)
	}
}

// TestClusterCommandsPerMaster: under a uniform Strict read load, each
// master serves about a third of the commands, the reads of tag versions
// included (INFO commandstats on each).
func TestClusterCommandsPerMaster(t *testing.T) {
	c := redistest.NewCluster(t, 3, false)
	ns, d := namespace(t, c.Client), newDB()
	t.Logf("| strict hit | master | HGET (entries) | HMGET (versions) | all commands | share |")
	t.Logf("|---|---:|---:|---:|---:|---:|")
	for _, tier := range []struct {
		name string
		opts []zoo.Option
	}{{"memory tier confirmed", nil}, {"no memory tier", []zoo.Option{zoo.WithLocalTier(0)}}} {
		t.Run(tier.name, func(t *testing.T) {
			in := newInstance(t, c.Client, ns, d, append([]zoo.Option{zoo.WithConsistency(zoo.Strict)}, tier.opts...)...)
			in.waitUp(t)
			fill(t, in, clusterEntries)
			fill(t, in, clusterEntries) // every plan built
			for _, m := range c.Masters {
				require.NoError(t, m.Client().ConfigResetStat(context.Background()).Err())
			}
			loads := d.loads.Load()
			fill(t, in, clusterEntries)
			require.Equal(t, loads, d.loads.Load(), "every read was a hit")
			total := int64(0)
			calls := make([]map[string]int64, len(c.Masters))
			sums := make([]int64, len(c.Masters))
			for i, m := range c.Masters {
				calls[i] = commandCalls(t, m.Client())
				for name, n := range calls[i] {
					if name != "INFO" && name != "CONFIG|RESETSTAT" && name != "PING" && !strings.HasPrefix(name, "CLUSTER") {
						sums[i] += n
					}
				}
				total += sums[i]
			}
			t.Logf("%d strict hits (%s); commands per master: %v", clusterEntries, tier.name, sums)
			for i := range c.Masters {
				t.Logf("| %s | %d | %d | %d | %d | %.1f%% |", tier.name, i, calls[i]["HGET"], calls[i]["HMGET"], sums[i],
					100*float64(sums[i])/float64(total))
			}
			for i, n := range sums {
				share := float64(n) / float64(total)
				assert.InDelta(t, 1.0/3, share, 0.3/3, "master %d served %.1f%% of the commands", i, 100*share)
				assert.Positive(t, calls[i]["HMGET"], "master %d served no version read", i)
			}
		})
	}
}

// TestClusterTwoInstances: two instances share entries spread over a
// cluster and invalidate each other, both ways, in both modes.
func TestClusterTwoInstances(t *testing.T) {
	c := redistest.NewCluster(t, 3, false)
	for _, mode := range []zoo.Consistency{zoo.Local, zoo.Strict} {
		t.Run(mode.String(), func(t *testing.T) {
			ns, d := namespace(t, c.Client), newDB()
			a := newInstance(t, c.Client, ns, d, zoo.WithConsistency(mode))
			b := newInstance(t, c.Client, ns, d, zoo.WithConsistency(mode))
			a.waitUp(t)
			b.waitUp(t)
			const rows = 60
			for id := int64(1); id <= rows; id++ {
				mustGet(t, a, id)
				mustGet(t, b, id)
			}
			require.Equal(t, int64(rows), d.loads.Load(), "B shared A's entries")
			for round := range 4 {
				writer, reader := a, b
				if round%2 == 1 {
					writer, reader = b, a
				}
				for id := int64(1); id <= rows; id++ {
					v := writer.update(context.Background(), id)
					if mode == zoo.Strict {
						assert.Equal(t, v, mustGet(t, reader, id), "round %d: row %d stale right after the invalidation", round, id)
						continue
					}
					eventually(t, time.Second, func() bool { return mustGet(t, reader, id) == v },
						fmt.Sprintf("round %d: row %d stale on the cluster", round, id))
				}
			}
		})
	}
}

// TestClusterMasterDown: one master of three killed, with no replica to
// take over (and cluster-require-full-coverage off, so that the others
// serve their slots): the keys of its slots, and those whose versions
// live in its shards, go to the repository without an error; the others
// are still hits, round after round (each node has a breaker of its own).
func TestClusterMasterDown(t *testing.T) {
	c := redistest.NewCluster(t, 3, false, "--cluster-require-full-coverage", "no")
	const rows = 300
	modes := []zoo.Consistency{zoo.Strict, zoo.Local}
	dbs, ins := map[zoo.Consistency]*db{}, map[zoo.Consistency]*instance{}
	for _, mode := range modes {
		ns, d := namespace(t, c.Client), newDB()
		in := newInstance(t, c.Client, ns, d, zoo.WithConsistency(mode), zoo.WithLocalTier(0))
		in.waitUp(t)
		fill(t, in, rows)
		fill(t, in, rows)
		require.Equal(t, int64(rows), d.loads.Load())
		dbs[mode], ins[mode] = d, in
	}
	c.KillMaster(2)
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			d, in := dbs[mode], ins[mode]
			for round := range 5 {
				before := d.loads.Load()
				for id := int64(1); id <= rows; id++ {
					_, err := in.get(context.Background(), id)
					require.NoError(t, err, "a read failed instead of going to the repository")
				}
				loads := d.loads.Load() - before
				t.Logf("round %d: %d of %d reads went to the repository", round, loads, rows)
				// A third of the entries are on the dead master; Strict
				// reads check versions too, a third of which are there:
				// about 5/9 of its reads go to the repository. Local
				// reads check their own trie: about 1/3.
				// (Local validates in Redis too while its subscription
				// is down, when the channel's slot was on the dead master.)
				lo, hi := int64(rows/3), int64(rows*3/4)
				if mode == zoo.Local {
					lo = rows / 5
				}
				assert.Less(t, loads, hi, "round %d: the dead master cost more than its slots", round)
				assert.Greater(t, loads, lo, "round %d: the dead master cost nothing?", round)
			}
		})
	}
}

// newInstanceOf is newInstance with store options.
func newInstanceOf(t testing.TB, client redis.UniversalClient, ns string, d *db, sopts []redisstore.Option, opts ...zoo.Option) *instance {
	t.Helper()
	s := &observed{Store: redisstore.New(client, append([]redisstore.Option{redisstore.WithLogger(quiet())}, sopts...)...)}
	opts = append([]zoo.Option{zoo.WithStore(s), zoo.WithNamespace(ns), zoo.WithLogger(quiet())}, opts...)
	c, err := zoo.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &instance{cache: c, store: s, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
}

// TestClusterFailoverKeepsInvalidations: on 3 masters with a replica
// each, invalidations acknowledged with WithReplicas are on the replica
// the cluster promotes when their master is killed, and no instance, old
// or new, reads what they invalidated.
func TestClusterFailoverKeepsInvalidations(t *testing.T) {
	c := redistest.NewCluster(t, 3, true)
	ns, d := namespace(t, c.Client), newDB()
	wait := []redisstore.Option{redisstore.WithReplicas(1, time.Second)}
	w := newInstanceOf(t, c.Client, ns, d, wait, zoo.WithConsistency(zoo.Strict))
	w.waitUp(t)
	const rows = 90
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = int64(i + 1)
		mustGet(t, w, ids[i])
	}
	for _, id := range ids {
		w.update(context.Background(), id)
	}
	// The shards on the master about to die, and what they hold.
	victim := c.Masters[0].Client()
	held := map[int64]string{}
	for _, id := range ids {
		tag := zoo.Tag("item", id)
		if v, err := victim.HGet(context.Background(), redisstore.VersionsKey(ns, tag), "t:"+tag).Result(); err == nil {
			held[id] = v
		}
	}
	require.NotEmpty(t, held, "no version on the first master")
	c.KillMaster(0)
	c.WaitFailover(0)
	promoted := c.Masters[0].Client()
	for id, v := range held {
		tag := zoo.Tag("item", id)
		got, err := promoted.HGet(context.Background(), redisstore.VersionsKey(ns, tag), "t:"+tag).Result()
		require.NoError(t, err, "the promoted replica lost the version of %s", tag)
		assert.Equal(t, v, got, "the promoted replica holds an older version of %s", tag)
	}
	t.Logf("%d versions on the killed master, all on the promoted replica", len(held))

	fresh := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Client.Options().Addrs})
	t.Cleanup(func() { fresh.Close() })
	for _, mode := range []zoo.Consistency{zoo.Strict, zoo.Local} {
		n := newInstanceOf(t, fresh, ns, d, wait, zoo.WithConsistency(mode))
		n.waitUp(t)
		assert.Zero(t, staleReads(t, n, ids), "a new %s instance read what acknowledged invalidations expired", mode)
	}
	assert.Zero(t, staleReads(t, w, ids), "the writer read what its invalidations expired")
}

// TestClusterResharding: slots move between masters (ASK redirects while
// their keys migrate, MOVED after) under strict reads that follow each
// invalidation: the slot of a tag's version shard and slots of entries,
// with no stale read and no error.
func TestClusterResharding(t *testing.T) {
	c := redistest.NewCluster(t, 3, false)
	ns, d := namespace(t, c.Client), newDB()
	w := newInstance(t, c.Client, ns, d, zoo.WithConsistency(zoo.Strict))
	tier := newInstance(t, c.Client, ns, d, zoo.WithConsistency(zoo.Strict))
	bare := newInstance(t, c.Client, ns, d, zoo.WithConsistency(zoo.Strict), zoo.WithLocalTier(0))
	for _, in := range []*instance{w, tier, bare} {
		in.waitUp(t)
	}
	const rows = 40
	for id := int64(1); id <= rows; id++ {
		mustGet(t, tier, id)
		mustGet(t, bare, id)
	}
	// What moves: the shards of rows 1-3, and the slots of a few entries.
	slots := map[int]bool{}
	for id := int64(1); id <= 3; id++ {
		slots[redisstore.Slot(redisstore.VersionsKey(ns, zoo.Tag("item", id)))] = true
	}
	for _, m := range c.Masters {
		keys, err := m.Client().Keys(context.Background(), redisstore.EntryPattern(ns)).Result()
		require.NoError(t, err)
		for _, k := range keys[:min(2, len(keys))] {
			slots[redisstore.Slot(k)] = true
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for slot := range slots {
			to := (slot*len(c.Masters)/16384 + 1) % len(c.Masters)
			c.MoveSlot(slot, to, 20*time.Millisecond)
		}
	}()
	// Rows are read in passes until the moves end; reads counts those
	// that began while slots were moving.
	stale, reads := 0, 0
	for moving := true; moving; {
		for id := int64(1); id <= rows; id++ {
			select {
			case <-done:
				moving = false
			default:
			}
			v := w.update(context.Background(), id)
			for _, in := range []*instance{tier, bare} {
				got, err := in.get(context.Background(), id)
				require.NoError(t, err)
				if moving {
					reads++
				}
				if got != v {
					stale++
				}
			}
		}
	}
	t.Logf("%d slots moved under %d strict reads", len(slots), reads)
	require.GreaterOrEqual(t, reads, rows, "too few reads while the slots moved")
	assert.Zero(t, stale, "strict reads right after an invalidation saw what it invalidated")
}

// TestClusterSubscriptionKilled: on a cluster, the subscriptions are
// killed on every master while another instance invalidates; the Local
// instance's next read is fresh, and it resubscribes and catches up from
// every shard.
func TestClusterSubscriptionKilled(t *testing.T) {
	c := redistest.NewCluster(t, 3, false)
	ns, d := namespace(t, c.Client), newDB()
	a := newInstance(t, c.Client, ns, d)
	b := newInstance(t, c.Client, ns, d)
	a.waitUp(t)
	b.waitUp(t)
	ctx := context.Background()
	for round := range 3 {
		id := int64(round + 1)
		mustGet(t, b, id)
		_, upsBefore := b.store.state()
		for _, m := range c.Masters {
			require.NoError(t, m.Client().Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err())
		}
		v := a.update(ctx, id) // published while B's subscription is gone
		time.Sleep(50 * time.Millisecond)
		assert.Equal(t, v, mustGet(t, b, id), "round %d: stale read after the subscription was killed", round)
		eventually(t, 5*time.Second, func() bool { up, ups := b.store.state(); return up && ups > upsBefore },
			"B never resubscribed")
		assert.Equal(t, v, mustGet(t, b, id))
	}
}

// TestClusterStaleSet: loads that read the database, then wait while
// another instance writes and invalidates, then add their tag (AddDeps,
// late in the load) and store: on a cluster, where the entry and its
// tag's version shard live on different masters as often as not, no
// instance serves what they stored.
func TestClusterStaleSet(t *testing.T) {
	c := redistest.NewCluster(t, 3, false)
	for _, mode := range []zoo.Consistency{zoo.Strict, zoo.Local} {
		t.Run(mode.String(), func(t *testing.T) {
			ns, d := namespace(t, c.Client), newDB()
			a := newInstance(t, c.Client, ns, d, zoo.WithConsistency(mode))
			b := newInstance(t, c.Client, ns, d, zoo.WithConsistency(mode))
			a.waitUp(t)
			b.waitUp(t)
			const rows = 30
			loaded := make(chan struct{}, rows)
			slowGet := func(id int64) {
				var buf [64]byte
				k := zoo.KeyInt(a.m.Key(buf[:0]), id)
				_, err := zoo.Load(context.Background(), a.m, k, func(ctx context.Context) (int64, error) {
					v := a.db.read(id)
					loaded <- struct{}{}
					time.Sleep(100 * time.Millisecond) // b writes and invalidates meanwhile
					zoo.AddDeps(ctx, zoo.Tag("item", id))
					return v, nil
				})
				assert.NoError(t, err)
			}
			var wg sync.WaitGroup
			for id := int64(1); id <= rows; id++ {
				wg.Go(func() { slowGet(id) })
			}
			for range rows {
				<-loaded
			}
			want := map[int64]int64{}
			for id := int64(1); id <= rows; id++ {
				want[id] = b.update(context.Background(), id)
			}
			wg.Wait()
			stored := 0
			for _, n := range perMaster(t, c, redisstore.EntryPattern(ns)) {
				stored += n
			}
			t.Logf("%d of %d stale loads stored (Set refuses what its tags' shards already invalidated)", stored, rows)
			fresh := newInstance(t, c.Client, ns, d, zoo.WithConsistency(mode))
			fresh.waitUp(t)
			for _, in := range []*instance{a, b, fresh} {
				stale := 0
				for id := int64(1); id <= rows; id++ {
					if mode == zoo.Local {
						// Local: after the propagation window.
						eventually(t, time.Second, func() bool { return mustGet(t, in, id) == want[id] }, "stale past the window")
					} else if mustGet(t, in, id) != want[id] {
						stale++
					}
				}
				assert.Zero(t, stale, "strict reads served values loaded before an invalidation")
			}
		})
	}
}
