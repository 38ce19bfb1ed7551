package benchtest

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPUTime is CLOCK_THREAD_CPUTIME_ID.
const threadCPUTime = 3

// ThreadClock returns the CPU time the calling thread has used. A
// goroutine that reads it twice locks itself to its thread in between.
func ThreadClock() time.Duration {
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, threadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		panic("clock_gettime(CLOCK_THREAD_CPUTIME_ID): " + errno.Error())
	}
	return time.Duration(ts.Nano())
}
