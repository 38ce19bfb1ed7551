// Package catalog is the data layer of the shop example: organisations own
// stores, stores sell products, products have reviews. Repo is the raw
// repository, with the zoogen annotations that make its decorator,
// CachedRepo, in catalog_zoo.go.
package catalog

import (
	"context"
	"errors"
)

//go:generate go tool zoogen

// Org is an organisation.
type Org struct {
	ID   int64
	Name string
}

// Store is a store of an organisation.
type Store struct {
	OrgID, ID int64
	Name      string
}

// Product is a product of a store.
type Product struct {
	OrgID, StoreID, ID int64
	Name               string
	PriceCents         int64
}

// Review is a review of a product.
type Review struct {
	ProductID int64
	Stars     int
	Text      string
}

// ErrNotFound is returned for what does not exist; GetProduct caches it, so
// that repeated lookups of a missing product do not reach the database.
var ErrNotFound = errors.New("catalog: not found")

// Repo reads and writes the catalogue. Tags follow the ownership path
// org → store → product, so that invalidating an organisation expires
// everything it owns.
type Repo interface {
	//zoo:cache deps="org:<oid>" ttl=10m
	GetOrg(ctx context.Context, oid int64) (Org, error)

	//zoo:cache deps="org:<oid>:store:<sid>" ttl=10m
	GetStore(ctx context.Context, oid, sid int64) (Store, error)

	// ListProducts is a store's listing: its own tag, so that a product
	// update can expire the listing without expiring the store's products.
	//zoo:cache deps="org:<oid>:store:<sid>:listing" ttl=5m
	ListProducts(ctx context.Context, oid, sid int64) ([]Product, error)

	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>" ttl=10m errors=ErrNotFound
	GetProduct(ctx context.Context, oid, sid, pid int64) (Product, error)

	// GetProducts reads several products of a store at once (a cart): each
	// product is cached on its own, and only those the cache lacks reach
	// the database, in one query.
	//zoo:cache deps="org:<oid>:store:<sid>:product:<pids>" each=pids ttl=10m
	GetProducts(ctx context.Context, oid, sid int64, pids []int64) (map[int64]Product, error)

	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>:reviews"
	Reviews(ctx context.Context, oid, sid, pid int64) ([]Review, error)

	//zoo:invalidate deps="org:<p.OrgID>:store:<p.StoreID>:product:<p.ID>,org:<p.OrgID>:store:<p.StoreID>:listing"
	UpdateProduct(ctx context.Context, p Product) error

	//zoo:invalidate deps="org:<oid>"
	RenameOrg(ctx context.Context, oid int64, name string) error
}
