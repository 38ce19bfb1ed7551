package redisstore

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestBreakerCalm: allow and success skip the breaker's lock only while it
// is calm (closed, no failure counted, no probe out), and every change of
// its state says whether it is.
func TestBreakerCalm(t *testing.T) {
	b := newBreaker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	down := errors.New("down")
	assert.True(t, b.calm.Load(), "a new breaker")
	assert.True(t, b.allow())

	b.failure(down)
	assert.False(t, b.calm.Load(), "a failure counted")
	assert.True(t, b.allow(), "closed still")
	b.success()
	assert.True(t, b.calm.Load(), "a success resets the failures")

	for range failureLimit {
		b.failure(down)
	}
	assert.False(t, b.calm.Load())
	assert.False(t, b.allow(), "open")
	b.success() // a call that was on its way before the breaker opened
	assert.True(t, b.calm.Load())
	assert.True(t, b.allow())

	for range failureLimit {
		b.failure(down)
	}
	b.mu.Lock()
	b.until = time.Now() // the backoff has passed
	b.mu.Unlock()
	assert.True(t, b.allow(), "the probe")
	assert.False(t, b.allow(), "a second call while the probe is out")
	b.abandoned()
	assert.False(t, b.calm.Load(), "open still")
	assert.True(t, b.allow(), "another probe in place of the one whose caller gave up")
	b.success()
	assert.True(t, b.calm.Load(), "the probe closed it")
	assert.True(t, b.allow())
}
