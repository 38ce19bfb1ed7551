# Run `make help` for the list of targets.

.PHONY: help test run ci generate check-generated bench bench-check bench-peers bench-runtime redis-commands reliability fuzz

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

test: ## vet, staticcheck and every test (starts a Redis if none answers)
	./scripts/test.sh

run: ## run the main example on the in-memory store
	go run ./examples/shop

ci: test check-generated bench-check ## what CI runs: the tests, the generated-code check, the examples
	go run ./examples/shop
	go run ./examples/quickstart >/dev/null

generate: ## regenerate the examples' decorators and the generator's golden files
	go generate ./examples/... ./internal/...
	go test ./generator -run TestGolden -update

check-generated: ## fail if a committed generated file is stale
	go tool zoogen -check ./examples/... ./internal/...
	go test ./generator -run 'TestGolden$$' -count=1
	cd bench && go tool zoogen -check ./shop

bench-check: ## compile and sanity-test the peer benchmarks (no timing)
	cd bench && go vet ./... && go test -count=1 ./...

bench: ## the runtime's benchmarks, 6 runs, summarised by benchstat
	go test -run '^$$' -bench . -count 6 ./runtime/... | tee /tmp/zoo-bench.txt
	go tool -modfile=tools.mod benchstat /tmp/zoo-bench.txt

bench-runtime: ## the runtime's own ratios (hit vs floor, memo, invalidate, prune, copy); rewrites their block of BENCHMARKS.md
	./bench/runtime.sh

redis-commands: ## Redis commands and round trips per cold miss, hit and invalidation (own redis-server)
	go test -count=1 -run '^TestRedisCommandsPerCall$$' -v ./runtime/store/redisstore | grep '^ *|'

reliability: ## the fault matrix on real redis-servers, 6 s per run (about 3 minutes); rewrites RELIABILITY.md
	ZOO_RELIABILITY_OUT=$(CURDIR)/RELIABILITY.md ZOO_RELIABILITY_DURATION=6s go test -count=1 -timeout 20m -run '^TestFaultMatrix$$' -v ./internal/history | grep -E '^(---|ok|FAIL)|matrix_test'

bench-peers: ## zoogen against its peers; rewrites BENCHMARKS.md (about 7 minutes)
	./bench/run.sh

fuzz: ## fuzz the codec decoder, tags and keys for a minute each
	go test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 1m ./runtime/store/codec
	go test -run '^$$' -fuzz '^FuzzKeyInjective$$' -fuzztime 1m ./runtime
	go test -run '^$$' -fuzz '^FuzzTagInjective$$' -fuzztime 1m ./runtime
