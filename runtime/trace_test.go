package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	zoo "github.com/zoogen/zoogen/runtime"
)

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

func TestSpans(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := newCache(t, zoo.WithTracerProvider(tp))
	m := productMethod(c)
	r := &repo{}

	parentCtx, parent := tp.Tracer("test").Start(ctx, "request")
	_, err := r.getProduct(parentCtx, m, 1, 2, 3) // a miss: one load span
	require.NoError(t, err)
	_, err = r.getProduct(parentCtx, m, 1, 2, 3) // a hit: no span
	require.NoError(t, err)
	require.NoError(t, c.Invalidate(parentCtx, "org:1", "org:2"))
	parent.End()

	spans := rec.Ended()
	require.Len(t, spans, 3, "load, invalidate, request: no span for the hit")
	load, inv := spans[0], spans[1]
	assert.Equal(t, "zoo.load", load.Name())
	assert.Equal(t, parent.SpanContext().SpanID(), load.Parent().SpanID(), "the load is a child of the caller's span")
	a := attrs(load)
	assert.Equal(t, false, a["zoo.hit"].AsBool())
	assert.Equal(t, int64(1), a["zoo.tags"].AsInt64())
	assert.Equal(t, true, a["zoo.stored"].AsBool())
	assert.Equal(t, "GetProduct", a["zoo.method"].AsString())
	assert.Equal(t, "ProductRepo", a["zoo.interface"].AsString())
	assert.Equal(t, "zoo.invalidate", inv.Name())
	assert.Equal(t, int64(2), attrs(inv)["zoo.tags"].AsInt64())

	// A failed load records the error; hit spans come only when asked for.
	_, err = zoo.Load(ctx, m, zoo.KeyInt(m.Key(nil), 99), func(context.Context) (product, error) {
		return product{}, errors.New("db down")
	})
	require.Error(t, err)
	failed := rec.Ended()[3]
	assert.Equal(t, codes.Error, failed.Status().Code)

	hc := newCache(t, zoo.WithTracerProvider(tp), zoo.WithHitSpans(true))
	hm := productMethod(hc)
	_, _ = r.getProduct(ctx, hm, 1, 2, 3)
	_, _ = r.getProduct(ctx, hm, 1, 2, 3)
	last := rec.Ended()[len(rec.Ended())-1]
	assert.Equal(t, "zoo.hit", last.Name())
	assert.Equal(t, true, attrs(last)["zoo.hit"].AsBool())
}
