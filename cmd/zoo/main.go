// Command zoo shows and steers the zoogen caches of a running service.
//
//	zoo -url http://host:8080/debug/zoo stats        one process, through its debug handler
//	zoo -redis 127.0.0.1:6379 -ns shop stats         every process sharing a Redis namespace
//
// Commands:
//
//	stats              counters per instance and per method, once
//	watch              the same, live: hit ratio, loads/s and invalidations/s
//	                   per instance, refreshed in place (-interval, -n)
//	inspect PREFIX     the tag versions at or below PREFIX, with their ages
//	invalidate TAG...  expires everything under each TAG
//
// Flags may come before or after the command (zoo -url U watch -n 2), not
// after its arguments; -interval and -n are watch's only. A wrong command
// line (an unknown flag or command, an argument too many, an empty tag
// segment as in org:1::x, -url without the handler's path) exits 2 before
// anything is sent.
//
// Against a debug handler (zoohttp.Debug) it sees one process; against Redis
// it reads the statistics every instance publishes there every few seconds,
// and invalidates as the instances do, so that all of them hear it.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
