package lmdbstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/PowerDNS/lmdb-go/lmdb"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/internal/ratelog"
	"github.com/zoogen/zoogen/runtime/store"
	"github.com/zoogen/zoogen/runtime/store/codec"
)

var (
	_ store.Store       = (*Store)(nil)
	_ store.Shared      = (*Store)(nil)
	_ store.Checker     = (*Store)(nil)
	_ store.StaleReader = (*Store)(nil)
)

// envFlags are the flags every process opens the file with; see the
// package documentation for why.
const envFlags = lmdb.NoSync | lmdb.NoReadahead

// Store is a [store.Shared] in an LMDB file, shared by the processes of one
// host. Make one with [Open]; a cache attaches it to its namespace
// (zoo.New(zoo.WithStore(s), zoo.WithNamespace(ns))) and closes it.
//
// A Store is safe for concurrent use. Reads run in read transactions that
// never wait for writers; this process's writes go through one write
// transaction at a time, and wait for those of other processes.
type Store struct {
	env     *lmdb.Env
	dir     string
	release func() // forgets that dir is open
	cfg     config
	codec   codec.Codec
	maxKey  int   // the longest key LMDB takes
	psize   int64 // the page size

	entries, expiry, versions, meta, log, root lmdb.DBI

	rw     sync.RWMutex // read-held by every operation; write-held by Close and remap
	closed bool         // guarded by rw
	wmu    sync.Mutex   // this process's write transactions, one at a time
	dirty  bool         // guarded by wmu: the running write bumps gen
	txns   chan *rtxn   // reset read transactions, ready to renew

	gen        *genCounter // nil where processes cannot share one
	memos      *memos
	slowChecks atomic.Uint64 // Checks that read the file

	ns atomic.Pointer[namespace]

	used     atomic.Int64  // bytes of the pages in use, measured by the last write
	mapBytes atomic.Int64  // the size of the map
	nentries atomic.Int64  // entries in the file, measured by the last write
	evictGen atomic.Uint64 // moves after every eviction
	roomMu   sync.Mutex    // one eviction at a time
	corrupt  atomic.Uint64
	evicted  atomic.Uint64
	reaped   atomic.Uint64
	bad      badKeys
	logs     ratelog.Log

	mu       sync.Mutex // guards attached and stopping
	attached bool
	stopping bool
	stop     chan struct{} // closed by Close
	bg       sync.WaitGroup
}

// namespace is what a store needs of the namespace it is attached to.
type namespace struct {
	name    string
	prefix  []byte // of its version keys
	horizon []byte // its meta key
}

func newNamespace(ns string) *namespace {
	return &namespace{name: ns, prefix: nsPrefix(ns), horizon: metaHorizon(ns)}
}

// rtxn is a read transaction with a buffer for the keys it looks up and
// cursors on the versions and meta databases, all kept across renewals.
type rtxn struct {
	txn  *lmdb.Txn
	buf  []byte
	curs [2]cursor
}

// Indexes of rtxn.curs.
const (
	curVersions = iota
	curMeta
)

// cursor is a cursor of a read transaction, opened on first use.
type cursor struct {
	dbi lmdb.DBI
	c   *lmdb.Cursor
	ok  bool // c is bound to the current transaction
}

// lookup finds key with cursor i. A cursor's SetRange finds the first key
// not below the one sought, and both databases end with a key after every
// other (endKey), so that a missing key (the common case for versions)
// costs no error, unlike Txn.Get, whose errors are allocated.
func (r *rtxn) lookup(i int, key []byte) ([]byte, bool, error) {
	cur := &r.curs[i]
	if !cur.ok {
		var err error
		if cur.c == nil {
			cur.c, err = r.txn.OpenCursor(cur.dbi)
		} else {
			err = cur.c.Renew(r.txn)
		}
		if err != nil {
			return nil, false, err
		}
		cur.ok = true
	}
	k, v, err := cur.c.Get(key, nil, lmdb.SetRange)
	switch {
	case isNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return v, bytes.Equal(k, key), nil
}

// reset unbinds the cursors from the transaction, which has been reset.
func (r *rtxn) reset() {
	for i := range r.curs {
		r.curs[i].ok = false
	}
}

// abort ends the transaction for good.
func (r *rtxn) abort() {
	for _, cur := range r.curs {
		if cur.c != nil {
			cur.c.Close()
		}
	}
	r.txn.Abort()
}

// txnLookup returns rtxn.lookup for a write transaction.
func (s *Store) txnLookup(txn *lmdb.Txn) func(int, []byte) ([]byte, bool, error) {
	return func(i int, key []byte) ([]byte, bool, error) {
		dbi := s.versions
		if i == curMeta {
			dbi = s.meta
		}
		v, err := txn.Get(dbi, key)
		if isNotFound(err) {
			return nil, false, nil
		}
		return v, err == nil, err
	}
}

// Open opens, or creates, the store in directory dir: the LMDB files
// data.mdb and lock.mdb, and two small files of the store's own (zoo.lock,
// boot_id). Every process of the host that opens the same directory shares
// its entries and invalidations.
//
// If the host has rebooted since the file was last opened, Open starts
// from an empty file: see the package documentation.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("zoo: lmdbstore: %w", err)
	}
	release, err := claimDir(dir)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			release()
		}
	}()
	// Opening processes take turns, so that a file is never removed (after
	// a reboot) while another process opens it.
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("zoo: lmdbstore: %w", err)
	}
	defer unlock()
	if err := checkBoot(dir, cfg.logger); err != nil {
		return nil, fmt.Errorf("zoo: lmdbstore: %w", err)
	}
	if err := checkFile(dir, cfg.logger); err != nil {
		return nil, fmt.Errorf("zoo: lmdbstore: verifying %s: %w", dir, err)
	}
	gen, err := openGen(dir)
	if err != nil {
		return nil, fmt.Errorf("zoo: lmdbstore: %w", err)
	}
	s := &Store{
		dir:     dir,
		release: release,
		cfg:     cfg,
		codec:   cfg.codec,
		txns:    make(chan *rtxn, max(8, 4*runtime.GOMAXPROCS(0))),
		gen:     gen,
		memos:   newMemos(),
		stop:    make(chan struct{}),
	}
	s.logs.Logger = cfg.logger
	s.ns.Store(newNamespace(""))
	if err := s.openEnv(); err != nil {
		if s.env != nil {
			s.env.Close()
		}
		_ = gen.close()
		return nil, fmt.Errorf("zoo: lmdbstore: opening %s: %w", dir, err)
	}
	s.bg.Go(s.reapLoop)
	ok = true
	return s, nil
}

// openDirs are the directories open in this process. LMDB must not have
// one environment open twice in a process: its locks are per process, and
// closing one would release the other's.
var openDirs = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// claimDir records dir as open in this process, failing if it already is.
func claimDir(dir string) (release func(), err error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("zoo: lmdbstore: %w", err)
	}
	openDirs.Lock()
	defer openDirs.Unlock()
	if openDirs.m[abs] {
		return nil, fmt.Errorf("zoo: lmdbstore: %s is already open in this process; share its Store (one per namespace is not possible: use one directory per cache)", dir)
	}
	openDirs.m[abs] = true
	return func() {
		openDirs.Lock()
		defer openDirs.Unlock()
		delete(openDirs.m, abs)
	}, nil
}

func (c *config) validate() error {
	switch {
	case c.mapSize < MinMapSize:
		return fmt.Errorf("zoo: lmdbstore: map size %d is below the minimum %d", c.mapSize, MinMapSize)
	case c.poll <= 0:
		return fmt.Errorf("zoo: lmdbstore: poll interval %v is not positive", c.poll)
	case c.reap <= 0:
		return fmt.Errorf("zoo: lmdbstore: reap interval %v is not positive", c.reap)
	}
	return nil
}

// openEnv opens the environment and its databases.
func (s *Store) openEnv() error {
	env, err := lmdb.NewEnv()
	if err != nil {
		return err
	}
	s.env = env
	if err := env.SetMaxDBs(8); err != nil {
		return err
	}
	if err := env.SetMaxReaders(DefaultMaxReaders); err != nil {
		return err
	}
	if err := env.SetMapSize(s.cfg.mapSize); err != nil {
		return err
	}
	if err := env.Open(s.dir, envFlags, 0o600); err != nil {
		return err
	}
	if err := s.adoptMapSize(); err != nil {
		return err
	}
	s.maxKey = env.MaxKeySize()
	st, err := env.Stat()
	if err != nil {
		return err
	}
	s.psize = int64(st.PSize)
	if stale, err := env.ReaderCheck(); err == nil && stale > 0 {
		s.cfg.logger.Info("zoo: lmdbstore: released the read slots of dead processes", slog.Int("slots", stale))
	}
	if s.cfg.logLimit == 0 {
		s.cfg.logLimit = uint64(min(defaultLogLimit, max(256, s.cfg.mapSize/10240)))
	}
	return env.Update(func(txn *lmdb.Txn) error {
		defer s.measure(txn)
		root, err := txn.OpenRoot(0)
		if err != nil {
			return err
		}
		s.root = root
		// A new file has no databases yet; one that has some but not ours
		// is another program's, and is left alone.
		if _, err := txn.OpenDBI(dbMeta, 0); isNotFound(err) {
			if st, err := txn.Stat(root); err != nil || st.Entries > 0 {
				return errors.Join(err, errors.New("the directory holds an LMDB environment that is not a cache's"))
			}
		}
		for _, d := range []struct {
			name string
			dbi  *lmdb.DBI
		}{{dbEntries, &s.entries}, {dbExpiry, &s.expiry}, {dbVersions, &s.versions}, {dbMeta, &s.meta}, {dbLog, &s.log}} {
			dbi, err := txn.OpenDBI(d.name, lmdb.Create)
			if err != nil {
				return err
			}
			*d.dbi = dbi
		}
		format, err := txn.Get(s.meta, metaFormat)
		switch {
		case isNotFound(err):
			if err := txn.Put(s.meta, metaFormat, []byte(formatVersion), 0); err != nil {
				return err
			}
			// A new file, in a directory whose counter may have counted
			// the writes of an older one: it starts at the count.
			if err := txn.Put(s.meta, metaGen, u64(s.gen.load()), 0); err != nil {
				return err
			}
		case err != nil:
			return err
		case string(format) != formatVersion:
			return fmt.Errorf("the file has layout %q; this build reads %q", format, formatVersion)
		}
		// A key after every other, so that a cursor seeking a key never
		// runs off the end (see rtxn.lookup).
		for _, dbi := range []lmdb.DBI{s.versions, s.meta} {
			if err := txn.Put(dbi, endKey, nil, lmdb.NoOverwrite); err != nil && !isErrno(err, lmdb.KeyExist) {
				return err
			}
		}
		return nil
	})
}

// adoptMapSize maps the larger of the configured size and the file's: the
// file may have grown beyond what this process asked for. Called with no
// transaction of this process open.
func (s *Store) adoptMapSize() error {
	if err := s.env.SetMapSize(0); err != nil { // the size recorded in the file
		return err
	}
	info, err := s.env.Info()
	if err != nil {
		return err
	}
	if info.MapSize < s.cfg.mapSize {
		if err := s.env.SetMapSize(s.cfg.mapSize); err != nil {
			return err
		}
		info.MapSize = s.cfg.mapSize
	}
	s.mapBytes.Store(info.MapSize)
	return nil
}

// remap adopts the map size another process has grown the file to.
func (s *Store) remap() error {
	s.rw.Lock()
	defer s.rw.Unlock()
	if s.closed {
		return errClosed
	}
	if err := s.adoptMapSize(); err != nil {
		return fmt.Errorf("zoo: lmdbstore: adopting the map size of another process: %w", err)
	}
	s.cfg.logger.Info("zoo: lmdbstore: another process has grown the file; adopted its map size",
		slog.Int64("map_size", s.mapBytes.Load()))
	return nil
}

var errClosed = fmt.Errorf("zoo: lmdbstore: %w", store.ErrClosed)

// isErrno reports whether err is, or wraps, the LMDB error errno.
func isErrno(err error, errno lmdb.Errno) bool {
	if op, ok := err.(*lmdb.OpError); ok { // the hot path: errors of lmdb-go as they come
		return op.Errno == error(errno)
	}
	return err != nil && wrapsErrno(err, errno)
}

func wrapsErrno(err error, errno lmdb.Errno) bool {
	var op *lmdb.OpError
	return errors.As(err, &op) && op.Errno == error(errno)
}

func isNotFound(err error) bool { return isErrno(err, lmdb.NotFound) }
func isMapFull(err error) bool  { return isErrno(err, lmdb.MapFull) }

// read runs fn in a read transaction. The slices fn gets from the
// transaction point into the map: fn copies what it keeps.
func (s *Store) read(fn func(r *rtxn) error) error {
	err := s.readOnce(fn)
	if isErrno(err, lmdb.MapResized) {
		if err := s.remap(); err != nil {
			return err
		}
		err = s.readOnce(fn)
	}
	return err
}

func (s *Store) readOnce(fn func(r *rtxn) error) error {
	s.rw.RLock()
	defer s.rw.RUnlock()
	if s.closed {
		return errClosed
	}
	r, err := s.beginRead()
	if err != nil {
		if isErrno(err, lmdb.MapResized) {
			return err
		}
		return fmt.Errorf("zoo: lmdbstore: beginning a read: %w", err)
	}
	defer s.endRead(r)
	return fn(r)
}

// beginRead renews a pooled read transaction, or begins one. Read
// transactions need no OS thread of their own (the environment has
// MDB_NOTLS).
func (s *Store) beginRead() (*rtxn, error) {
	select {
	case r := <-s.txns:
		if err := r.txn.Renew(); err != nil {
			r.abort()
			return nil, err
		}
		return r, nil
	default:
	}
	txn, err := s.env.BeginTxn(nil, lmdb.Readonly)
	if err != nil {
		return nil, err
	}
	txn.RawRead = true
	r := &rtxn{txn: txn, buf: make([]byte, 0, 256)}
	r.curs[curVersions].dbi = s.versions
	r.curs[curMeta].dbi = s.meta
	return r, nil
}

// endRead ends a read transaction, keeping it for reuse if the pool has
// room. A reset transaction holds its reader slot but no snapshot: it keeps
// no page from being reused.
func (s *Store) endRead(r *rtxn) {
	r.txn.Reset()
	r.reset()
	select {
	case s.txns <- r:
	default:
		r.abort()
	}
}

// write runs fn in a write transaction, committed if fn returns nil, and
// measures the space in use. LMDB errors come back unwrapped, for
// isMapFull.
func (s *Store) write(fn lmdb.TxnOp) error {
	err := s.writeOnce(fn)
	if isErrno(err, lmdb.MapResized) {
		if err := s.remap(); err != nil {
			return err
		}
		err = s.writeOnce(fn)
	}
	return err
}

func (s *Store) writeOnce(fn lmdb.TxnOp) error {
	s.rw.RLock()
	defer s.rw.RUnlock()
	if s.closed {
		return errClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.env.Update(func(txn *lmdb.Txn) error { // locks the goroutine to its thread meanwhile
		s.dirty = false
		if err := fn(txn); err != nil {
			return err
		}
		if err := s.bump(txn); err != nil {
			return err
		}
		s.measure(txn)
		return nil
	})
}

// maxRoomWait bounds how long a write that finds the map full evicts and
// retries before it gives up. With nothing left to delete, it retries for
// maxPinWait at most, while readers release the pages freed last.
const maxRoomWait = time.Second

// update runs fn in a write transaction. It first evicts entries if the
// pages in use are over the high-water mark; if the map is full all the
// same, it evicts more and runs fn again, until it succeeds or eviction
// can do no more.
func (s *Store) update(fn lmdb.TxnOp) error {
	if s.overHighWater() {
		s.keepRoom()
	}
	start := time.Now()
	var idle time.Time // since when nothing has been left to delete
	for round := 0; ; round++ {
		gen := s.evictGen.Load()
		err := s.write(fn)
		if !isMapFull(err) {
			return wrap(err)
		}
		retry, deleted := s.makeRoom(gen, round)
		now := time.Now()
		switch {
		case deleted:
			idle = time.Time{}
		case idle.IsZero():
			idle = now
		case now.Sub(idle) > maxPinWait:
			retry = false // what is left is not this store's to delete
		}
		if !retry || now.Sub(start) > maxRoomWait {
			return fmt.Errorf("zoo: lmdbstore: the map is full, and evicting entries did not make room: %w", err)
		}
	}
}

// wrap prefixes an LMDB error; the store's own errors pass as they are.
func wrap(err error) error {
	var op *lmdb.OpError
	if errors.As(err, &op) && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("zoo: lmdbstore: %w", err)
	}
	return err
}

func (s *Store) isClosed() bool {
	s.rw.RLock()
	defer s.rw.RUnlock()
	return s.closed
}

// Get returns the entry under key if it has not expired and no
// invalidation recorded in the file makes it stale, checked in the read
// transaction that reads it. Its TagVersions hold the versions recorded
// for the paths of its tags, for a cache that has missed them.
//
// Bytes that do not decode are counted ([Store.Corrupt]), logged, deleted
// later, and reported as an error wrapping [store.ErrCorrupt].
func (s *Store) Get(_ context.Context, key string) (*store.Entry, error) {
	return s.get(key, false)
}

// GetStale is [Store.Get] for an entry whose Expires may have passed: it
// returns the entry until its Retain passes (stale-if-error), checked
// against the versions in the file like every read.
func (s *Store) GetStale(_ context.Context, key string) (*store.Entry, error) {
	return s.get(key, true)
}

// get is Get, or GetStale when stale is set.
func (s *Store) get(key string, stale bool) (*store.Entry, error) {
	now := time.Now()
	ns := s.ns.Load()
	var e *store.Entry
	var bad []byte
	var corruptErr error
	err := s.read(func(r *rtxn) error {
		lkey, hashed, val, err := s.entryIn(r, key)
		if val == nil || err != nil {
			return err
		}
		e, corruptErr = s.decodeEntry(val, key, hashed, now, stale)
		if corruptErr != nil {
			bad = bytes.Clone(lkey)
			return nil
		}
		if e == nil {
			return nil
		}
		stale, err := s.checkVersions(r.lookup, &r.buf, ns, e, true)
		if stale || err != nil {
			e = nil
		}
		return err
	})
	if err != nil {
		return nil, wrap(err)
	}
	if corruptErr != nil {
		s.noteCorrupt(bad, key, corruptErr)
		return nil, fmt.Errorf("zoo: lmdbstore: %w", corruptErr)
	}
	return e, nil
}

// entryIn reads the stored bytes of key's entry in r: its LMDB key (in
// r.buf, valid while r is), whether that key is a hash of a long key, and
// the value, nil when there is none.
func (s *Store) entryIn(r *rtxn, key string) (lkey []byte, hashed bool, val []byte, err error) {
	lkey, hashed = entryKey(r.buf[:0], key, s.maxKey)
	r.buf = lkey[:0]
	val, err = r.txn.Get(s.entries, lkey)
	if isNotFound(err) {
		return lkey, hashed, nil, nil
	}
	return lkey, hashed, val, err
}

// GetFresh is [Store.Get]: every read is checked against the versions in
// the file, in the transaction that reads the entry.
func (s *Store) GetFresh(ctx context.Context, key string) (*store.Entry, error) {
	return s.Get(ctx, key)
}

// Check reports whether the file still holds under key the entry e is a
// copy of, and no invalidation recorded in the file makes it stale (strict
// reads of a value kept in the cache's memory tier).
//
// A copy found fresh is remembered with the change counter of the file
// (see genCounter): while no process has since begun a write that
// invalidates, raises a horizon or deletes or replaces an entry, Check
// answers from memory, with no transaction. Otherwise it reads, in one
// read transaction, the entry's header (its expiry, which stands for its
// identity: an entry stored again under key expires at another
// millisecond) and the versions of e's paths, never the value.
func (s *Store) Check(_ context.Context, key string, e *store.Entry) (bool, error) {
	set := s.memos.set(key)
	s.rw.RLock()
	if s.closed {
		s.rw.RUnlock()
		return false, errClosed
	}
	gen := s.gen.load() // before the transaction begins
	s.rw.RUnlock()
	if set.fresh(key, e, gen) {
		return true, nil
	}
	s.slowChecks.Add(1)
	ns := s.ns.Load()
	until := e.KeepUntil()
	want := expiryMillis(until.UnixMilli(), until.IsZero())
	fresh, keep := false, false
	err := s.read(func(r *rtxn) error {
		_, _, val, err := s.entryIn(r, key)
		if val == nil || err != nil {
			return err
		}
		expMs, _, _, err := parseValue(val)
		if err != nil || expMs != want {
			return nil // corrupt or replaced: Get tells which
		}
		stale, err := s.checkVersions(r.lookup, &r.buf, ns, e, false)
		if stale || err != nil {
			return err
		}
		fresh = true
		if s.gen != nil {
			g, _, err := r.lookup(curMeta, metaGen)
			if err != nil {
				return err
			}
			keep = readU64(g) == gen // every counted write is in the snapshot
		}
		return nil
	})
	if err != nil {
		return false, wrap(err)
	}
	if keep {
		s.memos.remember(key, e, gen)
	}
	return fresh, nil
}

// decodeEntry reads a stored value for key. It returns nil for an expired
// entry (with stale, one past its retention), and an error wrapping
// store.ErrCorrupt for bytes that are not an entry. The header's expiry is
// the entry's retention (Entry.KeepUntil); a later one than its Expires
// is returned as its Retain.
func (s *Store) decodeEntry(val []byte, key string, hashed bool, now time.Time, stale bool) (*store.Entry, error) {
	expMs, full, frame, err := parseValue(val)
	if err == nil && hashed != (full != nil) {
		err = errBadValue
	}
	if err != nil {
		return nil, fmt.Errorf("%w: lmdbstore: %d bytes that are not an entry: %w", store.ErrCorrupt, len(val), err)
	}
	if expMs != neverExpires && uint64(max(now.UnixMilli(), 0)) > expMs {
		return nil, nil // expired: no need to decode
	}
	if hashed && string(full) != key {
		return nil, nil // another key with the same SHA-256: never served
	}
	e, err := s.codec.Decode(frame)
	if err != nil {
		return nil, err
	}
	if !stale && e.Expired(now) {
		return nil, nil
	}
	if expMs != neverExpires && !e.Expires.IsZero() && int64(expMs) > e.Expires.UnixMilli() {
		e.Retain = time.UnixMilli(int64(expMs))
	}
	return e, nil
}

// checkVersions reports whether e is stale: loaded before the namespace's
// horizon, or before the version of a path of one of its tags; get looks
// keys up in the versions or the meta database (see rtxn.lookup). With
// collect, it fills e.TagVersions with the versions it read. buf is
// scratch space for keys.
func (s *Store) checkVersions(get func(dbi int, key []byte) ([]byte, bool, error), buf *[]byte,
	ns *namespace, e *store.Entry, collect bool) (bool, error) {
	h, found, err := get(curMeta, ns.horizon)
	if err != nil {
		return false, err
	}
	if found && readVersion(h) > e.AsOf {
		return true, nil
	}
	for _, tag := range e.Tags {
		for i := 0; i <= len(tag); i++ {
			if i < len(tag) && tag[i] != ':' {
				continue
			}
			path := tag[:i]
			vkey, full := versionKey((*buf)[:0], ns.prefix, path, s.maxKey)
			*buf = vkey[:0]
			b, found, err := get(curVersions, vkey)
			if err != nil {
				return false, err
			}
			if !found {
				continue
			}
			if full != nil && !bytes.Equal(b[min(8, len(b)):], full) {
				return true, nil // a hash collision, or a corrupt record: not provably fresh
			}
			v := readVersion(b)
			if v > e.AsOf {
				return true, nil
			}
			if collect {
				if e.TagVersions == nil {
					e.TagVersions = make(map[string]hlc.Timestamp)
				}
				e.TagVersions[path] = v
			}
		}
	}
	return false, nil
}

// Set stores e under key, unless an invalidation recorded in the file
// since e.AsOf already makes it stale (the stale set), in which case it
// stores nothing and returns nil. If the map is full, the entries that
// expire first are evicted to make room.
func (s *Store) Set(ctx context.Context, key string, e *store.Entry) error {
	if e == nil {
		return errors.New("zoo: lmdbstore: nil entry")
	}
	if s.isClosed() {
		return errClosed
	}
	if !e.Expires.IsZero() && !e.KeepUntil().After(time.Now()) {
		return s.Delete(ctx, key)
	}
	frame, err := s.codec.Encode(e)
	if err != nil {
		return fmt.Errorf("zoo: lmdbstore: %w", err)
	}
	lkey, hashed := entryKey(nil, key, s.maxKey)
	keep := e.KeepUntil()
	expMs := expiryMillis(keep.UnixMilli(), keep.IsZero())
	val := encodeValue(key, hashed, expMs, frame)
	if limit := s.mapBytes.Load() / 4; int64(len(val)) > limit {
		return fmt.Errorf("zoo: lmdbstore: a %d-byte entry is over the %d bytes (a quarter of the map) an entry may take", len(val), limit)
	}
	ikey := indexKey(nil, expMs, lkey)
	ns := s.ns.Load()
	var buf []byte
	return s.update(func(txn *lmdb.Txn) error {
		if stale, err := s.checkVersions(s.txnLookup(txn), &buf, ns, e, false); stale || err != nil {
			return err
		}
		if err := s.unindex(txn, lkey); err != nil {
			return err
		}
		if err := txn.Put(s.entries, lkey, val, 0); err != nil {
			return err
		}
		return txn.Put(s.expiry, ikey, nil, 0)
	})
}

// unindex deletes the expiry index record of the entry stored under lkey,
// if there is one.
func (s *Store) unindex(txn *lmdb.Txn, lkey []byte) error {
	old, err := txn.Get(s.entries, lkey)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	s.changed() // an entry is replaced or deleted
	expMs, _, _, err := parseValue(old)
	if err != nil {
		return nil // corrupt: it has no index record to find
	}
	if err := txn.Del(s.expiry, indexKey(nil, expMs, lkey), nil); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// Delete removes the entry under key.
func (s *Store) Delete(_ context.Context, key string) error {
	lkey, _ := entryKey(nil, key, s.maxKey)
	return s.update(func(txn *lmdb.Txn) error { return s.deleteEntry(txn, lkey) })
}

func (s *Store) deleteEntry(txn *lmdb.Txn, lkey []byte) error {
	if err := s.unindex(txn, lkey); err != nil {
		return err
	}
	if err := txn.Del(s.entries, lkey, nil); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// Close stops the store's goroutines and closes the file; entries and
// versions stay in it for the other processes and the next Open. Calls
// after Close fail with an error wrapping [store.ErrClosed]; a second Close
// does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true
	close(s.stop)
	s.mu.Unlock()
	s.bg.Wait()

	s.rw.Lock()
	defer s.rw.Unlock()
	s.closed = true
	for len(s.txns) > 0 {
		(<-s.txns).abort()
	}
	err := s.env.Close()
	err = errors.Join(err, s.gen.close())
	s.release()
	return wrap(err)
}

// Corrupt returns the number of stored values found undecodable since Open,
// counting each read of one.
func (s *Store) Corrupt() uint64 { return s.corrupt.Load() }

// noteCorrupt counts, logs and schedules the deletion of an undecodable
// value.
func (s *Store) noteCorrupt(lkey []byte, key string, err error) {
	s.corrupt.Add(1)
	s.bad.add(lkey)
	s.logs.Warn("zoo: lmdbstore: an undecodable entry in the file; treated as a miss and deleted",
		slog.String("key", key), slog.String("error", err.Error()))
}

// Stats describes a store's file.
type Stats struct {
	// Entries is the number of entries in the file, expired ones not yet
	// reaped included.
	Entries uint64
	// Versions is the number of tag versions recorded, all namespaces.
	Versions uint64
	// LogRecords is the number of invalidations in the log.
	LogRecords uint64
	// MapSize is the size of the memory map: the most the file can hold.
	MapSize int64
	// UsedBytes is the size of the pages in use; the rest of the map is
	// free.
	UsedBytes int64
	// FileBytes is the size of the data file; DiskBytes what it occupies on
	// disk (the file is sparse).
	FileBytes, DiskBytes int64
	// Evicted and Reaped count the entries this process deleted to make
	// room and because they had expired; Corrupt the undecodable values it
	// read.
	Evicted, Reaped, Corrupt uint64
}

// Stats returns the store's figures.
func (s *Store) Stats() (Stats, error) {
	u, err := s.usage()
	if err != nil {
		return Stats{}, err
	}
	st := Stats{
		Entries: u.entries, Versions: u.versions, LogRecords: u.logRecords,
		MapSize: u.mapSize, UsedBytes: u.used,
		Evicted: s.evicted.Load(), Reaped: s.reaped.Load(), Corrupt: s.corrupt.Load(),
	}
	st.FileBytes, st.DiskBytes = fileSize(s.dir)
	return st, nil
}
