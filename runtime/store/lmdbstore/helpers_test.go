package lmdbstore_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/lmdbstore"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// open opens a store in dir, closed when the test ends unless the test
// closes it first.
func open(t testing.TB, dir string, opts ...lmdbstore.Option) *lmdbstore.Store {
	t.Helper()
	s, err := lmdbstore.Open(dir, append([]lmdbstore.Option{lmdbstore.WithLogger(quiet())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// events records what a store delivers to its cache.
type events struct {
	mu   sync.Mutex
	all  []store.Event
	ups  int
	up   bool
	seen chan struct{} // signalled on each event
}

func newEvents() *events { return &events{seen: make(chan struct{}, 1)} }

func (e *events) fn(ev store.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	switch ev.Kind {
	case store.EventUp:
		e.up = true
		e.ups++
	case store.EventDown:
		e.up = false
	}
	e.mu.Unlock()
	select {
	case e.seen <- struct{}{}:
	default:
	}
}

// upCount returns how many times the store reported EventUp.
func (e *events) upCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ups
}

func (e *events) snapshot() []store.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]store.Event(nil), e.all...)
}

// waitFor waits until cond holds of the events delivered so far.
func (e *events) waitFor(t testing.TB, cond func([]store.Event) bool, msg string) {
	t.Helper()
	eventually(t, 5*time.Second, func() bool { return cond(e.snapshot()) }, msg)
}

func eventually(t testing.TB, within time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(time.Millisecond)
	}
}

// entry returns an entry loaded as of asOf under tags, expiring in an hour.
func entry(value any, asOf hlc.Timestamp, tags ...string) *store.Entry {
	return &store.Entry{Value: value, AsOf: asOf, Expires: time.Now().Add(time.Hour), Tags: tags}
}

// db is a fake repository: every write bumps a row's version.
type db struct {
	mu       sync.Mutex
	versions map[int64]int64
	loads    atomic.Int64
}

func newDB() *db { return &db{versions: map[int64]int64{}} }

func (d *db) read(id int64) int64 {
	d.loads.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.versions[id]
}

func (d *db) write(id int64) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.versions[id]++
	return d.versions[id]
}

// instance is a cache on an LMDB store and the method it caches db reads
// through.
type instance struct {
	cache *zoo.Cache
	m     *zoo.Method
	db    *db
}

func newInstance(t testing.TB, s store.Store, d *db, opts ...zoo.Option) *instance {
	t.Helper()
	c, err := zoo.New(append([]zoo.Option{zoo.WithStore(s), zoo.WithNamespace("shop"), zoo.WithLogger(quiet())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &instance{cache: c, db: d, m: c.Method(zoo.MethodSpec{Package: "test", Interface: "Repo", Method: "Get"})}
}

func (in *instance) get(t testing.TB, id int64) int64 {
	t.Helper()
	v, err := zoo.Load(context.Background(), in.m, zoo.KeyInt(in.m.Key(nil), id), func(ctx context.Context) (int64, error) {
		zoo.AddDeps(ctx, zoo.Tag("org", 1, "item", id))
		return in.db.read(id), nil
	})
	require.NoError(t, err)
	return v
}

func (in *instance) key(id int64) string { return string(zoo.KeyInt(in.m.Key(nil), id)) }
