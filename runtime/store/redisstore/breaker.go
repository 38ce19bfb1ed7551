package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoogen/zoogen/runtime/store"
)

// breaker stops a store from waiting on a dead server: after failureLimit
// consecutive failures it opens, and calls fail at once until its backoff
// has passed; then one call goes through as a probe, and its outcome closes
// the breaker or opens it for twice as long.
type breaker struct {
	logger *slog.Logger
	// perNode: the store's breaker on a cluster, which never opens; each
	// node has its own (nodeBreaker).
	perNode bool

	mu       sync.Mutex
	failures int
	open     bool
	until    time.Time     // while open, when the next probe may go
	backoff  time.Duration // the current open period
	probing  bool
	// calm says, without mu, that the breaker is closed with no failure
	// counted and no probe out (written under mu by settle): allow and
	// success then have nothing to do, and a call on a healthy server
	// writes nothing all cores share.
	calm atomic.Bool
}

const (
	failureLimit = 3
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

func newBreaker(logger *slog.Logger) *breaker {
	b := &breaker{logger: logger}
	b.calm.Store(true)
	return b
}

// settle records in calm whether the breaker is calm; callers hold mu.
func (b *breaker) settle() {
	b.calm.Store(b.failures == 0 && !b.open && !b.probing)
}

// allow reports whether a call may go to the server.
func (b *breaker) allow() bool {
	if b.calm.Load() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if b.probing || time.Now().Before(b.until) {
		return false
	}
	b.probing = true
	b.settle()
	return true
}

func (b *breaker) success() {
	if b.calm.Load() {
		return // nothing to reset
	}
	b.mu.Lock()
	wasOpen := b.open
	b.failures, b.open, b.probing, b.backoff = 0, false, false, 0
	b.settle()
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
	if b.calm.Load() {
		return // no probe out
	}
	b.mu.Lock()
	b.probing = false
	b.settle()
	b.mu.Unlock()
}

func (b *breaker) failure(err error) {
	if b.perNode {
		return
	}
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
	b.settle()
	b.mu.Unlock()
	if opened {
		b.logger.Warn("zoo: redisstore: Redis unreachable; breaker open, calls go to the repository",
			slog.String("error", err.Error()))
	}
}

// nodeBreaker is a breaker for one node of a cluster, as a go-redis hook
// on the node's client: while it is open, the node's commands fail at once
// with store.ErrUnavailable, and the other nodes' go on. On a cluster the
// store's own breaker stays closed (breaker.perNode): one master down costs
// the keys of its slots, not the cache.
type nodeBreaker struct {
	addr string
	b    *breaker
}

func newNodeBreaker(addr string, logger *slog.Logger) *nodeBreaker {
	return &nodeBreaker{addr: addr, b: newBreaker(logger.With(slog.String("node", addr)))}
}

func (n *nodeBreaker) DialHook(next redis.DialHook) redis.DialHook { return next }

func (n *nodeBreaker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !n.b.allow() {
			err := n.openErr()
			cmd.SetErr(err)
			return err
		}
		err := next(ctx, cmd)
		n.record(ctx, err)
		return err
	}
}

func (n *nodeBreaker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !n.b.allow() {
			err := n.openErr()
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		err := next(ctx, cmds)
		n.record(ctx, err)
		return err
	}
}

func (n *nodeBreaker) openErr() error {
	return fmt.Errorf("zoo: redisstore: %w (breaker open for node %s)", store.ErrUnavailable, n.addr)
}

// record tells the breaker how a call went, as Store.attempt does.
func (n *nodeBreaker) record(ctx context.Context, err error) {
	switch {
	case err == nil || errors.Is(err, redis.Nil) || isServerError(err):
		n.b.success()
	case ctx.Err() != nil && context.Cause(ctx) != context.DeadlineExceeded:
		n.b.abandoned()
	default:
		n.b.failure(err)
	}
}
