# pgStack. `make test` runs everything CI runs.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: build generate check-generated vet test fuzz bench start pg_reactive

build:
	$(GO) build -o bin/pgstack ./cmd/pgstack

# gen/ is written only by this target.
generate:
	$(GO) generate ./...

# Regenerate and fail if gen/ changed: a spec, query or migration was edited
# without regenerating, or generated code was edited by hand.
check-generated:
	@snapshot=$$(mktemp -d) && cp -r gen "$$snapshot/" && \
	$(GO) generate ./... && \
	if ! diff -r "$$snapshot/gen" gen >/dev/null; then \
		diff -r "$$snapshot/gen" gen | head -40; rm -rf "$$snapshot"; \
		echo "gen/ does not match openapi/, queries/ and migrations/: run 'make generate' and commit gen/"; exit 1; \
	fi; rm -rf "$$snapshot"
	@if [ -n "$$(git status --porcelain --untracked-files=all -- gen 2>/dev/null)" ] && [ -n "$$CI" ]; then \
		git status --short -- gen; echo "gen/ differs from the commit: run 'make generate' and commit gen/"; exit 1; fi

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...

# The pg_reactive extension, built with PGXS and installed into the extension
# directory of the server `pg_config` names (root in CI). The test harness and
# `pgstack start` preload it once it is installed.
PG_CONFIG ?= pg_config
pg_reactive:
	$(MAKE) -C pg_reactive PG_CONFIG=$(PG_CONFIG) install

# The client test packages (supabase-js and the Node 22 it needs), reinstalled
# when the lock file changes.
tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

test: check-generated vet pg_reactive tests/js/node_modules/.package-lock.json
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz

# A short fuzzing budget per target, counted in executions: a wall-clock
# -fuzztime can end with a spurious "context deadline exceeded" failure
# (golang/go#75804, unfixed in Go 1.26). Longer runs are for local hunting
# (FUZZ_PARSE=10000000x make fuzz).
FUZZ_PARSE ?= 50000x
FUZZ_PLAN ?= 10000x
FUZZ_HTTP ?= 10000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseQuery$$' -fuzztime $(FUZZ_PARSE) ./postgrest
	$(GO) test -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime $(FUZZ_PLAN) ./postgrest
	$(GO) test -run '^$$' -fuzz '^FuzzHTTP$$' -fuzztime $(FUZZ_HTTP) ./postgrest

# Benchmarks report ratios against a baseline measured in the same run.
bench: pg_reactive
	$(GO) test -run '^$$' -bench . -benchtime 3s ./...

start:
	$(GO) run ./cmd/pgstack start
