package history_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/history"
	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// clusterFailover is the matrix's row for Redis Cluster: it is run on a
// cluster of its own (runClusterFailover), not on the rig of one server.
var clusterFailover = fault{name: "Cluster master failover",
	what: "3 masters + 3 replicas, WithReplicas(1, 1s); a master killed (kill -9) a sixth of the way in, its replica promoted by the cluster",
	// Local: the instances whose subscription went through the dead
	// master notice within the stated bound for a dead link.
	window: 3 * time.Second}

// clusterRunFloor is the shortest run on the cluster: the failover itself
// (the node timeout, 1 s, then an election) must fall inside it, with time
// to read after it.
const clusterRunFloor = 6 * time.Second

// runClusterFailover runs three instances on a 3-master cluster with a
// replica each, kills the master of the first third of the slots mid-run
// and checks the history.
func runClusterFailover(t *testing.T, f fault, mode zoo.Consistency, d time.Duration) row {
	c := redistest.NewCluster(t, 3, true)
	db := history.NewDB(history.Faults{})
	var clients []history.Client
	for i := range 3 {
		// One cluster client per instance, as separate processes have.
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Client.Options().Addrs})
		t.Cleanup(func() { cc.Close() })
		name := string(rune('a' + i))
		s := redisstore.New(cc, redisstore.WithLogger(quiet()), redisstore.WithReplicas(1, time.Second))
		zc, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("cluster"), zoo.WithConsistency(mode),
			zoo.WithLogger(quiet()), zoo.WithInstance(name))
		require.NoError(t, err)
		t.Cleanup(func() { zc.Close() })
		clients = append(clients, history.Client{Name: name, Cache: zc, Rows: history.NewCachedRows(db, zc)})
	}
	require.Eventually(t, func() bool {
		for _, cl := range clients {
			if !cl.Cache.Stats().Connected {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond)

	d = max(d, clusterRunFloor)
	cfg := history.Config{Rows: 64, Workers: 4, Duration: d, Timeout: 5 * time.Second}
	runEnd, faultAt := time.Now().Add(d), time.Now().Add(d/6)
	var failedOver time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(time.Until(faultAt))
		c.KillMaster(0)
		c.WaitFailover(0)
		failedOver = time.Now()
	}()
	ops := history.Run(context.Background(), clients, cfg)
	<-done
	require.True(t, failedOver.Before(runEnd), "the failover outlasted the run")
	t.Logf("failover took %v", failedOver.Sub(faultAt).Round(time.Millisecond))
	return score(f, mode, ops, faultAt)
}
