package runtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zoogen/zoogen/runtime/store"
)

// ReportEvery is how often a cache on a shared store that takes reports
// (Redis) publishes its statistics there, for the zoo command.
const ReportEvery = 2 * time.Second

func (c *Cache) reportLoop(r store.Reporter) {
	t := time.NewTicker(ReportEvery)
	defer t.Stop()
	for {
		if b, err := json.Marshal(c.Stats()); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), ReportEvery)
			_ = r.Report(ctx, c.instance, b, 5*ReportEvery)
			cancel()
		}
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}
