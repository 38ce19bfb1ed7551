package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestSilentPartition: a link that stops forwarding without resetting the
// connection ends the subscription within 3 s, and the instance then reads
// the new value instead of the stale one it has cached (#13, point 5).
func TestSilentPartition(t *testing.T) {
	srv := startServer(t)
	proxy := redistest.StartProxy(t, srv.addr())
	direct := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = direct.Close() })
	through := redis.NewClient(&redis.Options{
		Addr: proxy.Addr(), ContextTimeoutEnabled: true,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
		MaxRetries: -1,
	})
	t.Cleanup(func() { _ = through.Close() })

	d := newDB()
	a := newInstance(t, direct, "p", d, zoo.WithConsistency(zoo.Local))
	bs := &observed{Store: redisstore.New(through, redisstore.WithLogger(quiet()), redisstore.WithTimeout(200*time.Millisecond))}
	bc, err := zoo.New(zoo.WithStore(bs), zoo.WithNamespace("p"), zoo.WithLogger(quiet()), zoo.WithConsistency(zoo.Local))
	require.NoError(t, err)
	t.Cleanup(func() { bc.Close() })
	b := &instance{cache: bc, store: bs, db: d, m: bc.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
	a.waitUp(t)
	b.waitUp(t)
	require.Equal(t, int64(0), mustGet(t, b, 5))

	proxy.Freeze()
	frozen := time.Now()
	v := a.update(context.Background(), 5)
	eventually(t, 3*time.Second, func() bool { up, _ := b.store.state(); return !up }, "B never noticed the frozen subscription")
	t.Logf("subscription down %v after the freeze", time.Since(frozen).Round(10*time.Millisecond))
	got, err := b.get(context.Background(), 5)
	require.NoError(t, err)
	assert.Equal(t, v, got, "B served its stale entry behind a silent partition")
}
