package runtime

// readPath is which tier answers a read, as [Cache.readPath] decides it.
type readPath uint8

const (
	// readMemory: there is no store outside the process; the memory tier
	// answers alone.
	readMemory readPath = iota
	// readLocalFirst: the local versions can be trusted (the shared store's
	// invalidations reach this process, or no process shares the store):
	// the memory tier answers, then the remote store, whose entries are
	// validated against the local trie and kept in the memory tier.
	readLocalFirst
	// readInStore: only the shared store knows every invalidation (strict
	// consistency, or its invalidations do not reach this process): the
	// store answers and validates the entry itself; the memory tier is
	// skipped.
	readInStore
)

// readPath decides which tier answers a read now. It is the one place that
// decides it: the answer changes while the shared store's invalidations
// stop and start reaching this process, so callers ask at each step.
func (c *Cache) readPath() readPath {
	switch {
	case c.remote == nil:
		return readMemory
	case c.shared != nil && (c.strict || !c.watchUp.Load()):
		return readInStore
	default:
		return readLocalFirst
	}
}
