package runtime

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/zoogen/zoogen/runtime/store"
)

// pendingInvalidations are the invalidations a shared store missed, kept
// to replay to it when it answers again. Its fields are guarded by mu.
type pendingInvalidations struct {
	mu        sync.Mutex
	tags      []string
	replaying bool // a replay is running
	later     bool // a replay is due after replayRetry
}

// replayLater replays the pending invalidations after replayRetry, once
// however often it is called meanwhile.
func (c *Cache) replayLater() {
	c.pending.mu.Lock()
	defer c.pending.mu.Unlock()
	if c.pending.later {
		return
	}
	c.pending.later = true
	time.AfterFunc(replayRetry, func() {
		c.pending.mu.Lock()
		c.pending.later = false
		c.pending.mu.Unlock()
		c.replaySoon()
	})
}

// replaySoon starts replaying the invalidations the shared store missed,
// if there are any and no replay is running.
func (c *Cache) replaySoon() {
	c.pending.mu.Lock()
	start := len(c.pending.tags) > 0 && !c.pending.replaying
	if start {
		c.pending.replaying = true
	}
	c.pending.mu.Unlock()
	if !start {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed { // Close waits for bg: no Go after it started waiting
		return
	}
	c.bg.Go(c.replay)
}

// onEvent handles what a shared store reports.
func (c *Cache) onEvent(ev store.Event) {
	switch ev.Kind {
	case store.EventInvalidate:
		c.learn(ev.Tags, ev.Version)
	case store.EventDown:
		c.watchUp.Store(false)
	case store.EventUp:
		if c.wasUp {
			c.logs.Logger.Info("zoo: caught up with the store's invalidations; what was loaded before the outage counts as stale",
				slog.String("namespace", c.cfg.namespace))
			// Back after an outage: other processes may not have been able
			// to record their invalidations yet (they replay them when
			// they reconnect). Whatever was loaded before now is suspect.
			c.learn(nil, ev.Version)
		}
		c.wasUp = true
		c.watchUp.Store(true)
		c.replaySoon()
	}
}

// replayRetry is how long a failed replay waits before the next.
const replayRetry = time.Second

// maxPending bounds the invalidations kept for replay while a shared store
// is unreachable.
const maxPending = 1 << 20

// keepForReplay keeps tags to replay to the shared store when it answers again.
func (c *Cache) keepForReplay(tags []string) {
	c.pending.mu.Lock()
	defer c.pending.mu.Unlock()
	if len(c.pending.tags)+len(tags) > maxPending {
		c.logs.Warn("zoo: too many invalidations waiting for the store; dropping some: other processes may serve stale entries until they expire",
			slog.Int("max", maxPending))
		return
	}
	c.pending.tags = append(c.pending.tags, tags...)
}

// replay records the invalidations the shared store missed.
func (c *Cache) replay() {
	c.pending.mu.Lock()
	tags := c.pending.tags
	c.pending.tags = nil
	c.pending.mu.Unlock()
	defer func() {
		c.pending.mu.Lock()
		c.pending.replaying = false
		c.pending.mu.Unlock()
	}()
	if len(tags) == 0 || c.isDone.Load() {
		return
	}
	for len(tags) > 0 {
		batch := tags[:min(len(tags), 1000)]
		sent := c.cfg.now()
		v, err := c.shared.Invalidate(context.Background(), batch, c.clock.Vouched())
		if err != nil {
			c.pending.mu.Lock()
			c.pending.tags = append(tags, c.pending.tags...)
			c.pending.mu.Unlock()
			c.logs.Warn("zoo: replaying invalidations to the store failed; will retry", slog.String("error", err.Error()))
			// The store may answer but refuse (out of memory) without
			// any event that would start the next replay.
			c.replayLater()
			return
		}
		c.clock.Sync(v, sent)
		c.learn(batch, v)
		tags = tags[len(batch):]
	}
	c.logs.Logger.Info("zoo: invalidations made while the store was unreachable have been recorded")
}
