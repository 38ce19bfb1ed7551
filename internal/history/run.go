package history

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	zoo "github.com/zoogen/zoogen/runtime"
)

// Client is one instance of a service: its cache and the decorator over
// the shared database.
type Client struct {
	Name  string
	Cache *zoo.Cache
	Rows  Rows
}

// Config shapes a run.
type Config struct {
	Rows     int           // rows the clients read and write
	Workers  int           // goroutines per client
	Duration time.Duration // how long the run lasts
	// Timeout bounds each read; slow loads (Faults.Slow) exceed it.
	Timeout time.Duration
	// Cancel is the probability that a read's context is cancelled while
	// it runs.
	Cancel float64
}

// Run drives the clients with random reads, writes and invalidations for
// cfg.Duration and returns the history. Reads that fail (an injected
// error, a timeout, a cancellation) are kept as Failed: they returned
// nothing to check. Reads that panic are left out.
func Run(ctx context.Context, clients []Client, cfg Config) []Op {
	deadline := time.Now().Add(cfg.Duration)
	var mu sync.Mutex
	var all []Op
	var wg sync.WaitGroup
	for _, cl := range clients {
		for range cfg.Workers {
			wg.Go(func() {
				ops := work(ctx, cl, cfg, deadline)
				mu.Lock()
				all = append(all, ops...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return all
}

func work(ctx context.Context, cl Client, cfg Config, deadline time.Time) []Op {
	var ops []Op
	for time.Now().Before(deadline) && ctx.Err() == nil {
		row := rand.Int64N(int64(cfg.Rows))
		switch p := rand.Float64(); {
		case p < 0.75:
			if op, ok := read(ctx, cl, cfg, row); ok {
				ops = append(ops, op)
			}
		case p < 0.95:
			start := time.Now().UnixNano()
			v, err := cl.Rows.Put(ctx, Row{ID: row})
			if err == nil {
				ops = append(ops, Op{Kind: Write, Client: cl.Name, Row: row, Version: v, Start: start, End: time.Now().UnixNano()})
			}
		default:
			// An invalidation with no write: harmless, and it moves the
			// trie under the readers' feet. Its failure (the store down) is
			// fine: it changed nothing.
			tag := zoo.Tag("table", "rows", "row", row)
			if rand.IntN(4) == 0 {
				tag = zoo.Tag("table", "rows")
			}
			_ = cl.Cache.Invalidate(ctx, tag)
		}
	}
	return ops
}

// read reads a row with the run's timeout, maybe cancelling it midway, and
// survives a load that panics.
func read(ctx context.Context, cl Client, cfg Config, row int64) (op Op, ok bool) {
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if rand.Float64() < cfg.Cancel {
		time.AfterFunc(time.Duration(rand.Int64N(int64(2*time.Millisecond))), cancel)
	}
	defer func() {
		if recover() != nil { // an injected panic, passed to every caller
			ok = false
		}
	}()
	start := time.Now().UnixNano()
	r, err := cl.Rows.Get(rctx, row)
	if err != nil {
		return Op{Kind: Failed, Client: cl.Name, Row: row, Start: start, End: time.Now().UnixNano()}, true
	}
	return Op{Kind: Read, Client: cl.Name, Row: row, Version: r.Version, Start: start, End: time.Now().UnixNano()}, true
}
