package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checker is checked on hand-made histories first: a checker that finds
// nothing proves nothing.
func TestCheckFindsStaleReads(t *testing.T) {
	ms := int64(time.Millisecond)
	ops := []Op{
		{Kind: Write, Client: "a", Row: 1, Version: 1, Start: 0, End: 10 * ms},
		{Kind: Write, Client: "a", Row: 1, Version: 2, Start: 20 * ms, End: 30 * ms},
		// Overlaps the second write: either version is linearizable.
		{Kind: Read, Client: "b", Row: 1, Version: 1, Start: 25 * ms, End: 40 * ms},
		// Starts after it ended: version 1 is stale, by 5ms.
		{Kind: Read, Client: "b", Row: 1, Version: 1, Start: 35 * ms, End: 36 * ms},
		// Fresh.
		{Kind: Read, Client: "c", Row: 1, Version: 2, Start: 35 * ms, End: 36 * ms},
		// Another row's write does not matter.
		{Kind: Write, Client: "a", Row: 2, Version: 7, Start: 0, End: 1 * ms},
		{Kind: Read, Client: "c", Row: 1, Version: 2, Start: 50 * ms, End: 51 * ms},
		// Reading before any write completed: anything goes.
		{Kind: Read, Client: "c", Row: 2, Version: 0, Start: 0, End: 2 * ms},
		// Much later, still the old version: stale by 70ms.
		{Kind: Read, Client: "d", Row: 1, Version: 1, Start: 100 * ms, End: 101 * ms},
	}
	r := Check(ops)
	assert.Equal(t, 6, r.Reads)
	assert.Equal(t, 3, r.Writes)
	require.Len(t, r.Violations, 2)
	assert.Equal(t, "d", r.Violations[0].Read.Client, "worst first")
	assert.Equal(t, 70*time.Millisecond, r.MaxLag)
	assert.Equal(t, 5*time.Millisecond, r.Violations[1].Lag)
	assert.Len(t, r.Stale(10*time.Millisecond), 1, "within a 10ms window only the 70ms lag counts")
	assert.Empty(t, r.Stale(time.Second))
	assert.Contains(t, r.String(), "2 stale reads")
}

func TestCheckUsesTheLatestCompletedWrite(t *testing.T) {
	// Writes complete out of order: the read must see the highest version
	// among those completed, not the last to complete.
	ops := []Op{
		{Kind: Write, Row: 1, Version: 2, Start: 0, End: 5},
		{Kind: Write, Row: 1, Version: 1, Start: 0, End: 8},
		{Kind: Read, Row: 1, Version: 1, Start: 10, End: 11},
		{Kind: Read, Row: 1, Version: 2, Start: 10, End: 11},
	}
	r := Check(ops)
	require.Len(t, r.Violations, 1)
	assert.Equal(t, int64(2), r.Violations[0].Write.Version)
}
