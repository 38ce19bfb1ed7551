// Package errors_nearmiss has comments that were meant as annotations but
// are not, so the methods would silently pass through: zoogen reports each
// with the annotation to write. Prose that only starts with "zoo:" is left
// alone.
package errors_nearmiss

import "context"

// Account is a user's account.
type Account struct {
	ID   int64
	Name string
}

// zoo: the keeper's notes are kept here; not an annotation.

// Accounts is a repository of accounts.
type Accounts interface {
	// zoo:cache deps="account:<id>" ttl=5m
	Account(ctx context.Context, id int64) (*Account, error)

	//zoo: cache deps="account:<name>"
	ByName(ctx context.Context, name string) (*Account, error)

	/* zoo:invalidate deps="account:<a.ID>" */
	Save(ctx context.Context, a Account) error

	// zoo: invalidate deps="account:<id>"
	Delete(ctx context.Context, id int64) error

	//	zoo:cahce deps="accounts"
	All(ctx context.Context) ([]Account, error)

	/*
		zoo:cache deps="accounts:count"
	*/
	Count(ctx context.Context) (int, error)

	// Ping checks the connection. zoo: cache is not mentioned at the start.
	Ping(ctx context.Context) error
}
