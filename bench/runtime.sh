#!/usr/bin/env bash
# Runs the runtime's own benchmarks (the ratios the lean-runtime work is
# measured by) and rewrites their block of BENCHMARKS.md, between the
# runtime markers; ./bench/run.sh, which rewrites the rest of the page,
# keeps that block as it is.
#
#   ./bench/runtime.sh          (make bench-runtime)
#
# Environment:
#   COUNT   runs of each benchmark (default 10; benchstat needs 6 for a
#           confidence interval)
#   OUT     the file whose block to rewrite (default BENCHMARKS.md at the root)
#   ZOO_REDIS_ADDR  the Redis the Redis benchmarks use (default 127.0.0.1:6379)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${COUNT:-10}
out=${OUT:-$root/BENCHMARKS.md}
cd "$root"
# shellcheck source=scripts/redis.sh
source scripts/redis.sh
ensure_redis

work=$(mktemp -d)
trap 'rm -rf "$work"; stop_redis' EXIT
commit=$(git rev-parse --short HEAD 2>/dev/null || true)
if [[ -n $commit && -n $(git status --porcelain 2>/dev/null) ]]; then
	commit="$commit, with uncommitted changes"
fi

# section TITLE PKG BENCH [benchstat flags...]: runs one benchmark COUNT
# times and appends its heading and benchstat summary to the block.
block=$work/block.md
section() {
	local title=$1 pkg=$2 bench=$3
	shift 3
	echo "runtime.sh: $title" >&2
	# One test binary run per round, so that the variants of a benchmark
	# alternate (go test -count repeats each variant back to back).
	go test -c -o "$work/bench.test" "$pkg"
	: >"$work/raw.txt"
	for ((i = 0; i < count; i++)); do
		(cd "$pkg" && "$work/bench.test" -test.run '^$' -test.bench "$bench" -test.timeout 30m) >>"$work/raw.txt"
	done
	{
		printf '### %s\n\n```\n' "$title"
		go tool -modfile=tools.mod benchstat "$@" "this run=$work/raw.txt" | sed -e '/^goos:/d' -e '/^goarch:/d' -e '/^pkg:/d'
		printf '```\n\n'
	} >>"$block"
}

start=$SECONDS
section "Memory hit vs the otter floor (GetIfPresent, size bound only), rounds interleaved and timed by the CPU time of the threads that ran them; the zoo/otter column is the ratio" \
	./runtime '^BenchmarkHitVsFloor$'
section "Hit while an unrelated tag is invalidated every 100 hits (busy) vs nothing invalidated (quiet), 1, 3 and 5 tags per entry, rounds interleaved and timed by CPU time; the busy/quiet column is the ratio" \
	./runtime '^BenchmarkHitWhileInvalidatingVsQuiet$'
section "Invalidate with 300k vs 1k entries, tags spread over the trie, rounds interleaved and timed by CPU time; the 300k/1k column is the ratio" \
	./runtime '^BenchmarkInvalidateVsSmall$'
section "Invalidate with 1k vs 300k entries, each run on its own (allocations)" \
	./runtime '^BenchmarkInvalidate$' -col /entries
section "One prune step at 300k trie nodes (a step visits at most PruneBudget nodes)" \
	./runtime/trie '^BenchmarkPruneStep$'
section "A hit with copy=true (a MessagePack round trip) vs a shared hit, ten-field row" \
	./runtime '^BenchmarkHitCopy$' -col /copy
section "Reading the miss token on a hit (Find) vs a lookup without it" \
	./runtime '^BenchmarkHitMissToken$' -col /v
section "A hit on a method with refresh= (entry younger than the interval) vs without, rounds interleaved; the refresh/plain column is the ratio" \
	./runtime '^BenchmarkHitRefreshVsPlain$'
section "LMDB: strict hit (memory tier confirmed in the file) vs strict without the tier, local-mode tier and a memory-only hit" \
	./runtime/store/lmdbstore '^BenchmarkHit$'
section "LMDB: strict hit vs memory-only hit side by side over 1,024 products, rounds interleaved and timed by CPU time; the lmdb-strict/memory column is the ratio" \
	./runtime/store/lmdbstore '^BenchmarkHitVsMemory$'
section "Redis: strict hit (memory tier confirmed in one round trip) vs strict without the tier and a raw GET + decode; cpu-µs/op is the client's CPU" \
	./runtime/store/redisstore '^BenchmarkRedisHit$'
section "Redis: the same three side by side, rounds interleaved and timed by the process's CPU time; the strict/raw and strict-no-tier/raw columns are the ratios" \
	./runtime/store/redisstore '^BenchmarkRedisHitVsRaw$'
section "Redis: strict hits of one key by 64 goroutines at once, with and without the memory tier; cmds/op is what the server ran per hit (concurrent reads of a key share round trips)" \
	./runtime/store/redisstore '^BenchmarkRedisHitParallel$'

echo "runtime.sh: Redis commands per call" >&2
{
	printf '### Redis commands and round trips per call\n\n'
	printf 'From `TestRedisCommandsPerCall` (`make redis-commands`), on a redis-server of its own, over\n'
	printf '200 calls each, with the default load lock: `INFO commandstats` (commands run by scripts\n'
	printf "included) and the client's round trips (a command or a pipeline each).\n\n"
	go test -count=1 -run '^TestRedisCommandsPerCall$' -v ./runtime/store/redisstore | grep '^ *|' | sed 's/^ *//'
	cat <<'TEXT'

The seven round trips of a cold miss: the lookup; the store's clock for `asOf`; the load
lock (SET NX); the look in the store after taking the lock, since the previous holder
may just have stored the entry; the store's stale-set check (the versions of the entry's
tags, read from their shards) and its write; the unlock. Without the load lock
(`WithLoadLock(0)`) a cold miss is four: lookup, clock, check, store. An invalidation is
two: the clock issues its version, then the shards of its tags record it (one pipelined
round trip to every node concerned).
The cache reads the store once per cold miss, plus a recheck only when a flight stored
an entry after the caller's lookup began and was gone when the caller came to join it.

TEXT
} >>"$block"

section "Redis Cluster: strict hit on one server vs on a 3-master cluster (entry and versions on different masters as often as not), both of the run's own, on loopback" \
	./runtime/store/redisstore '^BenchmarkClusterStrictHit$' -col /topology
section "Redis Cluster: Invalidate on one server vs on a 3-master cluster, a tag with a shard (the clock, then one shard) and a root (the clock, then all 32 shards)" \
	./runtime/store/redisstore '^BenchmarkClusterInvalidate$' -col /topology

echo "runtime.sh: Redis Cluster commands per master" >&2
{
	printf '### Redis Cluster: commands per master under a uniform strict read load\n\n'
	printf 'From `TestClusterCommandsPerMaster`, on a 3-master cluster of its own: 3,000 entries of one\n'
	printf 'namespace (tag `item:<n>` each), every entry read once more after warming, `INFO commandstats`\n'
	printf 'on each master (reset after warming; commands run by scripts included). The test fails\n'
	printf 'when a master serves more than a third +/-30%%.\n\n'
	go test -count=1 -run '^TestClusterCommandsPerMaster$' -v ./runtime/store/redisstore | grep '^ *cluster_test.go:[0-9]*: |' | sed 's/^ *cluster_test.go:[0-9]*: //'
	printf '\n'
} >>"$block"

{
	echo "<!-- runtime:begin -->"
	echo "## The runtime's own figures"
	echo
	echo "Written by \`bench/runtime.sh\` (\`make bench-runtime\`) from a real run at commit \`$commit\`,"
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $count runs of each benchmark, $((SECONDS - start))s in all. Variants"
	echo "compared in one table ran in the same \`go test -bench\` run; read the ratios, not the times."
	echo
	cat "$block"
	echo "<!-- runtime:end -->"
} >"$work/new.md"

if [[ -f $out ]] && grep -q '<!-- runtime:begin -->' "$out"; then
	awk -v f="$work/new.md" '
		/<!-- runtime:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
		/<!-- runtime:end -->/ { skip = 0; next }
		!skip { print }
	' "$out" >"$work/page.md"
elif [[ -f $out ]]; then
	# First run: the block goes before the comparison of features.
	awk -v f="$work/new.md" '
		/^## What each library offers and lacks/ && !done { while ((getline l < f) > 0) print l; print ""; done = 1 }
		{ print }
	' "$out" >"$work/page.md"
else
	cp "$work/new.md" "$work/page.md"
fi
cp "$work/page.md" "$out"
echo "runtime.sh: wrote the runtime block of $out" >&2
