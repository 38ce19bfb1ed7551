// Package redistest gives tests real Redis servers: the shared one the test
// command guarantees (ZOO_REDIS_ADDR), and servers of a test's own, started
// on free loopback ports, for tests that kill, pause or cluster them.
// Tests never skip for want of Redis: they fail and say how to get one.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Name() string
	TempDir() string
	Cleanup(func())
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// Addr is the shared Redis: ZOO_REDIS_ADDR, or the one every development
// machine runs.
func Addr() string {
	if a := os.Getenv("ZOO_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Client returns a client of the shared Redis, failing the test if it does
// not answer. It is closed when the test ends.
func Client(t TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr()})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("no Redis answers at %s (set ZOO_REDIS_ADDR, or run the tests with make test, which starts one): %v", Addr(), err)
	}
	return c
}

// ClientFor returns a client of the Redis at addr, for processes that are
// not tests themselves (workers a test starts).
func ClientFor(addr string) *redis.Client { return redis.NewClient(&redis.Options{Addr: addr}) }

// Namespace returns a cache namespace no other test uses, and deletes its
// keys from c when the test ends.
func Namespace(t TB, c redis.UniversalClient) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { DeleteNamespace(c, ns) })
	return ns
}

// DeleteNamespace deletes every key of a cache namespace: those whose
// hash tag starts {zoo:<ns>: (and, of namespaces written before versions
// were sharded, {zoo:<ns>}).
func DeleteNamespace(c redis.UniversalClient, ns string) {
	DeleteKeys(c, "{zoo:"+ns+"}:*")
	DeleteKeys(c, "{zoo:"+ns+":*")
}

// DeleteKeys deletes the keys matching a SCAN pattern, on every master;
// the pattern's [ and ] are taken literally.
func DeleteKeys(c redis.UniversalClient, pattern string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pattern = strings.NewReplacer("[", `\[`, "]", `\]`).Replace(pattern)
	del := func(client *redis.Client) {
		iter := client.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	}
	switch cc := c.(type) {
	case *redis.Client:
		del(cc)
	case *redis.ClusterClient:
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { del(m); return nil })
	}
}

// Server is a redis-server process of a test's own.
type Server struct {
	t    TB
	Port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// FreePort returns a loopback port nothing listens on.
func FreePort(t TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts redis-server on a free loopback port, with extra arguments;
// it is stopped when the test ends.
func Start(t TB, args ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("this test runs its own redis-server, and there is none on PATH: %v", err)
	}
	s := &Server{t: t, Port: FreePort(t), dir: t.TempDir(), args: args}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// Addr is the server's address.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Restart starts the server again after Kill, on the same port and
// directory: empty, unless a SAVE (or BGSAVE) left a snapshot there, which
// the server loads, as a real restart from an RDB file does.
func (s *Server) Restart() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %d did not start:\n%s", s.Port, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill kills the server, as a crash would.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Client returns a client of the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Save writes a snapshot (SAVE) that the next Restart loads.
func (s *Server) Save() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	if err := c.Save(context.Background()).Err(); err != nil {
		s.t.Fatalf("SAVE on %s: %v", s.Addr(), err)
	}
}

// StartReplica starts a redis-server replicating master and waits until its
// initial sync is done.
func StartReplica(t TB, master *Server, args ...string) *Server {
	t.Helper()
	// The master's own server: no need to wait 5 s for more replicas
	// before the initial sync.
	mc := redis.NewClient(&redis.Options{Addr: master.Addr()})
	defer mc.Close()
	if err := mc.ConfigSet(context.Background(), "repl-diskless-sync-delay", "0").Err(); err != nil {
		t.Fatalf("CONFIG SET on %s: %v", master.Addr(), err)
	}
	r := Start(t, append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(master.Port)}, args...)...)
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := c.Info(context.Background(), "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s did not sync with %s:\n%s", r.Addr(), master.Addr(), info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Promote makes a replica a master (REPLICAOF NO ONE), as Sentinel does in a
// failover.
func (s *Server) Promote() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	if err := c.Do(context.Background(), "REPLICAOF", "NO", "ONE").Err(); err != nil {
		s.t.Fatalf("REPLICAOF NO ONE on %s: %v", s.Addr(), err)
	}
}

// StopReplication cuts a replica's link to its master without promoting it
// (REPLICAOF to an address nothing listens on), so that what the master
// acknowledges from now on never reaches the replica.
func (s *Server) StopReplication() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	if err := c.Do(context.Background(), "REPLICAOF", "127.0.0.1", strconv.Itoa(FreePort(s.t))).Err(); err != nil {
		s.t.Fatalf("REPLICAOF on %s: %v", s.Addr(), err)
	}
}

// StartCluster starts a Redis Cluster of n masters on loopback and returns
// a client of it, closed when the test ends.
func StartCluster(t TB, n int) *redis.ClusterClient { return NewCluster(t, n, false).Client }

// Cluster is a Redis Cluster of a test's own: masters owning equal,
// contiguous ranges of slots, each with a replica or none.
type Cluster struct {
	t TB
	// Masters are the masters, in the order of their slots; Replicas[i],
	// if any, replicates Masters[i]. Failover swaps the two.
	Masters  []*Server
	Replicas []*Server
	// Client is a cluster client of every node, closed when the test ends.
	Client *redis.ClusterClient
}

// NewCluster starts a cluster of n masters, with a replica each if
// replicas, and waits until every node reports cluster_state:ok and every
// replica is in sync. Every node gets the extra arguments args. Its
// processes are killed when the test ends.
func NewCluster(t TB, n int, replicas bool, args ...string) *Cluster {
	t.Helper()
	start := func() *Server {
		return Start(t, append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "1000", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}, args...)...)
	}
	c := &Cluster{t: t}
	for range n {
		c.Masters = append(c.Masters, start())
		if replicas {
			c.Replicas = append(c.Replicas, start())
		}
	}
	ctx := context.Background()
	all := append(append([]*Server{}, c.Masters...), c.Replicas...)
	for i, m := range c.Masters {
		mc := m.client()
		lo, hi := i*clusterSlots/n, (i+1)*clusterSlots/n-1
		if err := mc.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
		}
		mc.Close()
	}
	for _, node := range all[1:] {
		nc := node.client()
		if err := nc.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(all[0].Port)).Err(); err != nil {
			t.Fatalf("CLUSTER MEET: %v", err)
		}
		nc.Close()
	}
	c.waitKnown(len(all))
	for i, r := range c.Replicas {
		mc := c.Masters[i].client()
		id, err := mc.Do(ctx, "CLUSTER", "MYID").Text()
		mc.Close()
		if err != nil {
			t.Fatalf("CLUSTER MYID: %v", err)
		}
		rc := r.client()
		deadline := time.Now().Add(10 * time.Second)
		// The replica learns the master's id by gossip: retry until it has.
		for err := rc.Do(ctx, "CLUSTER", "REPLICATE", id).Err(); err != nil; err = rc.Do(ctx, "CLUSTER", "REPLICATE", id).Err() {
			if time.Now().After(deadline) {
				t.Fatalf("CLUSTER REPLICATE on %s: %v", r.Addr(), err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		rc.Close()
	}
	c.waitOK(all)
	for _, r := range c.Replicas {
		waitSynced(t, r)
	}
	addrs := make([]string, len(all))
	for i, node := range all {
		addrs[i] = node.Addr()
	}
	c.Client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { c.Client.Close() })
	return c
}

const clusterSlots = 16384

func (s *Server) client() *redis.Client { return redis.NewClient(&redis.Options{Addr: s.Addr()}) }

// waitKnown waits until the first master knows n nodes.
func (c *Cluster) waitKnown(n int) {
	c.t.Helper()
	mc := c.Masters[0].client()
	defer mc.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, _ := mc.ClusterInfo(context.Background()).Result()
		if strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the cluster did not form:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOK waits until every node of nodes reports cluster_state:ok and
// knows the others.
func (c *Cluster) waitOK(nodes []*Server) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, node := range nodes {
		nc := node.client()
		for {
			info, _ := nc.ClusterInfo(context.Background()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				nc.Close()
				c.t.Fatalf("node %s: the cluster is not ok:\n%s", node.Addr(), info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		nc.Close()
	}
}

// waitSynced waits until replica r's link to its master is up.
func waitSynced(t TB, r *Server) {
	t.Helper()
	rc := r.client()
	defer rc.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, _ := rc.Info(context.Background(), "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s did not sync:\n%s", r.Addr(), info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// KillMaster kills master i, as a crash would, and returns at once; its
// replica takes over by the cluster's own failover (WaitFailover).
func (c *Cluster) KillMaster(i int) { c.Masters[i].Kill() }

// WaitFailover waits until master i's replica has been promoted by the
// cluster and every live node reports cluster_state:ok, then makes it
// Masters[i] (and the dead master Replicas[i]).
func (c *Cluster) WaitFailover(i int) {
	c.t.Helper()
	r := c.Replicas[i]
	rc := r.client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, _ := rc.Info(context.Background(), "replication").Result()
		if strings.Contains(info, "role:master") {
			break
		}
		if time.Now().After(deadline) {
			rc.Close()
			c.t.Fatalf("replica %s was not promoted:\n%s", r.Addr(), info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rc.Close()
	c.Masters[i], c.Replicas[i] = r, c.Masters[i]
	live := append([]*Server{}, c.Masters...)
	for j, rep := range c.Replicas {
		if j != i {
			live = append(live, rep)
		}
	}
	c.waitOK(live)
}

// Quiet silences go-redis's logger, which logs every failed dial: tests
// that kill servers make many on purpose. Call it from TestMain.
func Quiet() { redis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// MoveSlot moves a hash slot, with its keys, from the master that owns it
// to Masters[to], as redis-cli --cluster reshard does: the target imports
// it, the source migrates it, the keys move with MIGRATE (clients meanwhile
// get ASK redirects for the keys already moved), and both nodes are told
// the new owner (clients then get MOVED). With pause, the keys move one at
// a time, pause apart, and the slot stays half-moved for as long.
func (c *Cluster) MoveSlot(slot, to int, pause time.Duration) {
	c.t.Helper()
	ctx := context.Background()
	id := func(s *Server) string {
		cl := s.client()
		defer cl.Close()
		v, err := cl.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			c.t.Fatalf("CLUSTER MYID on %s: %v", s.Addr(), err)
		}
		return v
	}
	var from *Server
	for _, m := range c.Masters {
		cl := m.client()
		shards, err := cl.ClusterShards(ctx).Result()
		cl.Close()
		if err != nil {
			c.t.Fatalf("CLUSTER SHARDS on %s: %v", m.Addr(), err)
		}
		for _, sh := range shards {
			for _, r := range sh.Slots {
				if int(r.Start) > slot || slot > int(r.End) {
					continue
				}
				for _, n := range sh.Nodes {
					if n.Role == "master" && int(n.Port) == m.Port {
						from = m
					}
				}
			}
		}
	}
	dst := c.Masters[to]
	if from == nil || from == dst {
		c.t.Fatalf("slot %d: no master to move it from to %s", slot, dst.Addr())
	}
	src, dstc := from.client(), dst.client()
	defer src.Close()
	defer dstc.Close()
	must := func(err error, what string) {
		if err != nil {
			c.t.Fatalf("%s: %v", what, err)
		}
	}
	must(dstc.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", id(from)).Err(), "SETSLOT IMPORTING")
	must(src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", id(dst)).Err(), "SETSLOT MIGRATING")
	for {
		batch := 100
		if pause > 0 {
			batch = 1
			time.Sleep(pause)
		}
		keys, err := src.Do(ctx, "CLUSTER", "GETKEYSINSLOT", slot, batch).StringSlice()
		must(err, "GETKEYSINSLOT")
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", "127.0.0.1", dst.Port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(src.Do(ctx, args...).Err(), "MIGRATE")
	}
	for _, n := range []*redis.Client{dstc, src} {
		must(n.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", id(dst)).Err(), "SETSLOT NODE")
	}
}
