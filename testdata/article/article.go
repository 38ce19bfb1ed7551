// Package article is a clean-architecture article repository: named
// results, a cursor page, and writes that fill in the article's ID.
package article

import (
	"context"
	"errors"
	"time"
)

//go:generate go tool zoogen

// ErrNotFound is wrapped by the repository: "article 2: not found".
var ErrNotFound = errors.New("not found")

// Article is a blog article.
type Article struct {
	ID        int64
	Title     string
	Content   string
	AuthorID  int64
	UpdatedAt time.Time
	CreatedAt time.Time
}

// ArticleRepository is the raw repository.
type ArticleRepository interface {
	//zoo:cache deps="articles" ttl=1m
	Fetch(ctx context.Context, cursor string, num int64) (res []Article, nextCursor string, err error)

	//zoo:cache deps="article:<id>" errors=ErrNotFound
	GetByID(ctx context.Context, id int64) (Article, error)

	//zoo:cache deps="articles:title:<title>" errors=ErrNotFound
	GetByTitle(ctx context.Context, title string) (Article, error)

	//zoo:invalidate deps="article:<ar.ID>,articles"
	Update(ctx context.Context, ar *Article) error

	//zoo:invalidate deps="article:<a.ID>,articles"
	Store(ctx context.Context, a *Article) error

	//zoo:invalidate deps="article:<id>,articles"
	Delete(ctx context.Context, id int64) error
}
