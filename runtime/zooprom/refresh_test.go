package zooprom_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/zooprom"
)

// TestRefreshAndStaleMetrics: refreshes, failed refreshes and stale
// entries served are exported per method.
func TestRefreshAndStaleMetrics(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	c, err := zoo.New(zoo.WithStats(true), zoo.WithNamespace("shop"), zoo.WithClock(clock))
	require.NoError(t, err)
	defer c.Close()
	m := c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "Repo", Method: "Get",
		TTL: 10 * time.Minute, Refresh: time.Minute, StaleIfError: time.Hour})
	k := zoo.KeyInt(m.Key(nil), 1)
	var failing sync.Mutex // held while the database is down
	down := false
	load := func(context.Context) (int64, error) {
		failing.Lock()
		defer failing.Unlock()
		if down {
			return 0, errors.New("db down")
		}
		return 1, nil
	}
	setDown := func(d bool) { failing.Lock(); down = d; failing.Unlock() }

	_, err = zoo.Load(ctx, m, k, load)
	require.NoError(t, err)
	// A due hit starts a refresh unless the key's previous load is still
	// leaving (its goroutine ends after its callers have their value):
	// hits go on until one has started it.
	hit := func() {
		_, err := zoo.Load(ctx, m, k, load)
		require.NoError(t, err)
	}
	advance(61 * time.Second) // due: one refresh, which succeeds
	require.Eventually(t, func() bool { hit(); return c.Stats().Methods[0].Loads == 2 }, 10*time.Second, time.Millisecond)
	setDown(true)
	advance(61 * time.Second) // due again: a refresh that fails
	require.Eventually(t, func() bool { hit(); return c.Stats().Methods[0].RefreshErrors == 1 }, 10*time.Second, time.Millisecond)
	advance(20 * time.Minute) // expired: the failed load serves it
	_, err = zoo.Load(ctx, m, k, load)
	require.NoError(t, err)

	labels := `interface="Repo",method="Get",namespace="shop",package="example.com/shop"`
	expected := `
# HELP zoo_refreshes_total Background reloads of entries older than their method's refresh interval (counted in loads_total too).
# TYPE zoo_refreshes_total counter
zoo_refreshes_total{` + labels + `} 2
# HELP zoo_refresh_errors_total Background reloads that failed; the old entry stayed.
# TYPE zoo_refresh_errors_total counter
zoo_refresh_errors_total{` + labels + `} 1
# HELP zoo_stale_served_total Failed loads answered with an expired entry (stale-if-error).
# TYPE zoo_stale_served_total counter
zoo_stale_served_total{` + labels + `} 1
`
	require.NoError(t, testutil.CollectAndCompare(zooprom.NewCollector(c), strings.NewReader(expected),
		"zoo_refreshes_total", "zoo_refresh_errors_total", "zoo_stale_served_total"))
}
