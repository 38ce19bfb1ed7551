package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/zoogen/zoogen/runtime/store"
)

// DefaultTTL is how long entries live when neither the cache ([WithTTL]) nor
// the method's annotation says.
const DefaultTTL = 5 * time.Minute

// DefaultMaxTagNodes bounds the tag trie; see [WithMaxTagNodes].
const DefaultMaxTagNodes = 1 << 20

// An Option configures a [Cache].
type Option func(*config)

type config struct {
	store       store.Store
	namespace   string
	ttl         time.Duration
	jitter      float64
	logger      *slog.Logger
	now         func() time.Time // cfg.clock, or time.Now
	clock       func() time.Time // the injected clock, or nil
	maxTagNodes int
	pruneEvery  time.Duration
	consistency Consistency
	localTier   int           // entries; -1: the default for the mode
	tierSet     bool          // WithLocalTier was given
	lockTTL     time.Duration // 0: no distributed lock
	stats       bool
	tracer      trace.TracerProvider
	hitSpans    bool
	instance    string
	maxValue    int // bytes of MessagePack; 0: no limit
	maxRefresh  int // background refreshes at once
	closeWait   time.Duration
}

func defaultConfig() config {
	return config{
		ttl:         DefaultTTL,
		logger:      slog.Default(),
		now:         time.Now,
		maxTagNodes: DefaultMaxTagNodes,
		pruneEvery:  time.Minute,
		localTier:   -1,
		lockTTL:     DefaultLockTTL,
		closeWait:   DefaultCloseWait,
		stats:       false,
		maxRefresh:  DefaultMaxRefreshes,
	}
}

// WithStore sets where entries live; the default is an in-memory store
// (memstore.New's). The cache owns the store: [Cache.Close] closes it.
//
// A store shared by several processes (store.Shared: Redis, LMDB) makes the
// cache take its timestamps from the store, record its invalidations there
// and hear those of the other processes. In [Local] mode it gets a memory
// tier in front ([WithLocalTier]).
func WithStore(s store.Store) Option { return func(c *config) { c.store = s } }

// Consistency says how an entry read from a shared store is validated.
type Consistency int

const (
	// Local validates entries against the versions this process has
	// heard of: zero extra round trips, and fresh once an invalidation has
	// propagated (a delay measured in milliseconds on a LAN). While the
	// store's subscription is down the cache validates in the store, as
	// Strict does, so a lost message never serves a stale entry.
	Local Consistency = iota
	// Strict validates every entry against the versions in the store in the
	// same round trip as the read: a read that starts after Invalidate has
	// returned, in any process, never sees an entry it made stale.
	Strict
)

func (c Consistency) String() string {
	if c == Strict {
		return "strict"
	}
	return "local"
}

// WithConsistency sets how entries of a shared store are validated; the
// default is [Local]. It has no effect on a memory-only cache.
func WithConsistency(m Consistency) Option { return func(c *config) { c.consistency = m } }

// WithLocalTier sets the size, in entries, of the memory tier kept in front
// of a store outside the process: hits on it cost what a memory hit costs.
// The same invalidations keep it coherent. 0 turns it off. The default is
// memstore.DefaultMaxEntries, except in [Strict] mode on a store that
// cannot confirm a copy without sending it (store.Checker), where it is
// off. In Strict mode, the store confirms each copy before it is served.
// A negative size is an error.
func WithLocalTier(entries int) Option {
	return func(c *config) { c.localTier, c.tierSet = entries, true }
}

// DefaultLockTTL is how long a process holds the lock of a key it loads;
// see [WithLoadLock].
const DefaultLockTTL = 2 * time.Second

// WithLoadLock sets how long a process that misses on a key holds a lock on
// it in a shared store that supports locks (Redis), so that other processes
// missing the same key wait for its result instead of loading it too. A
// lock whose holder died expires after ttl, and the waiters load. 0 turns
// distributed locking off; the default is [DefaultLockTTL].
func WithLoadLock(ttl time.Duration) Option { return func(c *config) { c.lockTTL = ttl } }

// WithNamespace prefixes every key, so that applications sharing one store
// keep apart. It may not contain '|'.
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// WithTTL sets how long entries live unless a method's annotation says
// otherwise; the default is [DefaultTTL].
func WithTTL(d time.Duration) Option { return func(c *config) { c.ttl = d } }

// WithTTLJitter shortens each entry's TTL by a random fraction of up to f
// (0 ≤ f < 1), so that entries loaded together do not all expire together.
func WithTTLJitter(f float64) Option { return func(c *config) { c.jitter = f } }

// WithLogger sets the logger for the events worth an operator's attention
// (store failures, corrupt entries); the default is slog.Default(). Hits and
// misses are never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithClock sets the wall clock the cache reads for timestamps and expiry;
// the default is time.Now. Tests inject a clock they move by hand. When the
// cache creates its default store, the store reads the same clock. With a
// shared store, timestamps follow the store's clock instead (offset from
// this one at each reply of the store); expiry still reads this one.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		c.clock = now
		if now == nil {
			c.now = time.Now
		} else {
			c.now = now
		}
	}
}

// WithMaxTagNodes bounds the number of nodes in the tag trie; the default is
// [DefaultMaxTagNodes]. Nodes older than the longest TTL are pruned anyway;
// when invalidations of distinct tags outrun that, the cache prunes younger
// nodes too and treats the entries loaded before them as stale: a burst of
// misses, never a stale read.
func WithMaxTagNodes(n int) Option { return func(c *config) { c.maxTagNodes = n } }

// WithStats turns the per-method counters behind [Cache.Stats] (and the
// Prometheus collector's per-method series, the debug handler's and the
// zoo command's method rows) on or off. They are off by default: counting
// a hit is an atomic add, about 5 ns, a tenth of a memory hit. The
// cache-wide figures (invalidations, evictions, tag nodes, the clock)
// are kept either way.
func WithStats(enabled bool) Option { return func(c *config) { c.stats = enabled } }

// WithTracerProvider sets where spans go: one span per load ("zoo.load")
// and per invalidation ("zoo.invalidate"), as children of the caller's
// span. The default is the global provider (otel.GetTracerProvider()),
// which does nothing until the program sets one.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tracer = tp } }

// WithHitSpans also records a span ("zoo.hit") for every hit. It is off by
// default: a hit costs far less than a span.
func WithHitSpans(enabled bool) Option { return func(c *config) { c.hitSpans = enabled } }

// WithInstance names this cache among the processes that share its store,
// in statistics and in the zoo command; the default is host:pid.
func WithInstance(name string) Option { return func(c *config) { c.instance = name } }

// WithMaxValueSize stops values whose MessagePack encoding is larger than n
// bytes from being cached: they are served and counted (Stats' Oversized,
// zoo_oversized_total), so that one huge result cannot crowd out the rest
// of the cache. Measuring costs an encoding per load; 0, the default, sets
// no limit.
func WithMaxValueSize(n int) Option { return func(c *config) { c.maxValue = n } }

// DefaultCloseWait is how long [Cache.Close] waits for loads in flight; see
// [WithCloseWait].
const DefaultCloseWait = 10 * time.Second

// WithCloseWait sets how long [Cache.Close] waits for the loads in flight
// to return before it closes the stores anyway; the default is
// [DefaultCloseWait]. A load still running then is abandoned: its callers
// get its result when it returns, nothing is cached, and Close returns an
// error counting the abandoned loads. 0 makes Close wait for none; a
// negative wait is an error.
func WithCloseWait(d time.Duration) Option { return func(c *config) { c.closeWait = d } }

// MaxTTL is the longest lifetime an entry may have: 100 years. Stores keep
// expiry as Unix nanoseconds, which run out in 2262, so a longer TTL (such
// as math.MaxInt64 meant as "forever") is a mistake: [New] refuses it in
// [WithTTL], and a [MethodSpec] asking for more gets MaxTTL.
const MaxTTL = 100 * 365 * 24 * time.Hour

// ErrBadOption is wrapped by the errors New returns for invalid options,
// and by those of memstore.New and zoohttp.Middleware: it is
// store.ErrBadOption.
var ErrBadOption = store.ErrBadOption

func (c *config) validate() error {
	var errs []error
	if c.ttl <= 0 {
		errs = append(errs, fmt.Errorf("%w: TTL %v is not positive", ErrBadOption, c.ttl))
	}
	if c.ttl > MaxTTL {
		errs = append(errs, fmt.Errorf("%w: TTL %v is longer than MaxTTL (%v)", ErrBadOption, c.ttl, MaxTTL))
	}
	if c.jitter < 0 || c.jitter >= 1 {
		errs = append(errs, fmt.Errorf("%w: TTL jitter %v is outside [0, 1)", ErrBadOption, c.jitter))
	}
	if strings.ContainsRune(c.namespace, '|') {
		errs = append(errs, fmt.Errorf("%w: namespace %q contains '|'", ErrBadOption, c.namespace))
	}
	if c.maxTagNodes <= 0 {
		errs = append(errs, fmt.Errorf("%w: max tag nodes %d is not positive", ErrBadOption, c.maxTagNodes))
	}
	if c.consistency != Local && c.consistency != Strict {
		errs = append(errs, fmt.Errorf("%w: unknown consistency %d", ErrBadOption, c.consistency))
	}
	if c.tierSet && c.localTier < 0 {
		errs = append(errs, fmt.Errorf("%w: local tier size %d is negative", ErrBadOption, c.localTier))
	}
	if c.maxValue < 0 {
		errs = append(errs, fmt.Errorf("%w: max value size %d is negative", ErrBadOption, c.maxValue))
	}
	if c.lockTTL < 0 {
		errs = append(errs, fmt.Errorf("%w: lock TTL %v is negative", ErrBadOption, c.lockTTL))
	}
	if c.maxRefresh <= 0 {
		errs = append(errs, fmt.Errorf("%w: max refreshes %d is not positive", ErrBadOption, c.maxRefresh))
	}
	if c.closeWait < 0 {
		errs = append(errs, fmt.Errorf("%w: close wait %v is negative", ErrBadOption, c.closeWait))
	}
	if c.logger == nil {
		errs = append(errs, fmt.Errorf("%w: nil logger", ErrBadOption))
	}
	return errors.Join(errs...)
}
