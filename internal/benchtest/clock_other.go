//go:build !linux

package benchtest

import "time"

var clockStart = time.Now()

// ThreadClock returns the time since the process started: elsewhere than
// on Linux, the benchmarks that compare variants measure wall time.
func ThreadClock() time.Duration { return time.Since(clockStart) }
