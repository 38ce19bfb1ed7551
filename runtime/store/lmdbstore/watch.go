package lmdbstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/PowerDNS/lmdb-go/lmdb"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/store"
)

// Attach binds the store to namespace ns and starts the goroutine that
// delivers to fn the invalidations recorded in ns by every process,
// this one included, until Close.
//
// The goroutine polls the log's sequence number (one read transaction per
// poll interval). It first reports EventDown, delivers every version
// recorded in ns and the namespace's horizon, then EventUp; after that it
// delivers each new log record of ns. If the log has been trimmed past what
// it has read (it fell more than the log's bound behind), or a read fails,
// it reports EventDown and starts over.
func (s *Store) Attach(ns string, fn func(store.Event)) error {
	if len(ns) > maxNamespace {
		return fmt.Errorf("zoo: lmdbstore: a namespace of %d bytes is over the %d-byte limit", len(ns), maxNamespace)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return errClosed
	}
	if s.attached {
		return errors.New("zoo: lmdbstore: attached twice; use one store per cache")
	}
	s.attached = true
	n := newNamespace(ns)
	s.ns.Store(n)
	s.bg.Go(func() { s.watch(n, fn) })
	return nil
}

// Limits on what one poll reads, so that read transactions stay short.
const (
	pollRecords  = 10_000 // log records
	resyncBatch  = 10_000 // versions
	maxEventTags = 100_000
)

// watch delivers invalidations to fn until the store closes.
func (s *Store) watch(ns *namespace, fn func(store.Event)) {
	fn(store.Event{Kind: store.EventDown})
	t := time.NewTicker(s.cfg.poll)
	defer t.Stop()
	up := false
	var seq uint64 // the last log record delivered
	for {
		if !up {
			var err error
			if seq, err = s.resync(ns, fn); err == nil {
				var now hlc.Timestamp
				if now, err = s.Now(context.Background()); err == nil {
					up = true
					fn(store.Event{Kind: store.EventUp, Version: now})
				}
			}
			if err != nil && !errors.Is(err, store.ErrClosed) {
				s.logs.Warn("zoo: lmdbstore: reading the versions failed; will retry", slog.String("error", err.Error()))
			}
		} else {
			events, next, err := s.poll(ns, seq)
			switch {
			case err != nil:
				up = false
				fn(store.Event{Kind: store.EventDown})
				if !errors.Is(err, errBehind) && !errors.Is(err, store.ErrClosed) {
					s.logs.Warn("zoo: lmdbstore: reading the invalidation log failed; validating in the file until it is read again",
						slog.String("error", err.Error()))
				}
				continue // resynchronise at once
			default:
				seq = next
				for _, ev := range events {
					fn(ev)
				}
			}
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// errBehind reports that the log no longer holds the records after the
// last one read.
var errBehind = errors.New("zoo: lmdbstore: the invalidation log was trimmed past the records not yet read")

// poll reads the log records after seq and returns the events of ns among
// them and the last sequence number read.
func (s *Store) poll(ns *namespace, seq uint64) ([]store.Event, uint64, error) {
	var events []store.Event
	next := seq
	err := s.read(func(r *rtxn) error {
		b, err := r.txn.Get(s.meta, metaSeq)
		if err != nil && !isNotFound(err) {
			return err
		}
		last := readU64(b)
		if last == seq {
			return nil
		}
		if last < seq {
			return errBehind // the file was replaced
		}
		cur, err := r.txn.OpenCursor(s.log)
		if err != nil {
			return err
		}
		defer cur.Close()
		k, v, err := cur.Get(u64(seq+1), nil, lmdb.SetRange)
		if err != nil {
			if isNotFound(err) {
				return errBehind
			}
			return err
		}
		if readU64(k) != seq+1 {
			return errBehind
		}
		for range pollRecords {
			rec, err := decodeRecord(v)
			if err != nil || len(rec.Tags) > maxEventTags {
				// The record cannot say what it invalidated: read every
				// version instead.
				s.logs.Warn("zoo: lmdbstore: an unreadable invalidation record; reading every version instead")
				return errBehind
			}
			if rec.NS == ns.name {
				events = append(events, store.Event{Kind: store.EventInvalidate, Tags: rec.Tags, Version: hlc.Timestamp(rec.Version)})
			}
			next = readU64(k)
			if next >= last {
				break
			}
			if k, v, err = cur.Get(nil, nil, lmdb.Next); err != nil {
				if isNotFound(err) {
					return nil
				}
				return err
			}
		}
		return nil
	})
	return events, next, err
}

// resync delivers the horizon and every version of ns, and returns the
// log sequence number from which new records must be read.
func (s *Store) resync(ns *namespace, fn func(store.Event)) (uint64, error) {
	var seq uint64
	var horizon hlc.Timestamp
	err := s.read(func(r *rtxn) error {
		b, err := r.txn.Get(s.meta, metaSeq)
		if err != nil && !isNotFound(err) {
			return err
		}
		seq = readU64(b)
		h, err := r.txn.Get(s.meta, ns.horizon)
		if err != nil && !isNotFound(err) {
			return err
		}
		horizon = hlc.Timestamp(readU64(h))
		return nil
	})
	if err != nil {
		return 0, err
	}
	if horizon > 0 {
		// Entries loaded before the horizon are stale: the cache learns it
		// as an invalidation of everything.
		fn(store.Event{Kind: store.EventInvalidate, Version: horizon})
	}
	// Versions only grow, and those recorded after seq are in the log from
	// seq on: reading them in several transactions loses none.
	for _, pfx := range [][]byte{ns.prefix, {keyHashed}} {
		from := pfx
		for from != nil {
			var events []store.Event
			err := s.read(func(r *rtxn) error {
				var err error
				events, from, err = s.versionEvents(r.txn, ns, pfx, from)
				return err
			})
			if err != nil {
				return 0, err
			}
			for _, ev := range events {
				fn(ev)
			}
		}
	}
	return seq, nil
}

// versionEvents returns, as events, up to resyncBatch versions of ns under
// prefix pfx from key from on, and the key to go on from, or nil at the
// end.
func (s *Store) versionEvents(txn *lmdb.Txn, ns *namespace, pfx, from []byte) ([]store.Event, []byte, error) {
	cur, err := txn.OpenCursor(s.versions)
	if err != nil {
		return nil, nil, err
	}
	defer cur.Close()
	var events []store.Event
	k, v, err := cur.Get(from, nil, lmdb.SetRange)
	for range resyncBatch {
		if isNotFound(err) || err == nil && !bytes.HasPrefix(k, pfx) {
			return events, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		var path string
		switch {
		case pfx[0] != keyHashed:
			path = string(k[len(pfx):])
		case len(v) >= 8 && bytes.HasPrefix(v[8:], ns.prefix):
			path = string(v[8+len(ns.prefix):])
		default:
			k, v, err = cur.Get(nil, nil, lmdb.Next)
			continue
		}
		events = append(events, store.Event{Kind: store.EventInvalidate, Tags: []string{path}, Version: readVersion(v)})
		k, v, err = cur.Get(nil, nil, lmdb.Next)
	}
	if isNotFound(err) || err == nil && !bytes.HasPrefix(k, pfx) {
		return events, nil, nil
	}
	return events, bytes.Clone(k), err
}
