package gtsdb

import "context"

// UncopiedAccountDB is GetAccountByID without copy=true: the baseline that
// BenchmarkGetAccountByIDHit measures the copy against.
type UncopiedAccountDB interface {
	//zoo:cache deps="account:<id>" errors=ErrNoEntries
	GetAccountByID(ctx context.Context, id string) (*Account, Error)
}
