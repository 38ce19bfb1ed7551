package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis bounds a command by its context's deadline only when the
// client's options say ContextTimeoutEnabled; otherwise each read and write
// waits out the client's ReadTimeout and WriteTimeout (5 s by default, and a
// command may be retried), and the store's timeout would hold only between
// attempts. The store makes its timeout hold for the clients it can see
// into, at no cost per command:
//
//   - a client that honours contexts (ContextTimeoutEnabled, with deadlines
//     not turned off by a timeout of -2) is used as it is: the store's
//     context deadline bounds every read, write, pool wait and dial;
//   - a *redis.Client that does not (the default, as redis.NewClient and
//     redis.NewUniversalClient with one address build it, Sentinel's
//     redis.NewFailoverClient too) is used through a clone whose read and
//     write timeouts are the store's (redis.Client.WithTimeout): it shares
//     the client's connections, whose dials go through the client's dial
//     hooks, but go-redis (v9.23) gives it none of the client's command
//     hooks: tracing or metrics hooks on the client do not see the store's
//     commands unless the client sets ContextTimeoutEnabled;
//   - a *redis.ClusterClient or *redis.Ring that does not is replaced, for
//     the store's commands, by a client of its own built from a copy of the
//     options with ContextTimeoutEnabled set: it has connections of its
//     own, the given client's hooks are not on it (the store's own dial
//     counter is), and the store closes it.
//
// A client of any other type is used as it is, and New logs a warning: the
// store cannot tell whether it honours contexts. (Bounding each command on
// a goroutine of its own would cost every command, hits included, a
// goroutine and the escape of its closure.)

// commandClient returns the client the store sends its commands through
// for the client it was given, whether the store owns it (and closes it),
// and whether the store can vouch that it bounds commands by their context.
func commandClient(c redis.UniversalClient, timeout time.Duration) (cc redis.UniversalClient, owned, bounded bool) {
	switch c := c.(type) {
	case *redis.Client:
		// Initialised options: a timeout of -1 sets no deadline at all.
		opt := c.Options()
		if opt.ContextTimeoutEnabled && opt.ReadTimeout >= 0 && opt.WriteTimeout >= 0 {
			return c, false, true
		}
		return c.WithTimeout(timeout), false, true
	case *redis.ClusterClient:
		opt := *c.Options()
		if honoursContexts(opt.ContextTimeoutEnabled, opt.ReadTimeout, opt.WriteTimeout) {
			return c, false, true
		}
		opt.ContextTimeoutEnabled = true
		opt.ReadTimeout, opt.WriteTimeout = nodeTimeout(opt.ReadTimeout, timeout), nodeTimeout(opt.WriteTimeout, timeout)
		return redis.NewClusterClient(&opt), true, true
	case *redis.Ring:
		opt := *c.Options()
		if honoursContexts(opt.ContextTimeoutEnabled, opt.ReadTimeout, opt.WriteTimeout) {
			return c, false, true
		}
		opt.ContextTimeoutEnabled = true
		opt.ReadTimeout, opt.WriteTimeout = nodeTimeout(opt.ReadTimeout, timeout), nodeTimeout(opt.WriteTimeout, timeout)
		return redis.NewRing(&opt), true, true
	default:
		return c, false, false
	}
}

// honoursContexts reports whether a Cluster or Ring client's node clients
// bound each read and write by its context's deadline: ContextTimeoutEnabled
// is set, and no timeout is -2, which go-redis reads as "set no deadline".
func honoursContexts(enabled bool, read, write time.Duration) bool {
	return enabled && read > -2 && write > -2
}

// nodeTimeout is the read or write timeout of a client the store builds: the
// given client's, or the store's where that one sets none (negative).
func nodeTimeout(given, store time.Duration) time.Duration {
	if given < 0 {
		return store
	}
	return given
}
