package redisstore_test

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/internal/redistest"
)

func TestMain(m *testing.M) {
	redistest.Quiet()
	os.Exit(m.Run())
}

// The helpers of this package's tests, on internal/redistest.

func sharedClient(t testing.TB) *redis.Client { return redistest.Client(t) }

func namespace(t testing.TB, c redis.UniversalClient) string { return redistest.Namespace(t, c) }

func freePort(t testing.TB) int { return redistest.FreePort(t) }

func startCluster(t testing.TB, n int) *redis.ClusterClient { return redistest.StartCluster(t, n) }

// server is a redis-server of a test's own.
type server struct{ *redistest.Server }

func startServer(t testing.TB, args ...string) server { return server{redistest.Start(t, args...)} }

func (s server) addr() string { return s.Addr() }
func (s server) start()       { s.Restart() }
func (s server) stop()        { s.Kill() }
