// Package basic is the README's repository: a read cached under a tag path,
// a read with field-path and static tags, a write that invalidates, and a
// method that passes straight through.
package basic

import (
	"context"
	"errors"
)

// Product is a product of a store of an organisation.
type Product struct {
	OrgID, StoreID, ID int64
	Name               string
	Price              int64
}

// ReviewQuery selects reviews.
type ReviewQuery struct {
	ProductID int64
	MinStars  int
}

// Review is a review of a product.
type Review struct {
	ProductID int64
	Stars     int
	Text      string
}

// ErrNotFound is returned for a product that does not exist.
var ErrNotFound = errors.New("not found")

// ProductRepo is the raw repository.
type ProductRepo interface {
	//zoo:cache deps="org:<oid>:store:<sid>:product:<pid>" ttl=10m
	GetProduct(ctx context.Context, oid, sid, pid int64) (*Product, error)

	//zoo:cache deps="product:<q.ProductID>:reviews,featured"
	Reviews(ctx context.Context, q ReviewQuery) ([]Review, error)

	//zoo:invalidate deps="org:<p.OrgID>:store:<p.StoreID>:product:<p.ID>"
	UpdateProduct(ctx context.Context, p Product) error

	Ping(ctx context.Context) error // not annotated: passes straight through
}
