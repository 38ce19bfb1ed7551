// Package errors holds every kind of bad annotation: zoogen reports all of
// them, each at its position, and writes nothing.
package errors

import (
	"context"
	"io"
	"time"
)

// Product is a product.
type Product struct {
	ID    int64
	Store *Store
	Meta  map[string]string
}

// Store is a store.
type Store struct{ ID int64 }

// Repo is wrong in every way an annotation can be.
type Repo interface {
	//zoo:cache deps="product:<pdi>"
	UnknownParam(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product:<p.Name>"
	UnknownField(ctx context.Context, p Product) (*Product, error)

	//zoo:cache deps="product:<p.Meta>"
	UntaggableField(ctx context.Context, p Product) (*Product, error)

	//zoo:cache deps="product:<pid" ttl=10m
	Unterminated(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product-<pid>"
	MixedSegment(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product:<pid>" ttl=ten
	BadTTL(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product:<pid>" ttl=-1m
	NegativeTTL(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product:<pid>" ttl=2562047h
	EndlessTTL(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product:<pid>"
	NoResult(ctx context.Context, pid int64) error

	//zoo:cache deps="events"
	ChanArg(ctx context.Context, events chan int) (int, error)

	//zoo:cache deps="events"
	FuncArg(ctx context.Context, f func() int) (int, error)

	//zoo:cache deps="readers"
	InterfaceArg(ctx context.Context, r io.Reader) (int, error)

	//zoo:cahce deps="product:<pid>"
	VerbTypo(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product:<pid>" tll=10m
	OptionTypo(ctx context.Context, pid int64) (*Product, error)

	//zoo:cache deps="product:<pid>" errors=ErrNope
	UnknownError(ctx context.Context, pid int64) (*Product, error)

	//zoo:invalidate
	InvalidateWithoutDeps(ctx context.Context, pid int64) error

	//zoo:invalidate deps="product:<pid>" ttl=1m
	InvalidateWithTTL(ctx context.Context, pid int64) error

	//zoo:cache deps="a::b,"
	EmptyParts(ctx context.Context) (int, error)

	//zoo:cache deps="at:<at>"
	//zoo:invalidate deps="at:<at>"
	TwoVerbs(ctx context.Context, at time.Time) (int, error)

	//zoo:cache deps="x:<ctx>"
	ContextInTag(ctx context.Context) (int, error)

	//zoo:cache deps="x" ttl
	NoValue(ctx context.Context) (int, error)
}

// Taken already declares the decorator's name.
type Taken interface {
	//zoo:cache deps="t"
	Get(ctx context.Context) (int, error)
}

// CachedTaken is the user's own type.
type CachedTaken struct{}

//zoo:cache deps="nowhere"
func NotAMethod() {}
