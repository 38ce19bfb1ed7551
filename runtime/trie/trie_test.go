package trie_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/hlc"
	"github.com/zoogen/zoogen/runtime/trie"
)

func TestPrefixInvalidation(t *testing.T) {
	var tr trie.Trie
	const asOf = hlc.Timestamp(100)
	tags := func(ts ...string) []string { return ts }

	tr.Invalidate("org:1:store:2:product:3", 50) // before asOf: harmless
	require.True(t, tr.Valid(tags("org:1:store:2:product:3"), asOf))

	tr.Invalidate("org:1:store:2", 150)
	cases := []struct {
		tag   string
		valid bool
	}{
		{"org:1:store:2", false},           // the node itself
		{"org:1:store:2:product:3", false}, // below it
		{"org:1:store:2:product:4:reviews", false},
		{"org:1:store:3:product:3", true}, // a sibling store
		{"org:1", true},                   // ancestors are not invalidated by descendants
		{"org:1:store", true},
		{"org:2:store:2", true},  // same path under another org
		{"org:1:store:22", true}, // a segment is not a string prefix
		{"store:2", true},
		{"unrelated", true},
	}
	for _, c := range cases {
		assert.Equal(t, c.valid, tr.Valid(tags(c.tag), asOf), c.tag)
		assert.True(t, tr.Valid(tags(c.tag), 150), "an entry loaded as of the invalidation is fresh: %s", c.tag)
	}
	assert.False(t, tr.Valid(tags("featured", "org:1:store:2:product:9"), asOf), "one stale tag is enough")
	assert.True(t, tr.Valid(nil, asOf), "an entry without tags is only bound by its TTL")

	assert.Equal(t, hlc.Timestamp(150), tr.Version("org:1:store:2:product:3"))
	assert.Equal(t, hlc.Timestamp(0), tr.Version("org:1"))
}

func TestVersionsNeverGoDown(t *testing.T) {
	var tr trie.Trie
	tr.Invalidate("a:b", 200)
	tr.Invalidate("a:b", 100) // a late, older message
	assert.False(t, tr.Valid([]string{"a:b"}, 150))
	assert.Equal(t, hlc.Timestamp(200), tr.Version("a:b"))
}

func TestInvalidateAll(t *testing.T) {
	var tr trie.Trie
	tr.InvalidateAll(100)
	assert.False(t, tr.Valid(nil, 99))
	assert.False(t, tr.Valid([]string{"x"}, 99))
	assert.True(t, tr.Valid([]string{"x"}, 100))
}

func TestGenerationMovesAfterEveryChange(t *testing.T) {
	var tr trie.Trie
	g := tr.Generation()
	tr.Invalidate("a", 1)
	assert.Greater(t, tr.Generation(), g)
	g = tr.Generation()
	tr.InvalidateAll(2)
	assert.Greater(t, tr.Generation(), g)
	g = tr.Generation()
	tr.Prune(1)
	assert.Greater(t, tr.Generation(), g)
}

// TestPruneNeverResurrects is the reference library's bug: after its prune, a
// node recreated at version 0 let invalidated entries validate again.
func TestPruneNeverResurrects(t *testing.T) {
	var tr trie.Trie
	stale := []string{"product:7"}
	tr.Invalidate("product:7", 200)
	require.False(t, tr.Valid(stale, 100))

	// A horizon below the node's version keeps it.
	assert.Equal(t, 0, tr.Prune(150))
	assert.Equal(t, 2, tr.Len())
	assert.False(t, tr.Valid(stale, 100))

	// A horizon past it removes the node, and the entry, loaded before the
	// horizon, stays stale.
	assert.Equal(t, 2, tr.Prune(300))
	assert.Equal(t, 0, tr.Len())
	assert.False(t, tr.Valid(stale, 100), "pruned invalidation came back to life")
	assert.False(t, tr.Valid(stale, 299))
	assert.True(t, tr.Valid(stale, 300))

	// The path is recreated by a later invalidation, starting from scratch.
	tr.Invalidate("product:7", 400)
	assert.False(t, tr.Valid(stale, 350))
	assert.Equal(t, hlc.Timestamp(300), tr.Horizon())
	tr.Prune(10)
	assert.Equal(t, hlc.Timestamp(300), tr.Horizon(), "the horizon never goes down")
}

func TestPruneKeepsAncestorsOfLiveNodes(t *testing.T) {
	var tr trie.Trie
	tr.Invalidate("org:1", 10)
	tr.Invalidate("org:1:store:2", 500)
	tr.Invalidate("org:1:store:3", 20)
	tr.Invalidate("org:2", 30)
	require.Equal(t, 6, tr.Len()) // org, 1, store, 2, 3, 2'
	removed := tr.Prune(100)
	assert.Equal(t, 2, removed, "org:1:store:3 and org:2 go; org:1 is old but holds a live child")
	assert.Equal(t, 4, tr.Len())
	assert.False(t, tr.Valid([]string{"org:1:store:2:product:1"}, 400))
	assert.True(t, tr.Valid([]string{"org:1:store:3"}, 100))
}

func TestPruneBoundsMemoryUnderHighCardinality(t *testing.T) {
	var tr trie.Trie
	for i := range 100_000 {
		tr.Invalidate(fmt.Sprintf("user:%d:session:%d", i, i), hlc.Timestamp(i+1))
	}
	require.Equal(t, 1+100_000*3, tr.Len())
	tr.Prune(50_001)
	assert.Equal(t, 1+50_000*3, tr.Len(), "the older half is gone")
	tr.Prune(hlc.Timestamp(1 << 40))
	assert.Equal(t, 0, tr.Len())
}

// model is the trie without pruning: every version ever stamped, by path.
type model struct {
	versions map[string]hlc.Timestamp
	horizon  hlc.Timestamp
}

func (m *model) valid(tags []string, asOf hlc.Timestamp) bool {
	for _, tag := range tags {
		segs := strings.Split(tag, ":")
		for i := range segs {
			if m.versions[strings.Join(segs[:i+1], ":")] > asOf {
				return false
			}
		}
	}
	return true
}

// TestAgainstModel runs random invalidations, prunes and checks: the trie
// must agree with the unpruned model for every entry loaded at or after the
// horizon, and must never call fresh what the model calls stale.
func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randTag := func() string {
		depth := 1 + rng.IntN(4)
		segs := make([]string, depth)
		for i := range segs {
			segs[i] = []string{"a", "b", "c", "", "a:b"}[rng.IntN(4)] + fmt.Sprint(rng.IntN(3))
		}
		return strings.Join(segs, ":")
	}
	var tr trie.Trie
	m := &model{versions: map[string]hlc.Timestamp{}}
	now := hlc.Timestamp(1000)
	for step := range 20_000 {
		now += hlc.Timestamp(1 + rng.IntN(3))
		switch r := rng.IntN(10); {
		case r < 4:
			tag := randTag()
			tr.Invalidate(tag, now)
			if now > m.versions[tag] {
				m.versions[tag] = now
			}
		case r == 4 && step%7 == 0:
			h := now - hlc.Timestamp(rng.IntN(200))
			tr.Prune(h)
			m.horizon = max(m.horizon, h)
		default:
			tags := []string{randTag()}
			if rng.IntN(2) == 0 {
				tags = append(tags, randTag())
			}
			asOf := now - hlc.Timestamp(rng.IntN(300))
			got, want := tr.Valid(tags, asOf), m.valid(tags, asOf)
			if asOf >= m.horizon {
				require.Equal(t, want, got, "step %d tags %q asOf %d", step, tags, asOf)
			} else {
				require.False(t, got, "entry before the horizon passed: step %d tags %q", step, tags)
			}
		}
	}
}

func TestConcurrentReadersAndWriters(t *testing.T) {
	var tr trie.Trie
	var ts struct {
		sync.Mutex
		v hlc.Timestamp
	}
	next := func() hlc.Timestamp { ts.Lock(); defer ts.Unlock(); ts.v++; return ts.v }
	stop := make(chan struct{})
	var memos [8]trie.Memo // shared by readers, each of one entry
	var memoTags [8][]string
	for k := range memoTags {
		memoTags[k] = []string{fmt.Sprintf("org:%d:store:%d", k%2, k)}
	}
	var writers, readers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tr.Invalidate(fmt.Sprintf("org:%d:store:%d", w, i%50), next())
				if v := next(); i%100 == 0 && v > 50 {
					tr.Prune(v - 50) // never below 0: a horizon of 2^64-49 would make everything stale
				}
			}
		})
	}
	for range 4 {
		readers.Go(func() {
			for i := range 20_000 {
				asOf := next()
				tags := []string{fmt.Sprintf("org:%d:store:%d:product:1", i%2, i%50)}
				// Nothing invalidated after asOf yet unless a writer raced us;
				// the check must simply not crash or race.
				tr.Valid(tags, asOf)
				tr.Version(tags[0])
				k := i % len(memos)
				if !tr.Fresh(&memos[k], memoTags[k], 1<<40) {
					t.Error("an entry newer than every invalidation is stale")
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writers.Wait()
}

func BenchmarkValid(b *testing.B) {
	var tr trie.Trie
	for s := range 100 {
		for p := range 100 {
			tr.Invalidate(fmt.Sprintf("org:1:store:%d:product:%d", s, p), 10)
		}
	}
	tags := []string{"org:1:store:42:product:42"}
	b.ReportAllocs()
	for b.Loop() {
		if !tr.Valid(tags, 20) {
			b.Fatal("stale")
		}
	}
}

func BenchmarkInvalidate(b *testing.B) {
	for _, n := range []int{1_000, 300_000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			var tr trie.Trie
			for i := range n {
				tr.Invalidate(fmt.Sprintf("org:1:store:%d:product:%d", i/1000, i%1000), 10)
			}
			b.ReportAllocs()
			v := hlc.Timestamp(20)
			for b.Loop() {
				v++
				tr.Invalidate("org:1:store:42:product:42", v)
			}
		})
	}
}

func TestWalk(t *testing.T) {
	var tr trie.Trie
	tr.Invalidate("org:1", 10)
	tr.Invalidate("org:1:store:2", 20)
	tr.Invalidate("org:2", 30)
	tr.Invalidate("user:a%3Ab", 40)
	collect := func(prefix string) map[string]hlc.Timestamp {
		got := map[string]hlc.Timestamp{}
		tr.Walk(prefix, func(tag string, v hlc.Timestamp) bool { got[tag] = v; return true })
		return got
	}
	assert.Equal(t, map[string]hlc.Timestamp{"org:1": 10, "org:1:store:2": 20, "org:2": 30, "user:a%3Ab": 40}, collect(""))
	assert.Equal(t, map[string]hlc.Timestamp{"org:1": 10, "org:1:store:2": 20}, collect("org:1"))
	assert.Empty(t, collect("org:3"))
	n := 0
	tr.Walk("", func(string, hlc.Timestamp) bool { n++; return false })
	assert.Equal(t, 1, n, "Walk stops when fn returns false")
}

// TestPruneStepIsBounded: a sweep of 300k nodes runs in steps that each
// visit at most the budget with the writers' mutex held, invalidations
// landing between steps are kept, and the steps together remove what one
// sweep would.
func TestPruneStepIsBounded(t *testing.T) {
	var tr trie.Trie
	for i := range 100_000 {
		tr.Invalidate(fmt.Sprintf("user:%d:session:%d", i, i), hlc.Timestamp(i+1))
	}
	require.Equal(t, 1+100_000*3, tr.Len())
	const budget = 1000
	steps, removed, added := 0, 0, 0
	for {
		visited, r, done := tr.PruneStep(50_001, budget)
		require.LessOrEqual(t, visited, budget, "step %d", steps)
		removed += r
		steps++
		if steps%10 == 0 { // a writer between steps: a young node under an old path
			before := tr.Len()
			tr.Invalidate(fmt.Sprintf("user:%d:session:%d:x", steps, steps), 1<<40)
			added += tr.Len() - before
		}
		if done {
			break
		}
	}
	assert.Greater(t, steps, 300, "the sweep took many steps")
	// The old half goes, but for the paths that a writer extended between
	// steps: each keeps its three nodes.
	inserts := steps / 10
	assert.GreaterOrEqual(t, removed, 50_000*3-3*inserts)
	assert.LessOrEqual(t, removed, 50_000*3)
	assert.Equal(t, 1+100_000*3+added-removed, tr.Len())
	for i := 10; i < steps; i += 10 {
		tag := fmt.Sprintf("user:%d:session:%d:x", i, i)
		require.False(t, tr.Valid([]string{tag}, 1<<39), "the node stamped between steps is kept: %s", tag)
	}
	assert.False(t, tr.Valid([]string{"user:3:session:3"}, 50_000), "before the horizon")
	assert.True(t, tr.Valid([]string{"user:3:session:3"}, 50_001))
}

// TestFreshAgreesWithValid: through a memo, an entry turns stale with an
// invalidation on its path or above it, a rise of the horizon past it, or
// of the root, and stays fresh through everything else.
func TestFreshAgreesWithValid(t *testing.T) {
	var tr trie.Trie
	tags := []string{"org:1:store:2:product:3", "featured"}
	var m trie.Memo
	require.True(t, tr.Fresh(&m, tags, 100))
	tr.Invalidate("org:1:store:3", 150)
	tr.Invalidate("org:2", 151)
	require.True(t, tr.Fresh(&m, tags, 100), "unrelated")
	tr.Prune(50)
	require.True(t, tr.Fresh(&m, tags, 100), "a prune below asOf")
	tr.Invalidate("org:1:store:2:product:3:reviews", 152)
	require.True(t, tr.Fresh(&m, tags, 100), "below the tag")
	tr.Invalidate("org:1", 90)
	require.True(t, tr.Fresh(&m, tags, 100), "older than asOf")
	tr.Invalidate("org:1:store", 160)
	require.False(t, tr.Fresh(&m, tags, 100), "an ancestor")
	require.False(t, tr.Fresh(&m, tags, 100), "stays stale")

	var m2 trie.Memo
	require.True(t, tr.Fresh(&m2, tags, 200))
	tr.InvalidateAll(201)
	require.False(t, tr.Fresh(&m2, tags, 200), "the root")

	var m3 trie.Memo
	require.True(t, tr.Fresh(&m3, tags, 300))
	tr.Prune(301)
	require.False(t, tr.Fresh(&m3, tags, 300), "the horizon")

	var other trie.Trie
	var m4 trie.Memo
	require.True(t, tr.Fresh(&m4, []string{"x"}, 400))
	other.Invalidate("x", 500)
	assert.False(t, other.Fresh(&m4, []string{"x"}, 400), "a memo of another trie is not trusted")
	assert.True(t, tr.Fresh(&m4, []string{"x"}, 400))

	// Two tries at the same generation: the memo's generation is its
	// owner's, never another trie's.
	var a, b trie.Trie
	var m5 trie.Memo
	require.True(t, a.Fresh(&m5, []string{"y"}, 400))
	a.Invalidate("z", 1)
	b.Invalidate("y", 500)
	require.Equal(t, a.Generation(), b.Generation())
	require.True(t, a.Fresh(&m5, []string{"y"}, 400))
	assert.False(t, b.Fresh(&m5, []string{"y"}, 400), "a memo of another trie at the same generation")
}

// BenchmarkPruneStep measures one prune step of PruneBudget nodes in a trie
// of 300k nodes: the longest an Invalidate waits for pruning.
func BenchmarkPruneStep(b *testing.B) {
	var tr trie.Trie
	for i := range 100_000 {
		tr.Invalidate(fmt.Sprintf("user:%d:session:%d", i, i), hlc.Timestamp(i+10))
	}
	b.ReportAllocs()
	nodes := 0
	for b.Loop() {
		visited, _, _ := tr.PruneStep(1, trie.PruneBudget) // removes nothing: every step is a full one
		nodes += visited
	}
	b.ReportMetric(float64(nodes)/float64(b.N), "nodes/step")
}

// TestManyChildrenPrunedAndAdded: a node's table of children keeps every
// child through growth, removals (tombstones) and the rebuilds they cause,
// and tells apart segments that pack into the same word or differ past 8
// bytes.
func TestManyChildrenPrunedAndAdded(t *testing.T) {
	var tr trie.Trie
	const n = 1000
	seg := func(i int) string { return strconv.Itoa(i) }
	for i := range n {
		v := hlc.Timestamp(10) // even children are old, odd ones young
		if i%2 == 1 {
			v = 1000
		}
		tr.Invalidate("p:"+seg(i), v)
	}
	require.Equal(t, n+1, tr.Len())
	tr.Prune(500) // drops the even children: half of the table turns to tombstones
	require.Equal(t, n/2+1, tr.Len())
	for i := range n {
		want := hlc.Timestamp(1000)
		if i%2 == 0 {
			want = 0
		}
		require.Equal(t, want, tr.Version("p:"+seg(i)), "child %d", i)
	}
	assert.Equal(t, hlc.Timestamp(0), tr.Version("p:absent"), "a probe for an absent child ends")
	for i := 0; i < n; i += 2 {
		tr.Invalidate("p:"+seg(i), 2000)
	}
	require.Equal(t, n+1, tr.Len())
	walked := 0
	tr.Walk("p", func(string, hlc.Timestamp) bool { walked++; return true })
	assert.Equal(t, n, walked)

	// Segments that pack alike, or share their first 8 bytes.
	tr.Invalidate("q:a", 3000)
	assert.Equal(t, hlc.Timestamp(0), tr.Version("q:a\x00"), "a trailing NUL is another segment")
	tr.Invalidate("q:abcdefgh-1", 3001)
	tr.Invalidate("q:abcdefgh", 3002)
	assert.Equal(t, hlc.Timestamp(3001), tr.Version("q:abcdefgh-1"))
	assert.Equal(t, hlc.Timestamp(3002), tr.Version("q:abcdefgh"))
	assert.Equal(t, hlc.Timestamp(0), tr.Version("q:abcdefgh-2"))
}
