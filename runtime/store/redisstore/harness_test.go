package redisstore_test

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
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests that kill servers make
	// many on purpose.
	redis.SetLogger(quietRedis{})
	os.Exit(m.Run())
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// sharedAddr is the Redis the tests share: ZOO_REDIS_ADDR, or the one every
// development machine runs. The test command starts one when none answers;
// these tests never skip.
func sharedAddr() string {
	if a := os.Getenv("ZOO_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// sharedClient returns a client of the shared Redis, failing the test if
// it does not answer.
func sharedClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: sharedAddr()})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("no Redis answers at %s (set ZOO_REDIS_ADDR, or run the tests with make test, which starts one): %v", sharedAddr(), err)
	}
	return c
}

// namespace returns a namespace no other test uses, and deletes its keys
// when the test ends.
func namespace(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { deleteNamespace(c, ns) })
	return ns
}

func deleteNamespace(c redis.UniversalClient, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pattern := "{zoo:" + ns + "}:*"
	del := func(client *redis.Client) {
		iter := client.Scan(ctx, 0, strings.NewReplacer("[", "\\[", "]", "\\]").Replace(pattern), 1000).Iterator()
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

// server is a redis-server process of a test's own, for tests that stop it
// or build a cluster.
type server struct {
	t    testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer starts redis-server on a free loopback port; it is stopped
// when the test ends.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("this test runs its own redis-server, and there is none on PATH: %v", err)
	}
	s := &server{t: t, port: freePort(t), dir: t.TempDir(), args: args}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *server) start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr()})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %d did not start:\n%s", s.port, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server, as a crash would.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// startCluster starts a Redis Cluster of n masters on loopback and returns
// a client of it.
func startCluster(t testing.TB, n int) *redis.ClusterClient {
	t.Helper()
	nodes := make([]*server, n)
	for i := range nodes {
		nodes[i] = startServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
	}
	ctx := context.Background()
	const slots = 16384
	for i, node := range nodes {
		c := redis.NewClient(&redis.Options{Addr: node.addr()})
		lo, hi := i*slots/n, (i+1)*slots/n-1
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
		}
		for _, other := range nodes[:i] {
			if err := c.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(other.port)).Err(); err != nil {
				t.Fatalf("CLUSTER MEET: %v", err)
			}
		}
		c.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, node := range nodes {
		c := redis.NewClient(&redis.Options{Addr: node.addr()})
		for {
			info, _ := c.ClusterInfo(ctx).Result()
			if strings.Contains(info, "cluster_state:ok") && strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cluster did not form:\n%s", info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	addrs := make([]string, n)
	for i, node := range nodes {
		addrs[i] = node.addr()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { cc.Close() })
	return cc
}
