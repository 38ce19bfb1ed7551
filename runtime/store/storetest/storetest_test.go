package storetest_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/storetest"
)

// The suite checks itself against two minimal stores: one that keeps Go
// values, as memstore does, and one that keeps bytes and returns values to
// be decoded, as the LMDB and Redis stores do (with JSON standing in for
// their MessagePack).

func TestValueStore(t *testing.T) {
	t.Parallel() // the suite keeps no package state
	storetest.Run(t, func(t *testing.T) store.Store { return newMapStore(false) })
}

func TestByteStore(t *testing.T) {
	t.Parallel() // the suite keeps no package state
	storetest.Run(t, func(t *testing.T) store.Store { return newMapStore(true) })
}

// raw is a stored value in a byte store, as codec.Raw is.
type raw []byte

func (r raw) Decode(v any) error { return json.Unmarshal(r, v) }

// record is an entry as the byte store keeps it: times in milliseconds.
type record struct {
	Value   []byte
	AsOf    hlc.Timestamp
	Expires int64
	Tags    []string
}

type mapStore struct {
	bytes  bool // keep bytes, not entries
	mu     sync.Mutex
	closed bool
	m      map[string]any // *store.Entry or []byte
}

func newMapStore(bytes bool) *mapStore { return &mapStore{bytes: bytes, m: map[string]any{}} }

func (s *mapStore) Get(_ context.Context, key string) (*store.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	v, ok := s.m[key]
	if !ok {
		return nil, nil
	}
	e, ok := v.(*store.Entry)
	if !ok {
		var r record
		if err := gob.NewDecoder(bytes.NewReader(v.([]byte))).Decode(&r); err != nil {
			return nil, err
		}
		e = &store.Entry{Value: raw(r.Value), AsOf: r.AsOf, Tags: r.Tags}
		if r.Expires != 0 {
			e.Expires = time.UnixMilli(r.Expires)
		}
	}
	if e.Expired(time.Now()) {
		delete(s.m, key)
		return nil, nil
	}
	return e, nil
}

func (s *mapStore) Set(_ context.Context, key string, e *store.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	if !s.bytes {
		s.m[key] = e
		return nil
	}
	value, err := json.Marshal(e.Value)
	if err != nil {
		return err
	}
	r := record{Value: value, AsOf: e.AsOf, Tags: e.Tags}
	if !e.Expires.IsZero() {
		r.Expires = e.Expires.UnixMilli()
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(r); err != nil {
		return err
	}
	s.m[strings.Clone(key)] = b.Bytes()
	return nil
}

func (s *mapStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	delete(s.m, key)
	return nil
}

func (s *mapStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.m = nil
	return nil
}
