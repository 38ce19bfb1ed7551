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
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/internal/redistest"
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

// serveDebug serves c's debug handler at /debug/zoo/ until the test ends,
// and returns its URL.
func serveDebug(t *testing.T, c *zoo.Cache) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/debug/zoo/", http.StripPrefix("/debug/zoo", zoohttp.Debug(c)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/debug/zoo"
}

// TestStatsWithoutMethodCounters: an instance built without
// zoo.WithStats(true) shows dashes, not zeros, where the per-method counts
// would be, and says why.
func TestStatsWithoutMethodCounters(t *testing.T) {
	c, err := zoo.New(zoo.WithNamespace("shop"), zoo.WithInstance("web-2"))
	require.NoError(t, err)
	defer c.Close()
	workload(t, c, "GetProduct")

	out, errOut, code := zoocmd(t, "-url", serveDebug(t, c), "stats")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `web-2\s+shop\s+local\s+\S+\s+–\s+–\s+–\s+–\s+1\s`, out, "no counts, one invalidation")
	assert.Contains(t, out, "zoo.WithStats(true)")
	assert.False(t, c.Stats().MethodCounters)
}

func TestAgainstDebugHandler(t *testing.T) {
	c, err := zoo.New(zoo.WithStats(true), zoo.WithNamespace("shop"), zoo.WithInstance("web-1"))
	require.NoError(t, err)
	defer c.Close()
	workload(t, c, "GetProduct")
	url := serveDebug(t, c)

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
	_, errOut, code = zoocmd(t, "-url", strings.TrimSuffix(url, "/debug/zoo")+"/nowhere", "stats")
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
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	require.NoError(t, client.Ping(context.Background()).Err(), "no Redis at %s", addr)
	againstRedis(t, client, addr)
}

// TestAgainstCluster is TestAgainstRedis on a 3-master cluster: the
// command is given one node's address, or every node's.
func TestAgainstCluster(t *testing.T) {
	c := redistest.NewCluster(t, 3, false)
	t.Run("one address", func(t *testing.T) { againstRedis(t, c.Client, c.Masters[1].Addr()) })
	t.Run("every address", func(t *testing.T) { againstRedis(t, c.Client, strings.Join(c.Client.Options().Addrs, ",")) })
}

func againstRedis(t *testing.T, client redis.UniversalClient, addr string) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	ns := "zoo-cli-" + hex.EncodeToString(b[:])
	defer redistest.DeleteNamespace(client, ns)
	var caches []*zoo.Cache
	for _, name := range []string{"api-1", "api-2"} {
		c, err := zoo.New(zoo.WithStats(true), zoo.WithStore(redisstore.New(client)), zoo.WithNamespace(ns), zoo.WithInstance(name))
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

// debugServer makes a cache and serves its debug handler at /debug/zoo, as
// the shop example does, beside an application page at /app/; it counts the
// requests that reach it.
func debugServer(t *testing.T, opts ...zoo.Option) (c *zoo.Cache, url string, requests *atomic.Int64) {
	t.Helper()
	c, err := zoo.New(append([]zoo.Option{zoo.WithStats(true)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	requests = new(atomic.Int64)
	mux := http.NewServeMux()
	mux.Handle("/debug/zoo/", http.StripPrefix("/debug/zoo", zoohttp.Debug(c)))
	mux.HandleFunc("/app/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>the application</html>"))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL, requests
}

// TestCommandLineErrors: a command line that is wrong exits 2 with a zoo:
// message saying what was expected, before anything is sent.
func TestCommandLineErrors(t *testing.T) {
	c, host, requests := debugServer(t, zoo.WithNamespace("shop"))
	u := host + "/debug/zoo"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"-url", u}, "give a command"},
		{"unknown command", []string{"-url", u, "frobnicate"}, `unknown command "frobnicate"`},
		{"no source", []string{"stats"}, "give a source: -url URL"},
		{"two sources", []string{"-url", u, "-redis", "127.0.0.1:6379", "stats"}, "not both"},
		{"ns without redis", []string{"-url", u, "-ns", "shop", "stats"}, "-ns goes with -redis"},
		{"unknown flag before the command", []string{"-url", u, "-x", "stats"}, "flag provided but not defined: -x"},
		{"unknown flag after the command", []string{"-url", u, "stats", "-x"}, "stats: flag provided but not defined: -x"},
		{"stats with an argument", []string{"-url", u, "stats", "org:1"}, `stats takes no arguments, got ["org:1"]`},
		{"watch with an argument", []string{"-url", u, "watch", "5"}, "watch takes no arguments"},
		{"watch flag on stats, before", []string{"-url", u, "-n", "2", "stats"}, "-n is a watch flag; stats does not take it"},
		{"watch flag on stats, after", []string{"-url", u, "stats", "-interval", "1s"}, "-interval is a watch flag"},
		{"watch flag on invalidate", []string{"-url", u, "invalidate", "-n", "1", "org:1"}, "-n is a watch flag"},
		{"flag after the arguments", []string{"-url", u, "invalidate", "org:1", "-n", "2"}, "flag -n after the arguments"},
		{"negative count", []string{"-url", u, "watch", "-n", "-1"}, "-n -1: want a count"},
		{"zero interval", []string{"-url", u, "watch", "-interval", "0s"}, "-interval 0s: want a positive duration"},
		{"inspect without prefix", []string{"-url", u, "inspect"}, "inspect takes one PREFIX"},
		{"inspect with two", []string{"-url", u, "inspect", "org", "store"}, "inspect takes one PREFIX"},
		{"inspect empty segment", []string{"-url", u, "inspect", "org::1"}, `tag "org::1": empty segment`},
		{"invalidate nothing", []string{"-url", u, "invalidate"}, "invalidate takes the tags"},
		{"invalidate empty tag", []string{"-url", u, "invalidate", ""}, "empty tag"},
		{"invalidate empty inner segment", []string{"-url", u, "invalidate", "org:1::x"}, `tag "org:1::x": empty segment`},
		{"invalidate empty first segment", []string{"-url", u, "invalidate", ":a"}, `tag ":a": empty segment`},
		{"invalidate empty last segment", []string{"-url", u, "invalidate", "a:"}, `tag "a:": empty segment`},
		{"invalidate one bad among good", []string{"-url", u, "invalidate", "org:1", "org:1::x"}, `tag "org:1::x"`},
		{"url without path", []string{"-url", host, "stats"}, "has no path: add the path the debug handler is mounted at, usually /debug/zoo (-url " + host + "/debug/zoo)"},
		{"url with path /", []string{"-url", host + "/", "stats"}, "usually /debug/zoo"},
		{"url without scheme", []string{"-url", strings.TrimPrefix(u, "http://"), "stats"}, "want http://host:port/debug/zoo"},
		{"url with a query", []string{"-url", u + "?format=json", "stats"}, "want no query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := zoocmd(t, tc.args...)
			assert.Equal(t, 2, code, errOut)
			assert.Empty(t, out)
			assert.True(t, strings.HasPrefix(errOut, "zoo: "), "stderr starts with zoo: %q", errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
	assert.Zero(t, requests.Load(), "a wrong command line sent nothing")
	assert.Empty(t, c.Tags("", 0), "a wrong command line invalidated nothing")
}

// TestFlagsAnywhereBeforeArguments: flags mean the same before and after the
// command.
func TestFlagsAnywhereBeforeArguments(t *testing.T) {
	c, host, _ := debugServer(t, zoo.WithNamespace("shop"), zoo.WithInstance("web-1"))
	u := host + "/debug/zoo"
	for _, tc := range []struct {
		name      string
		args      []string
		refreshes int
	}{
		{"watch flags before", []string{"-url", u, "-interval", "10ms", "-n", "2", "watch"}, 2},
		{"watch flags after", []string{"-url", u, "watch", "-interval", "10ms", "-n", "3"}, 3},
		{"every flag after", []string{"watch", "-url", u + "/", "-n", "1"}, 1},
		{"after overrides before", []string{"-url", u, "-n", "5", "watch", "-interval", "1ms", "-n", "2"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := zoocmd(t, tc.args...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, tc.refreshes, strings.Count(out, "\x1b[H\x1b[2J"))
		})
	}

	// An escaped ':' is inside a segment: "user:a%3Ab" has two.
	out, errOut, code := zoocmd(t, "invalidate", "-url", u, "user:a%3Ab", zoo.Tag("org", 1, "name", "x:y"))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "invalidated user:a%3Ab, org:1:name:x%3Ay")
	var tags []string
	for _, tv := range c.Tags("", 0) {
		tags = append(tags, tv.Tag)
	}
	assert.Contains(t, tags, "user:a%3Ab")
	assert.Contains(t, tags, "org:1:name:x%3Ay")

	// -- ends the flags: a prefix may then start with -.
	out, errOut, code = zoocmd(t, "-url", u, "inspect", "--", "-1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `no tag at or below "-1"`)

	for _, args := range [][]string{{"-h"}, {"-url", u, "watch", "-h"}} {
		_, errOut, code := zoocmd(t, args...)
		assert.Equal(t, 0, code, "%q", args)
		assert.Contains(t, errOut, "usage: zoo [flags] COMMAND [flags] [ARGS]", "%q", args)
	}
}

// TestURLNotTheDebugHandler: a URL that answers, but not as the debug
// handler, fails (exit 1) saying where the handler usually is.
func TestURLNotTheDebugHandler(t *testing.T) {
	_, host, _ := debugServer(t, zoo.WithNamespace("shop"))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing there", []string{"-url", host + "/debug", "stats"}, "404 Not Found: is zoohttp.Debug mounted at " + host + "/debug? -url takes the path it is mounted at, usually /debug/zoo"},
		{"nothing there, invalidate", []string{"-url", host + "/nowhere", "invalidate", "org:1"}, "404 Not Found: is zoohttp.Debug mounted at"},
		{"another handler", []string{"-url", host + "/app", "stats"}, `answered "text/html", not JSON: is zoohttp.Debug mounted at ` + host + "/app?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := zoocmd(t, tc.args...)
			assert.Equal(t, 1, code, errOut)
			assert.True(t, strings.HasPrefix(errOut, "zoo: "), "%q", errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
}
