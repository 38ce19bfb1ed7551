package trie

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walks counts the walks Fresh would need: it reports whether the memo's
// sum moved, which is when Fresh walks.
func walks(t *Trie, m *Memo) bool {
	var sum uint64
	slots, _ := m.list()
	for _, s := range slots {
		sum += uint64(t.stamps[s].Load())
	}
	return sum != m.sum.Load()
}

// TestMemoSurvivesUnrelatedChanges: invalidations of other paths and
// prunes move the generation, but not the sum of an entry's counters, so
// its next hit takes no walk; pruning resets no memo.
func TestMemoSurvivesUnrelatedChanges(t *testing.T) {
	var tr Trie
	tags := []string{"org:1:store:2:product:3", "featured", "product:3:reviews"}
	var m Memo
	require.True(t, tr.Fresh(&m, tags, 100))
	collisions := 0
	for i := range 1000 {
		tr.Invalidate(fmt.Sprintf("org:1:store:%d:product:%d", 3+i%50, i), 150)
		if walks(&tr, &m) {
			collisions++
		}
		require.True(t, tr.Fresh(&m, tags, 100))
	}
	// 1000 invalidations, 5 counters each (nstamps in all) and 8 for the
	// entry: a few land on the entry's counters by chance.
	assert.Less(t, collisions, 100, "unrelated invalidations rarely cost a walk")
	tr.Prune(99)
	assert.False(t, walks(&tr, &m), "a prune costs no walk")
	assert.True(t, tr.Fresh(&m, tags, 100))
	tr.Invalidate("org:1:store:2", 200)
	assert.True(t, walks(&tr, &m), "an invalidation on the path moves the sum")
	assert.False(t, tr.Fresh(&m, tags, 100))
}

// TestMemoAfterCountersWrap: the 32-bit counters wrap, so a counter bumped
// 2^32 times between two checks of an entry reads as it did. An entry
// last checked more than maxBumps generations ago is walked, and found
// stale, rather than trusted by its sum.
func TestMemoAfterCountersWrap(t *testing.T) {
	var tr Trie
	tags := []string{"org:1:product:7"}
	var m Memo
	require.True(t, tr.Fresh(&m, tags, 100))
	tr.Invalidate("org:1:product:7", 200)
	// The bumps that bring the counter back where the entry's sum had
	// it, 2^32-1 more, in as many generations.
	tr.stamps[slot(pathHash("org:1:product:7"))].Add(math.MaxUint32)
	tr.gen.Add(math.MaxUint32)
	assert.False(t, walks(&tr, &m), "the counter wrapped to the entry's sum")
	assert.False(t, tr.Fresh(&m, tags, 100), "a stale entry passed on the sum of wrapped counters")
	var later Memo
	assert.True(t, tr.Fresh(&later, tags, 300), "an entry loaded after the invalidation")
}

// keyOf is the key of a whole segment, computed apart from the walk.
func keyOf(seg string) (h, word uint64) {
	for i := 0; i < len(seg) && i < 8; i++ {
		word |= uint64(seg[i]) << (8 * i)
	}
	return segKey(seg, word)
}

// TestSegAtMatchesKeyOf: the walk's one-pass segments and keys are those of
// the segments on their own, for empty, short, 8-byte and long segments,
// separators at either end and bytes of every value.
func TestSegAtMatchesKeyOf(t *testing.T) {
	for _, tag := range []string{"", ":", "a", "a:", ":a", "org:1:store:22:product:333", "12345678:123456789",
		"\x00\xff:\x80\x7f\x01", "ключ:🔑", strings.Repeat("x", 40) + ":y"} {
		segs := strings.Split(tag, string(Sep))
		i := 0
		for _, want := range segs {
			require.LessOrEqual(t, i, len(tag), "tag %q: too few segments", tag)
			seg, h, word, next := segAt(tag, i)
			wantH, wantWord := keyOf(want)
			assert.Equal(t, want, seg, "tag %q", tag)
			assert.Equal(t, wantH, h, "tag %q, segment %q: hash", tag, want)
			assert.Equal(t, wantWord, word, "tag %q, segment %q: word", tag, want)
			i = next
		}
		assert.Equal(t, len(tag)+1, i, "tag %q: the last segment ends the tag", tag)
	}
}

// TestSlotsCoverEveryPrefix: an entry's counters are those an invalidation
// of each prefix of each tag bumps: its own, or for a prefix of an odd
// number of segments past the first, the one of the prefix before it.
func TestSlotsCoverEveryPrefix(t *testing.T) {
	tags := []string{"a:bc:d", "", ":x", "org:1:store:2:product:3"}
	got := slotsOf(tags)
	want := []uint16{9, slot(pathHash("a")), slot(pathHash("a:bc")), slot(pathHash("")),
		slot(pathHash("")), slot(pathHash(":x")),
		slot(pathHash("org")), slot(pathHash("org:1")), slot(pathHash("org:1:store:2")), slot(pathHash("org:1:store:2:product:3"))}
	assert.Equal(t, want, got)
	for _, tag := range tags {
		segs := strings.Split(tag, ":")
		own := 0
		for n := 1; n <= len(segs); n++ {
			prefix := strings.Join(segs[:n], ":")
			if counterOf(prefix) == pathHash(prefix) {
				own++
			}
			assert.Contains(t, got[1:], slot(counterOf(prefix)), "the counter an invalidation of %q bumps", prefix)
		}
		assert.Equal(t, own, countedPrefixes(tag), tag)
	}
	assert.Equal(t, pathHash("org:1"), counterOf("org:1:store"))
	assert.Equal(t, pathHash("org"), counterOf("org"))
}

// TestNameWithoutValue: an invalidation of a prefix that shares the
// counter of the one before it (org:1:store, org:1's) makes the entries
// under it stale, and those beside it fresh after a walk.
func TestNameWithoutValue(t *testing.T) {
	var tr Trie
	var store, invoice Memo
	storeTags, invoiceTags := []string{"org:1:store:2"}, []string{"org:1:invoice:9"}
	require.True(t, tr.Fresh(&store, storeTags, 100))
	require.True(t, tr.Fresh(&invoice, invoiceTags, 100))
	tr.Invalidate("org:1:store", 150)
	assert.True(t, walks(&tr, &invoice), "org:1's counter moved")
	assert.True(t, tr.Fresh(&invoice, invoiceTags, 100))
	assert.False(t, walks(&tr, &invoice), "walked once")
	assert.False(t, tr.Fresh(&store, storeTags, 100))
}

// TestMemoOfTooManyTags: an entry with more tag prefixes than a memo sums
// is walked instead, and is still found stale when one of its tags is
// invalidated.
func TestMemoOfTooManyTags(t *testing.T) {
	var tr Trie
	tags := make([]string, maxSlots+1)
	for i := range tags {
		tags[i] = fmt.Sprint("t", i)
	}
	require.Nil(t, slotsOf(tags))
	var m Memo
	require.True(t, tr.Fresh(&m, tags, 100))
	_, ok := m.list()
	require.False(t, ok, "no counters to sum")
	tr.Invalidate("other", 150)
	require.True(t, tr.Fresh(&m, tags, 100))
	tr.Invalidate(tags[maxSlots], 150)
	require.False(t, tr.Fresh(&m, tags, 100))
}

// TestMemoWalksOnlyTheTagsThatMoved: an invalidation elsewhere whose
// counter is one of a tag's costs a walk of that tag, and keeps the entry
// fresh; an invalidation of any tag's path, first walked or not, makes it
// stale.
func TestMemoWalksOnlyTheTagsThatMoved(t *testing.T) {
	tags := []string{"a:1", "b:2:c", "d"}
	// collider returns a tag outside every path of tags whose counter is
	// target's.
	collider := func(target string) string {
		for i := 0; ; i++ {
			x := fmt.Sprint("x:", i)
			if slot(pathHash(x)) == slot(pathHash(target)) {
				return x
			}
		}
	}
	for _, stale := range []string{"a", "a:1", "b", "b:2", "b:2:c", "d"} {
		var tr Trie
		var m Memo
		require.True(t, tr.Fresh(&m, tags, 100))
		tr.Invalidate(collider("b:2"), 150)
		require.True(t, tr.Fresh(&m, tags, 100), "a collision")
		tr.Invalidate(collider("d"), 150)
		require.True(t, tr.Fresh(&m, tags, 100), "another collision")
		tr.Invalidate(stale, 150)
		require.False(t, tr.Fresh(&m, tags, 100), stale)
		require.False(t, tr.Fresh(&m, tags, 100), stale+" stays stale")
	}
}

// TestMemoOfNoTags: an entry without tags is fresh until the root or the
// horizon passes it.
func TestMemoOfNoTags(t *testing.T) {
	var tr Trie
	var m Memo
	require.True(t, tr.Fresh(&m, nil, 100))
	tr.Invalidate("a", 150)
	require.True(t, tr.Fresh(&m, nil, 100))
	tr.InvalidateAll(150)
	require.False(t, tr.Fresh(&m, nil, 100))
}
