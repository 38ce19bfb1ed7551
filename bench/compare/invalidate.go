package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dgraph-io/ristretto/v2"
	gocache "github.com/eko/gocache/lib/v4/cache"
	gocachestore "github.com/eko/gocache/lib/v4/store"
	"github.com/maypok86/otter/v2"
	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store/memstore"

	"github.com/zoogen/zoogen/bench/shop"
)

// Invalidator is a cache that holds products and can drop every product of
// one store. Each is safe for concurrent use; Close releases its cache.
type Invalidator interface {
	// Fill caches n products of organisation 1: product i is product
	// i%PerStore of store i/PerStore.
	Fill(ctx context.Context, n int) error
	// InvalidateStore drops, or makes stale, every cached product of store
	// (oid, sid).
	InvalidateStore(ctx context.Context, oid, sid int64) error
	// Cached reports whether product (oid, sid, pid) would be served from
	// the cache. It changes nothing.
	Cached(ctx context.Context, oid, sid, pid int64) (bool, error)
	io.Closer
}

// restorer is an [Invalidator] whose InvalidateStore deletes entries.
type restorer interface {
	// Restore puts back what InvalidateStore(ctx, oid, sid) deleted, so
	// that the next InvalidateStore has as much to do as the first.
	Restore(ctx context.Context, oid, sid int64) error
}

// InvalidatorContender is one library set up as an [Invalidator].
type InvalidatorContender struct {
	// Name names the contender in benchmark names and in BENCHMARKS.md.
	Name string
	// Does says, for BENCHMARKS.md, what invalidating a store does.
	Does string
	// New returns an Invalidator that holds up to capacity products.
	New func(capacity int) (Invalidator, error)
}

// Invalidators are the contenders of the invalidation benchmark: the two
// libraries with tags, and otter without them.
var Invalidators = []InvalidatorContender{
	{"zoogen", "`Invalidate(ctx, \"org:1:store:0\")` stamps one trie node, O(depth); entries are found stale when next read", newZoogenInvalidator},
	{"gocache", "`Invalidate` with `WithInvalidateTags`: reads the tag's key list and deletes each key, O(entries under the tag)", newGocacheInvalidator},
	{"otter-scan", "walks `Keys()` and deletes the keys with the store's prefix, O(entries cached)", newOtterScan},
}

// product returns the i-th product Fill caches.
func product(i int) (oid, sid, pid int64) {
	return 1, int64(i / PerStore), int64(i % PerStore)
}

// zoogenInvalidator fills the cache through the generated decorator, which
// stores each product under "org:<oid>:store:<sid>:product:<pid>";
// InvalidateStore invalidates "org:<oid>:store:<sid>": one trie node is
// stamped, and the store's entries are found stale when next read. It is no
// restorer: it deletes nothing, and the next invalidation stamps the same
// node whether or not the store's products were read again.
type zoogenInvalidator struct {
	db   *shop.DB
	c    *zoo.Cache
	repo *shop.CachedProductRepo
	m    *zoo.Method
}

func newZoogenInvalidator(capacity int) (Invalidator, error) {
	s, err := memstore.New(memstore.WithMaxEntries(capacity))
	if err != nil {
		return nil, err
	}
	c, err := zoo.New(zoo.WithStore(s))
	if err != nil {
		return nil, err
	}
	db := &shop.DB{}
	return &zoogenInvalidator{db: db, c: c, repo: shop.NewCachedProductRepo(db, c), m: c.Method(productSpec)}, nil
}

func (z *zoogenInvalidator) Fill(ctx context.Context, n int) error {
	for i := range n {
		oid, sid, pid := product(i)
		if _, err := z.repo.GetProduct(ctx, oid, sid, pid); err != nil {
			return err
		}
	}
	return nil
}

func (z *zoogenInvalidator) InvalidateStore(ctx context.Context, oid, sid int64) error {
	return z.c.Invalidate(ctx, storeTag(oid, sid))
}

func (z *zoogenInvalidator) Cached(ctx context.Context, oid, sid, pid int64) (bool, error) {
	var buf [128]byte
	_, ok := zoo.Lookup[*shop.Product](ctx, z.m, AppendKey(buf[:0], oid, sid, pid))
	return ok, nil
}

func (z *zoogenInvalidator) Close() error { return z.c.Close() }

// gocacheInvalidator sets each product with its store's tag; InvalidateStore
// invalidates the tag, which deletes every key listed under it.
type gocacheInvalidator struct {
	db *shop.DB
	rc *ristretto.Cache[string, any]
	c  *gocache.Cache[*shop.Product]
}

func newGocacheInvalidator(capacity int) (Invalidator, error) {
	// The tag lists take one entry a store.
	rc, c, err := newRistretto(capacity + capacity/PerStore + 1)
	if err != nil {
		return nil, err
	}
	return &gocacheInvalidator{db: &shop.DB{}, rc: rc, c: c}, nil
}

func (g *gocacheInvalidator) Fill(ctx context.Context, n int) error {
	var buf [128]byte
	for i := range n {
		oid, sid, pid := product(i)
		p, err := g.db.GetProduct(ctx, oid, sid, pid)
		if err != nil {
			return err
		}
		key := string(AppendKey(buf[:0], oid, sid, pid))
		if err := g.c.Set(ctx, key, p, gocachestore.WithTags([]string{storeTag(oid, sid)})); err != nil {
			return err
		}
	}
	return nil
}

func (g *gocacheInvalidator) InvalidateStore(ctx context.Context, oid, sid int64) error {
	return g.c.Invalidate(ctx, gocachestore.WithInvalidateTags([]string{storeTag(oid, sid)}))
}

// Restore sets the store's products again, straight into ristretto: the
// tag's key list survives Invalidate, so it still names them, and going
// through gocache would wait for ristretto after every key.
func (g *gocacheInvalidator) Restore(ctx context.Context, oid, sid int64) error {
	var buf [128]byte
	for pid := range int64(PerStore) {
		p, err := g.db.GetProduct(ctx, oid, sid, pid)
		if err != nil {
			return err
		}
		if !g.rc.SetWithTTL(string(AppendKey(buf[:0], oid, sid, pid)), p, 1, shop.TTL) {
			return fmt.Errorf("ristretto dropped product %d of store %d", pid, sid)
		}
	}
	g.rc.Wait()
	return nil
}

func (g *gocacheInvalidator) Cached(ctx context.Context, oid, sid, pid int64) (bool, error) {
	var buf [128]byte
	p, err := g.c.Get(ctx, view(AppendKey(buf[:0], oid, sid, pid)))
	var nf *gocachestore.NotFound
	if errors.As(err, &nf) {
		return false, nil
	}
	return p != nil, err
}

func (g *gocacheInvalidator) Close() error {
	g.rc.Close()
	return nil
}

// otterScan is what a user of a cache without tags does: InvalidateStore
// walks every key and deletes those that start with the store's prefix.
type otterScan struct {
	db *shop.DB
	c  *otter.Cache[string, *shop.Product]
}

func newOtterScan(capacity int) (Invalidator, error) {
	c, err := newOtterCache(capacity)
	if err != nil {
		return nil, err
	}
	return &otterScan{db: &shop.DB{}, c: c}, nil
}

func (o *otterScan) Fill(ctx context.Context, n int) error {
	var buf [128]byte
	for i := range n {
		oid, sid, pid := product(i)
		p, err := o.db.GetProduct(ctx, oid, sid, pid)
		if err != nil {
			return err
		}
		o.c.Set(string(AppendKey(buf[:0], oid, sid, pid)), p)
	}
	return nil
}

func (o *otterScan) InvalidateStore(_ context.Context, oid, sid int64) error {
	var buf [128]byte
	prefix := view(appendStorePrefix(buf[:0], oid, sid))
	for k := range o.c.Keys() {
		if strings.HasPrefix(k, prefix) {
			o.c.Invalidate(k)
		}
	}
	return nil
}

// Restore sets the store's products again.
func (o *otterScan) Restore(ctx context.Context, oid, sid int64) error {
	var buf [128]byte
	for pid := range int64(PerStore) {
		p, err := o.db.GetProduct(ctx, oid, sid, pid)
		if err != nil {
			return err
		}
		o.c.Set(string(AppendKey(buf[:0], oid, sid, pid)), p)
	}
	return nil
}

func (o *otterScan) Cached(_ context.Context, oid, sid, pid int64) (bool, error) {
	var buf [128]byte
	_, ok := o.c.GetIfPresent(view(AppendKey(buf[:0], oid, sid, pid)))
	return ok, nil
}

func (o *otterScan) Close() error {
	o.c.StopAllGoroutines()
	return nil
}
