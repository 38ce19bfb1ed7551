package trie_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/trie"
)

// fuzzSegments is the alphabet of FuzzTrieAgainstModel's tags: the empty
// segment, segments that are string prefixes of one another, and an escaped
// ':' (what runtime.Tag makes of a value "a:b"), which must stay one segment.
var fuzzSegments = []string{"", "a", "ab", "b", "a%3Ab"}

// fuzzModel is the trie without pruning: the highest version stamped on each
// full tag path and on the root, and the highest horizon.
type fuzzModel struct {
	versions map[string]hlc.Timestamp
	root     hlc.Timestamp
	horizon  hlc.Timestamp
}

// newest returns the newest version on the path of tag, the root included.
func (m *fuzzModel) newest(tag string) hlc.Timestamp {
	v := m.root
	segs := strings.Split(tag, string(trie.Sep))
	for i := range segs {
		v = max(v, m.versions[strings.Join(segs[:i+1], string(trie.Sep))])
	}
	return v
}

func (m *fuzzModel) valid(tags []string, asOf hlc.Timestamp) bool {
	if m.root > asOf {
		return false
	}
	for _, tag := range tags {
		if m.newest(tag) > asOf {
			return false
		}
	}
	return true
}

// fuzzOps reads a fuzz input as a program: each step takes its bytes from
// the front, and the program ends when the bytes do.
type fuzzOps struct{ b []byte }

func (o *fuzzOps) next() (byte, bool) {
	if len(o.b) == 0 {
		return 0, false
	}
	c := o.b[0]
	o.b = o.b[1:]
	return c, true
}

// byteOr returns the next byte, or 0 once the input has run out.
func (o *fuzzOps) byteOr() byte {
	c, _ := o.next()
	return c
}

// tag reads a tag of one to four segments of the alphabet.
func (o *fuzzOps) tag() string {
	n := 1 + int(o.byteOr()%4)
	segs := make([]string, n)
	for i := range segs {
		segs[i] = fuzzSegments[int(o.byteOr())%len(fuzzSegments)]
	}
	return strings.Join(segs, string(trie.Sep))
}

// The steps of the seeds. Each moves the clock by one.
func fuzzSeed(steps ...[]byte) []byte { return slices.Concat(steps...) }

func fuzzInv(segs ...byte) []byte { return append([]byte{0, byte(len(segs) - 1)}, segs...) }

func fuzzInvAll() []byte { return []byte{7} }

// fuzzPrune raises the horizon to 8-back after the clock.
func fuzzPrune(back byte) []byte { return []byte{3, back} }

// fuzzCheck checks one tag as of 4-back after the clock.
func fuzzCheck(back byte, segs ...byte) []byte {
	return append(append([]byte{4, byte(len(segs) - 1)}, segs...), 0, back)
}

// fuzzFresh checks remembered entry k (0 to 3) through its memo.
func fuzzFresh(k byte) []byte { return []byte{6, k} }

// fuzzFreshNew replaces remembered entry k by one of tag segs as of 4-back
// after the clock, and checks it.
func fuzzFreshNew(k, back byte, segs ...byte) []byte {
	return append(append([]byte{6, k | 4, byte(len(segs) - 1)}, segs...), back)
}

// FuzzTrieAgainstModel runs programs of invalidations, prunes and checks
// decoded from the input against fuzzModel. Timestamps only move forward, as
// the cache's clock does. For an entry loaded at or after the horizon, Valid
// must agree with the unpruned model; before it, Valid must say stale:
// pruning forgets versions but never resurrects an entry. Version must agree
// with the model wherever the model's answer is at or after the horizon.
//
// Each step starts with a byte: its low three bits pick the operation, its
// high five bits how far the clock moves first. The operation's arguments
// follow. Operation 6 checks one of four remembered entries through
// [Trie.Fresh] and its [trie.Memo], replacing it first when its byte says
// so: the memo must never answer other than Valid's rules.
func FuzzTrieAgainstModel(f *testing.F) {
	const ( // indexes of fuzzSegments
		empty, a, ab, b, escaped = 0, 1, 2, 3, 4
	)
	f.Add([]byte{})
	f.Add(fuzzSeed(fuzzInv(a), fuzzCheck(10, a), fuzzCheck(0, a), fuzzCheck(10, ab), fuzzCheck(10, b, a)))
	// A pruned invalidation stays in force for entries before the horizon.
	f.Add(fuzzSeed(fuzzInv(a, ab), fuzzCheck(20, a, ab, b), fuzzPrune(0), fuzzCheck(20, a, ab, b), fuzzCheck(0, a, ab, b), fuzzInv(a), fuzzPrune(200)))
	// The empty segment and an escaped ':' are segments like the others.
	f.Add(fuzzSeed(fuzzInv(empty), fuzzInv(escaped), fuzzCheck(10, a, b), fuzzCheck(10, escaped), fuzzCheck(10, empty, empty),
		fuzzCheck(10, a), fuzzInvAll(), fuzzCheck(1, b), fuzzPrune(30), fuzzCheck(0, empty)))
	// A young node under old ones survives the prune that drops its siblings.
	f.Add(fuzzSeed(fuzzInv(a), fuzzInv(a, b), fuzzInv(a, ab), fuzzInv(a, b, a, b), fuzzPrune(3), fuzzCheck(6, a), fuzzCheck(6, a, b, a, b, escaped),
		fuzzCheck(2, a, ab), fuzzInv(ab, ab, ab, ab), fuzzPrune(0), fuzzCheck(0, ab, ab, ab, ab)))
	// A memoised entry: fresh, fresh again after an unrelated invalidation
	// and a prune, stale after one on its path.
	f.Add(fuzzSeed(fuzzInv(b), fuzzFreshNew(0, 0, a, ab), fuzzInv(b, a), fuzzFresh(0), fuzzPrune(40), fuzzFresh(0),
		fuzzInv(a), fuzzFresh(0), fuzzFresh(0)))

	f.Fuzz(func(t *testing.T, input []byte) {
		var tr trie.Trie
		m := &fuzzModel{versions: map[string]hlc.Timestamp{}}
		now := hlc.Timestamp(1000)
		ops := &fuzzOps{b: input}
		type memoEntry struct {
			tags []string
			asOf hlc.Timestamp
			memo *trie.Memo
		}
		var entries [4]*memoEntry
		for step := 0; ; step++ {
			op, ok := ops.next()
			if !ok {
				return
			}
			now += hlc.Timestamp(1 + op>>3)
			switch op & 7 {
			case 0, 1, 2: // Invalidate
				tag := ops.tag()
				tr.Invalidate(tag, now)
				m.versions[tag] = now
			case 3: // Prune, up to 255 behind the clock or 8 ahead of it
				h := now + 8 - hlc.Timestamp(ops.byteOr())
				tr.Prune(h)
				m.horizon = max(m.horizon, h)
			case 7: // InvalidateAll
				tr.InvalidateAll(now)
				m.root = now
			case 6: // Fresh on a remembered entry, kept or replaced
				k := ops.byteOr()
				e := entries[k%4]
				if e == nil || k&4 != 0 {
					e = &memoEntry{tags: []string{ops.tag()}, asOf: now + 4 - hlc.Timestamp(ops.byteOr()), memo: new(trie.Memo)}
					if k&8 != 0 {
						e.tags = append(e.tags, ops.tag())
					}
					entries[k%4] = e
				}
				got, want := tr.Fresh(e.memo, e.tags, e.asOf), m.valid(e.tags, e.asOf)
				if e.asOf >= m.horizon && got != want {
					t.Fatalf("step %d: Fresh(%q, %d) = %v, the model says %v (horizon %d)", step, e.tags, e.asOf, got, want, m.horizon)
				}
				if e.asOf < m.horizon && got {
					t.Fatalf("step %d: Fresh(%q, %d) = true before the horizon %d", step, e.tags, e.asOf, m.horizon)
				}
			default: // Valid and Version, as of up to 255 behind the clock or 4 ahead of it
				tags := []string{ops.tag()}
				if n := ops.byteOr(); n%3 == 1 {
					tags = append(tags, ops.tag())
				} else if n%3 == 2 {
					tags = nil
				}
				asOf := now + 4 - hlc.Timestamp(ops.byteOr())
				got, want := tr.Valid(tags, asOf), m.valid(tags, asOf)
				if asOf >= m.horizon && got != want {
					t.Fatalf("step %d: Valid(%q, %d) = %v, the model says %v (horizon %d)", step, tags, asOf, got, want, m.horizon)
				}
				if asOf < m.horizon && got {
					t.Fatalf("step %d: Valid(%q, %d) = true before the horizon %d (the model says %v): pruning resurrected an entry",
						step, tags, asOf, m.horizon, want)
				}
				for _, tag := range tags {
					got, want := tr.Version(tag), m.newest(tag)
					if want >= m.horizon && got != want || want < m.horizon && got > want {
						t.Fatalf("step %d: Version(%q) = %d, the model says %d (horizon %d)", step, tag, got, want, m.horizon)
					}
				}
			}
			if h := tr.Horizon(); h != m.horizon {
				t.Fatalf("step %d: Horizon() = %d, want %d", step, h, m.horizon)
			}
		}
	})
}
