package runtime

import (
	"context"
	"log/slog"
	"time"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// pruneSlack keeps nodes a little longer than the longest TTL: entries are
// stamped before their load and expire after it, so an entry may outlive
// asOf+TTL by the duration of its load.
const pruneSlack = time.Minute

func (c *Cache) pruneLoop() {
	t := time.NewTicker(c.cfg.pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.prune()
		case <-c.pruneNow:
			c.prune()
		}
	}
}

// prune drops trie nodes no live entry can need. If invalidations of
// distinct tags still leave more nodes than allowed, it raises the horizon
// further, step by step, until the trie fits: entries loaded before it
// become misses. A shared store forgets its old versions likewise.
//
// The horizon is measured on the clock's physical time, which follows a
// shared store's clock: entries' asOf come from it, and an instance whose
// own clock is ahead would otherwise expire them all.
func (c *Cache) prune() {
	now := c.clock.Time()
	limit := time.Duration(c.maxTTL.Load()) + pruneSlack
	span := limit
	c.trie.Prune(hlc.FromTime(now.Add(-span)))
	for c.trie.Len() > c.cfg.maxTagNodes && span > time.Millisecond {
		span /= 2
		c.trie.Prune(hlc.FromTime(now.Add(-span)))
	}
	if c.trie.Len() > c.cfg.maxTagNodes {
		c.trie.Prune(c.clock.Now())
	}
	if span < limit {
		c.logs.Warn("zoo: tag trie over its bound: entries loaded before the pruning horizon are treated as stale",
			slog.Int("max_tag_nodes", c.cfg.maxTagNodes), slog.Duration("horizon_age", span))
	}
	if c.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.shared.Prune(ctx, limit); err != nil {
			c.logs.Warn("zoo: pruning the store's versions failed", slog.String("error", err.Error()))
		}
	}
}
