#!/usr/bin/env bash
# Runs the comparison benchmarks of bench/compare and rewrites BENCHMARKS.md
# at the root of the repository from their results.
#
#   ./bench/run.sh
#
# Environment:
#   COUNT      runs of each benchmark (default 6; benchstat needs 6 for a
#              confidence interval)
#   COUNT_1M   runs of the invalidation benchmarks with a million entries,
#              whose filling is slow (default 3)
#   BENCHTIME  -benchtime of the hit, parallel hit and stampede benchmarks
#              (default 0.5s, which keeps the whole run under ten minutes
#              on a 2-core machine)
#   OUT        the file to write (default BENCHMARKS.md at the root)
#   KEEP       a directory to keep the raw results in (default: discarded)
set -euo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$bench")
count=${COUNT:-6}
count_1m=${COUNT_1M:-3}
benchtime=${BENCHTIME:-0.5s}
out=${OUT:-$root/BENCHMARKS.md}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=$work/bench.txt

# The commit the benchmarks build from, taken before they start.
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)
if [[ -n $commit && -n $(git -C "$root" status --porcelain 2>/dev/null) ]]; then
	commit="$commit, with uncommitted changes"
fi

cd "$bench"
echo "run.sh: checking the contenders (go vet, go test)" >&2
go vet ./...
go test -count=1 ./...

# One package, so that every contender of a benchmark runs in the same
# process, one after the other.
gotest() {
	go test -run '^$' -timeout 30m "$@" ./compare | tee -a "$raw"
}
echo "run.sh: hits, parallel hits and stampedes, -count $count -benchtime $benchtime" >&2
gotest -bench '^Benchmark(Hit|HitParallel|Stampede)$' -count "$count" -benchtime "$benchtime"
echo "run.sh: invalidation with 1k and 100k entries, -count $count" >&2
gotest -bench '^BenchmarkInvalidate$/./entries=(1000|100000)$' -count "$count"
echo "run.sh: invalidation with 1M entries, -count $count_1m" >&2
gotest -bench '^BenchmarkInvalidate$/./entries=1000000$' -count "$count_1m"

# benchstat is pinned in the root's tools.mod.
(cd "$root" && go tool -modfile=tools.mod benchstat "this run=$raw") >"$work/stats.txt"
(cd "$root" && go tool -modfile=tools.mod benchstat -format csv "this run=$raw") >"$work/stats.csv" 2>"$work/benchstat.log"

go run ./internal/report \
	-csv "$work/stats.csv" -text "$work/stats.txt" -o "$out" \
	-commit "$commit" -elapsed "${SECONDS}s" \
	-counts "$count runs of each benchmark, $benchtime each for hits and stampedes; $count_1m runs with 1M entries"

if [[ -n ${KEEP:-} ]]; then
	mkdir -p "$KEEP"
	cp "$raw" "$work/stats.txt" "$work/stats.csv" "$KEEP"/
fi
echo "run.sh: wrote $out in ${SECONDS}s" >&2
