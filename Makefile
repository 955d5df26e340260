# AI Pulse — `make run` and `make test` do all set-up on a fresh machine with Python 3.11 and pip.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else the one pip installs (runnable as a module even when its script dir is not on PATH).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
CHROMIUM := /usr/bin/chromium

.PHONY: help setup run test test-setup lint bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: ## install uv if missing, then the locked environment (byte-compiled once: every run starts faster)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet --compile-bytecode

run: setup ## run the whole pipeline once on the bundled snapshot and print the scorecard
	$(UV) run ai-pulse run

test-setup: setup ## what the tests need besides Python: Debian's chromium for browser tests
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: test-setup ## the whole test suite, one worker per core (tests sharing the bundled run stay on one)
	$(UV) run pytest -n auto --dist loadgroup

bench: setup ## the benchmark: cold, no-op and one-day runs, a synthetic scale run vs the DuckDB floor, requests
	$(UV) run python bench/run.py $(BENCH_ARGS)

lint: setup ## ruff
	$(UV) run ruff check .
