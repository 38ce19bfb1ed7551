package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

// Attach binds the store to namespace ns and starts the subscription that
// delivers invalidations to fn.
func (s *Store) Attach(ns string, fn func(store.Event)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	if s.stop != nil {
		return errors.New("zoo: redisstore: attached twice; use one store per cache")
	}
	s.ns = ns
	k := newKeys(ns)
	s.keys.Store(&k)
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.watcher.Go(func() { s.watch(ctx, k, fn) })
	return nil
}

// Limits on what an invalidation message may carry: messages come from a
// server that others can write to, and are checked before they are trusted.
const (
	maxMessageTags = 10_000
	maxTagLen      = 4 << 10
)

// pingEvery is how long the subscription may stay silent before it is
// pinged, and how long the PING may go unanswered before the subscription
// is ended: a dead or silently partitioned link is noticed within twice
// this.
const pingEvery = time.Second

// watch keeps a subscription to the invalidation channel, delivering what
// arrives, until ctx ends. When the subscription breaks it reports
// EventDown; once resubscribed it reads every recorded version, delivers
// them, and reports EventUp.
func (s *Store) watch(ctx context.Context, k keys, fn func(store.Event)) {
	fn(store.Event{Kind: store.EventDown})
	s.checkEvictionPolicy(ctx)
	up := false
	backoff := minBackoff
	for ctx.Err() == nil {
		sub := s.client.Subscribe(ctx, k.channel)
		// Close closes the subscription too, which unblocks a receive
		// that a cancelled context cannot.
		stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
		err := s.receive(ctx, sub, k, fn, &up)
		stop()
		_ = sub.Close()
		if ctx.Err() != nil {
			return
		}
		if up {
			// The subscription was healthy: the loss is a new one, so the
			// first retry comes after minBackoff, not after what earlier
			// losses grew the backoff to.
			backoff = minBackoff
			up = false
			fn(store.Event{Kind: store.EventDown})
			s.logger.Warn("zoo: redisstore: invalidation subscription lost; validating in Redis until it is back",
				slog.String("error", errString(err)))
		}
		if s.onBackoff != nil {
			s.onBackoff(backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// checkEvictionPolicy warns, loudly, when Redis may evict keys without a
// TTL: the tag versions and the clock have none, and losing them forgets
// invalidations (a new epoch then starts, at the cost of the whole cache).
// Servers that refuse CONFIG GET (managed Redis, ACLs) are not checked.
func (s *Store) checkEvictionPolicy(ctx context.Context) {
	var policy map[string]string
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		policy, err = s.client.ConfigGet(ctx, "maxmemory-policy").Result()
		return err
	})
	if err != nil {
		return
	}
	if p := policy["maxmemory-policy"]; strings.HasPrefix(p, "allkeys-") {
		s.logger.Error("zoo: redisstore: Redis may evict the tag versions, which have no TTL; each eviction of them costs the whole cache (a new epoch). Use a volatile-* policy or noeviction",
			slog.String("maxmemory-policy", p))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// receive runs one subscription until it fails. Every subscription
// confirmation (the first, and those go-redis makes when it reconnects on
// its own) is followed by a full read of the versions before EventUp.
func (s *Store) receive(ctx context.Context, sub *redis.PubSub, k keys, fn func(store.Event), up *bool) error {
	// pinged is set when a PING has been written and nothing has come back
	// since: a second silent pingEvery means the link no longer forwards
	// (a partition that resets nothing), and the subscription is ended.
	pinged := false
	for ctx.Err() == nil {
		msg, err := sub.ReceiveTimeout(ctx, pingEvery)
		if err != nil {
			var netErr interface{ Timeout() bool }
			if errors.As(err, &netErr) && netErr.Timeout() {
				if pinged {
					return fmt.Errorf("redisstore: subscription: no reply to PING within %v", pingEvery)
				}
				if err := sub.Ping(ctx); err != nil {
					return err
				}
				pinged = true
				continue
			}
			return err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if *up {
				// go-redis reconnected by itself: what was published
				// meanwhile is lost.
				fn(store.Event{Kind: store.EventDown})
			}
			// Every shard is checked first: a new epoch starts in those
			// whose server lost state (a restart from an old snapshot, a
			// promoted replica), which the versions read next include.
			s.hookNodes(ctx)
			err := s.do(ctx, func(ctx context.Context) error {
				_, err := s.reviveSome(ctx, k, allShards, true)
				return err
			})
			if err != nil {
				return err
			}
			now, err := s.Now(ctx)
			if err != nil {
				return err
			}
			if err := s.resync(ctx, k, fn); err != nil {
				return err
			}
			*up = true
			fn(store.Event{Kind: store.EventUp, Version: now})
		case *redis.Message:
			// A message is a hint that anyone who may PUBLISH can send:
			// its version is checked against what Redis recorded.
			ev, ok := s.decodeMessage(m.Payload)
			if ok && len(ev.Tags) == 0 {
				// "Everything changed": a new epoch. The horizon
				// recorded in Redis is what is applied.
				ev.Version, ok = s.horizon(ctx, k)
			}
			if ok {
				fn(ev)
			}
		case *redis.Pong:
		}
	}
	return ctx.Err()
}

// horizon reads the namespace's horizon, the latest of its shards':
// entries loaded before it are stale. It reports false when Redis does not
// answer or has none.
func (s *Store) horizon(ctx context.Context, k keys) (hlc.Timestamp, bool) {
	var raws []string
	err := s.do(ctx, func(ctx context.Context) error {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.StringCmd, len(k.shards))
		for i, shard := range k.shards {
			cmds[i] = pipe.HGet(ctx, shard, "h")
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for _, c := range cmds {
			if c.Err() == nil {
				raws = append(raws, c.Val())
			}
		}
		return nil
	})
	if err != nil || len(raws) == 0 {
		return 0, false
	}
	var h hlc.Timestamp
	for _, raw := range raws {
		v, err := parseVersion(raw)
		if err != nil {
			s.logger.Warn("zoo: redisstore: ignoring a malformed horizon", slog.String("horizon", raw))
			return 0, false
		}
		h = max(h, v)
	}
	return h, true
}

// resync delivers every version recorded in Redis, shard by shard.
func (s *Store) resync(ctx context.Context, k keys, fn func(store.Event)) error {
	return s.scanShards(ctx, k, "*", func(fields []string) bool {
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i] == "s" {
				continue // the run_id of the server that holds the shard
			}
			v, err := parseVersion(fields[i+1])
			if err != nil {
				s.logger.Warn("zoo: redisstore: ignoring a malformed version", slog.String("field", fields[i]))
				continue
			}
			switch f := fields[i]; {
			case f == "h":
				// The horizon: entries loaded before it are stale. The
				// cache learns it as an invalidation of everything.
				fn(store.Event{Kind: store.EventInvalidate, Version: v})
			case len(f) > 2 && f[:2] == "t:":
				fn(store.Event{Kind: store.EventInvalidate, Tags: []string{f[2:]}, Version: v})
			}
		}
		return true
	})
}

// decodeMessage reads an invalidation message: a MessagePack array of the
// version and the tags. Anything else is logged and dropped.
func (s *Store) decodeMessage(payload string) (store.Event, bool) {
	var parts []string
	if err := codec.Raw(payload).Decode(&parts); err != nil || len(parts) < 1 || len(parts) > maxMessageTags+1 {
		s.logger.Warn("zoo: redisstore: dropping a malformed invalidation message")
		return store.Event{}, false
	}
	v, err := parseVersion(parts[0])
	if err != nil {
		s.logger.Warn("zoo: redisstore: dropping an invalidation message with a malformed version")
		return store.Event{}, false
	}
	for _, t := range parts[1:] {
		if len(t) > maxTagLen {
			s.logger.Warn("zoo: redisstore: dropping an invalidation message with an oversized tag")
			return store.Event{}, false
		}
	}
	return store.Event{Kind: store.EventInvalidate, Tags: parts[1:], Version: v}, true
}
