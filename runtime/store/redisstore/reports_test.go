package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// TestReportsPrune: reports of instances that stopped are removed by the
// next Report, and the hash expires (#13, point 10).
func TestReportsPrune(t *testing.T) {
	client := sharedClient(t)
	ns := namespace(t, client)
	ctx := context.Background()
	s := redisstore.New(client, redisstore.WithLogger(quiet()))
	require.NoError(t, s.Attach(ns, func(ev store.Event) {}))
	t.Cleanup(func() { _ = s.Close() })
	for i := range 50 {
		require.NoError(t, s.Report(ctx, fmt.Sprint("old-", i), []byte(`{}`), 50*time.Millisecond))
	}
	time.Sleep(60 * time.Millisecond)
	require.NoError(t, s.Report(ctx, "new", []byte(`{}`), time.Second))
	key := redisstore.ReportsKey(ns)
	n, err := client.HLen(ctx, key).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	ttl, err := client.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 0 && ttl <= time.Second, "the reports hash has no expiry: %v", ttl)
}
