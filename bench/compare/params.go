package compare

import (
	"time"

	"github.com/zoogen/zoogen/runtime/store/memstore"
)

// The parameters of the benchmarks, exported for the report that describes
// them.
const (
	// Capacity bounds every cache of the hit and stampede benchmarks, as
	// zoogen's memory store is bounded by default.
	Capacity = memstore.DefaultMaxEntries
	// HotKeys is the number of products the hit benchmarks cycle through:
	// products 0..HotKeys-1 of store (1, 2). A power of two.
	HotKeys = 1024
	// StampedeCallers is the number of callers that miss on one key at once.
	StampedeCallers = 1000
	// StampedeLatency is how long the database takes to answer in the
	// stampede benchmark: long enough for every caller to arrive while the
	// first load runs.
	StampedeLatency = time.Millisecond
	// PerStore is the number of products of each store in the invalidation
	// benchmark: invalidating one store drops PerStore entries, whatever the
	// number of entries cached.
	PerStore = 1000
)

// InvalidateSizes are the numbers of entries cached in the invalidation
// benchmark.
var InvalidateSizes = []int{1_000, 100_000, 1_000_000}
