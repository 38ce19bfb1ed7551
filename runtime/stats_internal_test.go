package runtime

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCounterSumsConcurrentIncrements: increments from many goroutines at
// once are all counted, whichever stripes they land on, for the counters
// of 8 stripes and the hit counter of 64.
func TestCounterSumsConcurrentIncrements(t *testing.T) {
	for name, c := range map[string]interface {
		inc()
		add(uint64)
		load() uint64
	}{"counter": new(counter), "hitCounter": new(hitCounter)} {
		const goroutines, each = 16, 10_000
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range each {
					c.inc()
				}
				c.add(2)
			})
		}
		wg.Wait()
		require.EqualValues(t, goroutines*(each+2), c.load(), name)
	}
}

// TestStripeFollowsGoroutine: a goroutine keeps to its stripe from one
// increment to the next, and goroutines alive at once spread over stripes.
func TestStripeFollowsGoroutine(t *testing.T) {
	// Read with nothing in between that could grow the stack, which moves
	// it (and the goroutine to another stripe).
	var got [100]uint64
	for i := range got {
		got[i] = stripe()
	}
	for _, s := range got {
		require.Equal(t, got[0], s, "the same goroutine, the same stripe")
	}

	const goroutines = 64
	var (
		wg, started sync.WaitGroup
		release     = make(chan struct{})
		mu          sync.Mutex
		seen        = map[uint64]bool{}
		seenHits    = map[uint64]bool{}
	)
	started.Add(goroutines)
	for range goroutines {
		wg.Go(func() {
			s, h := stripe(), stripeOf(hitStripeBits)
			assert.Less(t, s, uint64(stripes))
			assert.Less(t, h, uint64(1<<hitStripeBits))
			mu.Lock()
			seen[s] = true
			seenHits[h] = true
			mu.Unlock()
			// Alive until every goroutine has picked its stripe, so that
			// no two share a stack.
			started.Done()
			<-release
		})
	}
	started.Wait()
	close(release)
	wg.Wait()
	// 64 distinct stacks on one stripe would be a broken hash.
	require.Greater(t, len(seen), stripes/2, "stripes used by %d goroutines", goroutines)
	// 64 goroutines over 64 stripes at random fill about 40.
	require.Greater(t, len(seenHits), 24, "hit stripes used by %d goroutines", goroutines)
}
