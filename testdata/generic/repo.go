// Package generic has a generic repository: its decorator is generic too,
// and its instances never share keys.
package generic

import "context"

// Number is a constraint with a union.
type Number interface {
	~int | ~int64 | ~float64
}

// Repo stores values of any type by comparable keys.
type Repo[K comparable, V any] interface {
	//zoo:cache deps="item:<id>"
	Get(ctx context.Context, id K) (V, error)

	//zoo:cache deps="items"
	List(ctx context.Context, limit int) ([]V, int, error)

	//zoo:invalidate deps="item:<id>"
	Put(ctx context.Context, id K, v V) error
}

// Stats sums numbers.
type Stats[N Number] interface {
	//zoo:cache deps="sum"
	Sum(ctx context.Context, xs []N) (N, error)
}
