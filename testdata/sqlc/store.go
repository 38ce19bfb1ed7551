// Package sqlc is a store over sqlc's generated Querier: sqlc owns
// querier.go, so the annotations live on an interface of our own that embeds
// Querier and redeclares the methods it caches or that invalidate.
package sqlc

import "context"

//go:generate go tool zoogen

// Store is every query of Querier; the annotated ones are cached.
type Store interface {
	Querier

	//zoo:cache deps="author:<id>"
	GetAuthor(ctx context.Context, id int64) (Author, error)

	//zoo:cache deps="authors"
	ListAuthorsByIDs(ctx context.Context, ids []int64) ([]Author, error)

	//zoo:cache deps="authors"
	ListAuthorsBornAfter(ctx context.Context, arg ListAuthorsBornAfterParams) ([]Author, error)

	//zoo:invalidate deps="author:<result.ID>,authors"
	CreateAuthor(ctx context.Context, arg CreateAuthorParams) (Author, error)

	//zoo:invalidate deps="author:<arg.ID>,authors"
	UpdateAuthorBio(ctx context.Context, arg UpdateAuthorBioParams) error

	//zoo:invalidate deps="author:<id>,authors"
	DeleteAuthor(ctx context.Context, id int64) error
}
