package lmdbstore

import (
	"bytes"
	"context"
	"time"

	"github.com/PowerDNS/lmdb-go/lmdb"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// nowLease is how far ahead of the wall clock Now records its bound when it
// must record one, so that the Now calls of the next milliseconds, in every
// process, need only a read transaction.
const nowLease = 10 // milliseconds

// Now returns a timestamp no earlier than any version recorded in the file:
// the asOf of a load about to start.
//
// The file is the clock every process agrees on. It records the latest
// timestamp Now may return (the lease), and Invalidate issues versions
// after it, so that a version is later than every asOf handed out before
// it, even if the wall clock steps back. Most calls find the wall clock
// within the lease and only read; one call in nowLease milliseconds
// extends it, in a short write transaction.
func (s *Store) Now(context.Context) (hlc.Timestamp, error) {
	var r hlc.Timestamp
	extend := false
	err := s.read(func(rt *rtxn) error {
		last, lease, err := clockOf(rt.lookup)
		if err != nil {
			return err
		}
		r = max(hlc.FromTime(time.Now()), last)
		extend = r > lease
		return nil
	})
	if err != nil || !extend {
		return r, wrap(err)
	}
	err = s.update(func(txn *lmdb.Txn) error {
		last, lease, err := clockOf(s.txnLookup(txn))
		if err != nil {
			return err
		}
		r = max(hlc.FromTime(time.Now()), last)
		if r <= lease {
			return nil
		}
		return txn.Put(s.meta, metaLease, u64(uint64(hlc.New(r.Wall()+nowLease, 0))), 0)
	})
	return r, err
}

// clockOf reads the last version issued and the lease with get (see
// rtxn.lookup).
func clockOf(get func(int, []byte) ([]byte, bool, error)) (last, lease hlc.Timestamp, err error) {
	b, _, err := get(curMeta, metaLast)
	if err != nil {
		return 0, 0, err
	}
	last = hlc.Timestamp(readU64(b))
	b, _, err = get(curMeta, metaLease)
	if err != nil {
		return 0, 0, err
	}
	return last, hlc.Timestamp(readU64(b)), nil
}

// Invalidate records tags as invalidated, in the namespace the store is
// attached to, at a version later than every timestamp Now has returned in
// any process and later than min, and appends the invalidation to the log
// that every attached store reads. It is one write transaction.
func (s *Store) Invalidate(_ context.Context, tags []string, min hlc.Timestamp) (hlc.Timestamp, error) {
	ns := s.ns.Load()
	var v hlc.Timestamp
	var buf []byte
	err := s.update(func(txn *lmdb.Txn) error {
		last, lease, err := clockOf(s.txnLookup(txn))
		if err != nil {
			return err
		}
		v = max(last+1, lease+1, hlc.FromTime(time.Now()), min+1)
		s.changed()
		if err := txn.Put(s.meta, metaLast, u64(uint64(v)), 0); err != nil {
			return err
		}
		if err := txn.Put(s.meta, metaLease, u64(uint64(v)), 0); err != nil {
			return err
		}
		for _, tag := range tags {
			vkey, full := versionKey(buf[:0], ns.prefix, tag, s.maxKey)
			buf = vkey[:0]
			old, err := txn.Get(s.versions, vkey)
			if err == nil && len(old) >= 8 && readVersion(old) >= v {
				continue
			}
			if err != nil && !isNotFound(err) {
				return err
			}
			if err := txn.Put(s.versions, vkey, versionValue(v, full), 0); err != nil {
				return err
			}
		}
		if len(tags) == 0 {
			return nil // an empty record would read as a horizon
		}
		return s.appendLog(txn, ns.name, v, tags)
	})
	return v, err
}

// appendLog appends an invalidation to the log, and trims the log's oldest
// records beyond its bound.
func (s *Store) appendLog(txn *lmdb.Txn, ns string, v hlc.Timestamp, tags []string) error {
	rec, err := encodeRecord(ns, v, tags)
	if err != nil {
		return err
	}
	b, err := txn.Get(s.meta, metaSeq)
	if err != nil && !isNotFound(err) {
		return err
	}
	seq := readU64(b) + 1
	if err := txn.Put(s.meta, metaSeq, u64(seq), 0); err != nil {
		return err
	}
	if err := txn.Put(s.log, u64(seq), rec, lmdb.Append); err != nil {
		return err
	}
	return s.trimLog(txn, seq, s.cfg.logLimit, 4)
}

// trimLog deletes up to n of the oldest log records, those that leave more
// than keep records up to seq.
func (s *Store) trimLog(txn *lmdb.Txn, seq, keep uint64, n int) error {
	if seq <= keep {
		return nil
	}
	cur, err := txn.OpenCursor(s.log)
	if err != nil {
		return err
	}
	defer cur.Close()
	for range n {
		k, _, err := cur.Get(nil, nil, lmdb.First)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if readU64(k) > seq-keep {
			return nil
		}
		if err := cur.Del(0); err != nil {
			return err
		}
	}
	return nil
}

// pruneBatch is how many versions one write transaction of Prune examines.
const pruneBatch = 1000

// Prune raises the namespace's horizon to maxAge before now, so that
// entries loaded before it count as stale, and forgets the versions older
// than the horizon, in short write transactions.
func (s *Store) Prune(ctx context.Context, maxAge time.Duration) error {
	ns := s.ns.Load()
	h := hlc.FromTime(time.Now().Add(-maxAge))
	err := s.update(func(txn *lmdb.Txn) error {
		old, err := txn.Get(s.meta, ns.horizon)
		if err != nil && !isNotFound(err) {
			return err
		}
		if old := hlc.Timestamp(readU64(old)); old >= h {
			h = old
			return nil
		}
		s.changed()
		return txn.Put(s.meta, ns.horizon, u64(uint64(h)), 0)
	})
	if err != nil {
		return err
	}
	// The versions of the namespace, then the hashed versions of every
	// namespace (whose keys do not say which).
	for _, pfx := range [][]byte{ns.prefix, {keyHashed}} {
		from := pfx
		for from != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := s.update(func(txn *lmdb.Txn) error {
				var err error
				from, err = s.forget(txn, ns, pfx, from, h)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// forget deletes, among up to pruneBatch version records under prefix pfx
// from key from on, those of ns older than h. It returns the key to go on
// from, or nil at the end.
func (s *Store) forget(txn *lmdb.Txn, ns *namespace, pfx, from []byte, h hlc.Timestamp) ([]byte, error) {
	cur, err := txn.OpenCursor(s.versions)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	k, v, err := cur.Get(from, nil, lmdb.SetRange)
	for range pruneBatch {
		if isNotFound(err) || err == nil && !bytes.HasPrefix(k, pfx) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		mine := pfx[0] != keyHashed || len(v) >= 8 && bytes.HasPrefix(v[8:], ns.prefix)
		if mine && readVersion(v) < h {
			if err := cur.Del(0); err != nil {
				return nil, err
			}
		}
		k, v, err = cur.Get(nil, nil, lmdb.Next)
	}
	if isNotFound(err) || err == nil && !bytes.HasPrefix(k, pfx) {
		return nil, nil
	}
	return bytes.Clone(k), err
}
