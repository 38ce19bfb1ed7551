package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

// DefaultTimeout bounds every Redis command; see [WithTimeout].
const DefaultTimeout = 250 * time.Millisecond

// fieldsCacheSize bounds the keys whose version fields a store remembers.
const fieldsCacheSize = 100_000

var (
	_ store.Store       = (*Store)(nil)
	_ store.Shared      = (*Store)(nil)
	_ store.Checker     = (*Store)(nil)
	_ store.Locker      = (*Store)(nil)
	_ store.Reporter    = (*Store)(nil)
	_ store.StaleReader = (*Store)(nil)
)

// Store is a [store.Shared] on Redis. Make one with [New]; a cache attaches
// it to its namespace (zoo.New(zoo.WithStore(s), zoo.WithNamespace(ns))).
//
// A Store is safe for concurrent use. It does not close the client it was
// given.
type Store struct {
	// client is what commands go through: the client given to New, or one
	// derived from it that bounds commands by the store's timeout
	// (timeout.go), which the store closes if it owns it.
	client  redis.UniversalClient
	owned   bool
	codec   codec.Codec
	timeout time.Duration
	// replicas and replicaWait: Invalidate waits for this many replicas to
	// acknowledge (WAIT), for at most replicaWait.
	replicas    int
	replicaWait time.Duration
	logger      *slog.Logger
	breaker     *breaker
	// deadlines bounds operations by the timeout (deadline.go); nil for a
	// timeout that is not positive.
	deadlines *deadlines

	// fields remembers, by key, the reads that check the entry GetFresh
	// last returned, so that the next strict read is one round trip.
	fields *otter.Cache[string, *plan]
	// checked remembers, by key, the reads that check the copy Check last
	// checked.
	checked *otter.Cache[string, *plan]
	// pipes are pipelines for strict reads to reuse (*pooledPipe).
	pipes sync.Pool
	// checks and reads are the round trips that concurrent Checks and
	// GetFreshes of one key share (rounds.go); serving counts the
	// goroutines that send them, which Close waits for.
	checks, reads *rounds
	serving       sync.WaitGroup

	// dials counts the client's connections; checkedDials is the count
	// when the server was last checked (serverChecked).
	dials        *dialCounter
	checkedDials atomic.Uint64
	checking     sync.Mutex // held by the one serverChecked that checks
	hooked       sync.Map   // the node clients of a cluster counting dials

	// mu is held while keys, closed and stop change. keys and closed are
	// read without it (every operation reads them: a lock would be a
	// write to memory all cores share on every hit).
	mu      sync.Mutex
	ns      string
	keys    atomic.Pointer[keys]
	closed  atomic.Bool
	stop    context.CancelFunc
	watcher sync.WaitGroup

	// onBackoff, if set (by tests, before Attach), is told each wait of the
	// subscription before it resubscribes.
	onBackoff func(time.Duration)
}

// Option configures a [Store].
type Option func(*Store)

// WithTimeout bounds every command; a command that takes longer fails and
// the cache answers from the repository. The default is [DefaultTimeout].
// It holds whatever the client's own options (ContextTimeoutEnabled,
// ReadTimeout, WriteTimeout); see [New]. Commands sent under a context that
// is never canceled (such as context.Background()) share timers: their
// bound is d rounded up by at most an eighth of d.
func WithTimeout(d time.Duration) Option { return func(s *Store) { s.timeout = d } }

// WithReplicas makes Invalidate wait until n replicas have acknowledged
// the invalidation (Redis's WAIT), for at most wait (which the store's
// timeout bounds too). An invalidation fewer replicas acknowledged fails
// with store.ErrUnavailable and is replayed by the cache; it holds on the
// master meanwhile. Without it, a master that dies before its replica
// received an invalidation loses it: with Sentinel (or Cluster) failover,
// set n to the number of replicas a promotion may pick from that must not
// lose one. (A promoted replica also starts a new epoch; see the package
// doc: WAIT keeps the invalidations, not the cache.)
func WithReplicas(n int, wait time.Duration) Option {
	return func(s *Store) { s.replicas, s.replicaWait = n, wait }
}

// WithCodec sets how entries are framed; see codec.Codec.
func WithCodec(c codec.Codec) Option { return func(s *Store) { s.codec = c } }

// WithLogger sets the logger for connection and breaker changes; the
// default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.logger = l } }

// New returns a store on client. It makes no call to Redis: a cache built on
// it starts while Redis is unreachable.
//
// Every command the store sends is bounded by its timeout ([WithTimeout]),
// whatever the client's options, at no cost per command. A client whose
// options set ContextTimeoutEnabled is used as it is. A *redis.Client
// without it (the default options) gets it turned on in its options, so
// that it keeps its connections and hooks: New changes the client, and must
// not run while other goroutines use it (go-redis reads the option at each
// command). One whose read or write timeout is below 0 (no deadlines) is
// used through a clone with the store's timeouts, which go-redis gives none
// of the client's hooks. A *redis.ClusterClient or *redis.Ring
// without it is replaced, for the store's commands, by one built from a copy
// of its options with ContextTimeoutEnabled set, with connections of its
// own and without the given client's hooks; the store closes it. A client of
// another type (a wrapper) is used as it is, with a warning in the log: set
// ContextTimeoutEnabled on the client it wraps.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{client: client, timeout: DefaultTimeout, logger: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.breaker = newBreaker(s.logger)
	if s.timeout > 0 {
		s.deadlines = newDeadlines(s.timeout)
	}
	s.dials = &dialCounter{}
	// On the given client: a clone dials through its hooks.
	client.AddHook(s.dials)
	var how adjustment
	s.client, s.owned, how = commandClient(client, s.timeout)
	if s.owned {
		s.client.AddHook(s.dials)
	}
	switch how {
	case contextOn:
		s.logger.Info("zoo: redisstore: turned on ContextTimeoutEnabled in the client's options, so that the store's timeout bounds its commands; the client's other commands honour their contexts' deadlines too")
	case cloned:
		s.logger.Warn("zoo: redisstore: the client's deadlines are turned off (a read or write timeout below 0): the store sends its commands through a clone with its own timeouts, which the client's hooks do not reach")
	case ownClient:
		s.logger.Info("zoo: redisstore: the client does not honour context deadlines (ContextTimeoutEnabled): the store sends its commands through a client of its own built from its options, which the client's hooks do not reach",
			slog.String("type", fmt.Sprintf("%T", client)))
	case unknown:
		s.logger.Warn("zoo: redisstore: the client is of a type the store cannot see into: its commands are bounded by the store's timeout only if it honours context deadlines (go-redis: ContextTimeoutEnabled)",
			slog.String("type", fmt.Sprintf("%T", client)))
	}
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		// A cluster client dials through the clients of its nodes: count
		// their dials, and give each a breaker of its own (nodes it knows
		// already are hooked at Attach). It is the client the store sends
		// its commands through: the given one, or the one commandClient
		// built from it.
		s.breaker.perNode = true
		cc.OnNewNode(s.hookNode)
	}
	k := newKeys("")
	s.keys.Store(&k)
	s.checks, s.reads = newRounds(), newRounds()
	s.fields = otter.Must(&otter.Options[string, *plan]{MaximumSize: fieldsCacheSize})
	s.checked = otter.Must(&otter.Options[string, *plan]{MaximumSize: fieldsCacheSize})
	return s
}

// do runs one Redis operation under the timeout and the breaker.
func (s *Store) do(ctx context.Context, op func(ctx context.Context) error) error {
	if s.isClosed() {
		return fmt.Errorf("zoo: redisstore: %w", store.ErrClosed)
	}
	if !s.breaker.allow() {
		return fmt.Errorf("zoo: redisstore: %w (breaker open)", store.ErrUnavailable)
	}
	return s.attempt(ctx, op)
}

// attempt runs one Redis operation under the timeout, whatever the breaker
// says, and tells the breaker how it went. Invalidations go this way: one
// that waits out the breaker's backoff after Redis is back would go
// unrecorded while other instances serve what it invalidates.
func (s *Store) attempt(ctx context.Context, op func(ctx context.Context) error) error {
	if s.isClosed() {
		return fmt.Errorf("zoo: redisstore: %w", store.ErrClosed)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := op(ctx)
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		s.breaker.success()
		return err
	case ctx.Err() != nil && context.Cause(ctx) != context.DeadlineExceeded:
		s.breaker.abandoned() // the caller gave up: not the server's fault
		return err
	case isServerError(err):
		s.breaker.success() // the server answered, with an error
		return err
	default:
		s.breaker.failure(err)
		return fmt.Errorf("zoo: redisstore: %w: %w", store.ErrUnavailable, err)
	}
}

// isServerError reports whether err is an error reply from Redis (which
// proves the server reachable), rather than a network failure.
func isServerError(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && !errors.Is(err, context.DeadlineExceeded)
}

// isOutOfMemory reports whether err is Redis refusing a write over its
// maxmemory (an OOM error reply).
func isOutOfMemory(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "OOM ")
}

func (s *Store) isClosed() bool { return s.closed.Load() }

func (s *Store) currentKeys() keys { return *s.keys.Load() }

// Get returns the entry under key, with the versions its tags had when it
// was stored, without checking them: the cache validates it against its
// own versions (local consistency).
func (s *Store) Get(ctx context.Context, key string) (*store.Entry, error) {
	k := s.currentKeys()
	var vals []any
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		vals, err = s.client.HMGet(ctx, k.entry(key), "v", "tv").Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	frame, ok := vals[0].(string)
	if !ok {
		return nil, nil
	}
	e, err := s.codec.Decode(bytesOf(frame))
	if err != nil {
		return nil, err
	}
	if e.Expired(time.Now()) {
		// Kept past its Expires for GetStale (Entry.Retain).
		return nil, nil
	}
	if tv, ok := vals[1].(string); ok {
		if e.TagVersions, err = decodeTagVersions(tv); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// pooledPipe is a pipeline of the store's pool, with room for the
// commands of a strict read of one key (a read of the entry and of its
// versions, in one BatchProcess).
type pooledPipe struct {
	redis.Pipeliner
	queue [4]redis.Cmder
}

// pipeline returns a pipeline of the pool, empty; callers put it back
// (putPipeline) after its Exec. Reusing pipelines saves a strict hit the
// allocation of one, of its method values and of the slice its commands
// are queued from.
func (s *Store) pipeline() *pooledPipe {
	if p, ok := s.pipes.Get().(*pooledPipe); ok {
		return p
	}
	return &pooledPipe{Pipeliner: s.client.Pipeline()}
}

// putPipeline returns p to the pool, holding no command.
func (s *Store) putPipeline(p *pooledPipe) {
	clear(p.queue[:])
	s.pipes.Put(p)
}

// bytesOf returns the bytes of str without copying them, for a reader
// that neither modifies them nor keeps them past the call (codec.Decode).
func bytesOf(str string) []byte { return unsafe.Slice(unsafe.StringData(str), len(str)) }

// Delete removes the entry under key.
func (s *Store) Delete(ctx context.Context, key string) error {
	k := s.currentKeys()
	return s.do(ctx, func(ctx context.Context) error { return s.client.Del(ctx, k.entry(key)).Err() })
}

// Invalidate records tags as invalidated at a new version and publishes it.
// It always tries Redis, even while the breaker is open: an invalidation is
// worth a timeout.
//
// A tag longer than 4 KiB is refused with an error before Redis is touched.
// More than 10,000 tags are split into several script calls, each publishing
// one message within the receivers' limits: each call is atomic on its own,
// the whole is not, and an error part-way leaves the earlier chunks applied.
func (s *Store) Invalidate(ctx context.Context, tags []string, min hlc.Timestamp) (hlc.Timestamp, error) {
	// Receivers drop a message whose tag is longer than maxTagLen or that
	// carries more than maxMessageTags tags: refuse the first before anything
	// reaches Redis, and split the second into messages within the limit, so
	// nothing is acknowledged that other instances would drop.
	for _, t := range tags {
		if len(t) > maxTagLen {
			return 0, fmt.Errorf("redisstore: invalidate: tag of %d bytes is longer than the limit of %d", len(t), maxTagLen)
		}
	}
	// Each chunk is one script call, atomic on its own; a later chunk's
	// version is at least an earlier one's, so the last version covers all.
	var last hlc.Timestamp
	for first := true; first || len(tags) > 0; first = false {
		n := len(tags)
		if n > maxMessageTags {
			n = maxMessageTags
		}
		floor := min
		if last > floor {
			floor = last
		}
		v, err := s.invalidateChunk(ctx, tags[:n], floor)
		if err != nil {
			return 0, err
		}
		last, tags = v, tags[n:]
	}
	return last, nil
}

// Lock takes the singleflight lock of key for ttl.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	k := s.currentKeys()
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	var ok bool
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		ok, err = s.client.SetNX(ctx, k.lock(key), token, ttl).Result()
		return err
	})
	if err != nil || !ok {
		return nil, false, err
	}
	unlock := func() {
		_ = s.do(context.Background(), func(ctx context.Context) error {
			return unlockScript.Run(ctx, s.client, []string{k.lock(key)}, token).Err()
		})
	}
	return unlock, true, nil
}

// Close stops the subscription. It does not close the client it was given
// (only one it built from it; see New).
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closed.Store(true)
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	s.watcher.Wait()
	s.serving.Wait()
	s.fields.StopAllGoroutines()
	s.checked.StopAllGoroutines()
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// versionLen is the length of a formatted version.
const versionLen = 18

// formatVersion writes a version as the 18 digits the scripts compare.
func formatVersion(v hlc.Timestamp) string {
	var buf [versionLen]byte
	return string(appendVersion(buf[:0], v))
}

// appendVersion appends v to dst as formatVersion writes it: 13 digits of
// milliseconds and 5 of the logical counter, zero-padded.
func appendVersion(dst []byte, v hlc.Timestamp) []byte {
	dst = appendPadded(dst, uint64(max(v.Wall(), 0)), 13)
	return appendPadded(dst, uint64(v.Logical()), 5)
}

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(dst []byte, n uint64, width int) []byte {
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], n, 10)
	for i := len(d); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// parseVersion reads a version written by formatVersion or by a script,
// refusing anything else: versions come from a shared server.
func parseVersion(s string) (hlc.Timestamp, error) {
	if len(s) != 18 {
		return 0, fmt.Errorf("zoo: redisstore: malformed version %q", s)
	}
	ms, err1 := strconv.ParseInt(s[:13], 10, 64)
	l, err2 := strconv.ParseUint(s[13:], 10, 16)
	if err1 != nil || err2 != nil || ms < 0 {
		return 0, fmt.Errorf("zoo: redisstore: malformed version %q", s)
	}
	return hlc.New(ms, uint16(l)), nil
}

// decodeTagVersions reads the tv field: a MessagePack array of tag paths
// and versions, alternating.
func decodeTagVersions(b string) (map[string]hlc.Timestamp, error) {
	var flat []string
	if err := codec.Raw(b).Decode(&flat); err != nil || len(flat)%2 != 0 {
		return nil, fmt.Errorf("%w: redisstore: tag versions", store.ErrCorrupt)
	}
	if len(flat) == 0 {
		return nil, nil
	}
	out := make(map[string]hlc.Timestamp, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		v, err := parseVersion(flat[i+1])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", store.ErrCorrupt, err)
		}
		out[flat[i]] = v
	}
	return out, nil
}

// report is what Report stores for one instance: its statistics and when it
// published them.
type report struct {
	At    int64           `json:"at"` // Unix milliseconds
	TTL   int64           `json:"ttl"`
	Stats json.RawMessage `json:"stats"`
}

// Report publishes the statistics of one instance in the namespace's
// reports hash.
func (s *Store) Report(ctx context.Context, instance string, stats []byte, ttl time.Duration) error {
	k := s.currentKeys()
	b, err := json.Marshal(report{At: time.Now().UnixMilli(), TTL: ttl.Milliseconds(), Stats: stats})
	if err != nil {
		return err
	}
	return s.do(ctx, func(ctx context.Context) error {
		return reportScript.Run(ctx, s.client, []string{k.reports()}, instance, b, time.Now().UnixMilli(), ttl.Milliseconds()).Err()
	})
}

// Reports returns the statistics every live instance of the namespace
// published; reports older than their TTL are dropped from Redis.
func (s *Store) Reports(ctx context.Context) (map[string][]byte, error) {
	k := s.currentKeys()
	var all map[string]string
	if err := s.do(ctx, func(ctx context.Context) error {
		var err error
		all, err = s.client.HGetAll(ctx, k.reports()).Result()
		return err
	}); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(all))
	now := time.Now().UnixMilli()
	for instance, raw := range all {
		var r report
		if err := json.Unmarshal([]byte(raw), &r); err != nil || now-r.At > r.TTL {
			_ = s.do(ctx, func(ctx context.Context) error { return s.client.HDel(ctx, k.reports(), instance).Err() })
			continue
		}
		out[instance] = r.Stats
	}
	return out, nil
}

// globEscape escapes the characters Redis glob patterns give a meaning to.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`).Replace(s)
}
