package zoohttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/zoohttp"
)

// shop serves products over HTTP with the middleware in front, as an
// application would mount it on a ServeMux.
type shop struct {
	cache  *zoo.Cache
	srv    *httptest.Server
	calls  atomic.Int64
	prices sync.Map // id → price
}

func newShop(t *testing.T) *shop {
	t.Helper()
	c, err := zoo.New(zoo.WithStats(true))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	s := &shop{cache: c}
	cached, err := zoohttp.Middleware(c,
		zoohttp.WithName("product"),
		zoohttp.WithTags(func(r *http.Request) []string { return []string{zoo.Tag("product", r.PathValue("id"))} }),
	)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /products/{id}", cached(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		id := r.PathValue("id")
		switch id {
		case "missing":
			http.NotFound(w, r)
			return
		case "mine":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: r.URL.Query().Get("user")})
		case "nostore":
			w.Header().Set("Cache-Control", "no-store")
		case "private":
			w.Header().Set("Cache-Control", "max-age=60, private")
		}
		price, _ := s.prices.LoadOrStore(id, 100)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "product %s costs %d for %s", id, price, r.URL.Query().Get("user"))
	})))
	mux.Handle("/debug/zoo/", http.StripPrefix("/debug/zoo", zoohttp.Debug(c)))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *shop) get(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestCachesAndRevalidates(t *testing.T) {
	s := newShop(t)
	r1, b1 := s.get(t, "/products/7")
	r2, b2 := s.get(t, "/products/7")
	require.Equal(t, http.StatusOK, r1.StatusCode)
	assert.Equal(t, b1, b2)
	assert.Equal(t, int64(1), s.calls.Load(), "the second request was served from the cache")
	assert.Equal(t, "zoo; miss", r1.Header.Get("Cache-Status"))
	assert.Equal(t, "zoo; hit", r2.Header.Get("Cache-Status"))
	etag := r1.Header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.Equal(t, etag, r2.Header.Get("ETag"))
	assert.Equal(t, "text/plain", r2.Header.Get("Content-Type"))

	r3, b3 := s.get(t, "/products/7", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, r3.StatusCode)
	assert.Empty(t, b3)
	r3w, _ := s.get(t, "/products/7", "If-None-Match", `"other", W/`+etag)
	assert.Equal(t, http.StatusNotModified, r3w.StatusCode, "a weak match in a list")

	// The price changes and the same tag the repository would invalidate
	// expires the page: a fresh body, a new ETag, and the old one no longer
	// gets 304.
	s.prices.Store("7", 150)
	require.NoError(t, s.cache.Invalidate(context.Background(), zoo.Tag("product", 7)))
	r4, b4 := s.get(t, "/products/7", "If-None-Match", etag)
	assert.Equal(t, http.StatusOK, r4.StatusCode)
	assert.Contains(t, b4, "costs 150")
	assert.NotEqual(t, etag, r4.Header.Get("ETag"))
	assert.Equal(t, int64(2), s.calls.Load())

	// Other products were not touched by product 7's tag.
	s.get(t, "/products/8")
	require.NoError(t, s.cache.Invalidate(context.Background(), zoo.Tag("product", 7)))
	s.get(t, "/products/8")
	assert.Equal(t, int64(3), s.calls.Load())
}

func TestNeverCaches(t *testing.T) {
	s := newShop(t)
	for _, c := range []struct {
		path   string
		header []string
	}{
		{"/products/missing", nil},                             // not 2xx
		{"/products/mine?user=ann", nil},                       // sets a cookie
		{"/products/nostore", nil},                             // the response says no-store
		{"/products/private", nil},                             // the response says private
		{"/products/9", []string{"Cache-Control", "no-store"}}, // the request says no-store
	} {
		before := s.calls.Load()
		s.get(t, c.path, c.header...)
		s.get(t, c.path, c.header...)
		assert.Equal(t, before+2, s.calls.Load(), c.path)
	}
	_, body := s.get(t, "/products/9")
	assert.Contains(t, body, "product 9")
}

func TestHead(t *testing.T) {
	s := newShop(t)
	req, _ := http.NewRequest(http.MethodHead, s.srv.URL+"/products/3", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	s.get(t, "/products/3")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "zoo; hit", resp.Header.Get("Cache-Status"), "HEAD is answered from what GET cached")
	assert.Equal(t, int64(2), s.calls.Load(), "HEAD never fills the cache")
}

// TestUncacheableResponsesAreNotShared: concurrent requests that coalesce
// on one key must not receive each other's response when it sets a cookie.
func TestUncacheableResponsesAreNotShared(t *testing.T) {
	s := newShop(t)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			user := fmt.Sprint("user", i)
			// One key for all: the route does not vary its key on the user.
			resp, body := s.get(t, "/products/mine?user="+user)
			assert.Contains(t, body, "for "+user)
			for _, c := range resp.Cookies() {
				assert.Equal(t, user, c.Value)
			}
		})
	}
	wg.Wait()
}

func TestDebugHandler(t *testing.T) {
	s := newShop(t)
	s.get(t, "/products/1")
	s.get(t, "/products/1")
	_, page := s.get(t, "/debug/zoo/")
	assert.Contains(t, page, "<table>")
	assert.Contains(t, page, "Middleware.product")

	_, js := s.get(t, "/debug/zoo/?format=json")
	var stats zoo.Stats
	require.NoError(t, json.Unmarshal([]byte(js), &stats))
	require.Len(t, stats.Methods, 1)
	assert.Equal(t, uint64(1), stats.Methods[0].Hits)
	assert.Equal(t, uint64(1), stats.Methods[0].Loads)

	resp, err := http.Post(s.srv.URL+"/debug/zoo/invalidate?tag="+url.QueryEscape("product:1")+"&tag=other", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	s.get(t, "/products/1")
	assert.Equal(t, int64(2), s.calls.Load(), "the debug handler's invalidation reached the page")

	_, tags := s.get(t, "/debug/zoo/tags?prefix=product")
	assert.True(t, strings.Contains(tags, `"tag": "product:1"`), tags)
	resp, err = http.Post(s.srv.URL+"/debug/zoo/invalidate", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// TestDebugHandlerWithoutMethodCounters: the page of a cache built without
// zoo.WithStats(true) says that it counts nothing per method.
func TestDebugHandlerWithoutMethodCounters(t *testing.T) {
	c, err := zoo.New()
	require.NoError(t, err)
	defer c.Close()
	srv := httptest.NewServer(zoohttp.Debug(c))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(page), "Per-method counters are off")
}
