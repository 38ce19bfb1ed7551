package lmdbstore

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
	"weak"

	"github.com/PowerDNS/lmdb-go/lmdb"

	"github.com/zoogen/zoogen/runtime/store"
)

// genFile is the generation file in the store's directory (see
// genCounter).
const genFile = "zoo.gen"

// genCounter is a change counter that every process of the host maps from
// the generation file and reads without a transaction. Every write
// transaction that can make a copy of an entry unservable (one that
// records an invalidation, raises a horizon, or deletes or replaces an
// entry) adds one to it before it commits, and records the new count in
// the meta key gen of the same transaction.
//
// A strict check that found a copy fresh, in a read transaction that began
// after the counter read c and whose snapshot records gen c, has seen every
// write that added to the counter up to c, and no other: while the counter
// still reads c, no such write has begun since, and the copy is still
// fresh without a transaction (see Store.Check). A write in progress has
// added to the counter but is not in the snapshots yet (gen < counter):
// checks then read the file and remember nothing, until a write commits
// the count. A process that dies between the two leaves the counter ahead
// of gen until the next such write, which only costs those reads.
type genCounter struct {
	b []byte
	n *atomic.Uint64 // in b
}

// load reads the counter; 0 without one.
func (g *genCounter) load() uint64 {
	if g == nil {
		return 0
	}
	return g.n.Load()
}

// changed records that the write transaction this process is running may
// make copies of entries unservable; the transaction then bumps the
// counter before it commits. Called with wmu held, in the transaction.
func (s *Store) changed() { s.dirty = true }

// bump adds one to the counter and records the count in txn, if the
// transaction has changed what makes copies servable.
func (s *Store) bump(txn *lmdb.Txn) error {
	if !s.dirty || s.gen == nil {
		return nil
	}
	return txn.Put(s.meta, metaGen, u64(s.gen.n.Add(1)), 0)
}

// The copies a store remembers as checked: a table of memoSets sets of
// memoWays slots, a copy in the set a hash of its key picks. Copies of
// more keys than there are ways in one set take turns, and cost a read
// transaction when they do; with one way, a thousand keys took turns in
// about one slot in twenty.
const (
	memoSets = 1 << 12
	memoWays = 4
)

// memos remembers copies of entries found fresh, with the counter they
// were found fresh at. A slot holds a weak pointer: it keeps no entry
// alive, and an entry allocated later at the address of a collected one
// is not taken for it.
type memos struct {
	sets [memoSets]memoSet // first, so that no set of 32 bytes straddles two cache lines
	seed maphash.Seed
	next atomic.Uint32 // turns the slot a full set gives up
}

type memoSet [memoWays]atomic.Pointer[memo]

type memo struct {
	key string
	e   weak.Pointer[store.Entry]
	gen uint64
}

func newMemos() *memos { return &memos{seed: maphash.MakeSeed()} }

// set returns the set that remembers the copies of key.
func (m *memos) set(key string) *memoSet {
	return &m.sets[maphash.String(m.seed, key)&(memoSets-1)]
}

// fresh reports whether the set remembers e as the copy of key checked at
// counter gen.
func (set *memoSet) fresh(key string, e *store.Entry, gen uint64) bool {
	for i := range set {
		if m := set[i].Load(); m != nil && m.gen == gen && m.key == key && m.e.Value() == e {
			return true
		}
	}
	return false
}

// remember records e as the copy of key found fresh at counter gen, in the
// slot of its set that remembers key or nothing current (another counter,
// or a collected copy), or else in one that the set gives up in turn.
func (m *memos) remember(key string, e *store.Entry, gen uint64) {
	set := m.set(key)
	slot := &set[m.next.Add(1)%memoWays]
	for i := range set {
		if old := set[i].Load(); old == nil || old.key == key || old.gen != gen || old.e.Value() == nil {
			slot = &set[i]
			break
		}
	}
	slot.Store(&memo{key: strings.Clone(key), e: weak.Make(e), gen: gen})
}
