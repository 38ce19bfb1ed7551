package batchtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

// An entry of a batch whose bytes in Redis do not decode is a miss, logged
// and counted: that element alone is loaded again, the others are served.
func TestRedisCorruptElement(t *testing.T) {
	for _, strict := range []bool{false, true} {
		name := "local"
		var opts []zoo.Option
		if strict {
			name = "strict"
			opts = append(opts, zoo.WithConsistency(zoo.Strict))
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c, _ := redisCache(t, true, opts...)
			repo := &Repo{Size: 10}
			r := NewCachedProducts(repo, c)
			if _, err := r.GetProducts(ctx, 1, ids(1, 2, 3)); err != nil {
				t.Fatal(err)
			}
			client := redistest.Client(t)
			keys, err := client.Keys(ctx, "{zoo:"+c.Stats().Namespace+":e*}:e:*").Result()
			if err != nil {
				t.Fatal(err)
			}
			corrupted := 0
			for _, k := range keys {
				if strings.HasSuffix(k, "i1;i2;") {
					if err := client.HSet(ctx, k, "v", "not an entry").Err(); err != nil {
						t.Fatal(err)
					}
					corrupted++
				}
			}
			if corrupted != 1 {
				t.Fatalf("found %d entries of element 2 among %q", corrupted, keys)
			}
			got, err := r.GetProducts(ctx, 1, ids(1, 2, 3))
			if err != nil {
				t.Fatal(err)
			}
			wantProducts(t, got, 1, 1, 2, 3)
			wantCalls(t, repo, ids(1, 2, 3), ids(2))
			if st := stats(t, c, "GetProducts"); st.DecodeFailures == 0 {
				t.Fatalf("the corrupt entry was not counted: %+v", st)
			}
		})
	}
}

// A Redis that is down fails open: a batch gets the repository's answer.
func TestRedisDownFailsOpen(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := redisstore.New(srv.Client(), redisstore.WithTimeout(200*time.Millisecond))
	c, _ := newCache(t, zoo.WithStore(s), zoo.WithNamespace("down"))
	repo := &Repo{Size: 10}
	r := NewCachedProducts(repo, c)
	if _, err := r.GetProducts(ctx, 1, ids(1, 2)); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	for range 2 {
		got, err := r.GetProducts(ctx, 1, ids(2, 3))
		if err != nil {
			t.Fatal(err)
		}
		wantProducts(t, got, 1, 2, 3)
	}
	if st := stats(t, c, "GetProducts"); st.FailOpens == 0 {
		t.Fatalf("no fail-open counted: %+v", st)
	}
}
