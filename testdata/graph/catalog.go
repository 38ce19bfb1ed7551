// Package graph is the golden case of zoogen -graph: writes that expire
// reads of their own interface and of others, by a whole tag or a prefix,
// batch reads (each=) expired per element or every element under a
// prefix, a write that expires nothing, and reads that no write
// invalidates.
package graph

import "context"

// Product is a product of a store.
type Product struct {
	ID, OrgID, StoreID int64
	Name               string
}

// Review is a review of a product.
type Review struct {
	ProductID int64
	Text      string
}

// Catalog reads and writes products.
type Catalog interface {
	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>" ttl=10m
	GetProduct(ctx context.Context, oid, sid, pid int64) (*Product, error)

	//zoo:cache deps="org:<oid>:store:<sid>:product:<pids>" each=pids ttl=10m
	GetProducts(ctx context.Context, oid, sid int64, pids []int64) (map[int64]*Product, error)

	//zoo:cache deps="featured:<pids>" each=pids key=ID
	FeaturedByID(ctx context.Context, pids []int64) ([]Product, error)

	//zoo:cache deps="org:<oid>:store:<sid>:products"
	ListProducts(ctx context.Context, oid, sid int64) ([]Product, error)

	//zoo:cache deps="featured,org:<oid>:promotions"
	Featured(ctx context.Context, oid int64) ([]Product, error)

	//zoo:invalidate deps="org:<p.OrgID>:store:<p.StoreID>:product:<p.ID>,org:<p.OrgID>:store:<p.StoreID>:products"
	SaveProduct(ctx context.Context, p Product) error

	//zoo:invalidate deps="org:<p.OrgID>:store:<p.StoreID>:products,org:<p.OrgID>:store:<p.StoreID>:product:<result.ID>"
	CreateProduct(ctx context.Context, p Product) (Product, error)

	//zoo:invalidate deps="org:<oid>:store:<sid>:product:<pid>,product:<pid>"
	DeleteProduct(ctx context.Context, oid, sid, pid int64) error

	//zoo:invalidate deps="org:<oid>:store:<sid>"
	CloseStore(ctx context.Context, oid, sid int64) error

	//zoo:invalidate deps="featured"
	Feature(ctx context.Context, pid int64) error

	Ping(ctx context.Context) error
}

// Reviews reads and writes reviews, tagged under the product.
type Reviews interface {
	//zoo:cache deps="product:<pid>:reviews"
	ForProduct(ctx context.Context, pid int64) ([]Review, error)

	//zoo:cache deps="stats:reviews:<day>" ttl=1h
	DailyCount(ctx context.Context, day string) (int, error)

	//zoo:cache
	Languages(ctx context.Context) ([]string, error)

	//zoo:invalidate deps="product:<r.ProductID>"
	AddReview(ctx context.Context, r Review) error

	//zoo:invalidate deps="stats:products:<day>"
	Recount(ctx context.Context, day string) error

	//zoo:invalidate deps="audit:<r.ProductID>"
	Flag(ctx context.Context, r Review) error
}
