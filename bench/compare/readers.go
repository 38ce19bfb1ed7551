package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	gocache "github.com/eko/gocache/lib/v4/cache"
	gocachestore "github.com/eko/gocache/lib/v4/store"
	ristrettostore "github.com/eko/gocache/store/ristretto/v4"
	rediscache "github.com/go-redis/cache/v9"
	"github.com/maypok86/otter/v2"
	"github.com/viccon/sturdyc"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/memstore"

	"github.com/zoogen/zoogen/bench/shop"
)

// Reader is a read-through cache of shop.DB's GetProduct built on one
// library. Each is safe for concurrent use; Close releases its cache.
type Reader interface {
	shop.ProductRepo
	io.Closer
}

// Contender is one library set up as a [Reader].
type Contender struct {
	// Name names the contender in benchmark names and in BENCHMARKS.md.
	Name string
	// Calls says, for BENCHMARKS.md, what a read calls.
	Calls string
	// New returns a Reader that caches up to capacity products of db.
	New func(db *shop.DB, capacity int) (Reader, error)
}

// Readers are the contenders of the hit benchmarks, the floor first.
//
// The Readers built on a peer library look the key up first with a key
// that stays in a stack buffer, as zoogen's decorator does, and call the
// library's read-through API (which may keep the key, so it gets a string of
// its own) only on a miss: that is the fastest hit each library allows. The
// "-fetch", "-once" and "-loadable" variants call the read-through API on
// every read, as the libraries' documentation shows it.
var Readers = []Contender{
	{"otter", "`GetIfPresent`; on a miss `Get` with a loader", newOtter},
	{"zoogen", "the generated decorator: `zoo.Find`; on a miss `zoo.LoadMiss`", newZoogen},
	{"sturdyc", "`Get`; on a miss `GetOrFetch`", func(db *shop.DB, n int) (Reader, error) {
		return newSturdyc(db, n, false), nil
	}},
	{"sturdyc-fetch", "`GetOrFetch`", func(db *shop.DB, n int) (Reader, error) {
		return newSturdyc(db, n, true), nil
	}},
	{"goredis", "`Get` (local TinyLFU tier, MessagePack decode); on a miss `Once`", func(db *shop.DB, n int) (Reader, error) {
		return newGoRedis(db, n, false), nil
	}},
	{"goredis-once", "`Once`", func(db *shop.DB, n int) (Reader, error) {
		return newGoRedis(db, n, true), nil
	}},
	{"gocache", "`Cache.Get` (ristretto store); on a miss `LoadableCache.Get`", func(db *shop.DB, n int) (Reader, error) {
		return newGocache(db, n, false)
	}},
	{"gocache-loadable", "`LoadableCache.Get`", func(db *shop.DB, n int) (Reader, error) {
		return newGocache(db, n, true)
	}},
}

// CacheAside is otter used without its loader: look up, load, store. It has
// no singleflight, and stands in the stampede benchmark for every cache
// that lacks one.
var CacheAside = Contender{"otter-cacheaside", "`GetIfPresent`; on a miss load and `Set`, without singleflight", newCacheAside}

// newOtterCache returns an otter cache configured as zoogen's memory store
// configures it: bounded by a number of entries, each expiring shop.TTL
// after it was written.
func newOtterCache(capacity int) (*otter.Cache[string, *shop.Product], error) {
	return otter.New(&otter.Options[string, *shop.Product]{
		MaximumSize: capacity,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(otter.Entry[string, *shop.Product]) time.Duration {
			return shop.TTL
		}),
	})
}

// otterReader is the floor: a bare otter lookup. On a miss it calls otter's
// Get with a loader, which lets one caller per key load.
type otterReader struct {
	db *shop.DB
	c  *otter.Cache[string, *shop.Product]
}

func newOtter(db *shop.DB, capacity int) (Reader, error) {
	c, err := newOtterCache(capacity)
	if err != nil {
		return nil, err
	}
	return &otterReader{db: db, c: c}, nil
}

func (r *otterReader) GetProduct(ctx context.Context, oid, sid, pid int64) (*shop.Product, error) {
	var buf [128]byte
	k := AppendKey(buf[:0], oid, sid, pid)
	if p, ok := r.c.GetIfPresent(view(k)); ok {
		return p, nil
	}
	return r.c.Get(ctx, string(k), otter.LoaderFunc[string, *shop.Product](func(ctx context.Context, _ string) (*shop.Product, error) {
		return r.db.GetProduct(ctx, oid, sid, pid)
	}))
}

func (r *otterReader) Close() error {
	r.c.StopAllGoroutines()
	return nil
}

// cacheAsideReader is the pattern without singleflight: every caller that
// misses loads, and the last to finish stores its value.
type cacheAsideReader struct{ otterReader }

func newCacheAside(db *shop.DB, capacity int) (Reader, error) {
	c, err := newOtterCache(capacity)
	if err != nil {
		return nil, err
	}
	return &cacheAsideReader{otterReader{db: db, c: c}}, nil
}

func (r *cacheAsideReader) GetProduct(ctx context.Context, oid, sid, pid int64) (*shop.Product, error) {
	var buf [128]byte
	k := AppendKey(buf[:0], oid, sid, pid)
	if p, ok := r.c.GetIfPresent(view(k)); ok {
		return p, nil
	}
	p, err := r.db.GetProduct(ctx, oid, sid, pid)
	if err != nil {
		return nil, err
	}
	r.c.Set(string(k), p)
	return p, nil
}

// zoogenReader is the decorator zoogen generated for shop.ProductRepo.
type zoogenReader struct {
	*shop.CachedProductRepo
	c *zoo.Cache
}

func newZoogen(db *shop.DB, capacity int) (Reader, error) {
	var opts []zoo.Option
	if capacity != memstore.DefaultMaxEntries {
		s, err := memstore.New(memstore.WithMaxEntries(capacity))
		if err != nil {
			return nil, err
		}
		opts = append(opts, zoo.WithStore(s))
	}
	c, err := zoo.New(opts...)
	if err != nil {
		return nil, err
	}
	return &zoogenReader{CachedProductRepo: shop.NewCachedProductRepo(db, c), c: c}, nil
}

func (r *zoogenReader) Close() error { return r.c.Close() }

// sturdycShards is the number of shards of the sturdyc caches, as in
// sturdyc's README.
const sturdycShards = 10

// sturdycReader reads through a sturdyc client. GetOrFetch lets one caller
// per key fetch.
type sturdycReader struct {
	db     *shop.DB
	c      *sturdyc.Client[*shop.Product]
	direct bool // GetOrFetch on every read, without a Get first
}

func newSturdyc(db *shop.DB, capacity int, direct bool) *sturdycReader {
	// Without continuous evictions the client starts no goroutine, which
	// would otherwise outlive it: sturdyc has no Close. The eviction job
	// only matters once entries expire, after shop.TTL.
	c := sturdyc.New[*shop.Product](capacity, sturdycShards, shop.TTL, 10, sturdyc.WithNoContinuousEvictions())
	return &sturdycReader{db: db, c: c, direct: direct}
}

func (r *sturdycReader) GetProduct(ctx context.Context, oid, sid, pid int64) (*shop.Product, error) {
	var buf [128]byte
	k := AppendKey(buf[:0], oid, sid, pid)
	if !r.direct {
		if p, ok := r.c.Get(view(k)); ok {
			return p, nil
		}
	}
	return r.c.GetOrFetch(ctx, string(k), func(ctx context.Context) (*shop.Product, error) {
		return r.db.GetProduct(ctx, oid, sid, pid)
	})
}

func (r *sturdycReader) Close() error { return nil }

// goRedisReader reads through go-redis/cache with its local TinyLFU tier
// only (no Redis). The library stores values as MessagePack bytes, so every
// hit decodes a new *shop.Product. Once lets one caller per key load.
type goRedisReader struct {
	db     *shop.DB
	c      *rediscache.Cache
	direct bool // Once on every read, without a Get first
}

func newGoRedis(db *shop.DB, capacity int, direct bool) *goRedisReader {
	c := rediscache.New(&rediscache.Options{LocalCache: rediscache.NewTinyLFU(capacity, shop.TTL)})
	return &goRedisReader{db: db, c: c, direct: direct}
}

func (r *goRedisReader) GetProduct(ctx context.Context, oid, sid, pid int64) (*shop.Product, error) {
	var buf [128]byte
	k := AppendKey(buf[:0], oid, sid, pid)
	var p *shop.Product
	if !r.direct {
		// Without Redis, Get only reads the local tier, which does not
		// keep the key.
		err := r.c.Get(ctx, view(k), &p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, rediscache.ErrCacheMiss) {
			return nil, err
		}
	}
	err := r.c.Once(&rediscache.Item{
		Ctx:   ctx,
		Key:   string(k),
		Value: &p,
		TTL:   shop.TTL,
		Do: func(it *rediscache.Item) (any, error) {
			return r.db.GetProduct(it.Context(), oid, sid, pid)
		},
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (r *goRedisReader) Close() error { return nil }

// newRistretto returns eko/gocache on a ristretto store that holds up to
// capacity entries, tag lists included, and the ristretto cache below it
// for Close. Sets wait until ristretto has applied them: its writes are
// buffered, and gocache's tags read back the list they append to.
func newRistretto(capacity int) (*ristretto.Cache[string, any], *gocache.Cache[*shop.Product], error) {
	rc, err := ristretto.NewCache(&ristretto.Config[string, any]{
		NumCounters:        10 * int64(capacity), // ristretto's advice: ten counters an entry
		MaxCost:            int64(capacity),
		BufferItems:        64, // ristretto's advice
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("ristretto: %w", err)
	}
	st := ristrettostore.NewRistretto(rc,
		gocachestore.WithCost(1),
		gocachestore.WithExpiration(shop.TTL),
		gocachestore.WithSynchronousSet(),
	)
	return rc, gocache.New[*shop.Product](st), nil
}

// gocacheReader reads through eko/gocache's loadable cache on a ristretto
// store. The loadable cache lets one caller per key load, and stores what
// it loaded under the product's store tag, so that the store can be
// invalidated.
type gocacheReader struct {
	db     *shop.DB
	rc     *ristretto.Cache[string, any]
	c      *gocache.Cache[*shop.Product]
	l      *gocache.LoadableCache[*shop.Product]
	direct bool // the loadable cache's Get on every read, without a Get first
}

func newGocache(db *shop.DB, capacity int, direct bool) (*gocacheReader, error) {
	rc, c, err := newRistretto(capacity)
	if err != nil {
		return nil, err
	}
	r := &gocacheReader{db: db, rc: rc, c: c, direct: direct}
	r.l = gocache.NewLoadable[*shop.Product](r.load, c)
	return r, nil
}

// productKey is the loadable cache's key: the arguments its load function
// needs, and the cache key (gocache.CacheKeyGenerator).
type productKey struct {
	oid, sid, pid int64
	key           string
}

func (k productKey) GetCacheKey() string { return k.key }

func (r *gocacheReader) load(ctx context.Context, key any) (*shop.Product, []gocachestore.Option, error) {
	k := key.(productKey)
	p, err := r.db.GetProduct(ctx, k.oid, k.sid, k.pid)
	if err != nil {
		return nil, nil, err
	}
	return p, []gocachestore.Option{gocachestore.WithTags([]string{storeTag(k.oid, k.sid)})}, nil
}

func (r *gocacheReader) GetProduct(ctx context.Context, oid, sid, pid int64) (*shop.Product, error) {
	var buf [128]byte
	k := AppendKey(buf[:0], oid, sid, pid)
	if !r.direct {
		// gocache hands the key to ristretto, which hashes it and does
		// not keep it. A value of another type reads as nil.
		if p, err := r.c.Get(ctx, view(k)); err == nil && p != nil {
			return p, nil
		}
	}
	return r.l.Get(ctx, productKey{oid: oid, sid: sid, pid: pid, key: string(k)})
}

func (r *gocacheReader) Close() error {
	err := r.l.Close()
	r.rc.Close()
	return err
}
