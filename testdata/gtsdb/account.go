// Package gtsdb is an account store shaped like gotosocial's: a named error
// interface, a struct pointer argument with counters, and callers that
// populate the accounts they get.
package gtsdb

import (
	"context"
	"errors"
	"time"
)

//go:generate go tool zoogen

// Error is the database layer's error.
type Error error

// ErrNoEntries is returned when a query matched nothing.
var ErrNoEntries Error = errors.New("sql: no entries")

// Emoji is a custom emoji.
type Emoji struct {
	ID        string
	Shortcode string
}

// Account is a local or remote account. Callers fill Emojis in after a get.
type Account struct {
	ID             string
	Username       string
	Domain         string
	EmojiIDs       []string
	Emojis         []*Emoji
	FollowersCount int
	StatusesCount  int
	UpdatedAt      time.Time
}

// Status is a post.
type Status struct {
	ID        string
	AccountID string
	Text      string
}

// AccountDB is the raw database.
type AccountDB interface {
	//zoo:cache deps="account:<id>" errors=ErrNoEntries copy=true
	GetAccountByID(ctx context.Context, id string) (*Account, Error)

	//zoo:cache deps="account:<account.ID>:statuses" key="<account.ID>,<limit>,<maxID>"
	GetAccountStatuses(ctx context.Context, account *Account, limit int, maxID string) ([]*Status, Error)

	//zoo:invalidate deps="account:<account.ID>"
	UpdateAccount(ctx context.Context, account *Account, columns ...string) Error

	//zoo:invalidate deps="account:<account.ID>:statuses"
	PutStatus(ctx context.Context, account *Account, status *Status) Error
}
