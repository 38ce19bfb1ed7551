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

// memoSlots is the number of copies a store remembers as checked: a table
// indexed by a hash of the key, one copy per slot. Copies of keys that
// share a slot take turns, and cost a read transaction when they do.
const memoSlots = 1 << 14

// memos remembers copies of entries found fresh, with the counter they
// were found fresh at. A slot holds a weak pointer: it keeps no entry
// alive, and an entry allocated later at the address of a collected one
// is not taken for it.
type memos struct {
	seed  maphash.Seed
	slots [memoSlots]atomic.Pointer[memo]
}

type memo struct {
	key string
	e   weak.Pointer[store.Entry]
	gen uint64
}

func newMemos() *memos { return &memos{seed: maphash.MakeSeed()} }

func (m *memos) slot(key string) *atomic.Pointer[memo] {
	return &m.slots[maphash.String(m.seed, key)&(memoSlots-1)]
}

// fresh reports whether slot remembers e as the copy of key checked at
// counter gen.
func (m *memo) fresh(key string, e *store.Entry, gen uint64) bool {
	return m != nil && m.gen == gen && m.key == key && m.e.Value() == e
}

// remember records e as the copy of key found fresh at counter gen.
func (m *memos) remember(key string, e *store.Entry, gen uint64) {
	m.slot(key).Store(&memo{key: strings.Clone(key), e: weak.Make(e), gen: gen})
}
