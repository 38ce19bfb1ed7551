package zooprom_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/zooprom"
)

// TestScrapeAfterWorkload runs a scripted workload and checks every count
// the /metrics endpoint reports.
func TestScrapeAfterWorkload(t *testing.T) {
	ctx := context.Background()
	c, err := zoo.New(zoo.WithStats(true), zoo.WithNamespace("shop"))
	require.NoError(t, err)
	defer c.Close()
	get := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get"})
	save := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Save"})
	read := func(id int64, load func(context.Context) (int64, error)) {
		k := zoo.KeyInt(get.Key(nil), id)
		if _, ok := zoo.Lookup[int64](ctx, get, k); ok {
			return
		}
		_, _ = zoo.Load(ctx, get, k, load)
	}
	ok := func(context.Context) (int64, error) { return 1, nil }

	for id := range int64(3) { // 3 misses, 3 loads
		read(id, ok)
	}
	for range 5 { // 5 hits
		read(1, ok)
	}
	read(4, func(context.Context) (int64, error) { return 0, errors.New("db down") }) // a failed load

	// 10 callers of one cold key: 1 load, 9 coalesced.
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			read(5, func(context.Context) (int64, error) { <-release; return 5, nil })
		})
	}
	require.Eventually(t, func() bool { return c.Stats().Methods[0].Coalesced == 9 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()

	save.Invalidate(ctx, "item:1")
	save.Invalidate(ctx, "item:2")
	require.NoError(t, c.Invalidate(ctx, "item"))

	reg := prometheus.NewRegistry()
	collector := zooprom.NewCollector(c)
	reg.MustRegister(collector)

	const labels = `interface="Repo",method="Get",namespace="shop",package="example.com/shop"`
	const saveLabels = `interface="Repo",method="Save",namespace="shop",package="example.com/shop"`
	expected := `
# HELP zoo_hits_total Calls served from the cache; for a batch read (each=), elements.
# TYPE zoo_hits_total counter
zoo_hits_total{` + labels + `} 5
zoo_hits_total{` + saveLabels + `} 0
# HELP zoo_misses_total Calls not served from the cache; for a batch read (each=), elements.
# TYPE zoo_misses_total counter
zoo_misses_total{` + labels + `} 14
zoo_misses_total{` + saveLabels + `} 0
# HELP zoo_loads_total Calls of the repository made for misses.
# TYPE zoo_loads_total counter
zoo_loads_total{` + labels + `} 5
zoo_loads_total{` + saveLabels + `} 0
# HELP zoo_load_errors_total Loads that failed or panicked; their results were not cached.
# TYPE zoo_load_errors_total counter
zoo_load_errors_total{` + labels + `} 1
zoo_load_errors_total{` + saveLabels + `} 0
# HELP zoo_coalesced_total Callers that waited for another caller's load of the same key.
# TYPE zoo_coalesced_total counter
zoo_coalesced_total{` + labels + `} 9
zoo_coalesced_total{` + saveLabels + `} 0
# HELP zoo_method_invalidations_total Invalidations made by an invalidating method after a successful write.
# TYPE zoo_method_invalidations_total counter
zoo_method_invalidations_total{` + labels + `} 0
zoo_method_invalidations_total{` + saveLabels + `} 2
# HELP zoo_invalidations_total Invalidations, from methods and from Cache.Invalidate.
# TYPE zoo_invalidations_total counter
zoo_invalidations_total{namespace="shop"} 3
`
	require.NoError(t, testutil.CollectAndCompare(collector, strings.NewReader(expected),
		"zoo_hits_total", "zoo_misses_total", "zoo_loads_total", "zoo_load_errors_total", "zoo_coalesced_total",
		"zoo_method_invalidations_total", "zoo_invalidations_total"))

	// The same figures over HTTP, as Prometheus scrapes them.
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		`zoo_hits_total{` + labels + `} 5`,
		`zoo_loads_total{` + labels + `} 5`,
		`zoo_load_duration_seconds_count{` + labels + `} 5`,
		`zoo_decode_failures_total{` + labels + `} 0`,
		`zoo_fail_opens_total{` + labels + `} 0`,
		`zoo_evictions_total{namespace="shop"} 0`,
		`zoo_batches_total{` + labels + `} 0`,
		`zoo_elements_loaded_total{` + labels + `} 0`,
		`zoo_connected{namespace="shop"} 1`,
	} {
		assert.Contains(t, string(body), line)
	}
	assert.NotContains(t, string(body), "item:1", "a tag became a label")
}
