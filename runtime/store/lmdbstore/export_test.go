package lmdbstore

import (
	"path/filepath"

	"github.com/PowerDNS/lmdb-go/lmdb"

	"github.com/zoogen/zoogen/runtime/store"
)

// WithLogLimit bounds the invalidation log to n records, for tests that
// make a store fall behind it.
func WithLogLimit(n uint64) Option { return func(c *config) { c.logLimit = n } }

// SetBootID makes Open see id as the running boot's id ("" for a system
// that does not tell) until restore is called.
func SetBootID(id string) (restore func()) {
	old := bootID
	bootID = func() string { return id }
	return func() { bootID = old }
}

// PutRaw stores val as it is where the entry of key is stored.
func (s *Store) PutRaw(key string, val []byte) error {
	lkey, _ := entryKey(nil, key, s.maxKey)
	return s.write(func(txn *lmdb.Txn) error { return txn.Put(s.entries, lkey, val, 0) })
}

// Fill stores n entries made by entry, batch entries per write
// transaction, without the checks of Set: a quick way to fill a file for
// benchmarks.
func (s *Store) Fill(n, batch int, entry func(i int) (string, *store.Entry)) error {
	for start := 0; start < n; start += batch {
		type kv struct{ lkey, val, ikey []byte }
		rows := make([]kv, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			key, e := entry(i)
			frame, err := s.codec.Encode(e)
			if err != nil {
				return err
			}
			lkey, hashed := entryKey(nil, key, s.maxKey)
			expMs := expiryMillis(e.Expires.UnixMilli(), e.Expires.IsZero())
			rows = append(rows, kv{lkey, encodeValue(key, hashed, expMs, frame), indexKey(nil, expMs, lkey)})
		}
		err := s.write(func(txn *lmdb.Txn) error {
			for _, r := range rows {
				if err := txn.Put(s.entries, r.lkey, r.val, 0); err != nil {
					return err
				}
				if err := txn.Put(s.expiry, r.ikey, nil, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// AppendRawLog appends val to the invalidation log as it is.
func (s *Store) AppendRawLog(val []byte) error {
	return s.write(func(txn *lmdb.Txn) error {
		b, err := txn.Get(s.meta, metaSeq)
		if err != nil && !isNotFound(err) {
			return err
		}
		seq := readU64(b) + 1
		if err := txn.Put(s.meta, metaSeq, u64(seq), 0); err != nil {
			return err
		}
		return txn.Put(s.log, u64(seq), val, 0)
	})
}

// PutHashed stores frame under the hashed entries key of key, as the entry
// of another key, other, whose SHA-256 would be the same.
func (s *Store) PutHashed(key, other string, frame []byte) error {
	lkey, hashed := entryKey(nil, key, s.maxKey)
	if !hashed {
		panic("PutHashed: a short key")
	}
	val := encodeValue(other, true, neverExpires, frame)
	return s.write(func(txn *lmdb.Txn) error { return txn.Put(s.entries, lkey, val, 0) })
}

// SlowChecks returns the number of Checks that read the file rather than
// answer from what the store remembers.
func (s *Store) SlowChecks() uint64 { return s.slowChecks.Load() }

// VerifyFile checks the data file in dir as Open does before mapping it.
func VerifyFile(dir string) error { return verifyFile(filepath.Join(dir, "data.mdb")) }
