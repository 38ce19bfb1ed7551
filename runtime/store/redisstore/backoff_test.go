package redisstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestBackoffResetsAfterHealthy: a subscription lost after a healthy period
// waits minBackoff before it resubscribes, not what earlier outages grew the
// backoff to (#13, point 10).
func TestBackoffResetsAfterHealthy(t *testing.T) {
	srv := startServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	var mu sync.Mutex
	var waits []time.Duration
	s := &observed{Store: redisstore.New(client, redisstore.WithLogger(quiet()), redisstore.WithTimeout(200*time.Millisecond))}
	redisstore.OnBackoff(s.Store, func(d time.Duration) { mu.Lock(); waits = append(waits, d); mu.Unlock() })
	c, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("b"), zoo.WithLogger(quiet()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	in := &instance{cache: c, store: s}
	in.waitUp(t)

	for cycle := range 3 {
		mu.Lock()
		before := len(waits)
		mu.Unlock()
		srv.stop()
		// Down long enough for several failed resubscriptions.
		eventually(t, 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(waits) >= before+4 }, "no resubscription attempts")
		mu.Lock()
		first := waits[before]
		mu.Unlock()
		assert.Equal(t, redisstore.MinBackoff, first, "cycle %d: first wait after a healthy period", cycle)
		srv.start()
		_, ups := s.state()
		eventually(t, 10*time.Second, func() bool { up, n := s.state(); return up && n > ups }, "the subscription never came back")
	}
}
