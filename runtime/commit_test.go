package runtime_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	zoo "github.com/zoogen/zoogen/runtime"
)

// txWorld is a write inside a transaction, simulated: the repository's
// committed version moves only when the test commits, so that a reader
// between the write and the commit loads the old one.
type txWorld struct {
	c     *zoo.Cache
	get   *zoo.Method // the read, GetProduct(1, 2, 3)
	write *zoo.Method // the write, invalidating the product's tag
	r     *repo
	tag   string
}

func newTxWorld(t *testing.T, opts ...zoo.Option) *txWorld {
	c := newCache(t, opts...)
	return &txWorld{
		c:     c,
		get:   productMethod(c),
		write: c.Method(zoo.MethodSpec{Package: "example.com/shop", Interface: "ProductRepo", Method: "UpdateProduct"}),
		r:     &repo{},
		tag:   zoo.Tag("org", 1, "store", 2, "product", 3),
	}
}

func (w *txWorld) read(t *testing.T) int64 {
	t.Helper()
	p, err := w.r.getProduct(context.Background(), w.get, 1, 2, 3)
	require.NoError(t, err)
	return p.Version
}

// writeReadCommit is a transaction: the write invalidates, a reader loads
// the committed (old) version, then the transaction commits.
func (w *txWorld) writeReadCommit(t *testing.T, ctx context.Context) {
	w.write.Invalidate(ctx, w.tag)
	assert.Equal(t, int64(0), w.read(t), "the reader sees what was committed before")
	w.r.version.Add(1) // commit
}

func TestAfterCommitWithoutItAReaderBetweenWriteAndCommitIsServedStale(t *testing.T) {
	w := newTxWorld(t)
	w.read(t)
	w.writeReadCommit(t, context.Background())
	assert.Equal(t, int64(0), w.read(t), "stale until the TTL: the race AfterCommit closes")
}

func TestAfterCommitRepeatsTheInvalidations(t *testing.T) {
	w := newTxWorld(t)
	w.read(t)
	err := w.c.AfterCommit(context.Background(), func(ctx context.Context) error {
		w.writeReadCommit(t, ctx)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), w.read(t), "what was read before the commit is not served after AfterCommit")
	assert.Equal(t, int64(3), w.r.loads.Load())
}

// Both ways of invalidating are recorded, from goroutines fn starts too, and
// the repetition invalidates each tag once.
func TestAfterCommitRecordsEveryInvalidationOnceEach(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	w := newTxWorld(t, zoo.WithTracerProvider(tp))
	err := w.c.AfterCommit(context.Background(), func(ctx context.Context) error {
		w.write.Invalidate(ctx, "a", "b")
		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, w.c.Invalidate(ctx, "b", "c")) })
		wg.Wait()
		return w.c.Invalidate(ctx, "a")
	})
	require.NoError(t, err)
	spans := rec.Ended()
	require.Len(t, spans, 4, "three invalidations, then their repetition")
	assert.Equal(t, int64(3), attrs(spans[3])["zoo.tags"].AsInt64(), "a, b and c, once each")
	assert.Equal(t, uint64(4), w.c.Stats().Invalidations)
}

func TestAfterCommitRollbackRepeatsNothing(t *testing.T) {
	w := newTxWorld(t)
	w.read(t)
	rollback := errors.New("rolled back")
	err := w.c.AfterCommit(context.Background(), func(ctx context.Context) error {
		w.write.Invalidate(ctx, w.tag)
		w.read(t)
		return rollback
	})
	assert.Same(t, rollback, err, "fn's error as it is")
	assert.Equal(t, uint64(1), w.c.Stats().Invalidations, "nothing repeated")
	w.read(t)
	assert.Equal(t, int64(2), w.r.loads.Load(), "the early invalidation cost one miss; the row read after it is served")
}

func TestAfterCommitPanicRepeatsNothing(t *testing.T) {
	w := newTxWorld(t)
	assert.PanicsWithValue(t, "boom", func() {
		_ = w.c.AfterCommit(context.Background(), func(ctx context.Context) error {
			w.write.Invalidate(ctx, w.tag)
			panic("boom")
		})
	})
	assert.Equal(t, uint64(1), w.c.Stats().Invalidations)
}

func TestAfterCommitNestedJoinsTheOuterUnit(t *testing.T) {
	w := newTxWorld(t)
	w.read(t)
	err := w.c.AfterCommit(context.Background(), func(ctx context.Context) error {
		err := w.c.AfterCommit(ctx, func(ctx context.Context) error {
			w.writeReadCommit(t, ctx)
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, uint64(1), w.c.Stats().Invalidations, "not repeated at the inner end")
		assert.Equal(t, int64(0), w.read(t), "the outer unit has not ended")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), w.c.Stats().Invalidations, "repeated once, at the outer end")
	assert.Equal(t, int64(1), w.read(t))
}

// Units of two caches nest without joining: each repeats its own tags.
func TestAfterCommitOfAnotherCacheIsItsOwn(t *testing.T) {
	a, b := newTxWorld(t), newTxWorld(t)
	err := a.c.AfterCommit(context.Background(), func(ctx context.Context) error {
		return b.c.AfterCommit(ctx, func(ctx context.Context) error {
			a.write.Invalidate(ctx, "x")
			b.write.Invalidate(ctx, "y")
			return nil
		})
	})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), a.c.Stats().Invalidations)
	assert.Equal(t, uint64(2), b.c.Stats().Invalidations)
}

func TestAfterCommitReturnsTheRepetitionsError(t *testing.T) {
	w := newTxWorld(t)
	err := w.c.AfterCommit(context.Background(), func(ctx context.Context) error {
		w.write.Invalidate(ctx, w.tag)
		return w.c.Close()
	})
	require.ErrorIs(t, err, zoo.ErrClosed)
	assert.Regexp(t, "^zoo: ", err.Error())
}

// The repetition happens even if ctx ended with the commit.
func TestAfterCommitRepeatsAfterCancellation(t *testing.T) {
	w := newTxWorld(t)
	w.read(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := w.c.AfterCommit(ctx, func(ctx context.Context) error {
		w.writeReadCommit(t, ctx)
		cancel()
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), w.read(t))
}
