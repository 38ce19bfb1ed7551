package runtime_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

// byteStore keeps entries as codec bytes, as the LMDB and Redis stores do.
type byteStore struct {
	mu    sync.Mutex
	codec codec.Codec
	data  map[string][]byte
}

func newByteStore() *byteStore { return &byteStore{data: map[string][]byte{}} }

func (s *byteStore) Get(_ context.Context, key string) (*store.Entry, error) {
	s.mu.Lock()
	b, ok := s.data[key]
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return s.codec.Decode(b)
}

func (s *byteStore) Set(_ context.Context, key string, e *store.Entry) error {
	b, err := s.codec.Encode(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.data[key] = b
	s.mu.Unlock()
	return nil
}

func (s *byteStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.data, key)
	s.mu.Unlock()
	return nil
}

func (s *byteStore) Close() error { return nil }

func (s *byteStore) corrupt(value []byte) {
	s.mu.Lock()
	for k := range s.data {
		s.data[k] = value
	}
	s.mu.Unlock()
}

func TestByteStoreValuesAreDecoded(t *testing.T) {
	ctx := context.Background()
	bs := newByteStore()
	c := newCache(t, zoo.WithStore(bs))
	m := productMethod(c)
	r := &repo{}
	r.version.Store(7)
	p, err := r.getProduct(ctx, m, 1, 2, 3)
	require.NoError(t, err)
	p2, err := r.getProduct(ctx, m, 1, 2, 3)
	require.NoError(t, err)
	assert.Equal(t, p, p2)
	assert.Equal(t, product{ID: 3, Version: 7}, p2)
	assert.Equal(t, int64(1), r.loads.Load(), "the second read decoded the stored bytes")

	require.NoError(t, c.Invalidate(ctx, "org:1"))
	_, err = r.getProduct(ctx, m, 1, 2, 3)
	require.NoError(t, err)
	assert.Equal(t, int64(2), r.loads.Load(), "tags travel with the bytes")
}

func TestCorruptBytesAreAMissAndALogLine(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	bs := newByteStore()
	c := newCache(t, zoo.WithStore(bs), zoo.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	m := productMethod(c)
	r := &repo{}
	_, err := r.getProduct(ctx, m, 1, 2, 3)
	require.NoError(t, err)

	for _, garbage := range [][]byte{nil, []byte("zo"), []byte("not an entry at all"), {'z', 'o', 1, 0, 0x94, 0xc1}} {
		bs.corrupt(garbage)
		p, err := r.getProduct(ctx, m, 1, 2, 3)
		require.NoError(t, err, "corrupt bytes never reach the caller as an error")
		assert.Equal(t, int64(3), p.ID)
	}
	assert.Equal(t, int64(5), r.loads.Load(), "each corrupt read was a miss")
	assert.Contains(t, logs.String(), "corrupt entry")

	// A valid frame whose value is not a product decodes into nothing.
	other := c.Method(zoo.MethodSpec{Interface: "R", Method: "Other"})
	_, err = zoo.Load(ctx, other, other.Key(nil), func(context.Context) (string, error) { return "text", nil })
	require.NoError(t, err)
	b := bs.data[string(other.Key(nil))]
	bs.corrupt(b)
	_, err = r.getProduct(ctx, m, 1, 2, 3)
	require.NoError(t, err)
	assert.Equal(t, int64(6), r.loads.Load())
	assert.Contains(t, logs.String(), "does not decode")
}
