// Package ratelog writes each message at most once per interval, with the
// number of times it was suppressed meanwhile, so that a failing store or a
// stream of corrupt entries produces a line now and then, not a line per
// call.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Interval is how long a message stays quiet after it was written.
const Interval = 10 * time.Second

// Log rate-limits the messages it writes to Logger, per message text. The
// zero Log writes nothing until Logger is set; it is safe for concurrent
// use.
type Log struct {
	Logger *slog.Logger
	mu     sync.Mutex
	last   map[string]state
}

type state struct {
	at         time.Time
	suppressed int
}

// Warn writes a warning unless msg was written less than Interval ago.
func (l *Log) Warn(msg string, attrs ...slog.Attr) { l.log(slog.LevelWarn, msg, attrs...) }

// Info writes an informational message unless msg was written less than
// Interval ago.
func (l *Log) Info(msg string, attrs ...slog.Attr) { l.log(slog.LevelInfo, msg, attrs...) }

func (l *Log) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if l.Logger == nil {
		return
	}
	now := time.Now()
	l.mu.Lock()
	if l.last == nil {
		l.last = make(map[string]state)
	}
	st := l.last[msg]
	if !st.at.IsZero() && now.Sub(st.at) < Interval {
		st.suppressed++
		l.last[msg] = st
		l.mu.Unlock()
		return
	}
	l.last[msg] = state{at: now}
	l.mu.Unlock()
	if st.suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", st.suppressed))
	}
	l.Logger.LogAttrs(context.Background(), level, msg, attrs...)
}
