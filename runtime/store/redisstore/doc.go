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
// volatile-ttl) or none, or evictions would forget invalidations.
//
// # Epochs: restarts, snapshots, failovers, flushes
//
// The versions hash records the run_id of the redis-server process that
// issued them. Every script checks it: when the clock key or that field is
// gone (Redis restarted empty, was flushed, or evicted them) or names
// another process (Redis restarted, from a snapshot that may be older than
// invalidations it acknowledged; a replica, perhaps behind its master, was
// promoted by Sentinel or an operator), the namespace starts a new epoch.
// Its horizon is later than every version issued, so nothing loaded before
// can be served, and it is published so that running instances drop their
// memory tiers. Strict reads run no script: a client reaches a new server
// only over connections it dialed since, so a strict read that follows a
// new dial is repeated after a script has checked the server. (A Cluster
// client's dials are not counted; there the subscription, which reconnects
// within a second, starts the check.) The price is a cold cache after every
// restart or failover, even one that lost nothing.
//
// Replication is asynchronous: a master that dies before its replicas
// received an invalidation loses it, and the promoted replica starts a new
// epoch (nothing is served stale) but cannot replay it to instances that
// read only their memory tier until they hear of the epoch. With Sentinel
// or Cluster, [WithReplicas] makes Invalidate wait (WAIT) until n replicas
// acknowledged it; one fewer replicas acknowledged fails with
// store.ErrUnavailable and is replayed.
//
//	{zoo:ns}:e:<key>   entry: a hash of the codec frame (v), asOf (a),
//	                   tags (t) and the versions of its tags when stored (tv)
//	{zoo:ns}:v         tag versions: field t:<tag path> → version; field h
//	                   holds the horizon below which every entry is stale,
//	                   field s the run_id of the server that issued them
//	{zoo:ns}:clock     the last version issued
//	{zoo:ns}:l:<key>   a short lock for distributed singleflight
//	{zoo:ns}:inv       the channel invalidations are published on
//
// Versions are hybrid logical timestamps issued by Redis itself (from its
// TIME, never below the last one issued), written as 18 decimal digits so
// that Lua compares them as strings: Redis is the one clock every instance
// agrees on, whatever the skew between their own. Each instance's cache
// follows it (each reply renews its offset to Redis's clock), and trusts a
// version from the channel up to one minute past Redis's clock as it last
// read it, clamping beyond: tested with instances 10 min behind and ahead of
// Redis and a clock key 10 min ahead of TIME (what a forward jump of TIME
// leaves), without a stale read. Entries expire on Redis's clock
// (PEXPIREAT of the writer's expiry): an instance whose clock is behind
// Redis's by more than a TTL stores nothing.
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
// Every command has a timeout ([WithTimeout]), whatever the client's options:
// go-redis bounds a command by its context only with ContextTimeoutEnabled,
// so the store adjusts the client it is given (see [New]). After consecutive failures a
// breaker opens: calls fail at once with [store.ErrUnavailable] instead of
// waiting on a dead server, and a probe closes it when the server answers
// again.
package redisstore
