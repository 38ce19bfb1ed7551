package memstore

import (
	"sync/atomic"
	"time"
)

// coarseClock is the system time in Unix nanoseconds as a goroutine reads
// it once per tick: reading it is one atomic load, which inlines into Get,
// where a read of the system clock would be a large part of a hit.
type coarseClock struct {
	now  atomic.Int64
	stop chan struct{} // closed by Stop
	done chan struct{} // closed when the goroutine has ended
}

// startCoarseClock returns a clock that a goroutine sets every tick, until
// Stop.
func startCoarseClock(tick time.Duration) *coarseClock {
	c := &coarseClock{stop: make(chan struct{}), done: make(chan struct{})}
	c.now.Store(time.Now().UnixNano())
	go c.run(tick)
	return c
}

func (c *coarseClock) run(tick time.Duration) {
	defer close(c.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.now.Store(time.Now().UnixNano())
		}
	}
}

// nowNano returns the time read last.
func (c *coarseClock) nowNano() int64 { return c.now.Load() }

// Stop ends the goroutine and waits for it. It is called once.
func (c *coarseClock) Stop() {
	close(c.stop)
	<-c.done
}
