package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
)

// plan is how a strict read checks an entry of one key with given tags:
// the commands that read its asOf and the versions of its tags' paths,
// shard by shard, built once with their arguments boxed, for the keys of
// one namespace. A plan is only read once built, by any number of reads
// at once.
type plan struct {
	tags   []string
	prefix string // the namespace's key prefix (keys.prefix)
	entry  string
	hget   []any   // HGET <entry> a: the entry's asOf
	hgetV  []any   // HGET <entry> v: the entry
	hmget  [][]any // HMGET <shard> h <fields...>, one per shard read
	shards []int   // the shard each hmget reads
}

func newPlan(key string, k keys, tags []string) *plan {
	reads := readPlan(key, tags)
	p := &plan{tags: tags, prefix: k.prefix, entry: k.entry(key),
		hmget: make([][]any, len(reads)), shards: make([]int, len(reads))}
	p.hget = []any{"hget", p.entry, "a"}
	p.hgetV = []any{"hget", p.entry, "v"}
	for i, r := range reads {
		args := make([]any, 0, 2+len(r.fields))
		args = append(args, "hmget", k.shards[r.shard])
		for _, f := range r.fields {
			args = append(args, f)
		}
		p.hmget[i], p.shards[i] = args, r.shard
	}
	return p
}

// versionCmds returns p's version reads, appended to cmds, and queues
// them on pipe after first, from queue (which it may use as scratch: a
// pooledPipe's).
func (p *plan) versionCmds(ctx context.Context, pipe redis.Pipeliner, queue []redis.Cmder, first redis.Cmder, cmds []*redis.StringSliceCmd) ([]*redis.StringSliceCmd, error) {
	// One BatchProcess: Process would allocate a slice per command.
	all := queue[:0]
	if first != nil {
		all = append(all, first)
	}
	for _, args := range p.hmget {
		c := redis.NewStringSliceCmd(ctx, args...)
		cmds = append(cmds, c)
		all = append(all, c)
	}
	return cmds, pipe.BatchProcess(ctx, all...)
}

// fresh reports whether none of the versions read is later than asOf. A
// field the shard does not hold reads as "", which no version is.
func fresh(asOf string, versions []*redis.StringSliceCmd) bool {
	for _, c := range versions {
		for _, v := range c.Val() {
			if v > asOf {
				return false
			}
		}
	}
	return true
}

// lostShards returns the shards whose read found no horizon (an empty
// string: HMGET's nil, as a StringSliceCmd reads it; a horizon is never
// empty).
func lostShards(p *plan, versions []*redis.StringSliceCmd) []int {
	var lost []int
	for i, c := range versions {
		if vs := c.Val(); len(vs) > 0 && vs[0] == "" {
			lost = append(lost, p.shards[i])
		}
	}
	return lost
}

// readVersions reads the versions p checks, from every shard at once: one
// round trip, pipelined to each node in parallel on a cluster.
func (s *Store) readVersions(ctx context.Context, p *plan) ([]*redis.StringSliceCmd, error) {
	var versions []*redis.StringSliceCmd
	err := s.do(ctx, func(ctx context.Context) error {
		pipe := s.pipeline()
		defer s.putPipeline(pipe)
		cmds, err := p.versionCmds(ctx, pipe, pipe.queue[:], nil, nil)
		if err != nil {
			return err
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		versions = cmds
		return nil
	})
	return versions, err
}

// GetFresh returns the entry under key if no invalidation recorded in Redis
// makes it stale, checked in the same round trip as the read (strict
// consistency).
//
// The versions to check depend on the entry's tags, and live in shards on
// other slots than the entry. Once a key has been read, the store
// remembers its reads and pipelines the entry's and its versions' in one
// round trip; the first time, or when the entry's tags have changed, the
// versions are read after the entry.
//
// Concurrent reads of one key share round trips sent after they arrived
// (see rounds.go).
func (s *Store) GetFresh(ctx context.Context, key string) (*store.Entry, error) {
	e, err := s.sharedGetFresh(ctx, key)
	if e != nil && e.Expired(time.Now()) {
		// Kept past its Expires for GetStale (Entry.Retain).
		return nil, nil
	}
	return e, err
}

// GetStale is GetFresh for an entry whose Expires may have passed: Redis
// keeps an entry until its Retain (its key's PEXPIREAT), and GetStale
// returns it until then if no invalidation recorded in Redis makes it
// stale (stale-if-error).
func (s *Store) GetStale(ctx context.Context, key string) (*store.Entry, error) {
	return s.sharedGetFresh(ctx, key)
}

// sharedGetFresh is getFresh in a round trip of its own when no other read
// of key is in flight, else in the next one, which the reads that arrive
// meanwhile share.
func (s *Store) sharedGetFresh(ctx context.Context, key string) (*store.Entry, error) {
	next, solo := s.reads.join(ctx, key, nil)
	switch {
	case solo:
		e, err := s.getFresh(ctx, key, serverChecks)
		if next := s.reads.leave(key); next != nil {
			s.serve(s.reads, next, s.sendGetFresh)
		}
		return e, err
	case next == nil:
		return s.getFresh(ctx, key, serverChecks)
	}
	if err := next.wait(ctx); err != nil {
		return nil, err
	}
	if next.entry == nil {
		return nil, next.err
	}
	// An entry of its own for each reader. They share its value's bytes
	// and its tags, which no reader modifies.
	e := next.entry
	return &store.Entry{Value: e.Value, Tags: e.Tags, AsOf: e.AsOf, Expires: e.Expires, Retain: e.Retain, TagVersions: e.TagVersions}, nil
}

// sendGetFresh sends a GetFresh round trip that reads gathered for.
func (s *Store) sendGetFresh(r *round) {
	r.entry, r.err = s.getFresh(r.ctx, r.key, serverChecks)
}

// getFresh is GetFresh without the check of Expires; again is how many
// more reads it may make when one went over a connection to a server not
// checked yet.
func (s *Store) getFresh(ctx context.Context, key string, again int) (*store.Entry, error) {
	k := s.currentKeys()
	p, ok := s.fields.GetIfPresent(key)
	if !ok || p.prefix != k.prefix {
		var frame string
		err := s.do(ctx, func(ctx context.Context) error {
			var err error
			frame, err = s.client.HGet(ctx, k.entry(key), "v").Result()
			return err
		})
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		e, err := s.codec.Decode(bytesOf(frame))
		if err != nil {
			return nil, err
		}
		return s.checkRead(ctx, key, k, e, again)
	}
	var frame string
	// Most entries read one shard: their commands fit here.
	var cmds [2]*redis.StringSliceCmd
	versions := cmds[:0]
	err := s.do(ctx, func(ctx context.Context) error {
		pipe := s.pipeline()
		defer s.putPipeline(pipe)
		ecmd := redis.NewStringCmd(ctx, p.hgetV...)
		vcmds, err := p.versionCmds(ctx, pipe, pipe.queue[:], ecmd, versions[:0])
		if err != nil {
			return err
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		frame, versions = ecmd.Val(), vcmds
		return nil
	})
	if err != nil {
		return nil, err
	}
	if frame == "" {
		s.fields.Invalidate(key)
		return nil, nil
	}
	if ok, err := s.versionsKept(ctx, k, p, versions); !ok {
		if err == nil && again > 0 {
			return s.getFresh(ctx, key, again-1)
		}
		return nil, err
	}
	e, err := s.codec.Decode(bytesOf(frame))
	if err != nil {
		return nil, err
	}
	if !slices.Equal(e.Tags, p.tags) {
		// The entry was replaced under other tags: check those.
		return s.checkRead(ctx, key, k, e, again)
	}
	if !fresh(formatVersion(e.AsOf), versions) {
		return nil, nil
	}
	return e, nil
}

// checkRead checks an entry GetFresh read without its versions: it reads
// them now, after the entry, so that an invalidation recorded before the
// read began is seen.
func (s *Store) checkRead(ctx context.Context, key string, k keys, e *store.Entry, again int) (*store.Entry, error) {
	p := newPlan(key, k, e.Tags)
	versions, err := s.readVersions(ctx, p)
	if err != nil {
		return nil, err
	}
	if ok, err := s.versionsKept(ctx, k, p, versions); !ok {
		if err == nil && again > 0 {
			return s.getFresh(ctx, key, again-1)
		}
		return nil, err
	}
	if !fresh(formatVersion(e.AsOf), versions) {
		return nil, nil
	}
	s.fields.Set(key, p)
	return e, nil
}

// Check reports whether Redis still holds under key the entry e is a copy
// of (the same asOf) and no invalidation recorded in Redis makes it stale:
// pipelined reads of the entry's asOf and of the versions of the paths of
// e's tags (one per shard they live in, usually one), in one round trip,
// without the value (strict reads of a value kept in the cache's memory
// tier).
//
// Concurrent Checks of copies of one key's entry share round trips sent
// after they arrived (see rounds.go): each compares what was read with its
// own copy.
func (s *Store) Check(ctx context.Context, key string, e *store.Entry) (bool, error) {
	k := s.currentKeys()
	p := s.checkPlan(key, k, e.Tags)
	var asOf string
	var versions []*redis.StringSliceCmd
	var err error
	// Most entries read one shard: their commands fit here.
	var cmds [2]*redis.StringSliceCmd
	switch next, solo := s.checks.join(ctx, key, p); {
	case solo:
		asOf, versions, err = s.readCheck(ctx, k, p, cmds[:0])
		if next := s.checks.leave(key); next != nil {
			s.serve(s.checks, next, s.sendCheck)
		}
	case next == nil:
		asOf, versions, err = s.readCheck(ctx, k, p, cmds[:0])
	default:
		if err := next.wait(ctx); err != nil {
			return false, err
		}
		asOf, versions, err = next.asOf, next.versions, next.err
	}
	if err != nil {
		return false, err
	}
	var buf [versionLen]byte
	if asOf != string(appendVersion(buf[:0], e.AsOf)) {
		return false, nil
	}
	return fresh(asOf, versions), nil
}

// sendCheck sends a Check round trip that reads gathered for.
func (s *Store) sendCheck(r *round) {
	r.asOf, r.versions, r.err = s.readCheck(r.ctx, s.currentKeys(), r.plan, nil)
}

// readCheck reads what Check compares a copy with: the asOf Redis holds
// for the entry ("" for none) and the versions p reads, appended to
// versions. It reads again when the versions cannot be trusted
// (versionsKept), at most serverChecks more times, then reports no asOf.
func (s *Store) readCheck(ctx context.Context, k keys, p *plan, versions []*redis.StringSliceCmd) (string, []*redis.StringSliceCmd, error) {
	for again := serverChecks; ; again-- {
		var asOf string
		err := s.do(ctx, func(ctx context.Context) error {
			pipe := s.pipeline()
			defer s.putPipeline(pipe)
			acmd := redis.NewStringCmd(ctx, p.hget...)
			var err error
			if versions, err = p.versionCmds(ctx, pipe, pipe.queue[:], acmd, versions[:0]); err != nil {
				return err
			}
			if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			asOf = acmd.Val()
			return nil
		})
		if err != nil {
			return "", nil, err
		}
		ok, err := s.versionsKept(ctx, k, p, versions)
		switch {
		case ok:
			return asOf, versions, nil
		case err != nil || again == 0:
			return "", nil, err
		}
	}
}

// checkPlan returns the plan that checks a copy of key's entry whose Tags
// are tags (by identity: a copy is never modified), building it once per
// copy and namespace.
func (s *Store) checkPlan(key string, k keys, tags []string) *plan {
	if p, ok := s.checked.GetIfPresent(key); ok && p.prefix == k.prefix && len(p.tags) == len(tags) &&
		(len(tags) == 0 || &p.tags[0] == &tags[0]) {
		return p
	}
	p := newPlan(key, k, tags)
	s.checked.Set(key, p)
	return p
}

// Set stores e under key with a native TTL (its retention: Retain when
// later than Expires), unless an invalidation recorded since e.AsOf
// already makes it stale. The versions of e's tags live on other slots
// than the entry: they are read first (in parallel from their shards),
// then the entry is written. An invalidation that lands between the two
// leaves an entry that every reader judges stale (its asOf, taken before
// the load, precedes the invalidation's version): the check at Set saves
// space and readers' round trips, not consistency.
func (s *Store) Set(ctx context.Context, key string, e *store.Entry) error {
	if e == nil {
		return errors.New("zoo: redisstore: nil entry")
	}
	k := s.currentKeys()
	w, err := s.prepare(key, k, e, time.Now())
	if err != nil {
		return err
	}
	if w == nil {
		return s.Delete(ctx, key)
	}
	versions, err := s.readVersions(ctx, w.plan)
	if err != nil {
		return err
	}
	c, lost, err := w.call(versions)
	if err != nil {
		return err
	}
	if len(lost) > 0 {
		// Shards that lost their versions: a new epoch there, whose
		// horizon is later than asOf. Nothing to store.
		return s.do(ctx, func(ctx context.Context) error { return s.revive(ctx, k, lost) })
	}
	if c == nil {
		return nil // stale already
	}
	return s.do(ctx, func(ctx context.Context) error {
		return c.script.Run(ctx, s.client, c.keys, c.args...).Err()
	})
}

// pending is an entry Set or SetMany is about to store: encoded, with the
// plan of the versions its tags have, which are read before it is written.
type pending struct {
	plan   *plan
	frame  []byte
	asOf   string
	tags   []byte // MessagePack array of the entry's tags
	expiry int64  // the key's PEXPIREAT (Unix ms; 0 for none): the entry's retention
}

// prepare encodes e for storing under key; nil (and no error) for an
// entry whose retention has passed at now, which removes what is stored
// under key instead.
func (s *Store) prepare(key string, k keys, e *store.Entry, now time.Time) (*pending, error) {
	var expiry int64
	if !e.Expires.IsZero() {
		if !e.KeepUntil().After(now) {
			return nil, nil
		}
		expiry = e.KeepUntil().UnixMilli()
	}
	frame, err := s.codec.Encode(e)
	if err != nil {
		return nil, err
	}
	tags := e.Tags
	if tags == nil {
		tags = []string{} // an array, never nil, for the readers
	}
	packed, err := msgpack.Marshal(tags)
	if err != nil {
		return nil, err
	}
	return &pending{plan: newPlan(key, k, tags), frame: frame, asOf: formatVersion(e.AsOf), tags: packed, expiry: expiry}, nil
}

// call returns the set script's call that stores w, given the versions of
// its plan as read: nil if one of them makes it stale, or if shards lost
// their versions (returned: they need a new epoch, whose horizon is later
// than w's asOf).
func (w *pending) call(versions []*redis.StringSliceCmd) (*call, []int, error) {
	if lost := lostShards(w.plan, versions); len(lost) > 0 {
		return nil, lost, nil
	}
	if !fresh(w.asOf, versions) {
		return nil, nil, nil
	}
	tv := []string{}
	for i, c := range versions {
		vs := c.Val()
		for j := 1; j < len(vs); j++ {
			if v := vs[j]; v != "" {
				tv = append(tv, w.plan.hmget[i][2+j].(string)[2:], v)
			}
		}
	}
	packedTV, err := msgpack.Marshal(tv)
	if err != nil {
		return nil, nil, err
	}
	return &call{script: setScript, keys: []string{w.plan.entry},
		args: []any{w.frame, w.asOf, w.tags, packedTV, strconv.FormatInt(w.expiry, 10)}}, nil, nil
}

// Now returns a version no earlier than any Redis has issued. When the
// clock starts again (a new namespace, or its server lost state), every
// shard is checked first, so that a new shard's horizon precedes what Now
// returns.
func (s *Store) Now(ctx context.Context) (hlc.Timestamp, error) {
	k := s.currentKeys()
	var v string
	err := s.do(ctx, func(ctx context.Context) error {
		// A clock that starts again is written only once the shards are
		// checked: a caller that read it first would get a version
		// behind the horizons their check raises.
		var latest string
		for _, create := range []string{"0", "1"} {
			res, err := nowScript.Run(ctx, s.client, []string{k.clock}, create, latest).Slice()
			if err != nil {
				return err
			}
			if len(res) != 2 {
				return fmt.Errorf("zoo: redisstore: now: %d results", len(res))
			}
			v, _ = res[0].(string)
			if n, _ := res[1].(int64); n == 0 || create == "1" {
				return nil
			}
			if latest, err = s.reviveSome(ctx, k, allShards, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return parseVersion(v)
}

// invalidateChunk records the invalidation of tags, at most maxMessageTags
// of them, publishing one message: the clock issues its version, then
// every shard holding one of the tags records it, in parallel.
func (s *Store) invalidateChunk(ctx context.Context, tags []string, min hlc.Timestamp) (hlc.Timestamp, error) {
	k := s.currentKeys()
	var v string
	err := s.attempt(ctx, func(ctx context.Context) error {
		var err error
		var restarted bool
		if v, restarted, err = s.issue(ctx, k, formatVersion(min), true, false); err != nil {
			if isServerError(err) || ctx.Err() != nil {
				return err
			}
			// The clock's node is down (on a cluster, the shards' may
			// not be): issue the version where the tags live, lest
			// the invalidation wait for a failover while the readers
			// of those shards serve what it invalidates.
			if v, err = s.fallback(ctx, k, tags, formatVersion(min)); err != nil {
				return err
			}
		}
		if restarted {
			// The clock's server lost state: check every shard, then
			// start the clock again past their horizons and issue the
			// version from it.
			latest, err := s.reviveSome(ctx, k, allShards, false)
			if err != nil {
				return err
			}
			if v, _, err = s.issue(ctx, k, max(latest, formatVersion(min)), true, true); err != nil {
				return err
			}
		}
		return s.record(ctx, k, v, tags)
	})
	if isOutOfMemory(err) {
		// Not (all) recorded. The caller replays the invalidation;
		// meanwhile the other instances are told, which Redis still allows.
		if herr := s.hint(ctx, k, tags, min); herr != nil {
			s.logger.Warn("zoo: redisstore: could not tell other instances of an invalidation Redis refused",
				slog.String("error", herr.Error()))
		}
		return 0, fmt.Errorf("zoo: redisstore: %w: invalidation not recorded: %w", store.ErrUnavailable, err)
	}
	if err != nil {
		return 0, err
	}
	return parseVersion(v)
}

// issue runs issueScript: a version later than every one issued and than
// min, and whether the clock started again. A clock that starts again
// issues nothing (v is not a version to use) unless create: the caller
// checks every shard first. With wait, and WithReplicas, it returns once
// the replicas have the clock.
func (s *Store) issue(ctx context.Context, k keys, min string, wait, create bool) (v string, restarted bool, err error) {
	flag := "0"
	if create {
		flag = "1"
	}
	c := &call{script: issueScript, keys: []string{k.clock}, args: []any{min, flag}}
	if err := s.evalAll(ctx, []*call{c}, wait); err != nil {
		return "", false, err
	}
	res, err := c.cmd.Slice()
	if err != nil || len(res) != 2 {
		return "", false, fmt.Errorf("zoo: redisstore: issue: %v %w", res, err)
	}
	v, _ = res[0].(string)
	return v, res[1] == int64(1), nil
}

// clockMargin bounds how far the servers' clocks may disagree: a version
// issued without the clock (fallback) is this much ahead of its server's
// time, which costs the tags it invalidates misses for as long, never a
// stale read.
const clockMargin = time.Second

// fallback issues a version on the node of the shard of the first tag
// (fallbackScript), for an invalidation whose clock does not answer.
func (s *Store) fallback(ctx context.Context, k keys, tags []string, min string) (string, error) {
	shard := 0
	if len(tags) > 0 {
		if sh, ok := shardOf(tags[0]); ok {
			shard = sh
		}
	}
	return fallbackScript.Run(ctx, s.client, []string{k.shards[shard]}, min, clockMargin.Milliseconds()).Text()
}

// record raises the versions of tags to v in their shards (a root's in
// every shard), one script per shard, and publishes the invalidation from
// the first.
func (s *Store) record(ctx context.Context, k keys, v string, tags []string) error {
	var byShard [shardCount][]any
	var roots []any
	for _, t := range tags {
		if shard, ok := shardOf(t); ok {
			byShard[shard] = append(byShard[shard], t)
		} else {
			roots = append(roots, t)
		}
	}
	var calls []*call
	for i, ts := range byShard {
		if len(ts) == 0 && len(roots) == 0 {
			continue
		}
		args := make([]any, 0, 4+len(roots)+len(ts))
		args = append(args, v, k.channel, "0", "")
		args = append(append(args, roots...), ts...)
		calls = append(calls, &call{script: shardScript, keys: []string{k.shards[i]}, args: args})
	}
	if len(calls) == 0 {
		return nil
	}
	msg, err := msgpack.Marshal(append([]string{v}, tags...))
	if err != nil {
		return err
	}
	calls[0].args[2], calls[0].args[3] = "1", string(msg)
	if err := s.evalAll(ctx, calls, true); err != nil {
		return err
	}
	return s.announce(ctx, k, calls)
}

// announce publishes the horizon of the shards calls started a new epoch
// in, if any: one message of a version and no tags, upon which the
// instances read the horizons and drop what their memory tiers hold from
// before.
func (s *Store) announce(ctx context.Context, k keys, calls []*call) error {
	var h string
	for _, c := range calls {
		res, err := c.cmd.Slice()
		if err != nil || len(res) != 2 {
			return fmt.Errorf("zoo: redisstore: shard: %v %w", res, err)
		}
		if v, ok := res[0].(string); ok && res[1] == int64(1) && v > h {
			h = v
		}
	}
	if h == "" {
		return nil
	}
	msg, err := msgpack.Marshal([]string{h})
	if err != nil {
		return err
	}
	return s.client.Publish(ctx, k.channel, msg).Err()
}

// revive checks shards (shardepoch in scripts.go), starting a new epoch in
// those that lost their versions, at a version issued now.
func (s *Store) revive(ctx context.Context, k keys, shards []int) error {
	_, err := s.reviveSome(ctx, k, shards, false)
	return err
}

// reviveSome is revive, and returns the latest horizon of the shards it
// checked. It looks at the shards first, and issues a version only for
// those that need a new epoch: checking shards needs no clock. With
// reachable, shards whose node fails are left out (when some are checked):
// their reads fail until the node is back, over connections dialed since,
// which serverChecked checks again.
//
// A clock that starts again is written only after the shards have their
// new horizons, from no earlier than the latest of them: a caller that
// read it before they had them, while another reviver raised them past
// what it read, would stamp loads that every shard then judges stale.
func (s *Store) reviveSome(ctx context.Context, k keys, shards []int, reachable bool) (string, error) {
	run := func(v string, shards []int) ([]*call, error) {
		calls := make([]*call, len(shards))
		for i, shard := range shards {
			calls[i] = &call{script: shardScript, keys: []string{k.shards[shard]}, args: []any{v, k.channel, "0", ""}}
		}
		err := s.evalAll(ctx, calls, false)
		if err == nil {
			return calls, nil
		}
		ok := slices.DeleteFunc(slices.Clone(calls), func(c *call) bool { return c.cmd == nil || c.cmd.Err() != nil })
		if !reachable || len(ok) == 0 {
			return nil, err
		}
		return ok, nil
	}
	latest := func(h string, calls []*call) string {
		for _, c := range calls {
			if res, err := c.cmd.Slice(); err == nil && len(res) == 2 {
				if v, ok := res[0].(string); ok && v > h {
					h = v
				}
			}
		}
		return h
	}
	looked, err := run("", shards)
	if err != nil {
		return "", err
	}
	var lost []int
	for _, c := range looked {
		if res, err := c.cmd.Slice(); err == nil && len(res) == 2 && res[1] == int64(2) {
			lost = append(lost, slices.Index(k.shards[:], c.keys[0]))
		}
	}
	h := latest("", looked)
	if len(lost) == 0 {
		return h, nil
	}
	// A version later than every one issued; if the clock starts again,
	// the one it would start from, which it records below.
	v, restarted, err := s.issue(ctx, k, formatVersion(0), false, false)
	if err != nil {
		return "", err
	}
	revived, err := run(v, lost)
	if err != nil {
		return "", err
	}
	h = latest(h, revived)
	if restarted {
		if _, _, err := s.issue(ctx, k, h, false, true); err != nil {
			return "", err
		}
	}
	return h, s.announce(ctx, k, revived)
}

// allShards lists every shard.
var allShards = func() []int {
	all := make([]int, shardCount)
	for i := range all {
		all[i] = i
	}
	return all
}()

// call is one script call of a pipeline.
type call struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
}

// evalAll runs calls in one pipeline: on a cluster, one per node, in
// parallel, and redirects (MOVED, ASK) followed by the client. With wait
// and WithReplicas, each node's pipeline ends with WAIT, sent to the node
// itself (WAIT counts the replicas that acknowledged the writes of its
// connection), and too few acknowledgements fail with
// store.ErrUnavailable.
func (s *Store) evalAll(ctx context.Context, calls []*call, wait bool) error {
	if !wait || s.replicas == 0 {
		_, err := execScripts(ctx, s.client, calls, 0, 0)
		return err
	}
	cc, ok := s.client.(*redis.ClusterClient)
	if !ok {
		return s.evalWait(ctx, s.client, calls)
	}
	groups := map[*redis.Client][]*call{}
	var order []*redis.Client
	for _, c := range calls {
		node, err := cc.MasterForKey(ctx, c.keys[0])
		if err != nil {
			return err
		}
		if _, ok := groups[node]; !ok {
			order = append(order, node)
		}
		groups[node] = append(groups[node], c)
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, node := range order {
		wg.Go(func() { errs[i] = s.evalWait(ctx, node, groups[node]) })
	}
	wg.Wait()
	for _, err := range errs {
		if redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK") {
			// The slots moved under the node pipelines, which follow no
			// redirect: learn where they are for the replay.
			cc.ReloadState(ctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// evalWait runs calls and WAIT in one pipeline of c.
func (s *Store) evalWait(ctx context.Context, c pipeliner, calls []*call) error {
	wait, err := execScripts(ctx, c, calls, s.replicas, s.replicaWait)
	if err != nil {
		return err
	}
	if n, err := wait.Int64(); err != nil || n < int64(s.replicas) {
		return fmt.Errorf("zoo: redisstore: %w: the invalidation reached %d of %d replicas within %v",
			store.ErrUnavailable, n, s.replicas, s.replicaWait)
	}
	return nil
}

type pipeliner interface{ Pipeline() redis.Pipeliner }

// execScripts runs calls in one pipeline of c (by their SHA, again by their
// source if a server did not know one), followed by WAIT when waitN > 0;
// it returns WAIT's command and the first error of a call.
func execScripts(ctx context.Context, c pipeliner, calls []*call, waitN int, waitFor time.Duration) (*redis.Cmd, error) {
	run := func(byBody bool) (*redis.Cmd, error) {
		pipe := c.Pipeline()
		for _, cl := range calls {
			if byBody {
				cl.cmd = cl.script.Eval(ctx, pipe, cl.keys, cl.args...)
			} else {
				cl.cmd = cl.script.EvalSha(ctx, pipe, cl.keys, cl.args...)
			}
		}
		var wait *redis.Cmd
		if waitN > 0 {
			wait = pipe.Do(ctx, "WAIT", waitN, waitFor.Milliseconds())
		}
		_, err := pipe.Exec(ctx)
		return wait, err
	}
	wait, err := run(false)
	if err != nil && slices.ContainsFunc(calls, func(cl *call) bool { return redis.HasErrorPrefix(cl.cmd.Err(), "NOSCRIPT") }) {
		wait, err = run(true)
	}
	if err != nil {
		for _, cl := range calls {
			if e := cl.cmd.Err(); e != nil && !errors.Is(e, redis.Nil) {
				return nil, e
			}
		}
		return nil, err
	}
	return wait, nil
}

// hint tells the other instances of tags that Redis refused to record
// (out of memory, Redis still reads and publishes): they stop serving what
// they hold under them, at a version after the last one issued.
func (s *Store) hint(ctx context.Context, k keys, tags []string, min hlc.Timestamp) error {
	return s.attempt(ctx, func(ctx context.Context) error {
		last, err := s.client.HGet(ctx, k.clock, "c").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		v := min
		if lv, err := parseVersion(last); err == nil && lv > v {
			v = lv
		}
		msg, err := msgpack.Marshal(append([]string{formatVersion(v + 1)}, tags...))
		if err != nil {
			return err
		}
		return s.client.Publish(ctx, k.channel, msg).Err()
	})
}

// Prune raises the horizon of every shard to maxAge before its server's
// time and forgets the versions older than it.
func (s *Store) Prune(ctx context.Context, maxAge time.Duration) error {
	k := s.currentKeys()
	for _, shard := range k.shards {
		if err := s.pruneShard(ctx, shard, maxAge); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) pruneShard(ctx context.Context, shard string, maxAge time.Duration) error {
	var h string
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		h, err = horizonScript.Run(ctx, s.client, []string{shard}, maxAge.Milliseconds()).Text()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil // a shard not started, or lost: nothing to prune
	}
	if err != nil {
		return err
	}
	var cursor uint64
	for {
		var fields []string
		err := s.do(ctx, func(ctx context.Context) error {
			var err error
			fields, cursor, err = s.client.HScan(ctx, shard, cursor, "t:*", 1000).Result()
			return err
		})
		if err != nil {
			return err
		}
		args := []any{h}
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i+1] < h {
				args = append(args, fields[i])
			}
		}
		if len(args) > 1 {
			if err := s.do(ctx, func(ctx context.Context) error {
				return forgetScript.Run(ctx, s.client, []string{shard}, args...).Err()
			}); err != nil {
				return err
			}
		}
		if cursor == 0 {
			return nil
		}
	}
}

// scanShards calls fn with the fields and values of every shard matching
// pattern, a page at a time.
func (s *Store) scanShards(ctx context.Context, k keys, pattern string, fn func(fields []string) bool) error {
	for _, shard := range k.shards {
		var cursor uint64
		for {
			var fields []string
			err := s.do(ctx, func(ctx context.Context) error {
				var err error
				fields, cursor, err = s.client.HScan(ctx, shard, cursor, pattern, 1000).Result()
				return err
			})
			if err != nil {
				return err
			}
			if !fn(fields) {
				return nil
			}
			if cursor == 0 {
				break
			}
		}
	}
	return nil
}

// Versions returns up to limit tag paths at or below prefix with the
// versions Redis holds for them, for the zoo command's inspect.
func (s *Store) Versions(ctx context.Context, prefix string, limit int) (map[string]hlc.Timestamp, error) {
	k := s.currentKeys()
	out := map[string]hlc.Timestamp{}
	err := s.scanShards(ctx, k, "t:"+globEscape(prefix)+"*", func(fields []string) bool {
		for i := 0; i+1 < len(fields); i += 2 {
			tag := fields[i][2:]
			if prefix != "" && tag != prefix && !strings.HasPrefix(tag, prefix+":") {
				continue
			}
			if v, err := parseVersion(fields[i+1]); err == nil && v > out[tag] {
				out[tag] = v
			}
			if limit > 0 && len(out) >= limit {
				return false
			}
		}
		return true
	})
	return out, err
}
