package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
	for _, tier := range []struct {
		name string
		opts []zoo.Option
	}{{"memory-tier", nil}, {"no-tier", []zoo.Option{zoo.WithLocalTier(0)}}} {
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
			t.Logf("%d strict hits; commands per master: %v", clusterEntries, sums)
			for i := range c.Masters {
				t.Logf("master %d: hget %d, hmget %d, all %d", i, calls[i]["HGET"], calls[i]["HMGET"], sums[i])
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
