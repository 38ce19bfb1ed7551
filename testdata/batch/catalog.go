// Package batch is the golden case of batch reads (each=): a map result
// keyed by the elements, a slice result with key=<Field> in the order
// asked, a variadic batch of a named type with pointer values, a method
// without context or error, and the single read of the same element.
package batch

import "context"

// SKU names a product across organisations.
type SKU string

// Product is a product of an organisation.
type Product struct {
	ID    int64
	OrgID int64
	SKU   SKU
	Name  string
}

// Catalog reads products one by one and in batches.
type Catalog interface {
	//zoo:cache deps="org:<oid>:product:<pid>" ttl=10m
	GetProduct(ctx context.Context, oid, pid int64) (*Product, error)

	//zoo:cache deps="org:<oid>:product:<ids>" each=ids ttl=10m
	GetProducts(ctx context.Context, oid int64, ids []int64) (map[int64]*Product, error)

	//zoo:cache deps="org:<oid>:product:<ids>" each=ids key=ID ttl=10m
	ListByIDs(ctx context.Context, oid int64, ids []int64) ([]Product, error)

	//zoo:cache deps="sku:<skus>" each=skus key=SKU
	BySKU(ctx context.Context, skus ...SKU) ([]*Product, error)

	//zoo:cache deps="org:<oid>:product:<ids>:name" each=ids
	Names(oid int64, ids []int64) map[int64]string

	//zoo:invalidate deps="org:<p.OrgID>:product:<p.ID>,sku:<p.SKU>"
	SaveProduct(ctx context.Context, p Product) error
}
