// Package benchtest runs benchmarks that compare variants side by side:
// rounds of each in turn, timed by the CPU time of the threads that ran
// them, so that a ratio holds on a machine shared with other work.
package benchtest

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A Variant is one way to serve a call for i; Call reports whether it did
// (a hit missed, say), and the benchmark fails if it ever reports false.
type Variant struct {
	Name string
	Call func(i int64) bool
}

// SideBySide runs the variants in turn, a round of calls of each per
// iteration, on procs goroutines, each calling for keys values of i in
// turn (from its own offset), and reports their times per call
// ("<variant>-ns/<per>") and their ratios to the last variant, the floor
// ("<variant>/<floor>").
//
// The time of a round is the CPU time of the threads that ran it (each
// goroutine locked to its thread, on Linux), not the wall time: on a
// machine shared with other work, the time the scheduler gives to other
// processes in the middle of a round counts for no variant.
func SideBySide(b *testing.B, procs int, keys int64, per string, variants []Variant) {
	const round = 4096 // calls per goroutine
	spent := make([]time.Duration, len(variants))
	var rounds int
	var missed atomic.Bool
	for b.Loop() {
		for i, v := range variants {
			var wg sync.WaitGroup
			var used atomic.Int64
			for w := range procs {
				wg.Go(func() {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					start := ThreadClock()
					k := int64(w) * keys / int64(procs)
					for range round {
						k = (k + 1) % keys
						if !v.Call(k) {
							missed.Store(true)
						}
					}
					used.Add(int64(ThreadClock() - start))
				})
			}
			wg.Wait()
			spent[i] += time.Duration(used.Load())
		}
		rounds++
	}
	if missed.Load() {
		b.Fatal("a call did not serve")
	}
	calls := float64(rounds * round * procs)
	floor := spent[len(spent)-1]
	for i, v := range variants {
		b.ReportMetric(float64(spent[i].Nanoseconds())/calls, v.Name+"-ns/"+per)
		if i < len(variants)-1 {
			b.ReportMetric(float64(spent[i])/float64(floor), v.Name+"/"+variants[len(variants)-1].Name)
		}
	}
	b.ReportMetric(0, "ns/op") // a round of every variant: meaningless
}
