package lmdbstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zoo "github.com/zoogen/zoogen/runtime"
)

var modes = []zoo.Consistency{zoo.Local, zoo.Strict}

// TestProcessesShareEntries: a value one process cached is served to
// another without a load.
func TestProcessesShareEntries(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			h := newHost(t)
			a := h.start("A", workerConfig{mode: mode, ns: "shop"})
			b := h.start("B", workerConfig{mode: mode, ns: "shop"})
			v, loaded := a.get(1)
			assert.Equal(t, int64(0), v)
			assert.True(t, loaded, "A loads row 1")
			v, loaded = b.get(1)
			assert.Equal(t, int64(0), v)
			assert.False(t, loaded, "B is served what A cached")
			_, loaded = b.get(1)
			assert.False(t, loaded)
		})
	}
}

// TestInvalidationReachesRunningProcess: an invalidation made by one
// process is seen by another, already running, within milliseconds. The
// delay is measured from the moment Invalidate returned in A to the first
// read in B that returns the new value (B reads every 100µs).
func TestInvalidationReachesRunningProcess(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			h := newHost(t)
			a := h.start("A", workerConfig{mode: mode, ns: "shop"})
			b := h.start("B", workerConfig{mode: mode, ns: "shop"})
			a.get(1)
			_, loaded := b.get(1)
			require.False(t, loaded)
			var delays []time.Duration
			for i := 1; i <= 30; i++ {
				b.send(fmt.Sprintf("wait 1 %d 2000", i))
				v, at := a.update(1)
				require.Equal(t, int64(i), v)
				seen := b.recv()
				require.NotEqual(t, "timeout", seen, "B never saw invalidation %d", i)
				delays = append(delays, max(0, time.Unix(0, atoi(t, seen)).Sub(at)))
				// B cached the new value; A sees it without a load.
				v, loaded := a.get(1)
				require.Equal(t, int64(i), v)
				require.False(t, loaded, "A is served what B cached")
			}
			slices.Sort(delays)
			t.Logf("%s: invalidation seen by the other process after %v (median), %v (max), over %d invalidations",
				mode, delays[len(delays)/2], delays[len(delays)-1], len(delays))
			assert.Less(t, delays[len(delays)-1], 500*time.Millisecond)
		})
	}
}

// TestLaterProcessNeverServesInvalidated: a process started after an
// invalidation (and after every process that saw it has exited) never
// serves the entry it invalidated, although the entry is still in the file.
func TestLaterProcessNeverServesInvalidated(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			h := newHost(t)
			a := h.start("A", workerConfig{mode: mode, ns: "shop"})
			a.get(1)
			a.get(2)
			v, _ := a.update(1)
			a.quit()

			c := h.start("C", workerConfig{mode: mode, ns: "shop"})
			got, loaded := c.get(1)
			assert.Equal(t, v, got, "C served the entry A invalidated")
			assert.True(t, loaded)
			_, loaded = c.get(2)
			assert.False(t, loaded, "row 2 was not invalidated: C is served A's entry")
			c.quit()

			// Restarts change nothing.
			d := h.start("D", workerConfig{mode: mode, ns: "shop"})
			got, loaded = d.get(1)
			assert.Equal(t, v, got)
			assert.False(t, loaded, "D is served what C cached")
		})
	}
}

// TestNamespacesAreIsolated: processes of two namespaces share the file
// but not their entries or invalidations.
func TestNamespacesAreIsolated(t *testing.T) {
	h := newHost(t)
	a := h.start("A", workerConfig{ns: "one"})
	b := h.start("B", workerConfig{ns: "two"})
	a.get(1)
	_, loaded := b.get(1)
	assert.True(t, loaded, "another namespace does not see A's entry")
	b.update(1)
	time.Sleep(20 * time.Millisecond)
	_, loaded = a.get(1)
	assert.False(t, loaded, "nor its invalidations")
}

// TestFullMapKeepsServing: two processes write four times what a 2 MiB map
// holds; no call fails or logs a warning other than the evictions', both
// keep serving, and invalidations are still recorded and seen.
func TestFullMapKeepsServing(t *testing.T) {
	h := newHost(t)
	const mapSize = 2 << 20
	a := h.start("A", workerConfig{ns: "shop", mapSize: mapSize})
	b := h.start("B", workerConfig{ns: "shop", mapSize: mapSize})
	a.get(1)
	const n, size = 2000, 1024
	a.send(fmt.Sprintf("fill 0 %d %d", n, size))
	b.send(fmt.Sprintf("fill %d %d %d", n, n, size))
	require.Contains(t, a.recv(), "ok")
	require.Contains(t, b.recv(), "ok")
	// Values over half a page take pages of their own, in runs.
	a.send(fmt.Sprintf("fill %d %d %d", 10*n, n/4, 6*size))
	b.send(fmt.Sprintf("fill %d %d %d", 20*n, n/4, 6*size))
	require.Contains(t, a.recv(), "ok")
	require.Contains(t, b.recv(), "ok")

	// The latest entries are served across processes.
	assert.Equal(t, []string{"ok", "20"}, a.do("fill %d 20 %d", 30*n, size))
	assert.Equal(t, []string{"ok", "0"}, b.do("fill %d 20 %d", 30*n, size), "B is served what A cached last")
	v, _ := b.update(1)
	b.send(fmt.Sprintf("wait 1 %d 2000", v))
	require.NotEqual(t, "timeout", b.recv())
	a.send(fmt.Sprintf("wait 1 %d 2000", v))
	require.NotEqual(t, "timeout", a.recv(), "A saw B's invalidation in a full map")

	var evicted int64
	for _, w := range []*worker{a, b} {
		warnings, corrupt, ev := w.stats()
		evicted += ev
		assert.Zero(t, corrupt, w.name)
		// The only warnings allowed are the rate-limited "map is full" ones.
		assert.LessOrEqual(t, warnings, int64(2), "%s logged warnings:\n%s", w.name, w.stderr)
		assert.NotContains(t, w.stderr.String(), "store write failed", w.name)
	}
	assert.Positive(t, evicted, "entries were evicted")
}

// TestMapSizesDiffer: a process whose map is smaller than what another
// process has grown the file to adopts the larger map instead of failing.
func TestMapSizesDiffer(t *testing.T) {
	h := newHost(t)
	small := h.start("small", workerConfig{ns: "shop", mapSize: 2 << 20})
	small.get(1)
	big := h.start("big", workerConfig{ns: "shop", mapSize: 64 << 20})
	assert.Equal(t, []string{"ok", "6000"}, big.do("fill 0 6000 1024"), "6 MiB, three times the small map")
	assert.Equal(t, []string{"ok", "0"}, small.do("fill 5980 20 1024"), "the small process is served what the big one cached")
	_, loaded := small.get(1)
	assert.False(t, loaded)
	warnings, _, evicted := small.stats()
	assert.Zero(t, warnings, small.stderr.String())
	assert.Zero(t, evicted)
	assert.Contains(t, small.stderr.String(), "adopted its map size")
}

// TestKilledProcess: a process killed in the middle of its writes leaves
// neither the writer's lock nor its read slots behind; the others go on.
func TestKilledProcess(t *testing.T) {
	for round := range 3 {
		h := newHost(t)
		a := h.start("A", workerConfig{ns: "shop", mapSize: 4 << 20})
		b := h.start("B", workerConfig{ns: "shop", mapSize: 4 << 20})
		a.get(1)
		a.send("fill 0 1000000 1024") // never finishes
		time.Sleep(time.Duration(50+100*round) * time.Millisecond)
		a.kill()

		v, _ := b.update(1)
		got, loaded := b.get(1)
		assert.Equal(t, v, got)
		assert.True(t, loaded)
		assert.Equal(t, []string{"ok", "100"}, b.do("fill 2000000 100 1024"))
		c := h.start("C", workerConfig{ns: "shop", mapSize: 4 << 20})
		got, loaded = c.get(1)
		assert.Equal(t, v, got)
		assert.False(t, loaded, "C is served what B cached")
	}
}
