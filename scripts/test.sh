#!/usr/bin/env bash
# The test command: what `make test` and CI run. Vet, staticcheck, then every
# test, with the race detector on the packages that run concurrently.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/redis.sh
source scripts/redis.sh
ensure_redis
echo "test: Redis at $ZOO_REDIS_ADDR" >&2

go vet ./...
go tool -modfile=tools.mod staticcheck ./...
go test -race -count=1 -timeout 10m ./runtime/... ./internal/...
mapfile -t others < <(go list ./... | grep -vE '/(runtime|internal)(/|$)')
if ((${#others[@]})); then
	go test -count=1 -timeout 10m "${others[@]}"
fi
