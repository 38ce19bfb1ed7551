// Package embedded has interfaces that embed others, from this package and
// from the standard library, spread over two files.
package embedded

import (
	"context"
	"io"
)

// User is a user.
type User struct {
	ID   string
	Name string
}

// Reader reads users.
type Reader interface {
	//zoo:cache deps="user:<id>"
	User(ctx context.Context, id string) (User, error)
}

// Writer writes users.
type Writer interface {
	//zoo:invalidate deps="user:<u.ID>"
	SaveUser(ctx context.Context, u User) error
}

// Store embeds both, and io.Closer from the standard library.
type Store interface {
	Reader
	Writer
	io.Closer

	//zoo:cache deps="users"
	Count(ctx context.Context) (int, error)
}
