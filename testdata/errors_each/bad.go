// Package errors_each holds bad batch reads (each=): zoogen reports each
// at its position.
package errors_each

import (
	"context"
	"errors"
)

// ErrNotFound is a sentinel a batch read cannot cache.
var ErrNotFound = errors.New("not found")

// Product is a product.
type Product struct {
	ID   int64
	Name string
	Ref  *Ref
}

// Ref is a reference.
type Ref struct{ ID int64 }

// Repo is wrong in every way a batch read can be.
type Repo interface {
	//zoo:cache deps="p:<ids>" each=idz
	EachUnknown(ctx context.Context, ids []int64) (map[int64]*Product, error)

	//zoo:cache deps="p" each=ctx
	EachContext(ctx context.Context, ids []int64) (map[int64]*Product, error)

	//zoo:cache deps="p:<id>" each=id
	EachNotSlice(ctx context.Context, id int64) (map[int64]*Product, error)

	//zoo:cache deps="p:<ids>" each=ids
	MapOtherKey(ctx context.Context, ids []int64) (map[string]*Product, error)

	//zoo:cache deps="p:<ids>" each=ids
	SliceWithoutKey(ctx context.Context, ids []int64) ([]Product, error)

	//zoo:cache deps="p:<ids>" each=ids key=ID
	MapWithKey(ctx context.Context, ids []int64) (map[int64]Product, error)

	//zoo:cache deps="p:<ids>" each=ids key="<ids>"
	KeyReference(ctx context.Context, ids []int64) ([]Product, error)

	//zoo:cache deps="p:<ids>" each=ids key=Nope
	KeyUnknownField(ctx context.Context, ids []int64) ([]Product, error)

	//zoo:cache deps="p:<ids>" each=ids key=Name
	KeyOtherType(ctx context.Context, ids []int64) ([]Product, error)

	//zoo:cache deps="p:<ids>" each=ids key=Ref.ID
	KeyThroughPointer(ctx context.Context, ids []int64) ([]Product, error)

	//zoo:cache deps="p:<ids>" each=ids
	TwoResults(ctx context.Context, ids []int64) (map[int64]*Product, int, error)

	//zoo:cache deps="p:<ids>" each=ids
	NotMapOrSlice(ctx context.Context, ids []int64) (*Product, error)

	//zoo:cache deps="p:<ids>" each=ids errors=ErrNotFound
	CachedErrors(ctx context.Context, ids []int64) (map[int64]*Product, error)

	//zoo:cache deps="p:<ids>,q:<result.ID>" each=ids key=ID
	DepsResult(ctx context.Context, ids []int64) ([]Product, error)

	//zoo:cache deps="p" each=ids
	NotComparable(ctx context.Context, ids [][]int64) (map[string]*Product, error)

	//zoo:invalidate deps="p:<ids>" each=ids
	OnInvalidate(ctx context.Context, ids []int64) error

	//zoo:cache deps="p:<ids>" each=ids ttl=10m refresh=1m
	Refreshed(ctx context.Context, ids []int64) (map[int64]*Product, error)

	//zoo:cache deps="p:<ids>" each=ids stale-if-error=1h
	Sturdy(ctx context.Context, ids []int64) (map[int64]*Product, error)
}
