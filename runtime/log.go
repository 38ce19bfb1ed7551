package runtime

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// rateLimitedLog writes a warning at most once per interval for each
// message, so that a failing store or a stream of corrupt entries produces
// a line now and then with a count, not a line per call.
type rateLimitedLog struct {
	logger *slog.Logger
	mu     sync.Mutex
	last   map[string]logState
}

type logState struct {
	at         time.Time
	suppressed int
}

const logInterval = 10 * time.Second

func (l *rateLimitedLog) warn(msg string, attrs ...slog.Attr) {
	now := time.Now()
	l.mu.Lock()
	if l.last == nil {
		l.last = make(map[string]logState)
	}
	st := l.last[msg]
	if !st.at.IsZero() && now.Sub(st.at) < logInterval {
		st.suppressed++
		l.last[msg] = st
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	l.last[msg] = logState{at: now}
	l.mu.Unlock()
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	l.logger.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}
