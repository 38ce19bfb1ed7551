package runtime

import (
	"context"
	"fmt"
)

// AfterCommit runs fn, a unit of work that writes inside a database
// transaction and commits it before returning nil, and makes the
// invalidations made through c inside it hold after the commit.
//
// A write through a transaction invalidates before its commit: a reader in
// between reads the row as it was before the commit, with a timestamp taken
// after the invalidation, and would cache that row as fresh until its TTL.
// AfterCommit records every tag invalidated through c while fn runs (by
// generated write methods and by [Cache.Invalidate], in ctx or a context
// derived from it). The invalidations still apply at once, so that readers
// are not served what was cached before the write; when fn returns nil,
// every recorded tag is invalidated once more, deduplicated, before
// AfterCommit returns, which expires whatever a reader loaded before the
// commit. When fn returns an error (the transaction rolled back) or panics,
// nothing is repeated: the early invalidations cost only misses.
//
//	err := cache.AfterCommit(ctx, func(ctx context.Context) error {
//		tx, err := db.BeginTx(ctx, nil)
//		if err != nil {
//			return err
//		}
//		defer tx.Rollback()
//		repo := NewCachedProductRepo(NewSQLProductRepo(tx), cache)
//		if err := repo.UpdateProduct(ctx, p); err != nil { // invalidates now
//			return err
//		}
//		return tx.Commit() // and again when fn has returned
//	})
//
// An AfterCommit inside fn (with its ctx) joins the outer one: its tags are
// invalidated again once, when the outer fn has returned nil. AfterCommit
// returns fn's error as it is; if fn succeeded and the repeated
// invalidation failed, it returns that error, wrapped. The repetition is not
// cancelled with ctx: the commit has happened.
//
// AfterCommit is safe for concurrent use, and fn may invalidate from
// goroutines it starts, until it returns.
func (c *Cache) AfterCommit(ctx context.Context, fn func(ctx context.Context) error) error {
	if unitOf(ctx, c) != nil {
		return fn(ctx)
	}
	u := &unit{c: c}
	u.outer, _ = ctx.Value(unitKey{}).(*unit)
	if err := fn(context.WithValue(ctx, unitKey{}, u)); err != nil {
		return err
	}
	if err := c.invalidate(context.WithoutCancel(ctx), nil, u.seal()); err != nil {
		return fmt.Errorf("zoo: repeating the invalidations after the commit: %w", err)
	}
	return nil
}

type unitKey struct{}

// unit records the tags invalidated through one cache inside an
// AfterCommit; it is sealed when fn has returned.
type unit struct {
	c     *Cache
	outer *unit // the unit of another cache this one runs inside, or nil
	tagLog
}

// unitOf returns the unit of c that ctx runs inside, or nil.
func unitOf(ctx context.Context, c *Cache) *unit {
	u, _ := ctx.Value(unitKey{}).(*unit)
	for u != nil && u.c != c {
		u = u.outer
	}
	return u
}
