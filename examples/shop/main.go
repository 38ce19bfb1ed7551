// Command shop is zoogen's main example: a small shop on SQLite (pure Go, in
// memory, nothing to install) whose repository is cached by the decorator
// zoogen generated from its annotations. It prints what the cache changes:
// cold and warm read times and the queries that reach the database, what a
// product update and an organisation rename expire, and how many queries
// 1,000 concurrent cold readers cause.
//
//	go run ./examples/shop [-orgs 3] [-stores 4] [-products 25] [-redis addr [-strict]] [-http :8080]
//
// With -http, after the report it serves the shop over HTTP until
// interrupted: product pages (GET /orgs/1/stores/2/products/27) cached by
// the middleware, price updates (POST .../price?cents=N) that expire them,
// the cache's debug page (/debug/zoo/, which the zoo command reads) and
// Prometheus metrics (/metrics).
//
// With -redis, entries live in Redis (under a namespace of the run's own,
// deleted at the end) behind a memory tier, as several instances of a
// service would share them; -strict validates every read in Redis.
//
// It exits with status 1 if the cache does not behave as the report says it
// should (warm reads reaching the database, a stampede causing more than one
// query), so CI runs it as a test.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/redisstore"

	"github.com/zoogen/zoogen/examples/shop/catalog"
)

type config struct {
	orgs, stores, products int
	redis                  string // Redis address; "" keeps entries in memory
	strict                 bool
	http                   string // address to serve on after the report; "" does not
}

func main() {
	var cfg config
	flag.IntVar(&cfg.orgs, "orgs", 3, "organisations")
	flag.IntVar(&cfg.stores, "stores", 4, "stores per organisation")
	flag.IntVar(&cfg.products, "products", 25, "products per store")
	flag.StringVar(&cfg.redis, "redis", "", "keep entries in the Redis at this address (host:port)")
	flag.BoolVar(&cfg.strict, "strict", false, "with -redis: validate every read in Redis")
	flag.StringVar(&cfg.http, "http", "", "after the report, serve the shop over HTTP on this address (:8080)")
	flag.Parse()
	if cfg.orgs < 2 || cfg.stores < 2 || cfg.products < 2 {
		fmt.Fprintln(os.Stderr, "shop: -orgs, -stores and -products must be at least 2")
		os.Exit(2)
	}
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// figures are what the report states, for the example's test.
type figures struct {
	cold, warm, afterUpdate, afterRename, stampede int64
	renamedOrg                                     int64 // entries under the renamed org
	// A cart read as a batch: queries of the first read, and of the second,
	// with one product updated and one added; elements the second asked for.
	cartCold, cartAfter, cartAsked int64
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	_, err := scenario(ctx, cfg, w)
	return err
}

func scenario(ctx context.Context, cfg config, w io.Writer) (figures, error) {
	var f figures
	db, err := catalog.OpenSQLite(ctx, cfg.orgs, cfg.stores, cfg.products)
	if err != nil {
		return f, err
	}
	defer db.Close()
	opts, cleanup, where, err := storeOptions(ctx, cfg)
	if err != nil {
		return f, err
	}
	defer cleanup()
	// Per-method counters are off by default (a hit costs a few
	// nanoseconds less); the scenario prints them, as a service that
	// exports them to Prometheus or the zoo command would turn them on.
	cache, err := zoo.New(append(opts, zoo.WithStats(true))...)
	if err != nil {
		return f, err
	}
	defer cache.Close()
	repo := catalog.NewCachedRepo(db, cache)

	queries := func() func() int64 {
		start := db.Queries()
		return func() int64 { return db.Queries() - start }
	}
	// readAll reads what a storefront shows: every organisation, store,
	// listing and product.
	readAll := func() (time.Duration, error) {
		start := time.Now()
		for oid := int64(1); oid <= int64(cfg.orgs); oid++ {
			if _, err := repo.GetOrg(ctx, oid); err != nil {
				return 0, err
			}
			for sid := int64(1); sid <= int64(cfg.stores); sid++ {
				if _, err := repo.GetStore(ctx, oid, sid); err != nil {
					return 0, err
				}
				listing, err := repo.ListProducts(ctx, oid, sid)
				if err != nil {
					return 0, err
				}
				for _, p := range listing {
					if _, err := repo.GetProduct(ctx, oid, sid, p.ID); err != nil {
						return 0, err
					}
				}
			}
		}
		return time.Since(start), nil
	}
	perOrg := int64(1 + cfg.stores*(2+cfg.products))
	total := int64(cfg.orgs) * perOrg

	fmt.Fprintf(w, "zoogen shop example: %d organisations × %d stores × %d products, SQLite in memory, cache %s\n\n",
		cfg.orgs, cfg.stores, cfg.products, where)

	fmt.Fprintf(w, "1. Reading the whole catalogue (%d reads: organisations, stores, listings, products)\n", total)
	q := queries()
	cold, err := readAll()
	if err != nil {
		return f, err
	}
	f.cold = q()
	q = queries()
	warm, err := readAll()
	if err != nil {
		return f, err
	}
	f.warm = q()
	fmt.Fprintf(w, "   cold: %4d queries  %v\n", f.cold, cold.Round(10*time.Microsecond))
	fmt.Fprintf(w, "   warm: %4d queries  %v  (%.0fx faster)\n\n", f.warm, warm.Round(time.Microsecond),
		float64(cold)/float64(max(warm, 1)))

	const oid, sid = 1, 2
	listing, err := repo.ListProducts(ctx, oid, sid)
	if err != nil {
		return f, err
	}
	p := listing[1]
	fmt.Fprintf(w, "2. UpdateProduct(%q in org %d, store %d): price %d → %d cents\n", p.Name, oid, sid, p.PriceCents, p.PriceCents+50)
	p.PriceCents += 50
	if err := repo.UpdateProduct(ctx, p); err != nil {
		return f, err
	}
	q = queries()
	if _, err := readAll(); err != nil {
		return f, err
	}
	f.afterUpdate = q()
	got, err := repo.GetProduct(ctx, oid, sid, p.ID)
	if err != nil {
		return f, err
	}
	fmt.Fprintf(w, "   reading everything again: %d queries (that product and its store's listing); new price served: %d cents\n\n",
		f.afterUpdate, got.PriceCents)

	fmt.Fprintf(w, "3. RenameOrg(%d)\n", oid)
	if err := repo.RenameOrg(ctx, oid, "Renamed"); err != nil {
		return f, err
	}
	q = queries()
	if _, err := readAll(); err != nil {
		return f, err
	}
	f.afterRename = q()
	f.renamedOrg = perOrg
	fmt.Fprintf(w, "   reading everything again: %d queries: all %d reads under org %d (1 org, %d stores, %d listings, %d products), none elsewhere\n\n",
		f.afterRename, perOrg, oid, cfg.stores, cfg.stores, cfg.stores*cfg.products)

	const readers = 1000
	last := int64(cfg.orgs)
	fmt.Fprintf(w, "4. 1,000 concurrent cold readers of one product\n")
	if err := cache.Invalidate(ctx, zoo.Tag("org", last, "store", 1, "product")); err != nil {
		return f, err
	}
	listing, err = repo.ListProducts(ctx, last, 1)
	if err != nil {
		return f, err
	}
	q = queries()
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() {
			if _, err := repo.GetProduct(ctx, last, 1, listing[0].ID); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return f, err
	}
	f.stampede = q()
	fmt.Fprintf(w, "   %d query\n", f.stampede)

	cart := make([]int64, 0, 3)
	for _, p := range listing[:min(3, len(listing))] {
		cart = append(cart, p.ID)
	}
	fmt.Fprintf(w, "\n5. GetProducts: a cart of %d products of org %d, store 1, read as one batch\n", len(cart), last)
	q = queries()
	if _, err := repo.GetProducts(ctx, last, 1, cart); err != nil {
		return f, err
	}
	f.cartCold = q()
	changed := listing[0]
	changed.PriceCents++
	if err := repo.UpdateProduct(ctx, changed); err != nil {
		return f, err
	}
	cart = append(cart, listing[len(listing)-1].ID)
	asked := cacheStats(cache, "GetProducts").ElementsLoaded
	q = queries()
	items, err := repo.GetProducts(ctx, last, 1, cart)
	if err != nil {
		return f, err
	}
	f.cartAfter = q()
	f.cartAsked = int64(cacheStats(cache, "GetProducts").ElementsLoaded - asked)
	fmt.Fprintf(w, "   cold: %d query; after updating one product and adding another: %d query for the %d products the cache lacked (%d served)\n",
		f.cartCold, f.cartAfter, f.cartAsked, len(items))

	if cfg.http != "" {
		fmt.Fprintf(w, "\nserving on %s: /orgs/1/stores/2/products/27, /debug/zoo/, /metrics (Ctrl-C stops)\n", cfg.http)
		h, err := newServer(repo, cache)
		if err != nil {
			return f, err
		}
		srv := &http.Server{Addr: cfg.http, Handler: h}
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return f, err
		}
	}

	switch {
	case f.warm != 0:
		return f, fmt.Errorf("warm reads caused %d queries, want 0", f.warm)
	case f.afterUpdate != 2:
		return f, fmt.Errorf("the update expired %d reads, want 2", f.afterUpdate)
	case f.afterRename != perOrg:
		return f, fmt.Errorf("the rename expired %d reads, want %d", f.afterRename, perOrg)
	case f.stampede != 1:
		return f, fmt.Errorf("%d concurrent readers caused %d queries, want 1", readers, f.stampede)
	case f.cartCold != 1 || f.cartAfter != 1 || f.cartAsked != 2:
		return f, fmt.Errorf("the cart caused %d and %d queries, the second for %d products; want 1, 1 and 2", f.cartCold, f.cartAfter, f.cartAsked)
	}
	return f, nil
}

// cacheStats returns the statistics of one method of the cache.
func cacheStats(c *zoo.Cache, method string) zoo.MethodStats {
	for _, m := range c.Stats().Methods {
		if m.Method == method {
			return m
		}
	}
	return zoo.MethodStats{}
}

// storeOptions returns the cache's options for cfg: the memory store, or a
// Redis store under a namespace of this run's own, which cleanup deletes.
func storeOptions(ctx context.Context, cfg config) (opts []zoo.Option, cleanup func(), where string, err error) {
	if cfg.redis == "" {
		return []zoo.Option{zoo.WithNamespace("shop")}, func() {}, "in memory", nil
	}
	client := redis.NewClient(&redis.Options{Addr: cfg.redis})
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, "", fmt.Errorf("redis at %s: %w", cfg.redis, err)
	}
	ns := fmt.Sprintf("shop-example-%d", time.Now().UnixNano())
	mode := zoo.Local
	if cfg.strict {
		mode = zoo.Strict
	}
	cleanup = func() {
		iter := client.Scan(ctx, 0, "{zoo:"+ns+":*", 1000).Iterator() // every key of the namespace
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	}
	opts = []zoo.Option{zoo.WithStore(redisstore.New(client)), zoo.WithNamespace(ns), zoo.WithConsistency(mode)}
	return opts, cleanup, fmt.Sprintf("in Redis at %s (%s consistency)", cfg.redis, mode), nil
}
