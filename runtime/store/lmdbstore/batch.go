package lmdbstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zoogen/zoogen/runtime/store"
)

var (
	_ store.Batcher      = (*Store)(nil)
	_ store.FreshBatcher = (*Store)(nil)
)

// GetMany is [Store.Get] for each of keys, in one read transaction: every
// entry is read and checked against the versions of one snapshot. Entries
// that do not decode are nil, counted, logged and deleted later, and the
// error returned with the others wraps store.ErrCorrupt.
func (s *Store) GetMany(_ context.Context, keys []string) ([]*store.Entry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	now := time.Now()
	ns := s.ns.Load()
	entries := make([]*store.Entry, len(keys))
	type bad struct {
		lkey []byte
		key  string
		err  error
	}
	var bads []bad
	err := s.read(func(r *rtxn) error {
		bads = bads[:0] // a read retried after a remap starts again
		clear(entries)
		for i, key := range keys {
			lkey, hashed, val, err := s.entryIn(r, key)
			if err != nil {
				return err
			}
			if val == nil {
				continue
			}
			e, corrupt := s.decodeEntry(val, key, hashed, now, false)
			if corrupt != nil {
				bads = append(bads, bad{bytes.Clone(lkey), key, corrupt})
				continue
			}
			if e == nil {
				continue
			}
			stale, err := s.checkVersions(r.lookup, &r.buf, ns, e, true)
			if err != nil {
				return err
			}
			if !stale {
				entries[i] = e
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap(err)
	}
	var corrupt error
	for _, b := range bads {
		s.noteCorrupt(b.lkey, b.key, b.err)
		corrupt = errors.Join(corrupt, fmt.Errorf("zoo: lmdbstore: %w", b.err))
	}
	return entries, corrupt
}

// GetFreshMany is [Store.GetMany]: every read is checked against the
// versions in the file.
func (s *Store) GetFreshMany(ctx context.Context, keys []string) ([]*store.Entry, error) {
	return s.GetMany(ctx, keys)
}
