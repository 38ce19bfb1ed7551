// Package batchtest runs batch reads (each=) through a generated decorator
// on every store: memory, LMDB, and Redis in local and strict mode. Its
// tests count the calls and the elements that reach the repository, and
// the round trips that reach Redis; its benchmarks compare a batch with
// single reads.
package batchtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Product is a product of an organisation.
type Product struct {
	ID    int64
	OrgID int64
	Name  string
}

// Products reads products one by one and in batches.
type Products interface {
	//zoo:cache deps="org:<oid>:product:<pid>" ttl=10m
	Get(ctx context.Context, oid, pid int64) (*Product, error)

	//zoo:cache deps="org:<oid>:product:<ids>" each=ids ttl=10m
	GetProducts(ctx context.Context, oid int64, ids []int64) (map[int64]*Product, error)

	//zoo:cache deps="org:<oid>:product:<ids>" each=ids key=ID ttl=10m
	ListByIDs(ctx context.Context, oid int64, ids []int64) ([]Product, error)

	//zoo:invalidate deps="org:<p.OrgID>:product:<p.ID>"
	Save(ctx context.Context, p Product) error
}

// Repo is a Products in memory, in which every product of ids 1 to Size
// exists. It counts how often each element is asked for.
type Repo struct {
	Size int64

	mu    sync.Mutex
	calls [][]int64       // the ids of each batch call
	asked map[int64]int64 // how often each id was asked for, singly or in a batch
}

var _ Products = (*Repo)(nil)

func (r *Repo) record(ids []int64, batch bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.asked == nil {
		r.asked = map[int64]int64{}
	}
	if batch {
		r.calls = append(r.calls, slices.Clone(ids))
	}
	for _, id := range ids {
		r.asked[id]++
	}
}

// Calls returns the ids of each batch call so far.
func (r *Repo) Calls() [][]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Asked returns how often each id was asked for.
func (r *Repo) Asked() map[int64]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int64]int64, len(r.asked))
	for k, v := range r.asked {
		out[k] = v
	}
	return out
}

func (r *Repo) product(oid, id int64) (*Product, bool) {
	if id < 1 || id > r.Size {
		return nil, false
	}
	return &Product{ID: id, OrgID: oid, Name: fmt.Sprintf("product %d", id)}, true
}

// Get returns one product.
func (r *Repo) Get(_ context.Context, oid, pid int64) (*Product, error) {
	r.record([]int64{pid}, false)
	p, _ := r.product(oid, pid)
	return p, nil
}

// GetProducts returns the products of ids that exist.
func (r *Repo) GetProducts(_ context.Context, oid int64, ids []int64) (map[int64]*Product, error) {
	r.record(ids, true)
	out := make(map[int64]*Product, len(ids))
	for _, id := range ids {
		if p, ok := r.product(oid, id); ok {
			out[id] = p
		}
	}
	return out, nil
}

// ListByIDs returns the products of ids that exist, by id.
func (r *Repo) ListByIDs(_ context.Context, oid int64, ids []int64) ([]Product, error) {
	r.record(ids, true)
	var out []Product
	for _, id := range slices.Sorted(slices.Values(ids)) {
		if p, ok := r.product(oid, id); ok {
			out = append(out, *p)
		}
	}
	return out, nil
}

// Save does nothing: the decorator invalidates.
func (r *Repo) Save(context.Context, Product) error { return nil }
