package batchtest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	zoo "github.com/zoogen/zoogen/runtime"
)

// A batch's load span says how many elements it asked for, found and
// stored; its hit span how many elements the cache served.
func TestSpans(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c, _ := newCache(t, zoo.WithTracerProvider(tp), zoo.WithHitSpans(true))
	r := NewCachedProducts(&Repo{Size: 3}, c)
	if _, err := r.GetProducts(ctx, 1, ids(1, 2, 9)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetProducts(ctx, 1, ids(2, 1, 3)); err != nil {
		t.Fatal(err)
	}
	type span struct {
		name string
		a    map[attribute.Key]int64
	}
	var got []span
	for _, s := range rec.Ended() {
		a := map[attribute.Key]int64{}
		for _, kv := range s.Attributes() {
			if kv.Value.Type() == attribute.INT64 {
				a[kv.Key] = kv.Value.AsInt64()
			}
		}
		got = append(got, span{s.Name(), a})
	}
	want := []span{
		{"zoo.load", map[attribute.Key]int64{"zoo.elements_loaded": 3, "zoo.elements_found": 2, "zoo.elements_stored": 2}},
		{"zoo.hit", map[attribute.Key]int64{"zoo.elements_hit": 2}},
		{"zoo.load", map[attribute.Key]int64{"zoo.elements_loaded": 1, "zoo.elements_found": 1, "zoo.elements_stored": 1}},
	}
	if len(got) != len(want) {
		t.Fatalf("spans %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].name != want[i].name {
			t.Fatalf("span %d is %s, want %s", i, got[i].name, want[i].name)
		}
		for k, v := range want[i].a {
			if got[i].a[k] != v {
				t.Errorf("span %d (%s): %s = %d, want %d", i, got[i].name, k, got[i].a[k], v)
			}
		}
	}
}
