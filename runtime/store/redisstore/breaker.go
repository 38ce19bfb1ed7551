package redisstore

import (
	"log/slog"
	"sync"
	"time"
)

// breaker stops a store from waiting on a dead server: after failureLimit
// consecutive failures it opens, and calls fail at once until its backoff
// has passed; then one call goes through as a probe, and its outcome closes
// the breaker or opens it for twice as long.
type breaker struct {
	logger *slog.Logger

	mu       sync.Mutex
	failures int
	open     bool
	until    time.Time     // while open, when the next probe may go
	backoff  time.Duration // the current open period
	probing  bool
}

const (
	failureLimit = 3
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

func newBreaker(logger *slog.Logger) *breaker { return &breaker{logger: logger} }

// allow reports whether a call may go to the server.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if b.probing || time.Now().Before(b.until) {
		return false
	}
	b.probing = true
	return true
}

func (b *breaker) success() {
	b.mu.Lock()
	wasOpen := b.open
	b.failures, b.open, b.probing, b.backoff = 0, false, false, 0
	b.mu.Unlock()
	if wasOpen {
		b.logger.Info("zoo: redisstore: Redis answers again; breaker closed")
	}
}

// abandoned is told of a call whose caller gave up before the server
// answered: it says nothing of the server, but if it was the probe, the
// next call may probe in its place (otherwise the breaker would stay open
// until some invalidation succeeded).
func (b *breaker) abandoned() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

func (b *breaker) failure(err error) {
	b.mu.Lock()
	b.failures++
	opened := false
	switch {
	case b.open: // a failed probe: wait longer
		b.backoff = min(2*b.backoff, maxBackoff)
		b.until = time.Now().Add(b.backoff)
		b.probing = false
	case b.failures >= failureLimit:
		b.open, opened = true, true
		b.backoff = minBackoff
		b.until = time.Now().Add(b.backoff)
	}
	b.mu.Unlock()
	if opened {
		b.logger.Warn("zoo: redisstore: Redis unreachable; breaker open, calls go to the repository",
			slog.String("error", err.Error()))
	}
}
