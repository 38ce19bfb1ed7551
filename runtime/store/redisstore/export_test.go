package redisstore

import "time"

// MinBackoff is the first wait before resubscribing.
const MinBackoff = minBackoff

// OnBackoff makes s tell fn each wait before it resubscribes; call it
// before Attach.
func OnBackoff(s *Store, fn func(time.Duration)) { s.onBackoff = fn }

// The Redis names of a namespace's keys, for tests that reach past the
// store.

// VersionsKey is the shard holding tag's version (of a root, one of the
// shards that all hold it).
func VersionsKey(ns, tag string) string {
	shard, _ := shardOf(tag)
	return newKeys(ns).shards[shard]
}

// ShardKeys are every shard of the namespace's versions.
func ShardKeys(ns string) []string {
	k := newKeys(ns)
	return k.shards[:]
}

// ClockKey, ChannelKey and ReportsKey are the namespace's clock, channel
// and reports.
func ClockKey(ns string) string   { return newKeys(ns).clock }
func ChannelKey(ns string) string { return newKeys(ns).channel }
func ReportsKey(ns string) string { return newKeys(ns).reports() }

// EntryKey and LockKey are the entry and the lock of key.
func EntryKey(ns, key string) string { return newKeys(ns).entry(key) }
func LockKey(ns, key string) string  { return newKeys(ns).lock(key) }

// EntryPattern matches the namespace's entries (KEYS, SCAN).
func EntryPattern(ns string) string {
	return globEscape(newKeys(ns).prefix) + "e*}:e:*"
}

// Slot is the hash slot of a key.
func Slot(key string) int { return keySlot(key) }
