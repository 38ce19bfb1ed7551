// Package history checks zoogen's consistency rules the way systems people
// trust are checked: run many clients against caches over a versioned
// database, record every operation with its start and end, and look for a
// read that returned a version older than a write whose invalidation had
// completed before the read began.
//
// [Rows] is an annotated repository; its decorator (rows_zoo.go) is what
// the clients call, as an application would. [DB] is the versioned fake
// database behind it. [Run] drives the clients and [Check] reads the
// history. The tests run it on the memory store, on Redis in local and
// strict mode with several instances, skewed clocks and faults (Redis
// killed and restarted, its subscriptions killed, Redis paused, loaders
// that panic, time out or are cancelled), and on LMDB with several
// processes.
package history
