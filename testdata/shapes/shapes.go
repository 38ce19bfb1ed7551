// Package shapes covers the method shapes and argument types a cached method
// may have.
package shapes

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// OrgID and Slug are named scalar types.
type (
	OrgID int64
	Slug  string
	Level uint8
)

// Window is a struct argument, with an unexported field: the decorator lives
// in this package and reads it.
type Window struct {
	From, To time.Time
	limit    int
}

// Filter nests a pointer, a slice and a map.
type Filter struct {
	Owner  *OrgID
	Kinds  []string
	Labels map[string]string
	Exact  bool
	Score  float64
}

// Item is what the repository returns.
type Item struct {
	ID    int64
	Slug  Slug
	Price float64
}

// ErrNotFound and ErrGone are sentinel errors; errors= caches them.
var (
	ErrNotFound = errors.New("not found")
	ErrGone     = errors.New("gone")
)

// Catalog has one method of each shape.
type Catalog interface {
	// No context, one result and no error.
	//zoo:cache deps="org:<org>"
	Count(org OrgID) int

	// Context, several results and an error.
	//zoo:cache deps="org:<org>:slug:<slug>" ttl=90s
	Lookup(ctx context.Context, org OrgID, slug Slug) (Item, bool, error)

	// A variadic argument.
	//zoo:cache deps="items"
	Many(ctx context.Context, ids ...int64) ([]Item, error)

	// Imported types, bytes, unsigned and boolean arguments.
	//zoo:cache deps="ip:<addr>,at:<at>"
	Seen(ctx context.Context, addr netip.Addr, at time.Time, raw []byte, level Level, strict bool) (time.Duration, error)

	// Structs, pointers, slices and maps.
	//zoo:cache deps="window:<w.From>:limit:<w.limit>"
	Search(ctx context.Context, w Window, f *Filter, pages []int, extra map[string]int, any any) ([]Item, error)

	// Sentinel errors cached like values.
	//zoo:cache deps="item:<id>" errors=ErrNotFound,ErrGone
	Get(ctx context.Context, id int64) (*Item, error)

	// A write without an error result, and one with several results.
	//zoo:invalidate deps="org:<org>"
	Touch(org OrgID)

	//zoo:invalidate deps="item:<it.ID>,org:<org>:slug:<it.Slug>"
	Save(ctx context.Context, org OrgID, it Item) (int64, error)

	// Unnamed parameters pass through.
	Raw(context.Context, string, ...any) error
}
