// Package counts is a follower counter whose cached read has no error
// result: when its load fails, it has no way to say so.
package counts

import "context"

// FollowerCounts is the raw counter store.
type FollowerCounts interface {
	//zoo:cache deps="account:<accountID>:followers"
	CountFollowers(ctx context.Context, accountID string) int

	//zoo:invalidate deps="account:<accountID>:followers"
	Follow(ctx context.Context, accountID, followerID string)
}
