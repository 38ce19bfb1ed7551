// Package lmdbstore keeps cache entries in an LMDB file that the processes
// of one host share, and makes those processes invalidate each other.
//
// A [Store] is opened on a directory ([Open]); every process that opens
// the same directory reads the entries the others stored, and an
// invalidation made by any of them holds for all of them at once, and for
// every process started later: tag versions live in the file, not in
// memory, so a restart forgets nothing.
//
//	s, err := lmdbstore.Open("/var/cache/shop")
//	cache, err := zoo.New(zoo.WithStore(s), zoo.WithNamespace("shop"))
//
// # What lives in the file
//
// One LMDB environment (data.mdb, lock.mdb) holds five databases:
//
//	entries   'k'+key → entry; a key over 502 bytes (LMDB's keys take
//	          511, and the expiry index adds 8) is stored as
//	          '#'+SHA-256(key), and the value holds the full key, checked
//	          on every read
//	          value: kind byte, expiry (8 bytes, Unix ms, big-endian;
//	          2⁶⁴-1 never), [full key,] codec frame (runtime/store/codec),
//	          CRC-32C (Castagnoli, 4 bytes, big-endian) of what precedes it
//	expiry    expiry (8 bytes) + entries key → empty: the order in which
//	          the reaper deletes and a full map evicts
//	versions  'p'+len(ns)+ns+tag path → version (8 bytes, an
//	          hlc.Timestamp); long ones hashed as entries are, the value
//	          then followed by the unhashed key
//	meta      format (zoo-lmdbstore/2), last (the last version issued),
//	          lease (no timestamp Now returned is later), seq (the last log
//	          record), h:ns (the horizon of a namespace), reaped (when
//	          expired entries were last deleted), gen (the change count of
//	          the last write that counted, see below)
//	log       seq (8 bytes) → MessagePack [ns, version, [tags]]: every
//	          invalidation, trimmed to 100,000 records (fewer in small maps)
//
// versions and meta end with the key 0xff, so that a cursor seeking a key
// always lands somewhere. Beside them, boot_id records the boot the file
// was last opened in, zoo.lock serialises opening processes, and zoo.gen
// holds the change counter that strict checks read (one page, mapped by
// every process).
//
// # Consistency
//
// The file is the clock every process agrees on, as Redis is for
// redisstore. [Store.Invalidate] issues a version later than every
// timestamp [Store.Now] has returned, in any process, and later than the
// last version issued, even if the wall clock steps back; it raises the
// versions of the tags and appends the invalidation to the log in the same
// write transaction. Now is mostly a read: it records a bound a few
// milliseconds ahead of the wall clock (the lease), and Invalidate issues
// versions after it.
//
// [Store.Get] reads the entry and the versions of every path of its tags
// ("a:b:c" is checked at "a", "a:b" and "a:b:c") and the namespace's
// horizon in one read transaction, and returns the entry only if none is
// newer than it: [Store.GetFresh] is the same call, and a read that starts
// after Invalidate returned, in any process, never sees what it
// invalidated. [Store.Set] refuses, in its write transaction, an entry one
// of whose tags was invalidated since its load began (the stale set).
//
// # Strict reads of copies
//
// A cache in strict mode keeps the values GetFresh returned in its memory
// tier and asks [Store.Check] before serving one. Every write transaction
// that can make a copy unservable (an invalidation, a raised horizon, an
// entry deleted, evicted, reaped or stored again) adds one to the change
// counter in zoo.gen before it commits and records the count in the meta
// key gen in the same transaction. Check remembers a copy it found fresh
// with the counter it read before its read transaction began, when that
// transaction's snapshot records the same count (every counted write up to
// it committed, none since begun); while the counter has not moved, Check
// confirms the copy with one atomic read and no transaction. A moved
// counter, or a write in progress, costs the full check: one read
// transaction over the entry's header and its tags' versions, never the
// value. Writes that cannot make a copy unservable (an entry stored under
// a new key, the clock's lease) do not count. A process that dies in a
// counted write leaves the counter ahead of gen until the next counted
// write: checks read the file meanwhile. The store remembers up to 16,384
// copies (4,096 sets of four, picked by a hash of the key; weak pointers
// that keep no entry alive): a thousand hot keys are all remembered, where
// more than four keys share a set they take turns.
//
// Each attached store polls the log's sequence number (every 2ms by
// default, one read transaction) and delivers the new records of its
// namespace to its cache: a cache in local mode hears of another
// process's invalidation within a poll interval. A store that falls more
// than the log's bound behind reports [store.EventDown], reads every
// version of its namespace and reports [store.EventUp], as redisstore does
// after a reconnect.
//
// # Concurrency
//
// LMDB readers never wait for writers: a read transaction sees a snapshot.
// Writers take turns, one write transaction at a time across all the
// processes of the host; every write here is a short transaction over a
// few keys, and the background work (reaping, evicting, pruning) runs in
// transactions of at most a few hundred records. Read transactions are
// reset and renewed rather than created, so that a read takes no lock.
//
// # Space
//
// The map has a fixed size ([WithMapSize], 1 GiB by default); the file is
// sparse and grows with what it holds. Expired entries are never served,
// and a reaper deletes them in the background ([WithReapInterval]). When
// the pages in use pass 85% of the map, the write that notices evicts the
// entries that expire first, those written earliest with equal TTLs,
// until they are under 75%; a write that finds the map full all the same
// evicts more and retries, so that callers never see a full map. The
// headroom matters with LMDB: deleting needs free pages too, and pages
// freed lately stay in use while a reader's snapshot holds them. Only an
// entry larger than a quarter of the map is refused.
//
// # Durability
//
// The environment is opened with MDB_NOSYNC and MDB_NORDAHEAD. NOSYNC skips
// the fsync of every commit: a commit is a write into the operating
// system's page cache, which every process of the host reads through the
// map, so a process that crashes loses nothing it committed. Only a crash
// of the operating system (or a power loss) can lose the last transactions
// or, as LMDB documents, leave the file damaged; fsync on every commit
// would cost a disk flush per load and per invalidation, for a cache.
//
// A crash of the system is always followed by a boot, so the store guards
// against it by the kernel's boot id (/proc/sys/kernel/random/boot_id):
// [Open] records it beside the file, and when it finds another, the host
// has rebooted since the file was last opened and nothing in it can be
// trusted, neither the entries nor the versions that say which are stale.
// It then starts from an empty file. A reboot therefore empties the cache,
// even a clean one: it cannot be told from a crash. Where the system does
// not tell its boot id, the file is kept.
//
// MDB_NORDAHEAD stops the kernel from reading ahead around each page read:
// a cache reads pages at random, and readahead would fill memory with
// pages nobody asked for. LMDB forces MDB_NOTLS in Go, which lets read
// transactions move between threads.
//
// # Several processes
//
// LMDB keeps a table of readers in lock.mdb. A process that dies in a read
// transaction leaves its slot behind, holding its snapshot's pages; [Open]
// and the reaper (every ten seconds) clear the slots of dead processes.
// LMDB's locks are robust: a process that dies in a write transaction
// releases the writer lock, and its transaction is lost. Processes should
// open the file with one map size; one that asks for less adopts the
// file's. Open refuses a directory already open in the process (LMDB's
// locks are per process, and closing one environment would release the
// other's locks): a process runs one cache per directory. Keep the
// directory on a local file system.
//
// # Corrupt bytes
//
// Every entry value ends with a CRC-32C of the rest, checked on every read.
// A value that fails it, or is not an entry (foreign or damaged bytes), is
// a miss for the cache: Get counts it ([Store.Corrupt]), logs it at Warn
// with its key (once per ten seconds, with a count), leaves it to the
// reaper to delete, and returns an error wrapping [store.ErrCorrupt],
// which the cache treats as a miss. A version that is not eight bytes
// reads as later than any, so that it makes entries stale, never fresh; a
// log record that does not decode makes the stores that read it read
// every version instead.
//
// # Damaged files
//
// LMDB trusts the page numbers, offsets and sizes it finds in the file: a
// damaged page makes it fault (SIGSEGV, SIGBUS) inside cgo, which kills the
// process, and would at every start. So [Open], when no other process has
// the environment open (it tries LMDB's own exclusive lock on lock.mdb),
// reads the file with plain reads before LMDB maps it and checks its
// structure: both meta pages (magic, version, page size), and every page
// of the free-page tree, the main tree and each database (page numbers
// within the file, each page reached once, free-space bounds, node offsets
// and key and data sizes within their page, overflow runs within the file,
// depths and counts as recorded). A damaged file is removed, as after a
// reboot, with a warning saying where the damage is, and the store starts
// from an empty file: losing a cache file is fine, crashing is not. The
// check reads every page but the overflow pages' contents once; values
// are checked by their checksums when read. A file other processes have
// open is not checked (it cannot be read whole while they write, nor
// replaced under them); on hosts that are not 64-bit little-endian, or
// without fcntl locks, it is not checked either.
package lmdbstore
