// Command quickstart shows the cache engine on its own, with the in-memory
// store: a read is loaded once and then served from memory, and invalidating
// a tag expires exactly the reads under it.
//
// Generated decorators make the calls written out by hand here; see the
// shop example for the whole workflow.
package main

import (
	"context"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// db stands for a database: it counts the queries that reach it.
type db struct{ queries atomic.Int64 }

type product struct {
	OrgID, StoreID, ID int64
	Price              int64
}

func (d *db) product(oid, sid, pid int64) product {
	d.queries.Add(1)
	time.Sleep(2 * time.Millisecond) // a round trip to the database
	return product{OrgID: oid, StoreID: sid, ID: pid, Price: 100 * pid}
}

// products is what zoogen generates for
//
//	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>"
//	GetProduct(ctx context.Context, oid, sid, pid int64) (product, error)
type products struct {
	db  *db
	get *zoo.Method
}

func (p *products) GetProduct(ctx context.Context, oid, sid, pid int64) (product, error) {
	var buf [64]byte
	k := p.get.Key(buf[:0])
	k = zoo.KeyInt(k, oid)
	k = zoo.KeyInt(k, sid)
	k = zoo.KeyInt(k, pid)
	if v, ok := zoo.Lookup[product](ctx, p.get, k); ok {
		return v, nil
	}
	return zoo.Load(ctx, p.get, k, func(ctx context.Context) (product, error) {
		zoo.AddDeps(ctx, zoo.Tag("org", oid, "store", sid, "product", pid))
		return p.db.product(oid, sid, pid), nil
	})
}

func main() {
	ctx := context.Background()
	cache, err := zoo.New(zoo.WithTTL(10 * time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()

	d := &db{}
	repo := &products{db: d, get: cache.Method(zoo.MethodSpec{
		Package: "main", Interface: "ProductRepo", Method: "GetProduct",
	})}
	// Two organisations, two stores each, ten products per store.
	readAll := func() time.Duration {
		start := time.Now()
		for oid := int64(1); oid <= 2; oid++ {
			for sid := int64(1); sid <= 2; sid++ {
				for pid := int64(1); pid <= 10; pid++ {
					if _, err := repo.GetProduct(ctx, oid, sid, pid); err != nil {
						log.Fatal(err)
					}
				}
			}
		}
		return time.Since(start)
	}
	queries := func() int64 { return d.queries.Swap(0) }

	cold := readAll()
	fmt.Printf("cold read of 40 products:  %d queries, %v\n", queries(), cold.Round(time.Millisecond))
	warm := readAll()
	fmt.Printf("warm read of 40 products:  %d queries, %v\n", queries(), warm.Round(time.Microsecond))

	must(cache.Invalidate(ctx, zoo.Tag("org", 1, "store", 2, "product", 7)))
	readAll()
	fmt.Printf("after invalidating one product:       %d query\n", queries())

	must(cache.Invalidate(ctx, zoo.Tag("org", 1, "store", 2)))
	readAll()
	fmt.Printf("after invalidating store 2 of org 1:  %d queries\n", queries())

	must(cache.Invalidate(ctx, zoo.Tag("org", 2)))
	readAll()
	fmt.Printf("after invalidating org 2:             %d queries\n", queries())

	// A stampede: 1,000 concurrent readers of one cold product.
	must(cache.Invalidate(ctx, zoo.Tag("org", 1, "store", 1, "product", 1)))
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() {
			if _, err := repo.GetProduct(ctx, 1, 1, 1); err != nil {
				log.Fatal(err)
			}
		})
	}
	wg.Wait()
	fmt.Printf("1,000 concurrent cold readers:        %d query\n", queries())
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
