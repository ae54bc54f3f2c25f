# Regie: `make demo` runs Regie with a demo account; `make test` runs the whole suite.
# Both set up their own .venv from pyproject.toml; nothing installed by hand is needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME ?= $(CURDIR)/.regie-demo

.PHONY: demo test venv browser bytecode clean translations lint bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Chromium is missing: browser tests will be skipped (install the 'chromium' package)"; \
		fi; \
	fi

# Compiled bytecode for our own sources, written once: with PYTHONDONTWRITEBYTECODE set (as
# some environments do) every new process would compile them again, ~0.5 s of CPU for the
# web app, and the suite starts dozens of processes. Cached files are read either way.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q src tests bench >/dev/null

demo: $(STAMP) bytecode
	REGIE_HOME=$(DEMO_HOME) $(BIN)/regie demo

# Four workers on two cores: many long tests mostly wait (docs/development.md).
TEST_WORKERS ?= 4

test: $(STAMP) browser bytecode
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25 $(PYTEST_ARGS)

# The benchmarks at full size (minutes; never part of `make test`, which runs a tiny
# smoke version of each). Results go to the terminal; docs/benchmarks.md records them.
bench: $(STAMP)
	$(BIN)/python bench/bench_read.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_ingest.py 50000 responses
	$(BIN)/python bench/bench_viewer.py
	$(BIN)/python bench/bench_provider_search.py
	$(BIN)/python bench/bench_collect.py
	$(BIN)/python bench/bench_portability.py 160
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_storage.py
	$(BIN)/python bench/bench_reindex.py --postgres

translations: $(STAMP)
	$(BIN)/python scripts/update_translations.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) test-output .pytest_cache
