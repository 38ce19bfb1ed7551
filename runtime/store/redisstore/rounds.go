package redisstore

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/runtime/store"
)

// Concurrent strict reads of one key share round trips, as a group commit
// does, under one rule: a read uses only a round trip sent after it
// arrived. A round trip that was already on its way when a read arrived
// may have been answered before an invalidation that completed before the
// read began, and is never reused. So each key has at most one round trip
// in flight: a read that arrives while none is goes out at once, on its own
// (an uncontended read costs nothing more); the reads that arrive while one
// is in flight gather for the next, which is sent once the one in flight
// returns and serves every read that gathered before it was sent. Each read
// gets what it would have got from a round trip of its own sent then:
// Redis runs the next round trip's commands after every invalidation
// acknowledged before it was sent. Strict mode's promise holds: a read
// that begins after an Invalidate returned never serves what it
// invalidated.
//
// A gathered round trip runs on a goroutine of the store's, under a context
// that no reader's cancellation ends (the store's timeout bounds it): a
// reader whose context ends stops waiting at once, and the others still
// get their answer.

// roundShards is the number of locks the pending round trips are spread
// over, so that reads of different keys seldom wait on one another.
const roundShards = 64

// rounds are the round trips of one kind of strict read (Check or
// GetFresh) that concurrent reads of a key share.
type rounds struct {
	seed   maphash.Seed
	shards [roundShards]roundShard
}

func newRounds() *rounds { return &rounds{seed: maphash.MakeSeed()} }

type roundShard struct {
	mu sync.Mutex
	// pending holds, by the hash of a key, the key's next round trip: a
	// key is absent while it has no round trip in flight, and present with
	// nil while one is in flight that no read waits to follow.
	pending map[uint64]*round
	_       [48]byte // a cache line of its own (with mu and pending)
}

// round is one round trip that reads of one key gathered for.
type round struct {
	key string
	// plan is the reads of a Check round trip: a copy whose tags it
	// does not check cannot share it. (nil for GetFresh.)
	plan *plan
	ctx  context.Context // detached from every reader's cancellation
	done chan struct{}   // closed once the results are in

	// The results, written before done is closed.
	asOf     string                  // Check: the entry's asOf in Redis ("" for none)
	versions []*redis.StringSliceCmd // Check: the versions read
	entry    *store.Entry            // GetFresh: the entry, nil for a miss
	err      error
}

func (r *rounds) shard(key string) (*roundShard, uint64) {
	h := maphash.String(r.seed, key)
	return &r.shards[h%roundShards], h
}

// join reports whether a read of key may go out at once, on its own (solo),
// in which case the caller must call leave once it has its answer.
// Otherwise it returns the round trip the read waits for: the key's next,
// to which it adds itself, or nil when the next checks other copies than
// p (the read then goes out on its own, apart from the key's rounds).
func (r *rounds) join(ctx context.Context, key string, p *plan) (next *round, solo bool) {
	sh, h := r.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	next, busy := sh.pending[h]
	switch {
	case !busy:
		if sh.pending == nil {
			sh.pending = map[uint64]*round{}
		}
		sh.pending[h] = nil
		return nil, true
	case next == nil:
		next = &round{key: strings.Clone(key), plan: p, ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		sh.pending[h] = next
		return next, false
	case next.key != key || next.plan != p:
		// Another key of the same hash, or a copy under other tags.
		return nil, false
	default:
		return next, false
	}
}

// leave ends the round trip in flight for key and returns the next one,
// which the caller sends (nil if no read waits for one).
func (r *rounds) leave(key string) *round {
	sh, h := r.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	next := sh.pending[h]
	if next == nil {
		delete(sh.pending, h)
		return nil
	}
	sh.pending[h] = nil // in flight from now on: later reads gather anew
	return next
}

// wait returns once next has its results, or with an error once ctx
// ends, whichever comes first.
func (next *round) wait(ctx context.Context) error {
	select {
	case <-next.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("zoo: redisstore: %w", context.Cause(ctx))
	}
}

// serve sends the round trips that gathered behind one that just
// returned, next the first of them, one after the other, each once the
// previous one returned, with send. It runs them on a goroutine of the
// store's, which Close waits for; after Close, here (each fails at once).
func (s *Store) serve(r *rounds, next *round, send func(*round)) {
	if next == nil {
		return
	}
	s.mu.Lock()
	closed := s.closed.Load()
	if !closed {
		s.serving.Add(1)
	}
	s.mu.Unlock()
	run := func() {
		for ; next != nil; next = r.leave(next.key) {
			send(next)
			close(next.done)
		}
	}
	if closed {
		run()
		return
	}
	go func() {
		defer s.serving.Done()
		run()
	}()
}
