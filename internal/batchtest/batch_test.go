package batchtest

import (
	"context"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/internal/redistest"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
	"github.com/zoogen/zoogen/runtime/store/redisstore"
)

func TestMain(m *testing.M) {
	redistest.Quiet()
	os.Exit(m.Run())
}

// fixture is a decorator over a Repo on one store.
type fixture struct {
	r     *CachedProducts
	repo  *Repo
	c     *zoo.Cache
	reads *readCounter // Redis only
}

// stores are the stores every test runs on. remote makes the cache keep no
// memory tier, so that every hit is read from the store outside the
// process.
var stores = []struct {
	name string
	open func(t testing.TB, remote bool) (*zoo.Cache, *readCounter)
}{
	{"memory", func(t testing.TB, _ bool) (*zoo.Cache, *readCounter) { return newCache(t) }},
	{"lmdb", func(t testing.TB, remote bool) (*zoo.Cache, *readCounter) {
		s, err := lmdbstore.Open(t.TempDir())
		if err != nil {
			t.Fatalf("lmdbstore.Open: %v", err)
		}
		return newCache(t, append(localTier(remote), zoo.WithStore(s), zoo.WithNamespace("batch"))...)
	}},
	{"redis", func(t testing.TB, remote bool) (*zoo.Cache, *readCounter) {
		return redisCache(t, remote)
	}},
	{"redis-strict", func(t testing.TB, remote bool) (*zoo.Cache, *readCounter) {
		return redisCache(t, remote, zoo.WithConsistency(zoo.Strict))
	}},
}

func localTier(remote bool) []zoo.Option {
	if remote {
		return []zoo.Option{zoo.WithLocalTier(0)}
	}
	return nil
}

func newCache(t testing.TB, opts ...zoo.Option) (*zoo.Cache, *readCounter) {
	t.Helper()
	c, err := zoo.New(append([]zoo.Option{zoo.WithStats(true)}, opts...)...)
	if err != nil {
		t.Fatalf("zoo.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

func redisCache(t testing.TB, remote bool, opts ...zoo.Option) (*zoo.Cache, *readCounter) {
	t.Helper()
	// A client that honours context deadlines: the store sends its commands
	// through it as it is, with the hook that counts them (through a client
	// without ContextTimeoutEnabled it would send them through a WithTimeout
	// clone, which go-redis builds without the client's process hooks).
	client := redis.NewClient(&redis.Options{Addr: redistest.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	reads := &readCounter{}
	client.AddHook(reads)
	ns := redistest.Namespace(t, client)
	// A generous timeout: a command that times out on a loaded machine
	// fails open, and the tests that count loads would count its reload.
	s := redisstore.New(client, redisstore.WithTimeout(10*time.Second))
	opts = append(opts, zoo.WithStore(s), zoo.WithNamespace(ns))
	c, _ := newCache(t, append(opts, localTier(remote)...)...)
	// Entries loaded before the subscription is up count as stale once it
	// is (they may have missed an invalidation): wait, so that the tests
	// count loads of their own.
	deadline := time.Now().Add(10 * time.Second)
	for !c.Stats().Connected {
		if time.Now().After(deadline) {
			t.Fatal("the cache's subscription did not come up")
		}
		time.Sleep(time.Millisecond)
	}
	// A strict read over a connection dialed since the server was last
	// checked checks it and reads again, a few times at most, then misses:
	// dial the pool's connections first, so that concurrent batches do not
	// miss for that.
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { client.Ping(context.Background()) })
	}
	wg.Wait()
	return c, reads
}

func setup(t *testing.T, open func(testing.TB, bool) (*zoo.Cache, *readCounter), remote bool) fixture {
	c, reads := open(t, remote)
	repo := &Repo{Size: 1000}
	return fixture{r: NewCachedProducts(repo, c), repo: repo, c: c, reads: reads}
}

func forEachStore(t *testing.T, test func(t *testing.T, f fixture)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			for _, remote := range []bool{false, true} {
				name := "memory-tier"
				if remote {
					name = "no-memory-tier"
				}
				if s.name == "memory" && remote {
					continue
				}
				t.Run(name, func(t *testing.T) { test(t, setup(t, s.open, remote)) })
			}
		})
	}
}

func ids(list ...int64) []int64 { return list }

func wantCalls(t *testing.T, repo *Repo, want ...[]int64) {
	t.Helper()
	got := repo.Calls()
	if len(got) != len(want) {
		t.Fatalf("the repository was asked for %v, want %v", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("the repository was asked for %v, want %v", got, want)
		}
	}
}

func wantProducts(t *testing.T, got map[int64]*Product, oid int64, want ...int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d products, want %v", len(got), want)
	}
	for _, id := range want {
		if p := got[id]; p == nil || p.ID != id || p.OrgID != oid {
			t.Fatalf("product %d: got %+v", id, got[id])
		}
	}
}

func stats(t *testing.T, c *zoo.Cache, method string) zoo.MethodStats {
	t.Helper()
	for _, m := range c.Stats().Methods {
		if m.Method == method {
			return m
		}
	}
	t.Fatalf("no statistics for %s", method)
	return zoo.MethodStats{}
}

func TestPartialHits(t *testing.T) {
	forEachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		got, err := f.r.GetProducts(ctx, 1, ids(1, 2, 3))
		if err != nil {
			t.Fatal(err)
		}
		wantProducts(t, got, 1, 1, 2, 3)
		got, err = f.r.GetProducts(ctx, 1, ids(3, 4, 2, 5, 3))
		if err != nil {
			t.Fatal(err)
		}
		wantProducts(t, got, 1, 2, 3, 4, 5)
		wantCalls(t, f.repo, ids(1, 2, 3), ids(4, 5))
		st := stats(t, f.c, "GetProducts")
		if st.Hits != 2 || st.Misses != 5 || st.Loads != 2 || st.ElementsLoaded != 5 || st.Batches != 2 {
			t.Fatalf("statistics: %+v", st)
		}
	})
}

func TestElementInvalidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		f.r.GetProducts(ctx, 1, ids(1, 2, 3))
		if err := f.r.Save(ctx, Product{OrgID: 1, ID: 2}); err != nil {
			t.Fatal(err)
		}
		got, err := f.r.GetProducts(ctx, 1, ids(1, 2, 3))
		if err != nil {
			t.Fatal(err)
		}
		wantProducts(t, got, 1, 1, 2, 3)
		wantCalls(t, f.repo, ids(1, 2, 3), ids(2))
	})
}

func TestPrefixInvalidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		f.r.GetProducts(ctx, 1, ids(1, 2))
		f.r.GetProducts(ctx, 2, ids(1, 2))
		if err := f.c.Invalidate(ctx, "org:1"); err != nil {
			t.Fatal(err)
		}
		f.r.GetProducts(ctx, 1, ids(1, 2))
		got, _ := f.r.GetProducts(ctx, 2, ids(1, 2))
		wantProducts(t, got, 2, 1, 2)
		wantCalls(t, f.repo, ids(1, 2), ids(1, 2), ids(1, 2))
	})
}

func TestSliceInAskedOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		f.r.ListByIDs(ctx, 1, ids(5, 1))
		got, err := f.r.ListByIDs(ctx, 1, ids(3, 5, 2000, 1, 3))
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, p := range got {
			order = append(order, p.ID)
		}
		if !slices.Equal(order, ids(3, 5, 1)) {
			t.Fatalf("got %v, want 3 5 1", order)
		}
		wantCalls(t, f.repo, ids(5, 1), ids(3, 2000))
	})
}

// Overlapping batches from many goroutines ask the repository for each
// element once.
func TestConcurrentBatchesLoadEachOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 2))
				for range 30 {
					var batch []int64
					for range 1 + rng.IntN(10) {
						batch = append(batch, 1+rng.Int64N(40))
					}
					got, err := f.r.GetProducts(ctx, 1, batch)
					if err != nil {
						t.Error(err)
						return
					}
					for _, id := range batch {
						if got[id] == nil {
							t.Errorf("batch %v: no product %d", batch, id)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		for id, n := range f.repo.Asked() {
			if n != 1 {
				t.Errorf("product %d was asked for %d times, want once", id, n)
			}
		}
	})
}

// The hits of a batch that the memory tier does not hold are read from
// Redis in one round trip: one pipeline, whatever the batch's size.
func TestRedisHitsInOneRoundTrip(t *testing.T) {
	for _, s := range stores {
		if !strings.HasPrefix(s.name, "redis") {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			f := setup(t, s.open, true)
			ctx := context.Background()
			batch := make([]int64, 50)
			for i := range batch {
				batch[i] = int64(i + 1)
			}
			if _, err := f.r.GetProducts(ctx, 1, batch); err != nil {
				t.Fatal(err)
			}
			f.r.GetProducts(ctx, 1, batch) // the connections are dialed and checked
			f.reads.reset()
			got, err := f.r.GetProducts(ctx, 1, batch)
			if err != nil {
				t.Fatal(err)
			}
			wantProducts(t, got, 1, batch...)
			wantCalls(t, f.repo, batch)
			if p, c := f.reads.pipelines.Load(), f.reads.singles.Load(); p != 1 || c != 0 {
				t.Fatalf("the batch read entries and versions in %d pipelines and %d single commands, want 1 and 0", p, c)
			}
			if st := stats(t, f.c, "GetProducts"); st.Hits != 100 {
				t.Fatalf("statistics: %+v", st)
			}
		})
	}
}

// readCounter is a go-redis hook counting the commands that read entries
// ({zoo:ns:e<h>}:e:<key>) or tag versions ({zoo:ns:v<n>}:v): alone, and
// in pipelines.
type readCounter struct {
	singles, pipelines atomic.Int64
}

func (r *readCounter) reset() { r.singles.Store(0); r.pipelines.Store(0) }

func readsEntryOrVersions(cmd redis.Cmder) bool {
	for _, a := range cmd.Args() {
		if s, ok := a.(string); ok && (strings.Contains(s, "}:e:") || strings.HasSuffix(s, "}:v")) {
			return true
		}
	}
	return false
}

func (r *readCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (r *readCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if readsEntryOrVersions(cmd) {
			r.singles.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (r *readCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if slices.ContainsFunc(cmds, readsEntryOrVersions) {
			r.pipelines.Add(1)
		}
		return next(ctx, cmds)
	}
}
