package lmdbstore

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"sync"
	"time"

	"github.com/PowerDNS/lmdb-go/lmdb"
)

// Space management. Expired entries are deleted by a reaper goroutine, in
// short write transactions. Every write transaction measures the pages in
// use; a write that finds them over highWater of the map first evicts
// entries, those that expire first first, until they are under lowWater.
// The headroom matters: deleting takes free pages too (LMDB copies the
// pages it changes), and the pages freed lately are not free for as long
// as a reader's snapshot holds them. A write that finds the map full all
// the same evicts a batch itself and retries.
const (
	highWater = 0.85
	lowWater  = 0.75

	reapBatch  = 500 // entries deleted per write transaction
	evictBatch = 128 // entries evicted per write transaction
	minEvict   = 8   // the fewest entries an eviction deletes

	readerCheckEvery = 10 * time.Second
	maxBadKeys       = 1024

	// How long an eviction that finds no free page waits, at most, for
	// the readers that hold the freed ones, and how long at first.
	maxPinWait = 250 * time.Millisecond
	minPinWait = 100 * time.Microsecond
)

// reapLoop deletes expired entries, evicts when space runs low, clears the
// read slots of dead processes and deletes undecodable values, until the
// store closes.
func (s *Store) reapLoop() {
	t := time.NewTicker(s.cfg.reap)
	defer t.Stop()
	lastCheck := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if time.Since(lastCheck) >= readerCheckEvery {
			lastCheck = time.Now()
			if n, err := s.env.ReaderCheck(); err == nil && n > 0 {
				s.cfg.logger.Info("zoo: lmdbstore: released the read slots of dead processes", slog.Int("slots", n))
			}
		}
		s.reap()
		if s.overHighWater() {
			s.keepRoom()
		}
		s.deleteBad()
	}
}

// reap deletes the expired entries, unless another process has just done
// so.
func (s *Store) reap() {
	now := uint64(max(time.Now().UnixMilli(), 0))
	recent := false
	_ = s.read(func(r *rtxn) error {
		b, err := r.txn.Get(s.meta, metaReaped)
		recent = err == nil && readU64(b)+uint64(s.cfg.reap.Milliseconds()/2) > now
		return nil
	})
	if recent {
		return
	}
	for first := true; ; first = false {
		select {
		case <-s.stop:
			return
		default:
		}
		n := 0
		err := s.write(func(txn *lmdb.Txn) error {
			if first {
				if err := txn.Put(s.meta, metaReaped, u64(now), 0); err != nil {
					return err
				}
			}
			var err error
			n, err = s.deleteOldest(txn, reapBatch, now)
			return err
		})
		if err != nil {
			if !isMapFull(err) {
				s.logs.Warn("zoo: lmdbstore: deleting expired entries failed", slog.String("error", err.Error()))
			}
			return
		}
		s.reaped.Add(uint64(n))
		if n < reapBatch {
			return
		}
	}
}

// deleteOldest deletes up to n entries from the front of the expiry
// index, those that expire by until only, and returns how many entries it
// deleted. Index records whose entry has since been overwritten or deleted
// are dropped on the way.
func (s *Store) deleteOldest(txn *lmdb.Txn, n int, until uint64) (int, error) {
	cur, err := txn.OpenCursor(s.expiry)
	if err != nil {
		return 0, err
	}
	defer cur.Close()
	deleted := 0
	for range n {
		k, _, err := cur.Get(nil, nil, lmdb.First)
		if isNotFound(err) {
			break
		}
		if err != nil {
			return deleted, err
		}
		if len(k) < 8 {
			if err := cur.Del(0); err != nil {
				return deleted, err
			}
			continue
		}
		expMs := binary.BigEndian.Uint64(k)
		if expMs > until {
			break
		}
		lkey := bytes.Clone(k[8:])
		if err := cur.Del(0); err != nil {
			return deleted, err
		}
		val, err := txn.Get(s.entries, lkey)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return deleted, err
		}
		if got, _, _, err := parseValue(val); err == nil && got != expMs {
			continue // overwritten since: its own record is further on
		}
		if err := txn.Del(s.entries, lkey, nil); err != nil {
			return deleted, err
		}
		s.changed()
		deleted++
	}
	return deleted, nil
}

// measure records the pages in use and the entries, as txn sees them.
func (s *Store) measure(txn *lmdb.Txn) {
	pages := uint64(2) // the meta pages
	for _, dbi := range []lmdb.DBI{s.entries, s.expiry, s.versions, s.meta, s.log, s.root, freeDBI} {
		st, err := txn.Stat(dbi)
		if err != nil {
			return
		}
		pages += st.BranchPages + st.LeafPages + st.OverflowPages
		if dbi == s.entries {
			s.nentries.Store(int64(st.Entries))
		}
	}
	s.used.Store(int64(pages) * s.psize)
}

// overHighWater reports whether the pages in use, as last measured, are
// over the high-water mark.
func (s *Store) overHighWater() bool {
	return float64(s.used.Load()) > highWater*float64(s.mapBytes.Load())
}

// keepRoom evicts entries while the pages in use are over highWater of the
// map, until they are under lowWater. Writers that find the map over the
// mark meanwhile wait for it.
func (s *Store) keepRoom() {
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	if !s.overHighWater() {
		return // another writer has just made room
	}
	target := int64(lowWater * float64(s.mapBytes.Load()))
	before := s.used.Load()
	evicted := 0
	for used := before; used > target; used = s.used.Load() {
		entries := s.nentries.Load()
		if entries == 0 {
			break
		}
		// Entries take roughly equal shares of the pages in use.
		want := max(minEvict, int(float64(entries)*float64(used-target)/float64(used))+1)
		n, ok := s.evict(want)
		evicted += n
		if !ok || n == 0 {
			break
		}
	}
	if evicted > 0 {
		s.logs.Info("zoo: lmdbstore: the map was nearly full; evicted the entries that expire first",
			slog.Int("evicted", evicted), slog.Int64("used_bytes_before", before), slog.Int64("used_bytes", s.used.Load()),
			slog.Int64("map_size", s.mapBytes.Load()))
	}
}

// makeRoom is called by a write that found the map full, in its round-th
// attempt. Unless another write evicted since gen, it evicts a batch of
// entries (more in later rounds); with no entries left, it trims the
// invalidation log. From the second round on it first waits a little, for
// the readers that may hold the pages freed last. It reports whether the
// write may try again, and whether it found anything to delete.
func (s *Store) makeRoom(gen uint64, round int) (retry, deleted bool) {
	if round > 0 {
		time.Sleep(minPinWait << min(round, 6))
	}
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	if s.evictGen.Load() != gen {
		return true, true // another write has just made room
	}
	want := max(minEvict, int(s.nentries.Load()/8)) << min(round, 3)
	n, ok := s.evict(want)
	deleted = n > 0
	if !deleted {
		deleted = s.trimLogHalf()
		// Nothing is left to delete, yet the map is full: the pages freed
		// last are not free to reuse until a later transaction commits
		// (LMDB keeps the previous snapshot whole), or a reader still
		// holds them. Commit one so that the next attempt may reuse them.
		ok = deleted || s.nudge() == nil
	}
	s.logs.Warn("zoo: lmdbstore: the map was full; evicted the entries that expire first",
		slog.Int("evicted", n), slog.Int64("map_size", s.mapBytes.Load()))
	return ok, deleted
}

// nudge commits a write transaction that changes nothing (it puts the
// format record back as it is), so that the pages the transactions before
// it freed become free to reuse.
func (s *Store) nudge() error {
	return s.write(func(txn *lmdb.Txn) error {
		b, err := txn.Get(s.meta, metaFormat)
		if err != nil {
			return err
		}
		return txn.Put(s.meta, metaFormat, bytes.Clone(b), 0)
	})
}

// evict deletes up to n entries, those that expire first, in batches of
// evictBatch. It reports how many it deleted and whether it deleted all it
// wanted, or the index ran out.
func (s *Store) evict(n int) (int, bool) {
	defer s.evictGen.Add(1)
	deleted, batch := 0, evictBatch
	var waited time.Duration
	wait := minPinWait
	for deleted < n {
		var got int
		err := s.write(func(txn *lmdb.Txn) error {
			var err error
			got, err = s.deleteOldest(txn, min(batch, n-deleted), neverExpires)
			return err
		})
		switch {
		case isMapFull(err) && batch > 1:
			batch = max(1, batch/4) // deleting takes pages too: fewer at a time
			continue
		case isMapFull(err) && waited < maxPinWait:
			// Not even one deletion finds a free page: those freed lately
			// are still in the snapshot of a reader, this process's or
			// another's. Readers are short: wait for it to move on.
			time.Sleep(wait)
			waited += wait
			wait = min(2*wait, 5*time.Millisecond)
			continue
		case err != nil:
			if !isMapFull(err) {
				s.logs.Warn("zoo: lmdbstore: evicting entries failed", slog.String("error", err.Error()))
			}
			s.evicted.Add(uint64(deleted))
			return deleted, false
		}
		deleted += got
		if got == 0 {
			break
		}
		batch = min(evictBatch, batch*2)
	}
	s.evicted.Add(uint64(deleted))
	return deleted, true
}

// trimLogHalf deletes the older half of the invalidation log: a store that
// has not read those records yet reads every version instead. It reports
// whether it deleted any.
func (s *Store) trimLogHalf() bool {
	deleted := false
	for batch := 1000; batch >= 1; batch /= 10 {
		err := s.write(func(txn *lmdb.Txn) error {
			st, err := txn.Stat(s.log)
			if err != nil || st.Entries < 2 {
				return err
			}
			b, err := txn.Get(s.meta, metaSeq)
			if err != nil {
				return err
			}
			n := int(min(st.Entries/2, uint64(batch)))
			deleted = n > 0
			return s.trimLog(txn, readU64(b), st.Entries-st.Entries/2, n)
		})
		if err == nil {
			return deleted
		}
	}
	return false
}

// usage is what the file holds.
type usage struct {
	used, mapSize                 int64
	entries, versions, logRecords uint64
}

// usage returns the pages in use (those of every database, the free list
// included) and the number of records.
func (s *Store) usage() (usage, error) {
	var u usage
	err := s.read(func(r *rtxn) error {
		pages := uint64(2) // the meta pages
		var psize uint
		for _, dbi := range []lmdb.DBI{s.entries, s.expiry, s.versions, s.meta, s.log, s.root, freeDBI} {
			st, err := r.txn.Stat(dbi)
			if err != nil {
				return err
			}
			pages += st.BranchPages + st.LeafPages + st.OverflowPages
			psize = st.PSize
			switch dbi {
			case s.entries:
				u.entries = st.Entries
			case s.versions:
				u.versions = st.Entries - min(st.Entries, 1) // not versionsEnd
			case s.log:
				u.logRecords = st.Entries
			}
		}
		u.used = int64(pages) * int64(psize)
		return nil
	})
	if err != nil {
		return usage{}, err
	}
	info, err := s.env.Info()
	if err != nil {
		return usage{}, wrap(err)
	}
	u.mapSize = info.MapSize
	return u, nil
}

// freeDBI is LMDB's free-page database, which a read transaction may stat.
const freeDBI lmdb.DBI = 0

// badKeys are the keys of undecodable values, to delete.
type badKeys struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

func (b *badKeys) add(lkey []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys == nil {
		b.keys = make(map[string]struct{})
	}
	if len(b.keys) < maxBadKeys {
		b.keys[string(lkey)] = struct{}{}
	}
}

func (b *badKeys) take() map[string]struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.keys
	b.keys = nil
	return k
}

// deleteBad deletes the undecodable values seen since the last call, if
// they are still undecodable (another process may have overwritten them).
func (s *Store) deleteBad() {
	keys := s.bad.take()
	if len(keys) == 0 {
		return
	}
	err := s.write(func(txn *lmdb.Txn) error {
		for k := range keys {
			lkey := []byte(k)
			val, err := txn.Get(s.entries, lkey)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if s.decodable(val) {
				continue
			}
			if err := s.deleteEntry(txn, lkey); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.logs.Warn("zoo: lmdbstore: deleting undecodable entries failed", slog.String("error", err.Error()))
	}
}

// decodable reports whether a stored value decodes.
func (s *Store) decodable(val []byte) bool {
	_, _, frame, err := parseValue(val)
	if err != nil {
		return false
	}
	_, err = s.codec.Decode(frame)
	return err == nil
}
