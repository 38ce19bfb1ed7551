// Package refresh is the repository of issue #14's refresh-ahead and
// stale-if-error reads, and of a load that sets its entry's TTL itself
// (zoo.SetTTL).
package refresh

import (
	"context"
	"time"
)

// Product is a product of an organisation.
type Product struct {
	OrgID, ID int64
	Name      string
	Version   int
}

// Token is an access token that expires on its own.
type Token struct {
	Account string
	Value   string
	Expiry  time.Time
}

// ProductRepo reads and writes products, and issues tokens.
type ProductRepo interface {
	//zoo:cache deps="org:<oid>:product:<pid>" ttl=10m refresh=1m
	Get(ctx context.Context, oid, pid int64) (Product, error)

	//zoo:cache deps="org:<oid>:product:<pid>" ttl=1m stale-if-error=1h
	Sturdy(ctx context.Context, oid, pid int64) (Product, error)

	//zoo:cache deps="org:<oid>:product:<pid>" ttl=10m refresh=1m stale-if-error=1h copy=true
	Both(ctx context.Context, oid, pid int64) (*Product, error)

	//zoo:cache deps="token:<account>" ttl=1h
	Token(ctx context.Context, account string) (Token, error)

	//zoo:invalidate deps="org:<p.OrgID>:product:<p.ID>"
	Update(ctx context.Context, p Product) error
}
