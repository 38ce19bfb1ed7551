package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/internal/redistest"
)

func TestSnapshotRestart(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Client()
	if err := c.Set(ctx, "k", "old", 0).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Save()
	if err := c.Set(ctx, "k", "new", 0).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	srv.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "old" {
		t.Fatalf("after a restart from the snapshot: %q, %v; want old", got, err)
	}
}

func TestReplicaPromotion(t *testing.T) {
	ctx := context.Background()
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	mc, rc := master.Client(), replica.Client()
	if err := mc.Set(ctx, "k", "synced", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := mc.Do(ctx, "WAIT", 1, 2000).Err(); err != nil {
		t.Fatal(err)
	}
	replica.StopReplication()
	if err := mc.Set(ctx, "k", "lost", 0).Err(); err != nil {
		t.Fatal(err)
	}
	master.Kill()
	replica.Promote()
	if got, err := rc.Get(ctx, "k").Result(); err != nil || got != "synced" {
		t.Fatalf("promoted replica: %q, %v; want synced", got, err)
	}
	if err := rc.Set(ctx, "k2", "v", 0).Err(); err != nil {
		t.Fatalf("promoted replica refuses writes: %v", err)
	}
}

func TestProxyFreeze(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	p := redistest.StartProxy(t, srv.Addr())
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), ReadTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	p.Freeze()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered through a frozen proxy")
	}
	p.Thaw()
	deadline := time.Now().Add(2 * time.Second)
	for c.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("PING still fails after Thaw")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Reset()
}
