package hlc_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zoogen/zoogen/runtime/hlc"
)

// fakeWall is a wall clock the test moves by hand.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeWall) now() time.Time  { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeWall) set(t time.Time) { f.mu.Lock(); f.t = t; f.mu.Unlock() }

var epoch = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestTimestampPacking(t *testing.T) {
	ts := hlc.New(epoch.UnixMilli(), 7)
	assert.Equal(t, epoch.UnixMilli(), ts.Wall())
	assert.Equal(t, uint16(7), ts.Logical())
	assert.True(t, ts.Time().Equal(epoch))
	assert.Equal(t, "2026-11-26T12:00:00.000Z+7", ts.String())
	assert.Less(t, hlc.New(1, 0xFFFF), hlc.New(2, 0), "the wall time dominates the counter")
	assert.Equal(t, hlc.New(hlc.MaxWall, 0), hlc.New(hlc.MaxWall+10, 0), "wall times clamp")
	assert.Equal(t, hlc.Timestamp(0), hlc.New(-5, 0))
	assert.Equal(t, hlc.New(epoch.UnixMilli(), 0), hlc.FromTime(epoch.Add(999*time.Microsecond)))
}

func TestNowFollowsWallClock(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now))
	a := c.Now()
	assert.Equal(t, epoch.UnixMilli(), a.Wall())
	w.set(epoch.Add(5 * time.Second))
	b := c.Now()
	assert.Equal(t, epoch.Add(5*time.Second).UnixMilli(), b.Wall())
	assert.Equal(t, uint16(0), b.Logical())
	assert.Equal(t, b, c.Last())
}

func TestNowMonotonicWhenWallClockJumpsBack(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now))
	prev := c.Now()
	// The wall clock stalls, jumps back an hour, stalls again, then recovers.
	steps := []time.Duration{0, 0, -time.Hour, -time.Hour, -time.Hour + time.Millisecond, 0, time.Second}
	for i, d := range steps {
		w.set(epoch.Add(d))
		next := c.Now()
		require.Greater(t, next, prev, "step %d (wall %v)", i, d)
		if d < 0 {
			assert.Equal(t, prev.Wall(), next.Wall(), "while the wall clock is behind, only the counter moves")
		}
		prev = next
	}
	assert.Equal(t, epoch.Add(time.Second).UnixMilli(), prev.Wall(), "once the wall clock passes the clock again it takes over")
}

func TestLogicalOverflowCarriesIntoWall(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now))
	var prev hlc.Timestamp
	for i := 0; i < 1<<16+10; i++ {
		ts := c.Now()
		require.Greater(t, ts, prev)
		prev = ts
	}
	assert.Equal(t, epoch.UnixMilli()+1, prev.Wall(), "65,536 events in one millisecond carry into the next")
}

func TestUpdateOrdersAfterRemote(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now))
	local := c.Now()

	// A peer whose clock runs 10 seconds ahead: everything stamped here after
	// receipt orders after its timestamp.
	remote := hlc.New(epoch.Add(10*time.Second).UnixMilli(), 3)
	got, err := c.Update(remote)
	require.NoError(t, err)
	assert.Greater(t, got, remote)
	assert.Greater(t, got, local)
	assert.Greater(t, c.Now(), got)

	// A peer behind us changes nothing but the counter.
	before := c.Now()
	got, err = c.Update(hlc.New(epoch.Add(-time.Hour).UnixMilli(), 0))
	require.NoError(t, err)
	assert.Greater(t, got, before)
	assert.Equal(t, before.Wall(), got.Wall())
}

func TestUpdateRefusesTimestampsFromTheFarFuture(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now), hlc.WithMaxDrift(30*time.Second))
	before := c.Now()
	for _, remote := range []hlc.Timestamp{
		hlc.New(epoch.Add(31*time.Second).UnixMilli(), 0),
		hlc.New(hlc.MaxWall, 0xFFFF),
		^hlc.Timestamp(0),
	} {
		got, err := c.Update(remote)
		require.Error(t, err, "remote %v", remote)
		assert.True(t, errors.Is(err, hlc.ErrDrift))
		assert.Greater(t, got, before, "a refused update still returns a fresh local timestamp")
		assert.Less(t, got.Wall(), epoch.Add(time.Second).UnixMilli(), "the clock was not dragged forward")
		before = got
	}
	_, err := c.Update(hlc.New(epoch.Add(29*time.Second).UnixMilli(), 0))
	assert.NoError(t, err, "within the drift bound")
}

func TestConcurrentNowIsUniqueAndMonotonic(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now))
	const goroutines, each = 8, 2000
	results := make([][]hlc.Timestamp, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if i%500 == 0 {
					w.set(epoch.Add(time.Duration(g-i) * time.Millisecond)) // clocks jump both ways
				}
				var ts hlc.Timestamp
				if i%7 == 0 {
					ts, _ = c.Update(hlc.New(epoch.UnixMilli(), uint16(i)))
				} else {
					ts = c.Now()
				}
				results[g] = append(results[g], ts)
			}
		})
	}
	wg.Wait()
	seen := make(map[hlc.Timestamp]bool, goroutines*each)
	for _, rs := range results {
		for i, ts := range rs {
			require.False(t, seen[ts], "timestamp %v issued twice", ts)
			seen[ts] = true
			if i > 0 {
				require.Greater(t, ts, rs[i-1], "one goroutine's timestamps increase")
			}
		}
	}
}

// TestSyncFollowsTheAuthority: after Sync with a reading of the clock it
// follows, the clock's physical time is on that clock's scale, ahead or
// behind its own source, and Now orders after the reading.
func TestSyncFollowsTheAuthority(t *testing.T) {
	for _, skew := range []time.Duration{-10 * time.Minute, -70 * time.Second, 0, 10 * time.Minute} {
		w := &fakeWall{t: epoch.Add(skew)} // this process's wall clock
		c := hlc.NewClock(hlc.WithSource(w.now))
		store := hlc.New(epoch.UnixMilli(), 5) // the authority's reading, at true time epoch
		c.Sync(store, w.now())
		assert.Equal(t, epoch, c.Time(), "skew %v: physical time not on the authority's scale", skew)
		assert.Greater(t, c.Now(), store, "skew %v", skew)
		w.set(w.now().Add(time.Second))
		assert.Equal(t, epoch.Add(time.Second), c.Time(), "skew %v: the offset is not kept", skew)
		assert.Equal(t, hlc.New(epoch.Add(time.Second+hlc.DefaultMaxDrift).UnixMilli(), 0xFFFF), c.Bound(), "skew %v", skew)
	}
}

// TestSyncAssumesTheEarliestIssue: the offset Sync takes assumes the
// reading was issued when its request was sent, so that the physical time
// is not behind the authority's after a slow round trip.
func TestSyncAssumesTheEarliestIssue(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now))
	sent := w.now()
	w.set(epoch.Add(200 * time.Millisecond)) // the reply arrives
	c.Sync(hlc.New(epoch.UnixMilli(), 0), sent)
	assert.Equal(t, epoch.Add(200*time.Millisecond), c.Time(),
		"the physical time fell behind the authority's by the round trip")
}

// TestBoundIsNotWalkedForward: timestamps merged from peers (Update) do not
// move the bound, so a peer cannot walk it forward a drift at a time; those
// Sync and Admit take in do, and the bound never falls below them.
func TestBoundIsNotWalkedForward(t *testing.T) {
	w := &fakeWall{t: epoch}
	c := hlc.NewClock(hlc.WithSource(w.now))
	bound := c.Bound()
	for range 10 {
		_, err := c.Update(c.Bound())
		require.NoError(t, err)
	}
	assert.Equal(t, bound, c.Bound(), "merged timestamps walked the bound forward")
	assert.Zero(t, c.Vouched(), "merged timestamps count as the authority's")
	assert.Greater(t, c.Now(), bound, "Now does not order after what was merged")
	_, err := c.Update(bound + 1)
	require.ErrorIs(t, err, hlc.ErrDrift)

	// Admit: within the bound it is taken in, past it refused.
	ahead := hlc.New(epoch.Add(30*time.Second).UnixMilli(), 0)
	require.True(t, c.Admit(ahead))
	assert.Greater(t, c.Now(), ahead)
	assert.False(t, c.Admit(hlc.New(epoch.Add(2*time.Minute).UnixMilli(), 0)))
	require.True(t, c.Admit(hlc.New(epoch.Add(89*time.Second).UnixMilli(), 0)), "the bound did not follow an admitted timestamp")

	// A later Sync from an authority behind this wall clock moves the
	// physical time back; what was taken in still bounds.
	c.Sync(hlc.New(epoch.Add(-5*time.Minute).UnixMilli(), 0), w.now())
	assert.Equal(t, epoch.Add(-5*time.Minute), c.Time())
	assert.GreaterOrEqual(t, c.Bound(), hlc.New(epoch.Add(89*time.Second+hlc.DefaultMaxDrift).UnixMilli(), 0))
	assert.Greater(t, c.Now(), hlc.New(epoch.Add(89*time.Second).UnixMilli(), 0), "Now went back")
}
