// Package keys is a status store shaped like gotosocial's: calls pass a
// whole *Account, counters and all, and key= names the few values that
// identify a call; lookups by name are tagged by the ID they return.
package keys

import (
	"context"
	"errors"
	"time"
)

//go:generate go tool zoogen

// ErrNoEntries is returned when a query matched nothing.
var ErrNoEntries = errors.New("sql: no entries")

// Emoji is a custom emoji.
type Emoji struct {
	ID        string
	Shortcode string
}

// Account is a local or remote account. Callers fill Emojis in after a get,
// and the counters change with every post and follow.
type Account struct {
	ID             string
	Username       string
	Domain         string
	EmojiIDs       []string
	Emojis         []*Emoji
	FollowersCount int
	FollowingCount int
	StatusesCount  int
	Locked         bool
	Discoverable   bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FetchedAt      time.Time
}

// Handle returns @username@domain.
func (a *Account) Handle() string { return "@" + a.Username + "@" + a.Domain }

// Page selects a page of a list: at most Limit items below MaxID.
type Page struct {
	MaxID string
	Limit int
}

// Status is a post.
type Status struct {
	ID        string
	AccountID string
	Text      string
}

// StatusDB is the raw database.
type StatusDB interface {
	// GetAccountStatuses pages through an account's statuses, newest first,
	// below maxID ("" for the newest page).
	//
	//zoo:cache deps="account:<account.ID>:statuses" key="<account.ID>,<limit>,<maxID>"
	GetAccountStatuses(ctx context.Context, account *Account, limit int, maxID string) ([]*Status, error)

	// GetPublicTimeline is the public timeline as requester sees it; a nil
	// requester is a visitor who is not logged in.
	//
	//zoo:cache deps="timeline:public" key="<requester.ID>,<limit>"
	GetPublicTimeline(ctx context.Context, requester *Account, limit int) ([]*Status, error)

	// GetAccountByUsernameDomain looks an account up by name; the entry is
	// tagged by the ID it found, so updating the account expires it.
	//
	//zoo:cache deps="account:<result.ID>"
	GetAccountByUsernameDomain(ctx context.Context, username, domain string) (*Account, error)

	// GetFollowers lists who follows account, a page at a time (nil: the
	// first 20); progress hears of each follower loaded and is no part of
	// the key.
	//
	//zoo:cache deps="account:<account.ID>:followers" key="<account.Handle>,<page.Limit>,<page.MaxID>"
	GetFollowers(ctx context.Context, account *Account, page *Page, progress func(n int)) ([]*Account, error)

	//zoo:invalidate deps="account:<account.ID>"
	UpdateAccount(ctx context.Context, account *Account, columns ...string) error

	// PutStatus stores a new status and returns it.
	//
	//zoo:invalidate deps="account:<created.AccountID>:statuses,timeline:public"
	PutStatus(ctx context.Context, accountID, text string) (created *Status, err error)
}
