// Package redisstore keeps cache entries in Redis, shared by every instance
// of a service, and makes those instances invalidate each other.
//
// A [Store] takes a redis.UniversalClient, so a single server, Sentinel and
// Cluster all work; TLS, AUTH and ACL users come from the client's options
// (redis.Options.TLSConfig, Username, Password), not from this package.
//
// # What lives in Redis
//
// A namespace is spread over a cluster: every key's hash tag starts with
// {zoo:ns: and goes on with what places it, so that the scripts below touch
// keys of one hash slot each, as Redis Cluster requires, and the slots of
// one namespace cover every master. A single server holds the same keys: it
// is a cluster of one slot owner. (Namespaces written before versions were
// sharded, under the one tag {zoo:ns}, are not read: after an upgrade they
// are a cold cache, and their keys expire or can be deleted.)
//
//	{zoo:ns:e<h>}:e:<key>  entry: a hash of the codec frame (v), asOf (a),
//	                       tags (t) and the versions of its tags when
//	                       stored (tv); <h> is a hash of the key, so
//	                       entries spread over every slot
//	{zoo:ns:e<h>}:l:<key>  its lock, for distributed singleflight: on the
//	                       entry's slot
//	{zoo:ns:v<n>}:v        one of 32 shards of the tag versions: field
//	                       t:<tag path> → version; field h, the shard's
//	                       horizon below which every entry checked against
//	                       it is stale; field s, the run_id of the server
//	                       that holds it. <n> is picked so that shard i's
//	                       slot lies in the i-th of 32 equal ranges of
//	                       slots: masters of contiguous ranges (as
//	                       redis-cli --cluster create assigns them) hold
//	                       an even share of shards
//	{zoo:ns:c}:clock       the clock: the last version issued (c), and the
//	                       run_id of its server (s)
//	{zoo:ns:c}:inv         the channel invalidations are published on
//	{zoo:ns:c}:i           the instances' reports, for the zoo command
//
// A tag's paths below its root live in the shard of its first two
// segments: org:1:store:2 is checked as t:org, t:org:1, t:org:1:store and
// t:org:1:store:2, all but the first in the shard of org:1, so that one
// HMGET reads them and the tags of a fleet's entries spread over every
// shard. A root (org, a one-segment tag like featured) is read by every
// entry below it: its version is written to every shard, and each entry
// reads it from the shard it reads anyway (or, for entries with roots
// only, from the shard its key hashes to). Invalidating a root costs one
// script per shard, in one pipelined round trip.
//
// Entries have TTLs and versions do not: give Redis a maxmemory-policy
// that evicts only keys with a TTL (volatile-lru, volatile-ttl) or none,
// or evictions would forget invalidations.
//
// Versions are hybrid logical timestamps issued by Redis itself, by one
// clock per namespace (from its server's TIME, never below the last one
// issued), written as 18 decimal digits so that Lua compares them as
// strings. One clock is one scale: shards on servers whose clocks disagree
// still order a load and an invalidation the same way, which per-shard
// clocks could not promise without a round trip to every shard per load.
// The clock's slot serves the loads' asOf and the invalidations, never a
// hit.
//
// That clock is the one every instance agrees on, whatever the skew
// between their own. Each instance's cache follows it (each reply renews
// its offset to Redis's clock), and trusts a version from the channel up
// to one minute past Redis's clock as it last read it, clamping beyond:
// tested with instances 10 min behind and ahead of Redis and a clock key
// 10 min ahead of TIME (what a forward jump of TIME leaves), without a
// stale read. Entries expire on Redis's clock (PEXPIREAT of the writer's
// expiry): an instance whose clock is behind Redis's by more than a TTL
// stores nothing.
//
// # Consistency across slots
//
// Invalidate issues a version from the clock, then runs, in every shard
// holding one of its tags, a script that raises each tag's version to it
// (the shards in parallel, pipelined per node); the first of them
// publishes the invalidation. It returns once every shard has recorded
// it. Each shard's script is atomic; the call as a whole is not, and one
// that fails part-way is an error the cache replays.
//
// Strict: a strict read ([Store.GetFresh], [Store.Check]) reads the entry
// and the versions of every path of its tags, with each shard's horizon,
// in one pipeline: one round trip, to several nodes in parallel on a
// cluster. It serves the entry only if no version read is newer than the
// entry's asOf. A read that starts after Invalidate returned reads each
// shard after that shard recorded the version, whatever node the entry
// lives on, and the version is newer than the asOf of any load that could
// have read the old value. The first strict read of a key reads the entry
// first and its versions next (it needs the entry's tags to know which
// shards to read); later reads remember them. Concurrent strict reads of
// one key share round trips, but only one sent after they began: a key has
// at most one strict read in flight, and the reads that start meanwhile
// share the next, sent once it returns (so 64 goroutines reading one hot
// key cost a round trip per wave, not one each, and each still sees every
// invalidation that returned before it started). The cluster client follows
// MOVED and ASK redirects for every command of the pipeline; a command
// redirected is retried on its new node before the pipeline returns, so a
// resharding costs a round trip, never a version read from a node that no
// longer owns the shard. (WAIT pipelines, below, go to one node and follow
// no redirect: a redirect fails the invalidation, which is replayed after
// the client reloaded the slots.)
//
// The stale set: an entry's asOf is taken from the clock before the load,
// and Set reads the versions of its tags (those AddDeps added during the
// load included: Set gets the entry's final tags) from their shards before
// it writes the entry, refusing one already stale. An invalidation that
// lands between the two leaves an entry that readers judge stale anyway:
// its version came from the one clock after the asOf, and strict readers
// compare them in their shards, local readers in their trie. So the check
// at Set saves space, and consistency does not depend on it.
//
// # Epochs: restarts, snapshots, failovers, flushes
//
// Each shard records the run_id of the redis-server process that holds it.
// The scripts that touch a shard check it: when the horizon or that field
// is gone (its server restarted empty, was flushed, or evicted it) or names
// another process (its server restarted, perhaps from a snapshot older
// than invalidations it acknowledged; a replica, perhaps behind its
// master, was promoted), the shard starts a new epoch: its horizon becomes
// a version just issued, later than every version it may have lost, so
// that nothing checked against it that was loaded before can be served,
// and a message announces it so that running instances drop their memory
// tiers. Shards on other masters are untouched: one failover costs the
// entries whose tags live in the failed master's shards.
//
// The clock records its server's run_id too. When it starts again, it
// starts from its server's time, which a restart or a failover (longer
// than the cluster's node timeout) has carried past every version the lost
// clock issued, as long as the servers' clocks agree within that; and the
// store checks every shard before it issues anything. The clock is written
// only once those shards have their new horizons, from no earlier than the
// latest of them, so that instances starting at once (each checks the
// shards) never stamp a load with a version behind a horizon.
//
// Strict reads run no script: a client reaches a new server only over
// connections it dialed since, so a strict read that follows a new dial is
// repeated after every shard has been checked (one pipelined round trip).
// On a cluster the dials of every node's client are counted, and so is
// every change of the slots' masters in the CLUSTER SLOTS replies the
// client reloads its routing from: a replica it was connected to before
// its promotion is a new server too, and the client routes a command to it
// only after such a reply. The price is a cold cache after every restart
// or failover, even one that lost nothing.
//
// While the clock's master does not answer (on a cluster, before its
// replica takes over), an invalidation takes its version from the server
// of its tags' first shard instead: that server's time plus 1 s, a bound
// on how far the servers' clocks disagree, so that it is later than any
// asOf the clock issued. It is recorded where the readers of those tags
// look, at the cost of misses for that second, rather than failing (and
// being replayed after the failover) while the other masters serve what it
// invalidates.
//
// Replication is asynchronous: a master that dies before its replicas
// received an invalidation loses it, and the promoted replica starts a new
// epoch in its shards (nothing is served stale) but cannot replay it to
// instances that read only their memory tier until they hear of the
// epoch. With Sentinel or Cluster, [WithReplicas] makes Invalidate wait
// (WAIT, on the node of each shard it wrote, and on the clock's) until n
// replicas acknowledged it; one fewer replicas acknowledged fails with
// store.ErrUnavailable and is replayed.
//
// # Local mode across a cluster
//
// Instances subscribe to the namespace's one channel with SUBSCRIBE. In a
// cluster, PUBLISH reaches the subscribers of every node (the cluster bus
// forwards it), so each instance holds one subscription, through the node
// of the channel's slot, and hears every shard's invalidations. Sharded
// pub/sub (SSUBSCRIBE) would keep each message on one shard's node, but
// every instance needs every invalidation: it would hold a subscription
// per node and lose nothing by it but connections. Invalidations are rare
// next to reads, so the bus's cost is small; the subscription's node is a
// single point only for the propagation window: when it fails the
// subscription breaks, the instance reports [store.EventDown] and validates
// in Redis (strictly, shard by shard) until it has resubscribed through
// the slot's new owner and read every shard's versions again
// ([store.EventUp]).
//
// When the subscription breaks, instances report [store.EventDown], and
// when it is back they check every shard and read every version again
// before reporting [store.EventUp], so that no invalidation is lost to a
// reconnect.
//
// Receivers drop a message with a tag longer than 4 KiB or more than 10,000
// tags, so Invalidate refuses such a tag with an error before touching
// Redis, and splits a call with more tags into several calls, one
// message each.
//
// The subscription is pinged after 1 s of silence and ended when nothing
// comes back within 1 s more, so a dead link, or one that silently stops
// forwarding, is reported as [store.EventDown] within 2 s (3 s with a
// command in flight); the cache then validates in Redis, as after a kill.
//
// # Failures
//
// Every command has a timeout ([WithTimeout]), whatever the client's
// options: go-redis bounds a command by its context only with
// ContextTimeoutEnabled, so the store adjusts the client it is given (see
// [New]). After consecutive failures a breaker opens: calls fail at once
// with [store.ErrUnavailable] instead of waiting on a dead server, and a
// probe closes it when the server answers again. On a cluster each node's client has a breaker of its own, and the
// store's stays closed: one master down fails the reads of the entries of
// its slots and, in Strict mode, of those whose tags live in its shards
// (they go to the repository), and the invalidations of its shards (they
// are replayed); reads on the other masters are hits. (Give the cluster
// cluster-require-full-coverage no, or its other masters refuse every
// command while a slot has no master.) The clock's master is needed by
// loads and invalidations: while it is down, misses go to the repository
// without being cached and invalidations are replayed, and hits go on.
// Checking shards after a new connection needs no clock unless one lost
// its versions.
package redisstore
