// Package shop is the repository the comparison benchmarks cache: one read,
// GetProduct, annotated for zoogen, and DB, an in-memory stand-in for the
// database that counts the loads that reach it.
package shop

//go:generate go tool zoogen

import (
	"context"
	"sync/atomic"
	"time"
)

// Product is a product of a store of an organisation: the value every cache
// in the comparison holds.
type Product struct {
	OrgID, StoreID, ID int64
	Name               string
	Price              int64
}

// ProductRepo is the raw repository.
type ProductRepo interface {
	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>" ttl=10m
	GetProduct(ctx context.Context, oid, sid, pid int64) (*Product, error)
}

// TTL is the lifetime every cache in the comparison gives its entries: the
// ttl of the annotation above.
const TTL = 10 * time.Minute

// DB is a ProductRepo that makes up its products and counts the calls that
// reach it. A DB is safe for concurrent use.
type DB struct {
	// Latency is how long each load takes; zero returns at once.
	Latency time.Duration

	loads atomic.Int64
}

var _ ProductRepo = (*DB)(nil)

// GetProduct returns a new product (oid, sid, pid) after d.Latency.
func (d *DB) GetProduct(ctx context.Context, oid, sid, pid int64) (*Product, error) {
	d.loads.Add(1)
	if d.Latency > 0 {
		t := time.NewTimer(d.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &Product{OrgID: oid, StoreID: sid, ID: pid, Name: "product", Price: 100 + pid}, nil
}

// Loads returns the number of GetProduct calls so far.
func (d *DB) Loads() int64 { return d.loads.Load() }
