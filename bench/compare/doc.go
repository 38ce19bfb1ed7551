// Package compare measures zoogen's generated decorator against the caches a
// Go service would otherwise put in front of the same repository read, side
// by side in one benchmark run: a bare github.com/maypok86/otter/v2 lookup
// (the floor), github.com/viccon/sturdyc, the local tier of
// github.com/go-redis/cache/v9 and github.com/eko/gocache with its ristretto
// store.
//
// Every contender is a [Reader]: a hand-written read-through cache of
// [shop.DB], the way a user of that library would write it, with the key
// zoogen's decorator builds for the same call ([AppendKey]) and the same
// value, a *[shop.Product]. The benchmarks in this package time hits, hits on
// every core, stampedes of cold callers, and the invalidation of one store's
// products ([Invalidator]) with up to a million entries cached.
//
// ../run.sh runs them and rewrites BENCHMARKS.md at the root of the
// repository.
package compare
