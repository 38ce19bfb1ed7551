package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
	"github.com/zoogen/zoogen/runtime/zoohttp"
)

func zoocmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// workload makes some hits, misses and invalidations on c.
func workload(t *testing.T, c *zoo.Cache, name string) {
	t.Helper()
	ctx := context.Background()
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "ProductRepo", Method: name})
	for _, id := range []int64{1, 1, 1, 2} {
		_, err := zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), id), func(ctx context.Context) (int64, error) {
			zoo.AddDeps(ctx, zoo.Tag("org", 1, "product", id))
			return id, nil
		})
		require.NoError(t, err)
	}
	require.NoError(t, c.Invalidate(ctx, zoo.Tag("org", 1, "product", 2)))
}

func TestAgainstDebugHandler(t *testing.T) {
	c, err := zoo.New(zoo.WithNamespace("shop"), zoo.WithInstance("web-1"))
	require.NoError(t, err)
	defer c.Close()
	workload(t, c, "GetProduct")
	mux := http.NewServeMux()
	mux.Handle("/debug/zoo/", http.StripPrefix("/debug/zoo", zoohttp.Debug(c)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/debug/zoo"

	out, errOut, code := zoocmd(t, "-url", url, "stats")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "web-1")
	assert.Regexp(t, `ProductRepo\.GetProduct\s+2\s+2\s+50\.0%\s+2`, out, "hits, misses, ratio, loads")

	out, _, code = zoocmd(t, "-url", url, "inspect", "org:1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "org:1:product:2")

	out, errOut, code = zoocmd(t, "-url", url, "invalidate", "org:1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "invalidated org:1")
	out, _, _ = zoocmd(t, "-url", url, "inspect", "")
	assert.Regexp(t, `(?m)^org:1\s`, out)

	out, errOut, code = zoocmd(t, "-url", url, "-interval", "10ms", "-n", "2", "watch")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 2, strings.Count(out, "\x1b[H\x1b[2J"), "refreshed in place twice")
	assert.Contains(t, out, "web-1")

	_, _, code = zoocmd(t, "stats")
	assert.Equal(t, 2, code, "no source")
	_, _, code = zoocmd(t, "-url", url, "frobnicate")
	assert.Equal(t, 2, code)
	_, errOut, code = zoocmd(t, "-url", srv.URL+"/nowhere", "stats")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "404")
}

// TestAgainstRedis runs two instances on one Redis namespace: the command
// sees both, and its invalidation reaches both.
func TestAgainstRedis(t *testing.T) {
	addr := os.Getenv("ZOO_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := "zoo-cli-" + hex.EncodeToString(b[:])
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	require.NoError(t, client.Ping(context.Background()).Err(), "no Redis at %s", addr)
	defer func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, "{zoo:"+ns+"}:*", 100).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	}()
	var caches []*zoo.Cache
	for _, name := range []string{"api-1", "api-2"} {
		c, err := zoo.New(zoo.WithStore(redisstore.New(client)), zoo.WithNamespace(ns), zoo.WithInstance(name))
		require.NoError(t, err)
		defer c.Close()
		caches = append(caches, c)
	}
	require.Eventually(t, func() bool { return caches[0].Stats().Connected && caches[1].Stats().Connected },
		5*time.Second, 10*time.Millisecond)
	workload(t, caches[0], "GetProduct")
	workload(t, caches[1], "ListProducts")

	// Reports are published every few seconds.
	var out string
	require.Eventually(t, func() bool {
		var code int
		out, _, code = zoocmd(t, "-redis", addr, "-ns", ns, "stats")
		return code == 0 && strings.Contains(out, "ProductRepo.GetProduct") && strings.Contains(out, "ProductRepo.ListProducts")
	}, 10*time.Second, 200*time.Millisecond, "the reports never showed the workload")
	assert.Contains(t, out, "api-1")
	assert.Contains(t, out, "api-2")

	out, _, code := zoocmd(t, "-redis", addr, "-ns", ns, "inspect", "org")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "org:1:product:2")

	_, errOut, code := zoocmd(t, "-redis", addr, "-ns", ns, "invalidate", "org:7")
	require.Equal(t, 0, code, errOut)
	for _, c := range caches {
		require.Eventually(t, func() bool {
			for _, tv := range c.Tags("org:7", 0) {
				if tv.Tag == "org:7" {
					return true
				}
			}
			return false
		}, 5*time.Second, 10*time.Millisecond, "an instance never heard the command's invalidation")
	}

	out, errOut, code = zoocmd(t, "-redis", addr, "-ns", ns, "-interval", "10ms", "-n", "2", "watch")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "api-1")
	assert.Contains(t, out, "api-2")
}
