// Package redisstore keeps cache entries in Redis, shared by every instance
// of a service, and makes those instances invalidate each other.
//
// A [Store] takes a redis.UniversalClient, so a single server, Sentinel and
// Cluster all work; TLS, AUTH and ACL users come from the client's options
// (redis.Options.TLSConfig, Username, Password), not from this package.
//
// # What lives in Redis
//
// Every key of a cache namespace ns shares the hash tag {zoo:ns}, so that
// the scripts below touch keys of one hash slot, as Redis Cluster requires.
// A namespace therefore lives on one master; run several namespaces to
// spread load across a cluster. Entries have TTLs and versions do not: give
// Redis a maxmemory-policy that evicts only keys with a TTL (volatile-lru,
// volatile-ttl) or none, or evictions would forget invalidations. If the
// clock key is gone (Redis restarted empty, or was flushed), the namespace
// starts a new epoch: its horizon is the present, so nothing loaded before
// can be served.
//
//	{zoo:ns}:e:<key>   entry: a hash of the codec frame (v), asOf (a),
//	                   tags (t) and the versions of its tags when stored (tv)
//	{zoo:ns}:v         tag versions: field t:<tag path> → version; field h
//	                   holds the horizon below which every entry is stale
//	{zoo:ns}:clock     the last version issued
//	{zoo:ns}:l:<key>   a short lock for distributed singleflight
//	{zoo:ns}:inv       the channel invalidations are published on
//
// Versions are hybrid logical timestamps issued by Redis itself (from its
// TIME, never below the last one issued), written as 18 decimal digits so
// that Lua compares them as strings: Redis is the one clock every instance
// agrees on, whatever the skew between their own.
//
// # Consistency
//
// Invalidate runs one script that issues a version, raises the tag's
// version and publishes it. Get in strict mode ([Store.GetFresh]) runs one
// script that reads the entry and the versions of every path of its tags
// and returns the entry only if none is newer than it. Set runs a script
// that refuses an entry already stale. Instances subscribe to the channel;
// when the subscription breaks they report [store.EventDown], and when it
// is back they read every version again before reporting [store.EventUp],
// so that no invalidation is lost to a reconnect.
//
// Receivers drop a message with a tag longer than 4 KiB or more than 10,000
// tags, so Invalidate refuses such a tag with an error before touching
// Redis, and splits a call with more tags into several script calls, one
// message each: each chunk is atomic, the call as a whole is not.
//
// The subscription is pinged after 1 s of silence and ended when nothing
// comes back within 1 s more, so a dead link, or one that silently stops
// forwarding, is reported as [store.EventDown] within 2 s (3 s with a
// command in flight); the cache then validates in Redis, as after a kill.
//
// # Failures
//
// Every command has a timeout ([WithTimeout]). After consecutive failures a
// breaker opens: calls fail at once with [store.ErrUnavailable] instead of
// waiting on a dead server, and a probe closes it when the server answers
// again.
package redisstore
