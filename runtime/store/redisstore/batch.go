package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/zoogen/zoogen/runtime/store"
)

var (
	_ store.Batcher      = (*Store)(nil)
	_ store.FreshBatcher = (*Store)(nil)
	_ store.BatchWriter  = (*Store)(nil)
)

// GetMany is [Store.Get] for each of keys, in one round trip: the HMGETs
// of every entry in one pipeline. Entries that do not decode are nil, and
// the error returned with the others wraps store.ErrCorrupt.
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
		e, err := s.codec.Decode([]byte(frame))
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

// GetFreshMany is [Store.GetFresh] for each of keys, in one round trip:
// the script that reads an entry and checks its versions, once per key, in
// one pipeline. A stale entry is nil, as a missing one.
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
	cmds := make([]*redis.Cmd, len(keys))
	run := func(ctx context.Context, eval func(context.Context, redis.Scripter, []string, ...any) *redis.Cmd) error {
		pipe := s.client.Pipeline()
		for i, key := range keys {
			cmds[i] = eval(ctx, pipe, []string{k.entry(key), k.versions})
		}
		_, err := pipe.Exec(ctx)
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		return nil
	}
	err := s.do(ctx, func(ctx context.Context) error {
		err := run(ctx, getFreshScript.EvalSha)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			// The script is not loaded yet (a restarted server): the
			// pipeline sends it once, with the first key's read.
			if err := getFreshScript.Load(ctx, s.client).Err(); err != nil {
				return err
			}
			err = run(ctx, getFreshScript.EvalSha)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if ok, err := s.serverChecked(ctx); !ok {
		if err == nil && again > 0 {
			return s.getFreshMany(ctx, keys, again-1)
		}
		if err != nil {
			return nil, err
		}
		return make([]*store.Entry, len(keys)), nil // as GetFresh: misses
	}
	entries := make([]*store.Entry, len(keys))
	var corrupt error
	for i, cmd := range cmds {
		frame, err := cmd.Text()
		if err != nil {
			continue // redis.Nil: missing or stale
		}
		e, err := s.codec.Decode([]byte(frame))
		if err != nil {
			corrupt = errors.Join(corrupt, err)
			continue
		}
		s.fields.Set(keys[i], newFreshRead(keys[i], k, versionFields(e.Tags)))
		entries[i] = e
	}
	return entries, corrupt
}

// SetMany is [Store.Set] for each key and entry, in one round trip: the
// script that stores an entry unless an invalidation recorded since its
// asOf makes it stale, once per entry, in one pipeline. An entry that has
// expired removes what is stored under its key.
func (s *Store) SetMany(ctx context.Context, keys []string, entries []*store.Entry) error {
	if len(keys) != len(entries) {
		return fmt.Errorf("zoo: redisstore: SetMany: %d keys, %d entries", len(keys), len(entries))
	}
	if len(keys) == 0 {
		return nil
	}
	k := s.currentKeys()
	type write struct {
		key  string
		args []any // nil: delete
	}
	writes := make([]write, len(keys))
	now := time.Now()
	for i, e := range entries {
		if e == nil {
			return errors.New("zoo: redisstore: nil entry")
		}
		writes[i].key = k.entry(keys[i])
		var expiry int64
		if !e.Expires.IsZero() {
			if !e.Expires.After(now) {
				continue
			}
			expiry = e.Expires.UnixMilli()
		}
		frame, err := s.codec.Encode(e)
		if err != nil {
			return err
		}
		tags := e.Tags
		if tags == nil {
			tags = []string{} // an array, never nil, for the script
		}
		packed, err := msgpack.Marshal(tags)
		if err != nil {
			return err
		}
		writes[i].args = []any{frame, formatVersion(e.AsOf), packed, strconv.FormatInt(expiry, 10)}
	}
	run := func(ctx context.Context) error {
		pipe := s.client.Pipeline()
		for _, w := range writes {
			if w.args == nil {
				pipe.Del(ctx, w.key)
				continue
			}
			setScript.EvalSha(ctx, pipe, []string{w.key, k.versions, k.clock}, w.args...)
		}
		_, err := pipe.Exec(ctx)
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	}
	return s.do(ctx, func(ctx context.Context) error {
		err := run(ctx)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err := setScript.Load(ctx, s.client).Err(); err != nil {
				return err
			}
			err = run(ctx)
		}
		return err
	})
}
