package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/runtime/store"
)

var (
	_ store.Batcher      = (*Store)(nil)
	_ store.FreshBatcher = (*Store)(nil)
	_ store.BatchWriter  = (*Store)(nil)
)

// GetMany is [Store.Get] for each of keys, in one round trip: the HMGETs
// of every entry in one pipeline (on a cluster, one per node, in
// parallel). Entries that do not decode are nil, and the error returned
// with the others wraps store.ErrCorrupt.
func (s *Store) GetMany(ctx context.Context, keys []string) ([]*store.Entry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	k := s.currentKeys()
	cmds := make([]*redis.SliceCmd, len(keys))
	err := s.do(ctx, func(ctx context.Context) error {
		pipe := s.client.Pipeline()
		for i, key := range keys {
			cmds[i] = pipe.HMGet(ctx, k.entry(key), "v", "tv")
		}
		_, err := pipe.Exec(ctx)
		return err
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	entries := make([]*store.Entry, len(keys))
	now := time.Now()
	var corrupt error
	for i, cmd := range cmds {
		vals := cmd.Val()
		if len(vals) < 2 {
			continue
		}
		frame, ok := vals[0].(string)
		if !ok {
			continue
		}
		e, err := s.codec.Decode(bytesOf(frame))
		if err == nil && e.Expired(now) {
			continue // kept past its Expires for GetStale (Entry.Retain)
		}
		if err == nil {
			if tv, ok := vals[1].(string); ok {
				e.TagVersions, err = decodeTagVersions(tv)
			}
		}
		if err != nil {
			corrupt = errors.Join(corrupt, err)
			continue
		}
		entries[i] = e
	}
	return entries, corrupt
}

// GetFreshMany is [Store.GetFresh] for each of keys. The entries whose
// reads the store remembers (keys read strictly before, under the same
// tags) are read with the versions of their tags in one pipeline, as
// GetFresh reads one: a batch of such hits is one round trip. The others
// are read in the same pipeline without their versions, which a second
// one reads once their tags are known. A stale entry is nil, as a missing
// one.
func (s *Store) GetFreshMany(ctx context.Context, keys []string) ([]*store.Entry, error) {
	return s.getFreshMany(ctx, keys, serverChecks)
}

// getFreshMany is GetFreshMany; again is how many more reads it may make
// when one went over a connection to a server not checked yet.
func (s *Store) getFreshMany(ctx context.Context, keys []string, again int) ([]*store.Entry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	k := s.currentKeys()
	n := len(keys)
	plans := make([]*plan, n)
	for i, key := range keys {
		if p, ok := s.fields.GetIfPresent(key); ok && p.prefix == k.prefix {
			plans[i] = p
		}
	}
	frames := make([]*redis.StringCmd, n)
	versions := make([][]*redis.StringSliceCmd, n)
	err := s.do(ctx, func(ctx context.Context) error {
		pipe := s.client.Pipeline()
		for i, key := range keys {
			if p := plans[i]; p != nil {
				frames[i] = redis.NewStringCmd(ctx, "hget", p.entry, "v")
				var err error
				if versions[i], err = p.versionCmds(ctx, pipe, nil, frames[i], nil); err != nil {
					return err
				}
				continue
			}
			frames[i] = pipe.HGet(ctx, k.entry(key), "v")
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	entries := make([]*store.Entry, n)
	// planned: entries whose versions were read after them, by a plan
	// made for their tags, which the store remembers if they are fresh.
	planned := make([]bool, n)
	var later []int
	var corrupt error
	for i, c := range frames {
		frame := c.Val()
		if frame == "" {
			if plans[i] != nil {
				s.fields.Invalidate(keys[i])
			}
			continue
		}
		e, err := s.codec.Decode(bytesOf(frame))
		if err != nil {
			corrupt = errors.Join(corrupt, err)
			continue
		}
		entries[i] = e
		if plans[i] == nil || !slices.Equal(e.Tags, plans[i].tags) {
			// Read without its versions, or replaced under other
			// tags: read those now, after the entry, so that an
			// invalidation recorded before the read began is seen.
			plans[i], versions[i], planned[i] = newPlan(keys[i], k, e.Tags), nil, true
			later = append(later, i)
		}
	}
	if len(later) > 0 {
		err := s.do(ctx, func(ctx context.Context) error {
			pipe := s.client.Pipeline()
			for _, i := range later {
				var err error
				if versions[i], err = plans[i].versionCmds(ctx, pipe, nil, nil, nil); err != nil {
					return err
				}
			}
			if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if ok, err := s.batchVersionsKept(ctx, k, entries, plans, versions); !ok {
		if err == nil && again > 0 {
			return s.getFreshMany(ctx, keys, again-1)
		}
		if err != nil {
			return nil, err
		}
		return make([]*store.Entry, n), nil // as GetFresh: misses
	}
	now := time.Now()
	for i, e := range entries {
		if e == nil {
			continue
		}
		if !fresh(formatVersion(e.AsOf), versions[i]) {
			entries[i] = nil
			continue
		}
		if planned[i] {
			s.fields.Set(keys[i], plans[i])
		}
		if e.Expired(now) {
			entries[i] = nil // kept past its Expires for GetStale (Entry.Retain)
		}
	}
	return entries, corrupt
}

// batchVersionsKept is versionsKept for the versions GetFreshMany read for
// entries: the shards that lost their versions start a new epoch, at once,
// and the server is checked once for the whole batch.
func (s *Store) batchVersionsKept(ctx context.Context, k keys, entries []*store.Entry, plans []*plan, versions [][]*redis.StringSliceCmd) (bool, error) {
	var lost []int
	for i, e := range entries {
		if e != nil {
			lost = append(lost, lostShards(plans[i], versions[i])...)
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		lost = slices.Compact(lost)
		return false, s.do(ctx, func(ctx context.Context) error { return s.revive(ctx, k, lost) })
	}
	return s.serverChecked(ctx)
}

// SetMany is [Store.Set] for each key and entry, in two round trips
// whatever their number: the versions of every entry's tags, read in one
// pipeline (with the deletes of the entries whose retention has passed),
// then the set script of every entry no invalidation already makes stale,
// in another. An entry that has expired removes what is stored under its
// key.
func (s *Store) SetMany(ctx context.Context, keys []string, entries []*store.Entry) error {
	if len(keys) != len(entries) {
		return fmt.Errorf("zoo: redisstore: SetMany: %d keys, %d entries", len(keys), len(entries))
	}
	if len(keys) == 0 {
		return nil
	}
	k := s.currentKeys()
	now := time.Now()
	writes := make([]*pending, len(keys))
	var deletes []string
	for i, e := range entries {
		if e == nil {
			return errors.New("zoo: redisstore: nil entry")
		}
		w, err := s.prepare(keys[i], k, e, now)
		if err != nil {
			return err
		}
		if w == nil {
			deletes = append(deletes, k.entry(keys[i]))
			continue
		}
		writes[i] = w
	}
	versions := make([][]*redis.StringSliceCmd, len(keys))
	err := s.do(ctx, func(ctx context.Context) error {
		pipe := s.client.Pipeline()
		for _, key := range deletes {
			pipe.Del(ctx, key)
		}
		for i, w := range writes {
			if w == nil {
				continue
			}
			var err error
			if versions[i], err = w.plan.versionCmds(ctx, pipe, nil, nil, nil); err != nil {
				return err
			}
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	var calls []*call
	var lost []int
	for i, w := range writes {
		if w == nil {
			continue
		}
		c, l, err := w.call(versions[i])
		if err != nil {
			return err
		}
		lost = append(lost, l...)
		if c != nil {
			calls = append(calls, c)
		}
	}
	if len(calls) > 0 {
		err := s.do(ctx, func(ctx context.Context) error {
			_, err := execScripts(ctx, s.client, calls, 0, 0)
			return err
		})
		if err != nil {
			return err
		}
	}
	if len(lost) > 0 {
		// Shards that lost their versions: a new epoch there, whose
		// horizon is later than the asOf of the entries not stored.
		slices.Sort(lost)
		lost = slices.Compact(lost)
		return s.do(ctx, func(ctx context.Context) error { return s.revive(ctx, k, lost) })
	}
	return nil
}
