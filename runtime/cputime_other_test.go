//go:build !linux

package runtime_test

import "time"

var clockStart = time.Now()

// threadClock returns the time since the tests started: elsewhere than on
// Linux, the benchmarks that compare variants measure wall time.
func threadClock() time.Duration { return time.Since(clockStart) }
