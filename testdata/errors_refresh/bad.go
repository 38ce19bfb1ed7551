// Package errors_refresh holds bad refresh= and stale-if-error= options:
// zoogen reports each at its position.
package errors_refresh

import (
	"context"
	"errors"
)

// ErrNotFound is cached by one method.
var ErrNotFound = errors.New("not found")

// Repo is wrong in every way refresh= and stale-if-error= can be.
type Repo interface {
	//zoo:cache deps="a" ttl=1m refresh=1m
	RefreshAsLongAsTTL(ctx context.Context, id int64) (int, error)

	//zoo:cache deps="a" ttl=1m refresh=2m
	RefreshLongerThanTTL(ctx context.Context, id int64) (int, error)

	//zoo:cache deps="a" refresh=soon
	RefreshNotADuration(ctx context.Context, id int64) (int, error)

	//zoo:cache deps="a" refresh=-1s
	RefreshNegative(ctx context.Context, id int64) (int, error)

	//zoo:cache deps="a" refresh=1m errors=ErrNotFound
	RefreshWithCachedErrors(ctx context.Context, id int64) (int, error)

	//zoo:cache deps="a" stale-if-error=0s
	StaleZero(ctx context.Context, id int64) (int, error)

	//zoo:cache deps="a" stale-if-error=1000000h
	StaleTooLong(ctx context.Context, id int64) (int, error)

	//zoo:cache deps="a" stale-if-erorr=1h
	StaleMisspelt(ctx context.Context, id int64) (int, error)
}
